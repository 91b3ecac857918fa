"""The Types pane: the type summary and the filter field above it.

The filter shows while the pane has the class ``-filtering`` (see app.tcss).
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Input

from heaptui.ui.view import SnapshotView
from heaptui.ui.widgets.type_table import TypeTable


class FilterInput(Input):
    """The type filter; escape clears it and returns to the table."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "clear_filter", "Clear filter")]

    def action_clear_filter(self) -> None:
        self.value = ""
        self.query_ancestor(TypesPane).close_filter()


class TypesPane(Vertical):
    """The type table and its filter field."""

    def compose(self) -> ComposeResult:
        yield FilterInput(placeholder="filter types by name (escape clears)", id="type-filter")
        yield TypeTable(id="types")

    @property
    def table(self) -> TypeTable:
        return self.query_one(TypeTable)

    @property
    def focus_target(self) -> Widget:
        return self.table

    def reset(self) -> None:
        """A new snapshot: retained sizes are unknown until its dominators are."""
        self.table.set_retained(None)

    def show_summary(self, view: SnapshotView) -> None:
        self.table.set_rows(view.summary)

    def show_retained(self, view: SnapshotView, by_type: list[int]) -> None:
        self.table.set_retained(
            {row.type_index: int(by_type[row.type_index]) for row in view.summary}
        )

    def open_filter(self) -> None:
        field = self.query_one(FilterInput)
        self.add_class("-filtering")
        self.screen.set_focus(field)

    def close_filter(self) -> None:
        self.remove_class("-filtering")
        self.table.focus()

    def select_type(self, type_index: int) -> None:
        """Put the cursor on ``type_index``, clearing a filter that hides it."""
        table = self.table
        if not table.select_type(type_index):
            self.query_one(FilterInput).value = ""
            table.set_filter("")
            table.select_type(type_index)

    @on(Input.Changed, "#type-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self.border_subtitle = f"filter: {event.value}" if event.value else ""

    @on(Input.Submitted, "#type-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self.remove_class("-filtering")
        self.table.focus()
