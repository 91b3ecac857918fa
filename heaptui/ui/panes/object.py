"""The Object pane: the selected object and who holds it (or what it holds).

It owns everything about the selection: the object, the back/forward history, the referrers /
referents mode, the why-alive paths found (its own worker finds them), the suspect note, and
the export of the object's referrer graph (a worker too).
What shows is CSS classes (``-object``, ``-path``, ``-note``; see app.tcss).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from heaptui.core.errors import UserError
from heaptui.core.printable import printable
from heaptui.ui.history import SelectionHistory
from heaptui.ui.messages import GraphExported, RootPathFound
from heaptui.ui.widgets.alloc_site import AllocSite
from heaptui.ui.widgets.object_text import (
    NOTHING_SELECTED,
    PaneMessage,
    breadcrumb,
    object_title,
)
from heaptui.ui.widgets.object_tree import PATH_DEPTH, Mode, ObjectTree
from heaptui.ui.widgets.suspect_note import SuspectNote

if TYPE_CHECKING:
    from heaptui.model.index import GraphIndex
    from heaptui.model.paths import RootPath
    from heaptui.model.snapshot import Snapshot
    from heaptui.model.suspects import Suspect
    from heaptui.ui.view import SnapshotView


class ObjectPane(Vertical):
    """Suspect note, title line, why-alive breadcrumb, allocation site and the object's tree."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "app.toggle_mode", "Refs in/out"),
        Binding("a", "toggle_alloc", "Alloc site", show=False),
    ]

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.view: SnapshotView | None = None
        self.selected: int | None = None
        self.mode: Mode = "referrers"
        self.history = SelectionHistory()
        self.suspect_rank: int | None = None  # the suspect whose example is selected
        self.retained: np.ndarray | None = None
        self._shown: tuple[Snapshot, int, Mode, bool] | None = None
        self._paths: dict[int, RootPath | None] = {}
        self._path_wanted: int | None = None
        self._paths_shown: set[int] = set()
        self._readdress: int | None = None  # the address to select again in a new snapshot

    def compose(self) -> ComposeResult:
        yield SuspectNote("", id="suspect-note")
        yield Static("", id="object-title")
        yield Static("", id="why-alive")
        yield AllocSite(id="alloc-site")
        yield ObjectTree(id="object-tree")
        yield PaneMessage(NOTHING_SELECTED, id="object-message")

    @property
    def focus_target(self) -> Widget:
        """The tree when an object is shown, else the message saying why there is none."""
        return self.object_tree if self.has_class("-object") else self.query_one(PaneMessage)

    @property
    def object_tree(self) -> ObjectTree:
        return self.query_one(ObjectTree)

    @property
    def path_shown(self) -> bool:
        """The why-alive path of the selected object is on screen."""
        return self.has_class("-path") and self.selected in self._paths_shown

    # --- the snapshot ----------------------------------------------------------------------
    def reset(self, view: SnapshotView) -> None:
        """A new snapshot: nothing selected; once indexed, the object at the same address."""
        previous = self.view
        if previous is not None and self.selected is not None:
            self._readdress = int(previous.snapshot.addr[self.selected])
        else:
            self._readdress = None
        self.view = view
        self.suspect_rank = None
        self.set_retained(None)
        self.history.clear()
        self._paths.clear()
        self._paths_shown.clear()
        self.selected = None
        self.show_message(
            "Indexing references…" if self._readdress is None else "Indexing the new snapshot…"
        )

    def index_built(self, view: SnapshotView) -> None:
        """Select the object that was selected in the previous snapshot, if it is still there."""
        self.view = view
        readdress, self._readdress = self._readdress, None
        node = view.snapshot.node_for_addr(readdress) if readdress is not None else None
        if node is not None:
            self.select(node)
            return
        self.show_message(
            "No object selected.\n\nPick a type in Types (1), press Enter, then pick an "
            "instance (2) and press Enter to see who holds it."
            + ("\nGrowth (4) lists the leak suspects." if view.baseline is not None else "")
        )

    def remember_paths(self, suspects: list[Suspect]) -> None:
        """The suspects come with the root paths of their examples: no search for those."""
        for suspect in suspects:
            if suspect.sample is not None:
                self._paths[suspect.sample] = suspect.path

    # --- the selection ---------------------------------------------------------------------
    def select(self, node: int, record: bool = True) -> None:
        """Make ``node`` the selected object and show its tree (``record``: add to history)."""
        self.selected = node
        if record:
            self.history.visit(node)
        self._path_wanted = None
        self._show_selected()
        self.refresh_bindings()

    def go(self, step: int) -> bool:
        """Back (-1) or forward (1) in the history; False (and a toast) at its end."""
        node = self.history.back() if step < 0 else self.history.forward()
        if node is None:
            which = "earlier" if step < 0 else "later"
            self.notify(f"No {which} object in the history.", timeout=2)
            return False
        self.select(node, record=False)
        return True

    def toggle_mode(self) -> None:
        self.mode = "referents" if self.mode == "referrers" else "referrers"
        self._show_selected()

    def _show_selected(self) -> None:
        view = self.view
        if self.selected is None or view is None:
            return
        if view.index is None:
            self.show_message("Indexing references… (the tree appears when it is done)")
            return
        self.show_object(view.snapshot, view.index, self.selected, self.mode, view.new_mask)
        if self.mode == "referrers" and self.selected in self._paths_shown:
            self.show_path(self._paths[self.selected])  # back to an object: its path again
        self.update_note()

    @on(ObjectTree.ObjectPicked, "#object-tree")
    def _tree_object_picked(self, event: ObjectTree.ObjectPicked) -> None:
        event.stop()
        if event.node == self.selected:
            tree = self.object_tree
            if tree.cursor_node is not None:
                tree.cursor_node.toggle()
            return
        self.select(event.node)

    # --- why alive -------------------------------------------------------------------------
    def _selection_usable(self) -> bool:
        """Whether there is a selected object with its snapshot indexed (else a toast says
        what is missing)."""
        if self.selected is None or self.view is None:
            self.notify("Select an object first (Enter on an instance).", severity="warning")
            return False
        if self.view.index is None:
            self.notify("Still indexing references; try again in a moment.", timeout=3)
            return False
        return True

    def ready_for_path(self) -> bool:
        """Whether a why-alive path can be shown now (else a toast says why); referrers on."""
        if not self._selection_usable():
            return False
        if self.mode != "referrers":
            self.mode = "referrers"
            self._show_selected()
        return True

    def why_alive(self) -> None:
        """Show the selected object's path from a root (found in a worker the first time)."""
        node, view = self.selected, self.view
        if node is None or view is None or view.index is None:
            return
        if node in self._paths:
            self._paths_shown.add(node)
            self.show_path(self._paths[node])
            return
        self._path_wanted = node
        self.show_path(None, searching=True)
        self._find_path(view.snapshot, view.index, node)

    @work(thread=True, exclusive=True, group="path")
    def _find_path(self, snapshot: Snapshot, index: GraphIndex, node: int) -> None:
        from heaptui.model.paths import shortest_root_path

        self.post_message(RootPathFound(snapshot, node, shortest_root_path(index, node)))

    def on_root_path_found(self, message: RootPathFound) -> None:
        message.stop()
        if self.view is None or message.snapshot is not self.view.snapshot:
            return
        self._paths[message.node] = message.path
        if message.node == self._path_wanted == self.selected and self.mode == "referrers":
            self._path_wanted = None
            self._paths_shown.add(message.node)
            self.show_path(message.path)

    # --- export ---------------------------------------------------------------------------
    def export_graph(self, export_dir: str) -> None:
        """Write the referrer graph around the selected object to a .dot file in
        ``export_dir`` (and an SVG when Graphviz is installed), in a worker."""
        if not self._selection_usable():
            return
        node, view = self.selected, self.view
        assert node is not None and view is not None and view.index is not None
        snapshot = view.snapshot
        short = snapshot.type_name(node).rsplit(".", 1)[-1]
        stem = "heaptui-" + re.sub(r"[^A-Za-z0-9_-]", "_", short)[:60]  # a name of the target
        stem += f"-{int(snapshot.addr[node]):x}"
        self.notify(
            f"Exporting the referrers of {printable(snapshot.type_name(node))}…",
            timeout=2,
            markup=False,
        )
        self._export_graph(view.index, node, os.path.join(os.path.abspath(export_dir), stem))

    @work(thread=True, group="export")
    def _export_graph(self, index: GraphIndex, node: int, stem: str) -> None:
        import io

        from heaptui.core.atomic import atomic_file
        from heaptui.export.dot import dot_program, referrer_graph, render_graphviz, write_dot

        written: list[str] = []
        try:
            text = io.StringIO()
            write_dot(index, referrer_graph(index, node), text)
            with atomic_file(stem + ".dot") as handle:  # 0600: it holds the program's strings
                handle.write(text.getvalue().encode("utf-8"))
            written.append(stem + ".dot")
            if dot_program() is not None:
                render_graphviz(text.getvalue(), "svg", stem + ".svg")
                written.append(stem + ".svg")
        except (OSError, UserError) as exc:
            self.post_message(GraphExported(written, str(exc)))
            return
        self.post_message(GraphExported(written))

    def on_graph_exported(self, message: GraphExported) -> None:
        message.stop()
        if message.error is not None:
            self.notify(
                f"Export failed: {message.error}", severity="error", timeout=8, markup=False
            )
        if message.paths:
            hint = "" if len(message.paths) > 1 else " (install Graphviz for an SVG)"
            self.notify(
                "Wrote " + ", ".join(message.paths) + hint,
                title="Referrer graph",
                timeout=10,
                markup=False,
            )

    # --- the suspect note ------------------------------------------------------------------
    def shown_suspect(self) -> Suspect | None:
        """The suspect whose example is the selected object, if any."""
        rank, view = self.suspect_rank, self.view
        if rank is None or view is None or rank >= len(view.suspects) or self.selected is None:
            return None
        suspect = view.suspects[rank]
        return suspect if suspect.sample == self.selected else None

    def update_note(self) -> None:
        from heaptui.ui.widgets.suspect_note import suspect_note

        suspect, view = self.shown_suspect(), self.view
        if suspect is None or view is None or view.index is None:
            self.show_note(None)
            return
        rank = view.suspects.index(suspect)
        new_count = suspect.new_count  # grouped suspects count their type's new objects
        if new_count is None:
            new_count = view.new_count(suspect.name)
        total = len(view.suspects)
        self.show_note(suspect_note(suspect, rank, total, new_count, view.accumulation_known))

    # --- what shows ------------------------------------------------------------------------
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
        self._show_title()
        self.query_one(AllocSite).show(snapshot, node)
        self.hide_path()
        self.add_class("-object")
        self.object_tree.show_object(snapshot, index, node, mode, new_mask)

    def set_retained(self, retained: np.ndarray | None) -> None:
        """Show retained sizes in the title and the tree (None: not known for this snapshot)."""
        self.retained = retained
        self.object_tree.set_retained(retained)
        self._show_title()

    def _show_title(self) -> None:
        """The title line of the object shown, with its retained size once known."""
        if self._shown is not None:
            snapshot, node, mode, is_new = self._shown
            title = object_title(snapshot, node, mode, is_new, self.retained)
            self.query_one("#object-title", Static).update(title)

    def show_note(self, note: Text | None) -> None:
        """Show the suspect note above the title (None hides it)."""
        self.set_class(note is not None, "-note")
        if note is not None:
            self.query_one(SuspectNote).update(note)

    def action_toggle_alloc(self) -> None:
        """Short allocation line, or every frame with full file names."""
        self.query_one(AllocSite).toggle_full()

    def show_message(self, text: str) -> None:
        """Replace the tree by a sentence (nothing selected yet, index still building)."""
        self._shown = None
        message = self.query_one(PaneMessage)
        message.update(text)
        self.show_note(None)
        self.hide_path()
        was_focused = self.object_tree.has_focus
        self.remove_class("-object")
        if was_focused:
            message.focus()

    def show_path(self, path: RootPath | None, searching: bool = False) -> None:
        """Show the breadcrumb (or that the search is running) and open the tree along it."""
        why = self.query_one("#why-alive", Static)
        self.add_class("-path")
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
        self.remove_class("-path")
