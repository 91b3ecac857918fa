"""The object pane's tree: who refers to an object (referrers) or what it refers to (referents).

Children are read from the graph index one level at a time when a node is expanded, as
Textual's DirectoryTree loads a folder. A node whose object already appears above it on the
same branch is shown as a cycle and never expands; a node with more than :data:`BATCH`
children shows the first batch and a "more" node that loads the next one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

import numpy as np
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from heaptui.core.format import clip, human_bytes, object_repr
from heaptui.core.labels import ROOT_KIND_NAMES
from heaptui.core.printable import printable
from heaptui.ui.widgets.lazy_tree import BATCH, LazyTree

if TYPE_CHECKING:
    from heaptui.model.index import GraphIndex
    from heaptui.model.paths import RootPath
    from heaptui.model.snapshot import Snapshot

# The tree opens at most this many levels of a why-alive path (nearest holders first).
PATH_DEPTH = 12
REPR_WIDTH = 60
Mode = Literal["referrers", "referents"]


@dataclass
class Entry:
    """What a tree node stands for: an object reached through an edge, or a "more" marker."""

    node: int  # position in the snapshot; -1 for a "more" marker
    edge: int | None = None  # edge id linking it to its parent node (None for the root)
    cycle: bool = False  # the object is already an ancestor on this branch
    loaded: int = 0  # children added so far
    more_of: TreeNode[Entry] | None = None  # for a "more" marker: the node it continues
    on_path: bool = False  # part of the why-alive path being shown
    earlier: bool = False  # a marker for the children before a jump (enter: from the start)

    @property
    def is_more(self) -> bool:
        return self.node < 0


def retained_text(retained: np.ndarray | None, snapshot: Snapshot, node: int) -> Text:
    """`` retains 1.2 MiB`` when ``node`` keeps more alive than itself, else nothing."""
    if retained is None or len(retained) != snapshot.node_count:
        return Text()
    kept = int(retained[node])
    if kept <= int(snapshot.size[node]):
        return Text()
    return Text(f" retains {human_bytes(kept)}", "yellow")


def children_of(index: GraphIndex, node: int, mode: Mode) -> tuple[np.ndarray, np.ndarray]:
    """Referrers or referents of ``node`` with their edge ids."""
    return index.referrers(node) if mode == "referrers" else index.referents(node)


def find_child(snapshot: Snapshot, edges: np.ndarray, target: str) -> int | None:
    """Position among ``edges`` (a node's references, in order) that ``target`` names: ``end``
    (the last), an index (``42``: the reference labelled ``[42]``, else the 42nd), or a key
    or attribute (``user:42`` matches ``['user:42']``, ``.user:42`` or a label containing it).
    None when nothing matches."""
    count = len(edges)
    if not count:
        return None
    target = target.strip()
    if target.lower() in ("end", "$"):
        return count - 1
    labels: list[str] | None = None
    if target.lstrip("-").isdigit():
        wanted = f"[{int(target)}]"
        position = int(target) % count if int(target) < 0 else int(target)
        if position < count and snapshot.edge_label(int(edges[position])) == wanted:
            return position  # a list: the index is the position
        labels = [snapshot.edge_label(e) for e in edges.tolist()]
        if wanted in labels:
            return labels.index(wanted)
        return position if position < count else None
    if labels is None:
        labels = [snapshot.edge_label(e) for e in edges.tolist()]
    bare = target.strip("'\"")
    exact = {target, f"['{bare}']", f'["{bare}"]', f".{bare}", f"[{bare}]"}
    for position, label in enumerate(labels):
        if label in exact:
            return position
    for position, label in enumerate(labels):
        if bare and bare in label:
            return position
    return None


def child_count(index: GraphIndex, node: int, mode: Mode) -> int:
    """How many children ``node`` would have in a tree of ``mode``, without listing them."""
    if mode == "referrers":
        return int(index.in_degree[node])
    return len(index.referents(node)[0])


class ObjectTree(LazyTree[Entry]):
    """A lazily expanded tree of references rooted at the selected object."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("J", "jump", "Jump", show=False)]
    MORE_HINT = "; J jumps to an index, a key or the end"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode: Mode = "referrers"
        self.new_mask: np.ndarray | None = None
        self.retained: np.ndarray | None = None  # bytes each node keeps alive, once known

    # --- public API ----------------------------------------------------------------------
    def show_object(
        self,
        snapshot: Snapshot,
        index: GraphIndex,
        node: int,
        mode: Mode,
        new_mask: np.ndarray | None = None,
    ) -> None:
        """Root the tree at ``node`` and list its first level of ``mode``."""
        self.snapshot, self.index, self.mode, self.new_mask = snapshot, index, mode, new_mask
        entry = Entry(node)
        self.reset(self._label(entry), entry)
        self.root.allow_expand = child_count(index, node, mode) > 0
        self.root.expand()
        self._load(self.root)
        self.put_cursor_on(self.root)

    def open_path(self, path: RootPath) -> TreeNode[Entry] | None:
        """Expand the referrers tree along ``path`` (root first, target last), each holder
        first among its siblings so the path reads straight down from the object, which keeps
        the cursor; returns the farthest node opened (the root, or the
        :data:`PATH_DEPTH`-th holder)."""
        root_entry = self.root.data
        if self.index is None or self.mode != "referrers" or root_entry is None:
            return None
        steps = path.steps
        count = len(steps)
        if count == 0 or steps[count - 1].node != root_entry.node:
            return None
        root_entry.on_path = True
        self.root.set_label(self._label(root_entry))
        tree_node = self.root
        for position in range(count - 2, max(-1, count - 2 - PATH_DEPTH), -1):
            if not tree_node.is_expanded:
                tree_node.expand()
            if tree_node.data is not None and not tree_node.data.loaded:
                self._load(tree_node)
            tree_node = self._child_for(tree_node, steps[position].node)
            assert tree_node.data is not None
            tree_node.data.on_path = True
            tree_node.set_label(self._label(tree_node.data))
        self.put_cursor_on(self.root)
        self.scroll_home(animate=False, immediate=True)
        return tree_node

    def set_retained(self, retained: np.ndarray | None) -> None:
        """Show retained sizes from now on, relabelling the nodes already shown."""
        self.retained = retained
        if self.snapshot is None or self.index is None or self.root.data is None:
            return
        pending = [self.root]
        while pending:
            tree_node = pending.pop()
            if tree_node.data is not None and not tree_node.data.is_more:
                tree_node.set_label(self._label(tree_node.data))
            pending.extend(tree_node.children)

    @property
    def cursor_entry(self) -> Entry | None:
        node = self.cursor_node
        return node.data if node is not None else None

    def jump_parent(self) -> TreeNode[Entry] | None:
        """The node whose children ``J`` jumps among: the node under the cursor when it is
        open, else its parent."""
        node = self.cursor_node
        if node is None:
            return None
        if node.data is not None and not node.data.is_more and node.is_expanded:
            return node
        return node.parent

    def action_jump(self) -> None:
        """Ask where to jump among the children of the container (an index, a key, end)."""
        from heaptui.ui.screens.jump import JumpScreen

        parent = self.jump_parent()
        if parent is None or parent.data is None or self.snapshot is None or self.index is None:
            return
        count = len(children_of(self.index, parent.data.node, self.mode)[0])
        name = self.snapshot.type_name(parent.data.node)

        def jump(target: str | None) -> None:
            if target is not None and not self.jump_to(parent, target):
                self.notify(f"Nothing in the {name} matches {target!r}.", markup=False)

        self.app.push_screen(JumpScreen(name, count), jump)

    def jump_to(self, parent: TreeNode[Entry], target: str) -> bool:
        """Show the children of ``parent`` from the one ``target`` names (see
        :func:`find_child`), with a marker for the earlier ones; the cursor goes to it."""
        entry = parent.data
        if entry is None or self.index is None or self.snapshot is None:
            return False
        _nodes, edges = children_of(self.index, entry.node, self.mode)
        position = find_child(self.snapshot, edges, target)
        if position is None:
            return False
        self._show_children_from(parent, position)
        first = 1 if position else 0
        self.put_cursor_on(parent.children[first])
        return True

    def _show_children_from(self, parent: TreeNode[Entry], position: int) -> None:
        """Replace the children of ``parent`` by a batch starting at ``position``."""
        assert parent.data is not None
        parent.remove_children()
        parent.expand()
        if position:
            label = Text(f"… {position:,} earlier (enter to show from the start)", "italic")
            parent.add_leaf(label, Entry(-1, more_of=parent, earlier=True))
        parent.data.loaded = position
        self._load(parent)

    # --- loading -------------------------------------------------------------------------
    def _ancestors(self, tree_node: TreeNode[Entry]) -> set[int]:
        seen: set[int] = set()
        current: TreeNode[Entry] | None = tree_node
        while current is not None:
            if current.data is not None and not current.data.is_more:
                seen.add(current.data.node)
            current = current.parent
        return seen

    def _load(self, tree_node: TreeNode[Entry]) -> None:
        """Add the next batch of children of ``tree_node`` (and a "more" node if needed)."""
        entry = tree_node.data
        if entry is None or entry.is_more or entry.cycle or self.index is None:
            return
        nodes, edges = children_of(self.index, entry.node, self.mode)
        start = entry.loaded
        stop = min(len(nodes), start + BATCH)
        above = self._ancestors(tree_node)
        for child, edge in zip(nodes[start:stop].tolist(), edges[start:stop].tolist(), strict=True):
            self._add_entry(tree_node, Entry(child, edge, cycle=child in above))
        entry.loaded = stop
        remaining = len(nodes) - stop
        if remaining > 0:
            self.add_more_node(tree_node, remaining)

    def _more_entry(self, parent: TreeNode[Entry]) -> Entry:
        return Entry(-1, more_of=parent)

    def _add_entry(
        self, parent: TreeNode[Entry], entry: Entry, before: int | None = None
    ) -> TreeNode[Entry]:
        assert self.index is not None
        expandable = not entry.cycle and child_count(self.index, entry.node, self.mode) > 0
        return parent.add(self._label(entry), entry, before=before, allow_expand=expandable)

    def _child_for(self, parent: TreeNode[Entry], node: int) -> TreeNode[Entry]:
        """The first child of ``parent``, standing for ``node`` (moved or added there)."""
        for number, child in enumerate(parent.children):
            if child.data is not None and child.data.node == node and not child.data.cycle:
                if number == 0:
                    return child
                child.remove()  # re-added first below (its subtree is reloaded on expansion)
                break
        assert self.index is not None and parent.data is not None
        nodes, edges = children_of(self.index, parent.data.node, self.mode)
        found = np.flatnonzero(nodes == node)
        edge = int(edges[found[0]]) if len(found) else None
        return self._add_entry(parent, Entry(node, edge), before=0)

    # --- labels --------------------------------------------------------------------------
    def _label(self, entry: Entry) -> Text:
        snapshot, index = self.snapshot, self.index
        assert snapshot is not None and index is not None
        node = entry.node
        text = Text()
        if entry.on_path:
            text.append("★ ", "bold yellow")
        if entry.edge is not None:
            text.append(printable(snapshot.edge_label(entry.edge)), "bold cyan")
            text.append(" ")
        text.append(printable(snapshot.type_name(node)), "bold")
        text.append(f" {human_bytes(int(snapshot.size[node]))}", "green")
        text.append_text(retained_text(self.retained, snapshot, node))
        if self.new_mask is not None and self.new_mask[node]:
            text.append(" new", "bold green")
        root_kind = index.root_kind_of(node)
        if root_kind is not None:
            text.append(f" [root: {ROOT_KIND_NAMES.get(root_kind, '?')}]", "bold magenta")
        if entry.cycle:
            text.append(" ↺ cycle", "bold red")
        text.append("  ")
        text.append(clip(object_repr(snapshot, node), REPR_WIDTH), "dim")
        return text

    # --- events and actions --------------------------------------------------------------
    def on_tree_node_selected(self, event: Tree.NodeSelected[Entry]) -> None:
        event.stop()
        entry = event.node.data
        if entry is None:
            return
        if entry.earlier and entry.more_of is not None:
            parent = entry.more_of
            self._show_children_from(parent, 0)
            self.put_cursor_on(parent.children[0] if parent.children else parent)
        elif entry.is_more:
            self.load_more(event.node)
        else:
            self.post_message(self.ObjectPicked(self, entry.node))
