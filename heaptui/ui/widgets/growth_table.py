"""The growth pane: how each type changed since the baseline, leak suspects first and marked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from heaptui.core.format import clip_middle, human_bytes, signed_bytes, signed_count
from heaptui.ui.widgets.table_widths import fit_columns

if TYPE_CHECKING:
    from heaptui.model.diff import GrowthRow

SUSPECT_MARK = "!"
MAX_NAME_WIDTH = 48
MIN_NAME_WIDTH = 12
# Each column has one cell of padding either side; the vertical scrollbar takes two more.
CELL_PADDING = 2
SCROLLBAR = 2

NO_BASELINE = (
    "No baseline, so there is no growth to show.\n\n"
    "Growth compares two snapshots of the same program. Take one early, one after the\n"
    "memory has grown, and open the later one with the earlier one as baseline:\n\n"
    "    heaptui.dump('base.heap')     # in your program, early\n"
    "    heaptui.dump('after.heap')    # later, once memory has grown\n"
    "    heaptui open after.heap --baseline base.heap\n\n"
    "Try `heaptui demo` to see a leak found this way."
)


def order_growth(rows: Sequence[GrowthRow], suspect_names: Sequence[str]) -> list[GrowthRow]:
    """Suspects first (in suspect order), then the other rows in their given order."""
    rank = {name: i for i, name in enumerate(suspect_names)}
    first = sorted((r for r in rows if r.name in rank), key=lambda r: rank[r.name])
    return first + [r for r in rows if r.name not in rank]


class GrowthTable(DataTable[Text]):
    """One row per type whose count or bytes changed; suspects on top with a mark."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Instances"),
        Binding("s", "app.group_sites", "By site"),
        Binding("escape", "app.close_sites", "Close sites", show=False),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    @dataclass
    class TypeNameSelected(Message):
        """Enter was pressed on a type of the growth table."""

        table: GrowthTable
        name: str

        @property
        def control(self) -> GrowthTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self._rows: list[GrowthRow] = []
        self.suspect_names: list[str] = []

    def on_mount(self) -> None:
        self.add_column(" ", key="mark")
        self.add_column("Type", key="name")
        self.add_column(Text("Δ count", justify="right"), key="count_delta")
        self.add_column(Text("Δ bytes", justify="right"), key="size_delta")
        self.add_column(Text("Count", justify="right"), key="count_now")
        self.add_column(Text("Bytes", justify="right"), key="size_now")

    @property
    def highlighted_name(self) -> str | None:
        """Type name under the cursor, or None when the table is empty."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    @property
    def shown_names(self) -> list[str]:
        """Type names top to bottom."""
        return [r.name for r in order_growth(self._rows, self.suspect_names)]

    def select_name(self, name: str) -> bool:
        """Put the cursor on the row of the type called ``name``, if it is shown."""
        try:
            row = self.get_row_index(name)
        except KeyError:
            return False
        self.move_cursor(row=row, animate=False)
        return True

    def _name_width(self, cells: list[list[str]]) -> int:
        """What is left for type names once the number columns fit (the numbers never clip)."""
        titles = ("Δ count", "Δ bytes", "Count", "Bytes")
        numbers = sum(
            max([len(title), *(len(row[column]) for row in cells)])
            for column, title in enumerate(titles)
        )
        scrollbar = SCROLLBAR if len(cells) + 1 > self.size.height else 0
        spare = self.size.width - scrollbar - 6 * CELL_PADDING - 1 - numbers
        return max(MIN_NAME_WIDTH, min(MAX_NAME_WIDTH, spare))

    def set_rows(self, rows: Sequence[GrowthRow], suspect_names: Sequence[str] = ()) -> None:
        """Show ``rows``; the types named in ``suspect_names`` go first, marked."""
        self._rows = list(rows)
        self.suspect_names = list(suspect_names)
        self.clear()
        suspects = set(self.suspect_names)
        ordered = order_growth(self._rows, self.suspect_names)
        cells = [
            [
                signed_count(row.count_delta),
                signed_bytes(row.size_delta),
                f"{row.count_now:,}",
                human_bytes(row.size_now),
            ]
            for row in ordered
        ]
        width = self._name_width(cells)
        added: list[list[Text]] = []
        for row, numbers in zip(ordered, cells, strict=True):
            is_suspect = row.name in suspects
            style = "bold" if is_suspect else ""
            grew = "red" if row.size_delta > 0 else "green"
            shown = [
                Text(SUSPECT_MARK if is_suspect else " ", "bold red"),
                Text(clip_middle(row.name, width), style),
                Text(numbers[0], grew, justify="right"),
                Text(numbers[1], grew, justify="right"),
                Text(numbers[2], justify="right"),
                Text(numbers[3], justify="right"),
            ]
            self.add_row(*shown, key=row.name)
            added.append(shown)
        fit_columns(self, added)

    def on_resize(self) -> None:
        """Names get what the numbers leave: redraw them for the new width."""
        if self._rows:
            highlighted = self.highlighted_name
            self.set_rows(self._rows, self.suspect_names)
            if highlighted is not None:
                self.select_name(highlighted)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.TypeNameSelected(self, event.row_key.value))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
