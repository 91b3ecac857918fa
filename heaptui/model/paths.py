"""Shortest path from a root to any object, with edge labels: "who keeps this alive?".

A breadth-first search backwards over the reverse index, starting at the object. Small
frontiers (the usual case, and every level of a long linked chain) are walked in plain Python
over memoryviews; wide frontiers are expanded a whole level at a time in numpy. No recursion,
no per-question allocation bigger than one byte per node.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from heaptui.labels import ROOT_MODULE, ROOT_OTHER, ROOT_THREAD
from heaptui.model.index import GraphIndex

# Frontiers at least this wide are expanded with numpy instead of a Python loop.
_NUMPY_FRONTIER = 512


class PathStep(NamedTuple):
    """One object on a path and the label of the reference that led to it (None at the root)."""

    node: int
    edge: str | None
    type: str
    repr: str


class RootPath(NamedTuple):
    """A root (kind and label) and the objects from it to the target, root first."""

    root_kind: int
    root_label: str
    steps: list[PathStep]


def _root_preference(kind: int) -> int:
    """Lower is better: modules and threads explain a leak; "other" roots rarely do."""
    return {ROOT_MODULE: 0, ROOT_THREAD: 1, ROOT_OTHER: 2}.get(kind, 3)


def _expand_python(
    frontier: list[int],
    rev_start: memoryview,
    in_degree: memoryview,
    rev_source: memoryview,
    rev_edges: memoryview,
    visited: memoryview,
    parent: memoryview,
    kinds: memoryview,
) -> tuple[list[int], list[int]]:
    """Referrers of ``frontier`` not seen before, and those of them that are roots."""
    next_level: list[int] = []
    roots: list[int] = []
    for node in frontier:
        start = rev_start[node]
        for j in range(start, start + in_degree[node]):
            src = rev_source[j]
            if visited[src]:
                continue
            visited[src] = True
            parent[src] = rev_edges[j]
            next_level.append(src)
            if kinds[src]:
                roots.append(src)
    return next_level, roots


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
    """Find the nearest root above ``node``; return it and the parent-edge array."""
    n = index.node_count
    kinds = index.root_kinds
    visited = np.zeros(n, dtype=bool)
    parent = np.empty(n, dtype=np.int64)
    visited[node] = True
    views = (
        memoryview(index.rev_start),
        memoryview(index.in_degree),
        memoryview(index.rev_source),
        memoryview(index.rev_edges),
        memoryview(visited),
        memoryview(parent),
        memoryview(kinds),
    )
    frontier: list[int] | np.ndarray = [node]
    while len(frontier):
        if len(frontier) < _NUMPY_FRONTIER:
            if isinstance(frontier, np.ndarray):
                frontier = frontier.tolist()
            frontier, roots = _expand_python(frontier, *views)
        else:
            frontier, roots_array = _expand_numpy(
                np.asarray(frontier, dtype=np.int64), index, visited, parent
            )
            roots = roots_array.tolist()
        if roots:
            best = min(roots, key=lambda r: _root_preference(int(kinds[r])))
            return best, parent
    return None


def shortest_root_path(index: GraphIndex, node: int) -> RootPath | None:
    """The shortest chain of references from a root to ``node``, or None if no root reaches it.

    Among roots at the same (smallest) distance, a module or thread root is chosen over an
    "other" root (an object nothing refers to).
    """
    snapshot = index.snapshot
    kind = index.root_kind_of(node)
    if kind is not None:
        root = node
        parent = np.empty(0, dtype=np.int64)
    else:
        found = _backward_search(index, node)
        if found is None:
            return None
        root, parent = found
        kind = int(index.root_kinds[root])
    steps = [PathStep(root, None, snapshot.type_name(root), snapshot.repr_of(root))]
    current = root
    target = snapshot.edge_target
    while current != node:
        edge = int(parent[current])
        current = int(target[edge])
        label = snapshot.edge_label(edge)
        steps.append(
            PathStep(current, label, snapshot.type_name(current), snapshot.repr_of(current))
        )
    return RootPath(kind, index.root_label_of(root), steps)


def _attribute_name(edge: str | None) -> str | None:
    """``['name']`` -> ``name`` when the key is a plain identifier string, else None."""
    if edge and len(edge) > 4 and edge[:2] in ("['", '["') and edge[-2:] in ("']", '"]'):
        name = edge[2:-2]
        if name.isidentifier():
            return name
    return None


def display_steps(path: RootPath) -> list[PathStep]:
    """Steps as a person reads them: ``.__dict__`` followed by ``['x']`` becomes ``.x``.

    The instance's or module's attribute dict is left out; every other step is kept.
    """
    steps = path.steps
    shown: list[PathStep] = []
    i = 0
    while i < len(steps):
        step = steps[i]
        if step.edge == ".__dict__" and i + 1 < len(steps):
            name = _attribute_name(steps[i + 1].edge)
            if name is not None:
                shown.append(steps[i + 1]._replace(edge="." + name))
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
