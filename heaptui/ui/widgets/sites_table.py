"""The growth pane's allocation-site table: the new objects of one type grouped by where they
were allocated (tracemalloc), biggest group first; Enter selects a sample object of a group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from heaptui.core.format import human_bytes
from heaptui.core.printable import printable
from heaptui.ui.widgets.alloc_site import short_file

if TYPE_CHECKING:
    from heaptui.model.allocsites import SiteGroup, SiteGrowth

SITE_FRAMES = 3


def site_text(group: SiteGroup) -> Text:
    """``app/shop.py:42 ← app/main.py:10``: the innermost frames of a group's traceback."""
    text = Text()
    for number, frame in enumerate(group.frames[:SITE_FRAMES]):
        if number:
            text.append(" ← ", "dim")
        text.append(f"{short_file(frame.filename)}:{frame.lineno}", "cyan" if number else "bold")
    return text


def sites_title(name: str, sites: SiteGrowth, why_untraced: str | None = None) -> Text:
    """``shop.Session: 120 new objects at 3 sites (5 without a traceback)``; ``why_untraced``
    explains the objects without one (Python 3.11's cpython#101430)."""
    text = Text(f"{printable(name)}: ", "bold")
    if not sites.groups:
        text.append(f"none of the {sites.total_count:,} new objects has an allocation traceback")
        if why_untraced:
            text.append(f": {printable(why_untraced)}", "italic")
        return text
    places = len(sites.groups)
    text.append(f"{sites.total_count:,} new objects at {places:,} site{'s' if places != 1 else ''}")
    if sites.untraced_count:
        text.append(
            f" ({sites.untraced_count:,} without a traceback, {human_bytes(sites.untraced_size)})",
            "dim",
        )
        if why_untraced:
            text.append(f": {printable(why_untraced)}", "dim italic")
    text.append("  enter: an example, escape: close", "dim")
    return text


class SitesTable(DataTable[Text]):
    """One row per allocation site: new objects, their bytes, and the innermost frames."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Example"),
        Binding("escape", "close", "Close"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    @dataclass
    class SampleChosen(Message):
        """Enter was pressed on a site: ``node`` is its largest new object."""

        table: SitesTable
        node: int

        @property
        def control(self) -> SitesTable:
            return self.table

    @dataclass
    class Closed(Message):
        """The user closed the table (escape)."""

        table: SitesTable

        @property
        def control(self) -> SitesTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.groups: list[SiteGroup] = []

    def on_mount(self) -> None:
        self.add_column(Text("Objects", justify="right"), key="objects")
        self.add_column(Text("Bytes", justify="right"), key="size")
        self.add_column("Allocated at (innermost first)", key="site")

    def set_sites(self, sites: SiteGrowth) -> None:
        self.groups = list(sites.groups)
        self.clear()
        for number, group in enumerate(self.groups):
            self.add_row(
                Text(f"{group.objects:,}", justify="right"),
                Text(human_bytes(group.size), justify="right"),
                site_text(group),
                key=str(number),
            )

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            group = self.groups[int(event.row_key.value)]
            self.post_message(self.SampleChosen(self, group.sample))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()

    def action_close(self) -> None:
        self.post_message(self.Closed(self))
