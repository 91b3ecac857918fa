"""Which panes show: one at a time when narrow, the left stack and the Object pane when wide.

`PaneArea` only sets CSS classes (``-wide`` on itself, ``-shown`` and ``-active`` on the panes;
app.tcss says what they look like), so no code toggles ``display``.
"""

from __future__ import annotations

from typing import Literal, cast

from textual.containers import Container
from textual.widget import Widget
from textual.widgets import Tabs

Pane = Literal["types", "instances", "object", "growth", "dominators"]
PANES: tuple[Pane, ...] = ("types", "instances", "object", "growth", "dominators")
PANE_TITLES = {
    "types": "Types",
    "instances": "Instances",
    "object": "Object",
    "growth": "Growth",
    "dominators": "Dominators",
}
# Panes that take the top left place in the wide layout (one at a time).
LEFT_TOP: tuple[Pane, ...] = ("types", "growth", "dominators")
WIDE = 120  # columns from which three panes are shown side by side


class PaneTabs(Tabs, can_focus=False):
    """The pane names; keys 1-5 (and clicks) switch panes. Never takes the focus."""


class PaneArea(Container):
    """The five panes (children with ids ``<pane>-pane``), laid out for the terminal width."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.active: Pane = "types"
        self.left_top: Pane = "types"  # the pane above Instances when wide

    def on_mount(self) -> None:
        for number, pane in enumerate(PANES, 1):
            self.pane(pane).border_title = f"{number} {PANE_TITLES[pane]}"

    def pane(self, pane: Pane) -> Widget:
        return self.query_one(f"#{pane}-pane")

    def focus_target(self, pane: Pane) -> Widget:
        """The widget that takes the focus when ``pane`` is shown."""
        return self.pane(pane).focus_target  # type: ignore[attr-defined,no-any-return]

    def activate(self, pane: Pane) -> None:
        """Make ``pane`` the active one (and the top left one when wide, if it goes there)."""
        self.active = pane
        if pane in LEFT_TOP:
            self.left_top = pane

    def show_for(self, width: int) -> None:
        """Show the panes for ``width`` columns."""
        wide = width >= WIDE
        self.set_class(wide, "-wide")
        for pane in PANES:
            shown = (pane not in LEFT_TOP or pane == self.left_top) if wide else pane == self.active
            widget = self.pane(pane)
            widget.set_class(shown, "-shown")
            widget.set_class(pane == self.active, "-active")

    @staticmethod
    def pane_of(widget: Widget | None) -> Pane | None:
        """The pane ``widget`` is in, if any."""
        while widget is not None:
            if widget.id and widget.id.endswith("-pane") and widget.id[:-5] in PANES:
                return cast(Pane, widget.id[:-5])
            widget = widget.parent  # type: ignore[assignment]
        return None
