"""The object pane: the selected object, where it was allocated, the why-alive breadcrumb and
the reference tree."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from heaptui.core.format import clip, human_bytes, object_repr
from heaptui.core.labels import ROOT_KIND_NAMES
from heaptui.core.printable import printable
from heaptui.ui.widgets.alloc_site import AllocSite
from heaptui.ui.widgets.object_tree import PATH_DEPTH, Mode, ObjectTree, retained_text
from heaptui.ui.widgets.suspect_note import SuspectNote

if TYPE_CHECKING:
    from heaptui.model.index import GraphIndex
    from heaptui.model.paths import RootPath
    from heaptui.model.snapshot import Snapshot

# Paths longer than PATH_HEAD + PATH_TAIL steps show only their two ends in the breadcrumb.
PATH_HEAD = 6
PATH_TAIL = 6

NOTHING_SELECTED = (
    "No object selected.\n\n"
    "Pick a type in Types (1), press Enter, pick an instance (2) and press Enter: "
    "its referrers appear here. With a baseline, Growth (4) lists the leak suspects."
)


def object_title(
    snapshot: Snapshot,
    node: int,
    mode: Mode,
    is_new: bool,
    retained: np.ndarray | None = None,
) -> Text:
    """``Referrers of myapp.Session 0x7f.. 1.2 KiB retains 4 KiB new: <repr>``."""
    text = Text()
    text.append("Referrers of " if mode == "referrers" else "Referents of ", "bold")
    text.append(printable(snapshot.type_name(node)), "bold cyan")
    text.append(f" {int(snapshot.addr[node]):#x} {human_bytes(int(snapshot.size[node]))}")
    text.append_text(retained_text(retained, snapshot, node))
    if is_new:
        text.append(" new", "bold green")
    shown = object_repr(snapshot, node)
    if shown:
        text.append("  ")
        text.append(clip(shown, 32), "dim")
    return text


def breadcrumb(path: RootPath | None) -> Text:
    """The why-alive path on one line: ``sys.modules['app'] → .cache → ['k'] → Session``.

    A long path (a linked list can be a million links long) shows its first and last steps.
    """
    from heaptui.model.paths import merge_dict_steps

    text = Text()
    text.append("Why alive: ", "bold yellow")
    if path is None:
        text.append("no root reaches this object (it is garbage, or held from outside the heap)")
        return text
    text.append(printable(path.root_label), "bold magenta")
    text.append(f" ({ROOT_KIND_NAMES.get(path.root_kind, '?')} root)", "dim")
    steps = path.steps
    count = len(steps)
    if count <= PATH_HEAD + PATH_TAIL:
        parts = [merge_dict_steps([steps[i] for i in range(count)])]
    else:
        head = merge_dict_steps([steps[i] for i in range(PATH_HEAD)])
        tail = merge_dict_steps([steps[i] for i in range(count - PATH_TAIL, count)])
        parts = [head, tail]
    for number, shown in enumerate(parts):
        if number:
            text.append(f" → … {count - PATH_HEAD - PATH_TAIL:,} more steps …", "italic")
        for step in shown[1:] if number == 0 else shown:
            text.append(" → ", "dim")
            text.append(printable(step.edge or "<ref>"), "bold cyan")
    text.append(" → ", "dim")
    text.append(printable(steps[count - 1].type.rsplit(".", 1)[-1]), "bold")
    return text


class PaneMessage(Static, can_focus=True):
    """A sentence standing in for a pane's content; focusable so the pane's keys work."""


class ObjectPane(Vertical):
    """Title line, optional breadcrumb, and the tree of the selected object."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "app.toggle_mode", "Refs in/out"),
        Binding("a", "toggle_alloc", "Alloc site", show=False),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown: tuple[Snapshot, int, Mode, bool] | None = None
        self.retained: np.ndarray | None = None

    def compose(self) -> ComposeResult:
        yield SuspectNote("", id="suspect-note")
        yield Static("", id="object-title")
        yield Static("", id="why-alive")
        yield AllocSite(id="alloc-site")
        yield ObjectTree(id="object-tree")
        yield PaneMessage(NOTHING_SELECTED, id="object-message")

    def on_mount(self) -> None:
        self.query_one(SuspectNote).display = False
        self.query_one("#why-alive").display = False
        self.query_one("#object-title").display = False
        self.query_one(AllocSite).display = False
        self.query_one(ObjectTree).display = False

    @property
    def focus_target(self) -> Widget:
        """The tree when an object is shown, else the message saying why there is none."""
        tree = self.object_tree
        return tree if tree.display else self.query_one(PaneMessage)

    @property
    def object_tree(self) -> ObjectTree:
        return self.query_one(ObjectTree)

    def show_object(
        self,
        snapshot: Snapshot,
        index: GraphIndex,
        node: int,
        mode: Mode,
        new_mask: np.ndarray | None,
    ) -> None:
        """Show ``node`` with its first level of referrers or referents."""
        is_new = bool(new_mask is not None and new_mask[node])
        self._shown = (snapshot, node, mode, is_new)
        title = self.query_one("#object-title", Static)
        title.update(object_title(snapshot, node, mode, is_new, self.retained))
        title.display = True
        site = self.query_one(AllocSite)
        site.show(snapshot, node)
        site.display = True
        self.hide_path()
        self.query_one(PaneMessage).display = False
        tree = self.object_tree
        tree.display = True
        tree.show_object(snapshot, index, node, mode, new_mask)

    def set_retained(self, retained: np.ndarray | None) -> None:
        """Show retained sizes in the title and the tree (None: not known for this snapshot)."""
        self.retained = retained
        self.object_tree.set_retained(retained)
        if self._shown is not None:
            snapshot, node, mode, is_new = self._shown
            title = object_title(snapshot, node, mode, is_new, retained)
            self.query_one("#object-title", Static).update(title)

    def show_note(self, note: Text | None) -> None:
        """Show the suspect note above the title (None hides it)."""
        widget = self.query_one(SuspectNote)
        widget.display = note is not None
        if note is not None:
            widget.update(note)

    def action_toggle_alloc(self) -> None:
        """Short allocation line, or every frame with full file names."""
        self.query_one(AllocSite).toggle_full()

    def show_message(self, text: str) -> None:
        """Replace the tree by a sentence (nothing selected yet, index still building)."""
        self._shown = None
        message = self.query_one(PaneMessage)
        message.update(text)
        message.display = True
        self.query_one("#object-title").display = False
        self.query_one(AllocSite).display = False
        self.show_note(None)
        self.hide_path()
        was_focused = self.object_tree.has_focus
        self.object_tree.display = False
        if was_focused:
            message.focus()

    def show_path(self, path: RootPath | None, searching: bool = False) -> None:
        """Show the breadcrumb (or that the search is running) and open the tree along it."""
        why = self.query_one("#why-alive", Static)
        why.display = True
        if searching:
            why.update(Text("Why alive: searching for the shortest path from a root…", "italic"))
            return
        why.update(breadcrumb(path))
        if path is not None:
            self.object_tree.open_path(path)
            if len(path.steps) - 1 > PATH_DEPTH:
                self.notify(
                    f"The path is {len(path.steps) - 1:,} references long; the tree opens the "
                    f"{PATH_DEPTH} nearest holders (the line above shows both ends).",
                    timeout=6,
                )

    def hide_path(self) -> None:
        self.query_one("#why-alive", Static).display = False
