"""The header line: which snapshot this is (file, pid, Python, capture time, objects, bytes)."""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from heaptui.core.format import human_bytes
from heaptui.core.printable import printable

if TYPE_CHECKING:
    from heaptui.model.snapshot import Snapshot


def capture_time(meta: dict[str, object]) -> str:
    """``2026-11-23T10:00:00+00:00`` -> ``2026-11-23 10:00`` (UTC is not named; other
    offsets are), or the stored text if it does not parse."""
    created = str(meta.get("created") or "")
    try:
        when = datetime.fromisoformat(created)
    except ValueError:
        return created or "?"
    zone = "UTC" if when.utcoffset() is not None and not when.utcoffset() else when.strftime("%z")
    return when.strftime("%Y-%m-%d %H:%M") + (f" {zone}" if zone and zone != "UTC" else "")


def snapshot_line(snapshot: Snapshot) -> Text:
    """One line describing ``snapshot``; stable for a given file (no clock, no timers)."""
    meta = snapshot.meta
    text = Text()
    name = os.path.basename(snapshot.source) if snapshot.source else "snapshot"
    text.append(printable(name), "bold")
    pid = f"pid {meta.get('pid', '?')}"
    if not name.startswith(pid + " "):  # a live snapshot is named "pid 4242 #2" already
        text.append(printable(f"  {pid}"))
    text.append(printable(f"  py {meta.get('python', '?')}"))
    text.append(printable(f"  {capture_time(meta)}"))
    text.append(f"  {snapshot.node_count:,} objects", "bold")
    text.append(f"  {human_bytes(snapshot.total_bytes)}", "bold")
    return text


class HeapHeader(Horizontal):
    """Snapshot description on the left, progress of background work on the right."""

    def compose(self) -> ComposeResult:
        yield Static("heaptui", id="header-info")
        yield Static("", id="header-status")

    def show_snapshot(self, snapshot: Snapshot, baseline: Snapshot | None) -> None:
        line = snapshot_line(snapshot)
        self.query_one("#header-info", Static).update(line)

    def show_info(self, text: str | Text) -> None:
        self.query_one("#header-info", Static).update(text)

    def show_status(self, text: str) -> None:
        """Say what is running in the background; empty text hides the status."""
        status = self.query_one("#header-status", Static)
        status.update(Text(text, "italic"))
        status.display = bool(text)
