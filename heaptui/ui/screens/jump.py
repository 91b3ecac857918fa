"""The ``J`` prompt: where to jump in a big container (an index, a key, or ``end``)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class JumpScreen(ModalScreen[str | None]):
    """Ask for an index, a key or ``end``; dismissed with the text (None: escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, container: str, count: int) -> None:
        super().__init__()
        self.container = container
        self.count = count

    def compose(self) -> ComposeResult:
        with Vertical(id="jump-body") as body:
            body.border_title = "Jump to"
            yield Static(
                f"In {self.container} ({self.count:,} references): an index (42), "
                "a key or attribute name (user:42), or end. Escape cancels.",
                id="jump-help",
            )
            yield Input(placeholder="index, key or end", id="jump-input")

    @on(Input.Submitted, "#jump-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)
