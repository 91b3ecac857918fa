"""The object pane's allocation line: where the selected object was allocated (tracemalloc).

Short form (default): one or two lines, innermost frame first, file names shortened. Long
form (key ``a``): one frame per line with full paths. When the snapshot has no allocation
sites, or this object has none, the line says why and how to record them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from heaptui.core.labels import TYPE_USER
from heaptui.core.printable import printable

if TYPE_CHECKING:
    from heaptui.model.allocsites import Frame
    from heaptui.model.snapshot import Snapshot

SHORT_FRAMES = 4
# Said in the short form when the snapshot has no sites (fits 80 columns); ``a`` says more.
SHORT_OFF = "unknown, tracemalloc was off (PYTHONTRACEMALLOC=25; a: more)"
SHORT_UNRECORDED = "not recorded (PYTHONTRACEMALLOC=25 records it; a: more)"


def short_file(filename: str) -> str:
    """``/home/me/proj/app/shop.py`` -> ``app/shop.py``: enough to recognise the file."""
    parts = filename.replace("\\", "/").split("/")
    return printable("/".join(parts[-2:]) if len(parts) > 2 else filename)


def frames_text(frames: list[Frame], full: bool) -> Text:
    """``Allocated at app/shop.py:42 ← app/main.py:10``; ``full``: one frame per line."""
    text = Text()
    text.append("Allocated at ", "bold")
    if full:
        text.append(f"({len(frames)} frames, innermost first)", "dim")
        for frame in frames:
            text.append("\n  ")
            text.append(printable(f"{frame.filename}:{frame.lineno}"), "cyan")
        return text
    for number, frame in enumerate(frames[:SHORT_FRAMES]):
        if number:
            text.append(" ← ", "dim")
        style = "cyan" if number else "bold cyan"
        text.append(f"{short_file(frame.filename)}:{frame.lineno}", style)
    if len(frames) > SHORT_FRAMES:
        text.append(f" ← … {len(frames) - SHORT_FRAMES} more (a)", "dim")
    return text


def cpython_101430_applies(snapshot: Snapshot, type_index: int) -> bool:
    """Whether Python 3.11's tracemalloc bug (no traceback for instances of classes with a
    ``__dict__``, cpython#101430) may explain missing tracebacks of this type's objects."""
    user_type = bool(int(snapshot.type_flags[type_index]) & TYPE_USER)
    return user_type and str(snapshot.meta.get("python") or "").startswith("3.11")


def alloc_site_text(snapshot: Snapshot, node: int, full: bool = False) -> Text:
    """What the snapshot knows about where ``node`` was allocated, as shown in the pane."""
    from heaptui.model.allocsites import CPYTHON_101430, alloc_site, alloc_status

    status = alloc_status(snapshot)
    if not status.recorded:
        if not full:
            short = SHORT_OFF if status.tracing is False else SHORT_UNRECORDED
            return Text.assemble(("Allocated at: ", "bold"), (short, "italic"))
        return Text.assemble(("No allocation sites: ", "bold"), (status.explanation, "italic"))
    frames = alloc_site(snapshot, node)
    if frames:
        return frames_text(frames, full)
    text = Text("No allocation site for this object", "bold")
    reason = "allocated before tracemalloc started, or reused from a free list"
    if cpython_101430_applies(snapshot, int(snapshot.type_index[node])):
        reason = CPYTHON_101430
    text.append(f": {reason}", "italic")
    return text


class AllocSite(Static):
    """One object's allocation site; ``full`` shows every frame."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.full = False
        self._shown: tuple[Snapshot, int] | None = None

    def show(self, snapshot: Snapshot, node: int) -> None:
        self._shown = (snapshot, node)
        self._render_site()

    def toggle_full(self) -> None:
        self.full = not self.full
        self.set_class(self.full, "-full")
        self._render_site()

    def _render_site(self) -> None:
        if self._shown is not None:
            snapshot, node = self._shown
            self.update(alloc_site_text(snapshot, node, self.full))
