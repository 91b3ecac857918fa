"""Dominator tree and retained sizes: what would be freed if an object went away.

Node ``d`` dominates ``v`` when every path from the roots to ``v`` passes through ``d``; the
retained size of ``d`` is the sum of the sizes of the nodes it dominates (itself included),
the bytes freed if ``d`` were released. This is Eclipse MAT's and Chrome DevTools' figure.

Pure functions over CSR arrays (no dependency on :class:`~heaptui.model.index.GraphIndex`):

- :func:`dominator_tree` / :func:`immediate_dominators`: ``idom[v]`` is v's immediate dominator,
  ``VIRTUAL_ROOT`` (-1) for a root, ``UNREACHED`` (-2) for a node no root reaches.
- :func:`retained_sizes`: subtree sums over the dominator tree, children before parents.

And over a snapshot: :func:`dominators_for` (roots: stored module/thread roots, "other" roots,
plus one entry node per unreached garbage component, see ``dominators_unreachable``),
:func:`dominated_children` (MAT-like tree view), :func:`dominator_chain`,
:func:`retained_by_type` and :func:`accumulation_point` (where new objects pile up).

Algorithm: Lengauer-Tarjan, O(E log N), in C (``dominators_native.c``: 0.4 to 1 s of CPU per
million objects, less on a real capture than on a random graph) or, when that extension was not
built, the same algorithm in pure Python (``dominators_python``, about 6 s per million objects).
Both handle million-long chains.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from heaptui.model import dominators_python
from heaptui.model.dominators_unreachable import unreached_entry_nodes

if TYPE_CHECKING:
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot

try:
    from heaptui.model import dominators_native  # type: ignore[attr-defined]
except ImportError:  # extension not built: the pure Python loops give the same answers
    dominators_native = None

VIRTUAL_ROOT = -1
UNREACHED = -2

BACKENDS: dict[str, ModuleType] = {"python": dominators_python}
if dominators_native is not None:
    BACKENDS["native"] = dominators_native


def _backend(name: str | None) -> ModuleType:
    if name is None:
        return BACKENDS.get("native", dominators_python)
    return BACKENDS[name]


def _int64(array: np.ndarray | list[int]) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.int64)


def dominator_tree(
    offsets: np.ndarray,
    targets: np.ndarray,
    roots: np.ndarray | list[int],
    *,
    backend: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(idom, order)`` for the graph ``offsets``/``targets`` (CSR, node positions).

    A virtual root refers to every node in ``roots``. ``idom`` (int64 N) holds each node's
    immediate dominator, ``VIRTUAL_ROOT`` for the roots, ``UNREACHED`` for nodes no root
    reaches. ``order`` lists the reached nodes with every dominator before the nodes it
    dominates (a depth-first preorder), which is what :func:`retained_sizes` walks backwards.
    """
    offsets = _int64(offsets)
    targets = _int64(targets)
    n = len(offsets) - 1
    idom = np.empty(max(n, 0), dtype=np.int64)
    order = np.empty(max(n, 0), dtype=np.int64)
    reached = _backend(backend).dominator_tree(offsets, targets, _int64(roots), idom, order)
    return idom, order[:reached]


def immediate_dominators(
    offsets: np.ndarray, targets: np.ndarray, roots: np.ndarray | list[int]
) -> np.ndarray:
    """Immediate dominator of every node (see :func:`dominator_tree` for the values)."""
    return dominator_tree(offsets, targets, roots)[0]


def tree_order(idom: np.ndarray) -> np.ndarray:
    """Nodes with ``idom >= VIRTUAL_ROOT`` sorted by depth: parents before children.

    Depths come from pointer jumping (log of the depth numpy passes), so a million-long chain
    costs twenty passes, not a million.
    """
    idom = _int64(idom)
    n = len(idom)
    reached = idom >= VIRTUAL_ROOT
    jump = np.where(idom >= 0, idom, np.arange(n))
    depth = (idom >= 0).astype(np.int64)
    for _ in range(64):
        moving = jump != jump[jump]
        if not moving.any():
            break
        depth[moving] += depth[jump[moving]]
        jump[moving] = jump[jump[moving]]
    else:
        raise ValueError("idom has a cycle")
    nodes = np.flatnonzero(reached)
    return nodes[np.argsort(depth[nodes], kind="stable")]


def retained_sizes(
    idom: np.ndarray,
    sizes: np.ndarray,
    order: np.ndarray | None = None,
    *,
    backend: str | None = None,
) -> np.ndarray:
    """Retained bytes of every node: its size plus the sizes of all nodes it dominates.

    ``order`` must list dominators before the nodes they dominate (``dominator_tree`` returns
    one); without it one is computed. Unreached nodes (``UNREACHED``) retain their own size.
    """
    idom = _int64(idom)
    if order is None:
        order = tree_order(idom)
    order = _int64(order)
    retained = np.array(sizes, dtype=np.uint64, copy=True)
    _backend(backend).subtree_sums(idom, order, len(order), retained)
    return retained


@dataclass
class Dominators:
    """The dominator tree of one snapshot with every node's retained size."""

    idom: np.ndarray  # int64 N: immediate dominator, VIRTUAL_ROOT for roots (no UNREACHED)
    retained: np.ndarray  # uint64 N: bytes freed if the node went away
    order: np.ndarray  # int64 N: dominators before the nodes they dominate
    roots: np.ndarray  # int64: the roots used (stored, "other", then extra_roots)
    extra_roots: np.ndarray  # int64: entry nodes of garbage no root reaches (sorted)
    _children: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    _subtree_nodes: np.ndarray | None = field(default=None, repr=False)

    def children_csr(self) -> tuple[np.ndarray, np.ndarray]:
        """(starts, nodes): the nodes v immediately dominates are nodes[starts[v+1]:starts[v+2]]
        (in node order); slot 0 holds the children of the virtual root (the roots)."""
        if self._children is None:
            reached = np.flatnonzero(self.idom >= VIRTUAL_ROOT)
            parent_slot = self.idom[reached] + 1
            starts = np.zeros(len(self.idom) + 2, dtype=np.int64)
            np.cumsum(np.bincount(parent_slot, minlength=len(self.idom) + 1), out=starts[1:])
            self._children = (starts, reached[np.argsort(parent_slot, kind="stable")])
        return self._children

    def subtree_nodes(self, backend: str | None = None) -> np.ndarray:
        """How many nodes each node dominates, itself included (int64 N)."""
        if self._subtree_nodes is None:
            counts = np.ones(len(self.idom), dtype=np.int64)
            _backend(backend).subtree_sums(self.idom, self.order, len(self.order), counts)
            self._subtree_nodes = counts
        return self._subtree_nodes


ProgressCallback = Callable[[str], None]


def dominators_for(
    index: GraphIndex, *, progress: ProgressCallback | None = None, backend: str | None = None
) -> Dominators:
    """Dominator tree and retained sizes of ``index``'s snapshot; every node gets one.

    Roots: the stored module and thread roots plus the "other" roots (nodes nothing refers
    to). Nodes still unreached (garbage cycles) get their components' entry nodes as extra
    roots (see ``dominators_unreachable``), so a garbage cycle is retained by its entry node.
    ``progress`` is called with the name of each phase as it starts.
    """
    snapshot = index.snapshot
    offsets = _int64(snapshot.edge_offsets)
    targets = _int64(snapshot.edge_target)
    roots = np.concatenate([_int64(snapshot.root_node), _int64(index.other_roots)])
    reached = np.empty(len(offsets) - 1, dtype=np.bool_)
    _backend(backend).reachable(offsets, targets, roots, reached)
    extra = np.zeros(0, dtype=np.int64)
    if not reached.all():
        if progress:
            progress("unreachable")
        extra = unreached_entry_nodes(offsets, targets, ~reached)
        roots = np.concatenate([roots, extra])
    if progress:
        progress("dominators")
    idom, order = dominator_tree(offsets, targets, roots, backend=backend)
    if progress:
        progress("retained")
    retained = retained_sizes(idom, snapshot.size, order, backend=backend)
    return Dominators(idom=idom, retained=retained, order=order, roots=roots, extra_roots=extra)


def dominated_children(dom: Dominators, node: int = VIRTUAL_ROOT) -> np.ndarray:
    """Nodes whose immediate dominator is ``node``, biggest retained size first.

    ``node=VIRTUAL_ROOT`` gives the top of the tree (the roots), as in MAT's dominator view.
    Only this node's children are sorted, so expanding a node costs its fan-out, not the heap.
    """
    starts, nodes = dom.children_csr()
    slot = node + 1
    children = nodes[starts[slot] : starts[slot + 1]]
    return children[np.argsort(-dom.retained[children].astype(np.int64), kind="stable")]


def dominator_chain(dom: Dominators, node: int) -> list[int]:
    """``node``'s dominators from its root down to ``node`` itself (what holds it, in order)."""
    chain = [node]
    while dom.idom[chain[-1]] >= 0:
        chain.append(int(dom.idom[chain[-1]]))
    return chain[::-1]


def accumulation_point(
    dom: Dominators, selected: np.ndarray, share: float = 0.8, *, backend: str | None = None
) -> tuple[int, int] | None:
    """The deepest unselected node whose dominator subtree holds ``share`` of ``selected``.

    ``selected`` (bool N) marks objects of interest, e.g. the new instances of a growing type;
    the answer is where they accumulate (the cache dict holding them, the owner of a linked
    list of them, not a link in the middle), with how many of them it retains. None when
    nothing is selected or no single node holds that share (with ``share`` above 0.5 the
    candidates form one chain from a root, so "deepest" is well defined).
    """
    be = _backend(backend)
    held = np.asarray(selected, dtype=np.int64).copy()
    total = int(held.sum())
    if total == 0:
        return None
    be.subtree_sums(dom.idom, dom.order, len(dom.order), held)
    candidates = np.flatnonzero((held >= share * total) & ~np.asarray(selected, dtype=bool))
    if len(candidates) == 0:
        return None
    # Nested subtrees shrink strictly going down, so the deepest candidate is the smallest.
    best = int(candidates[np.argmin(dom.subtree_nodes(backend)[candidates])])
    return best, int(held[best])


def _tree_preorder_positions(dom: Dominators, backend: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(start, count) per node: v's dominator subtree is preorder positions start..start+count."""
    count = dom.subtree_nodes(backend)
    starts, children = dom.children_csr()
    # A child starts after its parent (+1) and after its earlier siblings' subtrees.
    child_count = count[children]
    before = np.cumsum(child_count) - child_count
    group = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
    offset_in_group = before - before[starts[:-1][group]]
    start = np.zeros(len(dom.idom), dtype=np.int64)
    start[children] = offset_in_group + (dom.idom[children] >= 0)
    _backend(backend).ancestor_sums(dom.idom, dom.order, len(dom.order), start)
    return start, count


def retained_by_type(
    dom: Dominators, snapshot: Snapshot, *, backend: str | None = None
) -> np.ndarray:
    """Bytes retained by all instances of each type together (uint64, by type index).

    An instance counts only when no other instance of its type dominates it, so nothing is
    counted twice (a linked list of ``Node`` is retained once, through its head). Unreached
    nodes (possible only with hand-made ``Dominators``) are left out.
    Vectorised: in a preorder of the dominator tree each subtree is an interval; sorted by
    (type, start), an instance is inside another of its type when an earlier interval of the
    same type reaches past its start.
    """
    n_types = len(snapshot.type_names)
    start, count = _tree_preorder_positions(dom, backend)
    nodes = dom.order  # reached nodes only
    types = np.asarray(snapshot.type_index, dtype=np.int64)[nodes]
    span = len(start) + 1  # start + count <= N: (type, start) packed in one int64 key
    key = types * span + start[nodes]
    by_type = np.argsort(key)
    nodes = nodes[by_type]
    key = key[by_type]
    sorted_types = types[by_type]
    running = np.maximum.accumulate(key + count[nodes])
    previous = np.empty_like(running)
    previous[:1] = -1
    previous[1:] = running[:-1]
    covered = previous > key
    counted = np.where(covered, 0, dom.retained[nodes]).astype(np.uint64)
    totals = np.zeros(n_types, dtype=np.uint64)
    if len(counted):
        group_starts = np.flatnonzero(np.r_[True, sorted_types[1:] != sorted_types[:-1]])
        totals[sorted_types[group_starts]] = np.add.reduceat(counted, group_starts)
    return totals
