"""The help screen (``?``): every key, grouped by pane."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from heaptui.ui.keys import KEY_SECTIONS


def help_table() -> Table:
    """All keys as a two-column table with a heading per pane."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for section, keys in KEY_SECTIONS.items():
        table.add_row(Text(section, "bold underline"), "")
        for key in keys:
            table.add_row(Text(key.keys), Text(key.description))  # "[" is text, not markup
        table.add_row("", "")
    return table


class HelpScreen(ModalScreen[None]):
    """A scrollable list of keys; escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
        Binding("j,down", "scroll_down", "Down", show=False),
        Binding("k,up", "scroll_up", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "heaptui keys (escape closes)"
            yield Static(help_table(), id="help-text")

    def action_scroll_down(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_down()

    def action_scroll_up(self) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_up()
