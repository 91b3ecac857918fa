"""Shortest path from a root to any object, with edge labels: "who keeps this alive?".

A breadth-first search backwards over the reverse index, starting at the object. Small
frontiers (the usual case, and every level of a long linked chain) are walked in plain Python
over memoryviews; wide frontiers are expanded a whole level at a time in numpy. No recursion,
no per-question allocation bigger than one byte per node.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import NamedTuple, overload

import numpy as np

from heaptui.core.labels import ROOT_MODULE, ROOT_OTHER, ROOT_THREAD
from heaptui.model.index import GraphIndex
from heaptui.model.snapshot import Snapshot

# Frontiers at least this wide are expanded with numpy instead of a Python loop.
_NUMPY_FRONTIER = 512


class PathStep(NamedTuple):
    """One object on a path and the label of the reference that led to it (None at the root)."""

    node: int
    edge: str | None
    type: str
    repr: str


class PathSteps(Sequence[PathStep]):
    """The steps of a path, made into :class:`PathStep` only when read.

    A path can be a million links long (a linked list); building its text up front would
    cost seconds that nobody waits for. ``nodes`` and ``edges`` (edge ids, -1 at the root)
    are the raw columns.
    """

    def __init__(self, snapshot: Snapshot, nodes: np.ndarray, edges: np.ndarray) -> None:
        self.snapshot = snapshot
        self.nodes = nodes
        self.edges = edges

    def __len__(self) -> int:
        return len(self.nodes)

    def _step(self, i: int) -> PathStep:
        snap = self.snapshot
        node = int(self.nodes[i])
        edge = int(self.edges[i])
        label = snap.edge_label(edge) if edge >= 0 else None
        return PathStep(node, label, snap.type_name(node), snap.repr_of(node))

    @overload
    def __getitem__(self, i: int) -> PathStep: ...
    @overload
    def __getitem__(self, i: slice) -> list[PathStep]: ...
    def __getitem__(self, i: int | slice) -> PathStep | list[PathStep]:
        if isinstance(i, slice):
            return [self._step(j) for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self._step(i)

    def __iter__(self) -> Iterator[PathStep]:
        for i in range(len(self)):
            yield self._step(i)

    def __repr__(self) -> str:
        return f"PathSteps({len(self)} steps)"


class RootPath(NamedTuple):
    """A root (kind and label) and the objects from it to the target, root first."""

    root_kind: int
    root_label: str
    steps: PathSteps


def _root_preference(kind: int) -> int:
    """Lower is better: modules and threads explain a leak; "other" roots rarely do."""
    return {ROOT_MODULE: 0, ROOT_THREAD: 1, ROOT_OTHER: 2}.get(kind, 3)


def _expand_numpy(
    frontier: np.ndarray, index: GraphIndex, visited: np.ndarray, parent: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The same as :func:`_expand_python` for a wide frontier, one level in a few passes."""
    starts = index.rev_start[frontier]
    lens = index.in_degree[frontier]
    total = int(lens.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lens)
    positions = np.repeat(starts - (ends - lens), lens) + np.arange(total, dtype=np.int64)
    src = index.rev_source[positions]
    edges = index.rev_edges[positions]
    fresh = ~visited[src]
    src = src[fresh]
    edges = edges[fresh]
    parent[src] = edges  # one write per node survives; keep exactly that entry
    unique = parent[src] == edges
    src = src[unique]
    visited[src] = True
    return src, src[index.root_kinds[src] != 0]


def _backward_search(index: GraphIndex, node: int) -> tuple[int, np.ndarray] | None:
    """Find the nearest root above ``node``; return it and the parent-edge array.

    ``parent[x]`` is the edge from ``x`` one step closer to ``node`` (valid for visited x).
    """
    n = index.node_count
    kinds = index.root_kinds
    visited = np.zeros(n, dtype=bool)
    parent = np.empty(n, dtype=np.int64)
    visited[node] = True
    # memoryviews index in tens of nanoseconds, numpy scalars in hundreds.
    rev_start = index.rev_start.data
    in_degree = index.in_degree.data
    rev_source = index.rev_source.data
    rev_edges = index.rev_edges.data
    seen = visited.data
    up = parent.data
    root_kind = kinds.data
    frontier: list[int] = [node]
    roots: list[int] = []
    while frontier and not roots:
        if len(frontier) >= _NUMPY_FRONTIER:
            level, found = _expand_numpy(np.array(frontier, dtype=np.int64), index, visited, parent)
            frontier = level.tolist()
            roots = found.tolist()
            continue
        next_level: list[int] = []
        for target in frontier:
            start = rev_start[target]
            for j in range(start, start + in_degree[target]):
                src = rev_source[j]
                if seen[src]:
                    continue
                seen[src] = True
                up[src] = rev_edges[j]
                next_level.append(src)
                if root_kind[src]:
                    roots.append(src)
        frontier = next_level
    if not roots:
        return None
    best = min(roots, key=lambda r: _root_preference(int(kinds[r])))
    return best, parent


def shortest_root_path(index: GraphIndex, node: int) -> RootPath | None:
    """The shortest chain of references from a root to ``node``, or None if no root reaches it.

    Among roots at the same (smallest) distance, a module or thread root is chosen over an
    "other" root (an object nothing refers to).
    """
    snapshot = index.snapshot
    kind = index.root_kind_of(node)
    if kind is not None:
        one = np.array([node], dtype=np.int64)
        return RootPath(kind, index.root_label_of(node), PathSteps(snapshot, one, one * 0 - 1))
    found = _backward_search(index, node)
    if found is None:
        return None
    root, parent = found
    up = parent.data
    target = snapshot.edge_target.data
    nodes = [root]
    edges = [-1]
    current = root
    while current != node:
        edge = up[current]
        current = target[edge]
        nodes.append(current)
        edges.append(edge)
    steps = PathSteps(snapshot, np.array(nodes, dtype=np.int64), np.array(edges, dtype=np.int64))
    return RootPath(int(index.root_kinds[root]), index.root_label_of(root), steps)


def _attribute_name(edge: str | None) -> str | None:
    """``['name']`` -> ``name`` when the key is a plain identifier string, else None."""
    if edge and len(edge) > 4 and edge[:2] in ("['", '["') and edge[-2:] in ("']", '"]'):
        name = edge[2:-2]
        if name.isidentifier():
            return name
    return None


def display_steps(path: RootPath) -> list[PathStep]:
    """Steps as a person reads them: ``.__dict__`` followed by ``['x']`` becomes ``.x``."""
    return merge_dict_steps(path.steps)


def merge_dict_steps(steps: Sequence[PathStep]) -> list[PathStep]:
    """Leave out instance and module attribute dicts: ``.__dict__``, ``['x']`` -> ``.x``."""
    shown: list[PathStep] = []
    i = 0
    while i < len(steps):
        step = steps[i]
        if step.edge == ".__dict__" and i + 1 < len(steps):
            following = steps[i + 1]
            name = _attribute_name(following.edge)
            if name is not None:
                shown.append(following._replace(edge="." + name))
                i += 2
                continue
        shown.append(step)
        i += 1
    return shown


def short_type(name: str) -> str:
    """``myapp.models.Value`` -> ``Value``: how the end of a path is printed."""
    return name.rsplit(".", 1)[-1]


def render_path(path: RootPath) -> str:
    """One line: ``sys.modules['app'] -> .CACHE -> ['user:42'] -> Value``."""
    steps = display_steps(path)
    parts = [path.root_label]
    parts.extend(step.edge for step in steps[1:] if step.edge is not None)
    parts.append(short_type(steps[-1].type))
    return " -> ".join(parts)
