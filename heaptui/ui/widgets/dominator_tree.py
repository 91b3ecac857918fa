"""The Dominators pane's tree, as in Eclipse MAT: what keeps the most memory alive, biggest first.

The top level lists the objects only the virtual root dominates (roots, and whatever several
roots share); a node's children are the objects it alone keeps alive, each with the share of
the heap it retains, its retained size, the reference from its dominator when the dominator
holds it directly (``['SESSIONS']``), its type, shallow size and repr. Children are read from
:func:`heaptui.model.dominators.dominated_children` one level at a time when a node is
expanded, :data:`BATCH` at a time with a "more" node, as in the object tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rich.text import Text
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from heaptui.core.format import clip, human_bytes, object_repr
from heaptui.core.labels import ROOT_KIND_NAMES
from heaptui.core.printable import printable
from heaptui.ui.widgets.instance_list import held_by
from heaptui.ui.widgets.lazy_tree import BATCH, LazyTree

if TYPE_CHECKING:
    from heaptui.model.dominators import Dominators
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot

HEADING = "  share   retained  [reference] type, size, repr: what freeing it would free"
REPR_WIDTH = 48
VIRTUAL_ROOT = -1


@dataclass
class DomEntry:
    """A tree node: an object (``node`` >= 0), the virtual root (-1), or a "more" marker."""

    node: int
    edge: int | None = None  # the dominator's reference to this object, when it has one
    loaded: int = 0  # children added so far
    more_of: TreeNode[DomEntry] | None = None  # for a "more" marker: the node it continues
    children: np.ndarray | None = None  # dominated children, biggest first (once asked)

    @property
    def is_more(self) -> bool:
        return self.more_of is not None


def share_text(part: int, whole: int) -> str:
    """``12.5%`` of the heap (``<0.1%`` rather than a misleading 0.0%)."""
    if whole <= 0:
        return "?"
    share = part / whole
    return "<0.1%" if 0 < share < 0.001 else f"{share:.1%}"


def direct_edges(index: GraphIndex, parent: int, children: np.ndarray) -> list[int | None]:
    """For each of ``children``: the edge id of ``parent``'s reference to it, or None when
    ``parent`` dominates it without referring to it (through objects it alone holds)."""
    if parent < 0 or not len(children):
        return [None] * len(children)
    targets, edges = index.referents(parent)
    order = np.argsort(targets, kind="stable")
    sorted_targets = targets[order]
    found = np.minimum(np.searchsorted(sorted_targets, children), max(len(targets) - 1, 0))
    hit = sorted_targets[found] == children if len(targets) else np.zeros(len(children), bool)
    picked = edges[order[found]] if len(targets) else np.zeros(len(children), np.int64)
    return [int(e) if h else None for e, h in zip(picked.tolist(), hit.tolist(), strict=True)]


_MODULE_REPR = re.compile(r"<module '([^']+)'")
_DOTTED = re.compile(r"[A-Za-z_][\w.]*")


def module_name(snapshot: Snapshot, node: int) -> str | None:
    """``shop`` for a module object (its repr is ``shop`` or ``<module 'shop' …>``)."""
    if snapshot.type_name(node) != "module":
        return None
    text = snapshot.repr_of(node)
    found = _MODULE_REPR.match(text)
    if found:
        return found.group(1)
    return text if _DOTTED.fullmatch(text) else None


def where_it_hangs(index: GraphIndex, node: int) -> str | None:
    """The reference that holds ``node``, as a person names it: a module global is
    ``shop.SESSIONS`` (preferred among its first few referrers), anything else the first
    referrer's label (``['k']``, ``.cache``). None when nothing in the snapshot refers to it."""
    nodes, edges = index.referrers(node)
    if not len(nodes):
        return None
    snapshot = index.snapshot
    for holder, edge in zip(nodes[:4].tolist(), edges[:4].tolist(), strict=True):
        label = snapshot.edge_label(edge)
        owners, owner_edges = index.referrers(holder)
        for owner, owner_edge in zip(owners[:4].tolist(), owner_edges[:4].tolist(), strict=True):
            module = module_name(snapshot, owner)
            if module is not None and snapshot.edge_label(owner_edge) == ".__dict__":
                quoted = label[:2] in ("['", '["') and label[-2:] in ("']", '"]')
                return f"{module}.{label[2:-2] if quoted else label}"
    label = snapshot.edge_label(int(edges[0]))
    module = module_name(snapshot, int(nodes[0]))
    if module is not None and label.startswith("."):
        return module + label  # a module's own dict: typing.__dict__
    return label


def dominator_label(
    snapshot: Snapshot,
    index: GraphIndex,
    dominators: Dominators,
    node: int,
    edge: int | None = None,
) -> Text:
    """``45.2% 12.1 MiB  ['SESSIONS'] dict 36 KiB [root: module]  len=1200`` for one object."""
    retained = int(dominators.retained[node])
    text = Text()
    text.append(share_text(retained, snapshot.total_bytes).rjust(6), "bold yellow")
    text.append(f" {human_bytes(retained):>10}", "yellow")
    text.append("  ")
    root_kind = index.root_kind_of(node)
    # named by the reference holding it: its dominator's, else where it hangs (shop.SESSIONS)
    name = snapshot.edge_label(edge) if edge is not None else None
    if name is None and root_kind is None:
        name = where_it_hangs(index, node)
    if name is not None:
        text.append(printable(name), "bold cyan")
        text.append(" ")
    text.append(printable(snapshot.type_name(node)), "bold")
    text.append(f" {human_bytes(int(snapshot.size[node]))}", "green")
    if root_kind is not None:
        text.append(f" [root: {ROOT_KIND_NAMES.get(root_kind, '?')}]", "bold magenta")
    shown = object_repr(snapshot, node)
    if not shown and name is None:
        shown = held_by(index, node)  # say what it is when nothing else does
    if shown:
        text.append("  ")
        text.append(clip(shown, REPR_WIDTH), "dim")
    return text


class DominatorTree(LazyTree[DomEntry]):
    """The dominator tree of one snapshot, expanded lazily, biggest retainers first."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.show_root = False
        self.dominators: Dominators | None = None

    # --- public API ----------------------------------------------------------------------
    def show_dominators(
        self, snapshot: Snapshot, index: GraphIndex, dominators: Dominators
    ) -> None:
        """Show the top of the tree: the biggest retainers below the virtual root."""
        self.snapshot, self.index, self.dominators = snapshot, index, dominators
        entry = DomEntry(VIRTUAL_ROOT)
        self.reset("", entry)
        self.root.expand()
        self._load(self.root)
        self.put_cursor_on(self.root.children[0] if self.root.children else self.root)

    @property
    def highlighted_node(self) -> int | None:
        """The object under the cursor (None on the top line or a "more" node)."""
        node = self.cursor_node
        entry = node.data if node is not None else None
        if entry is None or entry.is_more or entry.node < 0:
            return None
        return entry.node

    # --- loading -------------------------------------------------------------------------
    def _children(self, entry: DomEntry) -> np.ndarray:
        from heaptui.model.dominators import dominated_children

        assert self.dominators is not None
        if entry.children is None:
            entry.children = dominated_children(self.dominators, entry.node)
        return entry.children

    def _load(self, tree_node: TreeNode[DomEntry]) -> None:
        """Add the next batch of children of ``tree_node`` (and a "more" node if needed)."""
        entry = tree_node.data
        if entry is None or entry.is_more or self.dominators is None:
            return
        children = self._children(entry)
        start = entry.loaded
        stop = min(len(children), start + BATCH)
        assert self.index is not None
        batch = children[start:stop]
        edges = direct_edges(self.index, entry.node, batch)
        for child, edge in zip(batch.tolist(), edges, strict=True):
            expandable = self._dominates_any(child)
            label = self._label(child, edge)
            if not expandable:  # line the figures up with the nodes that show an arrow
                label = Text("  ") + label
            tree_node.add(label, DomEntry(child, edge), allow_expand=expandable)
        entry.loaded = stop
        remaining = len(children) - stop
        if remaining > 0:
            self.add_more_node(tree_node, remaining)

    def _more_entry(self, parent: TreeNode[DomEntry]) -> DomEntry:
        return DomEntry(VIRTUAL_ROOT, more_of=parent)

    def _dominates_any(self, node: int) -> bool:
        assert self.dominators is not None
        starts, _nodes = self.dominators.children_csr()
        return bool(starts[node + 2] > starts[node + 1])

    # --- labels --------------------------------------------------------------------------
    def _label(self, node: int, edge: int | None) -> Text:
        assert self.snapshot is not None and self.index is not None
        assert self.dominators is not None
        return dominator_label(self.snapshot, self.index, self.dominators, node, edge)

    # --- events and actions --------------------------------------------------------------
    def on_tree_node_selected(self, event: Tree.NodeSelected[DomEntry]) -> None:
        event.stop()
        entry = event.node.data
        if entry is None:
            return
        if entry.is_more:
            self.load_more(event.node)
        elif entry.node >= 0:
            self.post_message(self.ObjectPicked(self, entry.node))
