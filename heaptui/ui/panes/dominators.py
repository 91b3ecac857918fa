"""The Dominators pane: a note while the dominator tree is computed, then the tree itself.

It owns what it shows: :meth:`DominatorsPane.forget` on a new snapshot, :meth:`show` once the
dominators are known. Which part is visible is the CSS class ``-computed`` (see app.tcss), so
the app never toggles ``display`` here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from heaptui.ui.widgets.dominator_tree import HEADING, DominatorTree
from heaptui.ui.widgets.object_text import PaneMessage

if TYPE_CHECKING:
    from heaptui.model.dominators import Dominators
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot

COMPUTING_RETAINED = (
    "Computing retained sizes (the dominator tree)…\n\n"
    "The other panes work meanwhile. When it is done this pane lists what keeps the most "
    "memory alive, biggest first, as Eclipse MAT's dominator tree does."
)


class DominatorsPane(Vertical):
    """The dominator tree of the current snapshot, or a note saying it is being computed."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.dominators: Dominators | None = None

    def compose(self) -> ComposeResult:
        yield PaneMessage(COMPUTING_RETAINED, id="dominators-message")
        yield Static(Text(HEADING), id="dominators-title")
        yield DominatorTree(id="dominators")

    @property
    def computed(self) -> bool:
        """True once the tree of the current snapshot is shown."""
        return self.has_class("-computed")

    @property
    def focus_target(self) -> Widget:
        """What takes the focus when the pane is shown: the tree, or the note before it."""
        if self.computed:
            return self.query_one(DominatorTree)
        return self.query_one("#dominators-message")

    @property
    def highlighted_node(self) -> int | None:
        """The object under the tree's cursor (None before the tree is known)."""
        return self.query_one(DominatorTree).highlighted_node if self.computed else None

    def forget(self) -> None:
        """A new snapshot: the tree is unknown until its dominators are computed."""
        self.dominators = None
        tree = self.query_one(DominatorTree)
        message = self.query_one("#dominators-message", PaneMessage)
        message.update(COMPUTING_RETAINED)
        self.remove_class("-computed")
        if tree.has_focus:
            message.focus()
        self.border_subtitle = ""

    def show(self, snapshot: Snapshot, index: GraphIndex, dominators: Dominators) -> None:
        """Show the tree of ``dominators`` (the focus moves from the note to the tree)."""
        from heaptui.model.dominators import dominated_children

        self.dominators = dominators
        note = self.query_one("#dominators-message")
        tree = self.query_one(DominatorTree)
        tree.show_dominators(snapshot, index, dominators)
        self.add_class("-computed")
        roots = len(dominated_children(dominators))
        self.border_subtitle = f"{roots:,} top-level retainers"
        if note.has_focus:
            tree.focus()
