"""The type summary pane: a table of types with count, bytes and share, sortable and filterable.

Once the dominator tree is known a Retained column appears: the bytes all instances of the
type keep alive together. Rows are keyed by type index, so after a re-sort or a new filter
the cursor goes back to the type it was on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from heaptui.core.format import clip_middle, human_bytes
from heaptui.ui.widgets.table_widths import fit_columns

if TYPE_CHECKING:
    from heaptui.model.summary import TypeRow

# Room the count, bytes and share columns take (with cell padding): names get the rest.
NUMBER_COLUMNS_WIDTH = 38
RETAINED_COLUMN_WIDTH = 13
MIN_NAME_WIDTH = 16

SORT_GROUP = Binding.Group("Sort")

# sort key -> (column title, largest first by default)
SORTS: dict[str, tuple[str, bool]] = {
    "name": ("Type", False),
    "count": ("Count", True),
    "size": ("Bytes", True),
    "retained": ("Retained", True),
}


def sort_rows(
    rows: Sequence[TypeRow],
    key: str,
    reverse: bool,
    retained: Mapping[int, int] | None = None,
) -> list[TypeRow]:
    """``rows`` ordered by ``key`` (``name``, ``count``, ``size`` or ``retained``, which needs
    ``retained``: bytes by type index); ties broken by name."""
    _title, largest_first = SORTS[key]
    descending = largest_first != reverse
    if key == "name":
        return sorted(rows, key=lambda r: r.name.lower(), reverse=descending)
    by_name = sorted(rows, key=lambda r: r.name.lower())
    if key == "retained":
        known = retained or {}
        return sorted(by_name, key=lambda r: known.get(r.type_index, 0), reverse=descending)
    return sorted(by_name, key=lambda r: getattr(r, key), reverse=descending)


def filter_rows(rows: Sequence[TypeRow], text: str) -> list[TypeRow]:
    """Rows whose type name contains ``text`` (case-insensitive); all rows for empty text."""
    needle = text.strip().lower()
    if not needle:
        return list(rows)
    return [r for r in rows if needle in r.name.lower()]


class TypeTable(DataTable[Text]):
    """Type, count, bytes and share of the heap; one row per type present in the snapshot."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Instances"),
        Binding("b", "sort('size')", "bytes", group=SORT_GROUP),
        Binding("c", "sort('count')", "count", group=SORT_GROUP),
        Binding("n", "sort('name')", "name", group=SORT_GROUP),
        Binding("r", "sort('retained')", "retained", group=SORT_GROUP),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "scroll_top", "Top", show=False),
        Binding("G", "scroll_bottom", "Bottom", show=False),
    ]

    @dataclass
    class TypeHighlighted(Message):
        """The cursor moved onto a type."""

        table: TypeTable
        type_index: int

        @property
        def control(self) -> TypeTable:
            return self.table

    @dataclass
    class TypeSelected(Message):
        """Enter was pressed on a type."""

        table: TypeTable
        type_index: int

        @property
        def control(self) -> TypeTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: list[TypeRow] = []
        self.sort_key = "size"
        self.sort_reverse = False
        self.filter_text = ""
        self._filled_width = 0
        self.retained: dict[int, int] | None = None  # bytes by type index, once known

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        self.add_column(Text("Type  "), key="name")
        self.add_column(Text("Count  ", justify="right"), key="count")
        self.add_column(Text("Bytes  ", justify="right"), key="size")
        if self.retained is not None:
            self.add_column(Text("Retained  ", justify="right"), key="retained")
        self.add_column(Text("Share", justify="right"), key="share")

    # --- state -------------------------------------------------------------------------
    @property
    def highlighted_type(self) -> int | None:
        """Type index under the cursor, or None when the table is empty."""
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    @property
    def shown_names(self) -> list[str]:
        """Type names in display order (what the user sees, top to bottom)."""
        return [r.name for r in self._visible_rows()]

    def set_rows(self, rows: Sequence[TypeRow]) -> None:
        """Show a new summary, keeping the cursor on the same type when it is still there."""
        self._rows = list(rows)
        self._refill()

    def set_retained(self, retained: dict[int, int] | None) -> None:
        """Show (or, with None, drop) the Retained column: bytes kept alive, by type index."""
        self.retained = retained
        if retained is None and self.sort_key == "retained":
            self.sort_key, self.sort_reverse = "size", False
        keep = self.highlighted_type
        self.clear(columns=True)
        self._add_columns()
        self._refill(keep)

    def set_filter(self, text: str) -> None:
        """Show only types whose name contains ``text``."""
        self.filter_text = text
        self._refill()

    def select_type(self, type_index: int) -> bool:
        """Move the cursor to ``type_index``; False if it is not shown (filtered out)."""
        try:
            row = self.get_row_index(str(type_index))
        except Exception:  # RowDoesNotExist
            return False
        self.move_cursor(row=row, animate=False)
        return True

    def action_sort(self, key: str) -> None:
        """Sort by ``key``; pressing the same key again reverses the order."""
        if key == "retained" and self.retained is None:
            self.notify("Retained sizes are still being computed (see the top right).", timeout=3)
            return
        if key == self.sort_key:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_key, self.sort_reverse = key, False
        self._refill()

    @property
    def _name_width(self) -> int:
        numbers = NUMBER_COLUMNS_WIDTH + (RETAINED_COLUMN_WIDTH if self.retained is not None else 0)
        return max(MIN_NAME_WIDTH, self.size.width - numbers)

    def on_resize(self) -> None:
        if self._rows and self._name_width != self._filled_width:
            self._refill()

    def _visible_rows(self) -> list[TypeRow]:
        return sort_rows(
            filter_rows(self._rows, self.filter_text),
            self.sort_key,
            self.sort_reverse,
            self.retained,
        )

    def _refill(self, keep: int | None = None) -> None:
        if keep is None:
            keep = self.highlighted_type
        self._filled_width = self._name_width
        self.clear()
        retained = self.retained
        added: list[list[Text]] = []
        for row in self._visible_rows():
            cells = [
                Text(clip_middle(row.name, self._name_width)),
                Text(f"{row.count:,}", justify="right"),
                Text(human_bytes(row.size), justify="right"),
            ]
            if retained is not None:
                cells.append(Text(human_bytes(retained.get(row.type_index, 0)), justify="right"))
            cells.append(Text(f"{row.share:6.1%}", justify="right"))
            self.add_row(*cells, key=str(row.type_index))
            added.append(cells)
        self._label_sorted_column()
        fit_columns(self, added)
        if keep is not None:
            self.select_type(keep)

    def _label_sorted_column(self) -> None:
        arrow = "▲" if self.sort_reverse != (not SORTS[self.sort_key][1]) else "▼"
        for key, (title, _largest_first) in SORTS.items():
            column = self.columns.get(key)  # type: ignore[call-overload]
            if column is not None:
                label = title + (" " + arrow if key == self.sort_key else "  ")
                column.label = Text(label, justify="left" if key == "name" else "right")
        self.refresh()

    # --- events ------------------------------------------------------------------------
    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.TypeHighlighted(self, int(event.row_key.value)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.TypeSelected(self, int(event.row_key.value)))
