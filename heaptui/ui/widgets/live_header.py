"""The live header: RSS (with a sparkline of its history), object counts and gc counts, and
the live keys in words (``R new snapshot``), on one line at 80 columns.

Fed once a second from the agent's cheap counters (never a heap walk). When the connection is
lost it says so and stays on screen, so the user knows the panes show the last snapshot.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Sparkline, Static

from heaptui.core.format import human_bytes
from heaptui.core.printable import printable

RSS_HISTORY = 120  # samples kept for the sparkline (two minutes at one per second)
SPARKLINE_FROM = 110  # terminal columns from which the RSS sparkline is shown
KEYS = "R snapshot  B baseline  T timeline  ^s save"


def counters_line(counters: dict[str, Any]) -> Text:
    """One line of live figures, cut with an ellipsis; a figure the agent did not send shows
    as ``?``."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("● live", "bold green")
    rss = counters.get("rss")
    text.append("  RSS ")
    text.append(human_bytes(rss) if isinstance(rss, int) else "?", "bold")
    objects = counters.get("last_capture_objects")
    if isinstance(objects, int):
        text.append(f"  {objects:,} objects")
    gc_count = counters.get("gc_count")
    if isinstance(gc_count, list) and gc_count:
        text.append(printable("  gc " + "/".join(str(n) for n in gc_count)))
    threads = counters.get("threads")
    if isinstance(threads, int):
        text.append(f"  threads {threads}")
    blocks = counters.get("allocated_blocks")
    if isinstance(blocks, int):
        text.append(f"  blocks {blocks:,}")
    return text


class LiveHeader(Horizontal):
    """Live figures on the left, the RSS sparkline on the right."""

    DEFAULT_CSS = """
    LiveHeader { height: 1; background: $panel; padding: 0 1; }
    LiveHeader #live-figures { width: 1fr; height: 1; }
    LiveHeader #live-keys { width: auto; padding-left: 1; color: $text-muted; }
    LiveHeader #live-rss { width: 24; padding-left: 1; }
    LiveHeader.-lost { background: $error 30%; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rss_history: deque[float] = deque(maxlen=RSS_HISTORY)
        self.counters: dict[str, Any] = {}
        self.lost: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("● live: connecting…", "dim"), id="live-figures")
        yield Static(KEYS, id="live-keys")
        yield Sparkline([], id="live-rss")

    def on_resize(self) -> None:
        self.query_one(Sparkline).display = self.app.size.width >= SPARKLINE_FROM

    def show_counters(self, counters: dict[str, Any]) -> None:
        """Show fresh counters and add the RSS to the sparkline."""
        if self.lost is not None:
            return
        self.counters = counters
        rss = counters.get("rss")
        if isinstance(rss, int):
            self.rss_history.append(float(rss))
            self.query_one(Sparkline).data = list(self.rss_history)
        self.query_one("#live-figures", Static).update(counters_line(counters))

    def show_lost(self, reason: str) -> None:
        """Say the target is gone; the panes keep the last snapshot."""
        self.lost = reason
        self.add_class("-lost")
        text = Text("✕ target exited or connection lost", "bold")
        text.append(f": {printable(reason)}  ")
        text.append("(the last snapshot stays browsable; ctrl+s saves it)", "italic")
        self.query_one("#live-figures", Static).update(text)
