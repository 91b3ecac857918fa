"""Entry nodes of the part of a heap that no root reaches (garbage cycles), as extra roots.

A snapshot taken without ``gc.collect()`` holds cyclic garbage: objects that only refer to each
other. No root reaches them, so a dominator tree over the real roots would leave them without a
retained size. :func:`unreached_entry_nodes` picks one node per *source* strongly connected
component of the unreached subgraph (a component nothing else in that subgraph points into):
making those nodes roots reaches every unreached node exactly once, and the rest of each cycle
and whatever hangs off it is then retained by its entry node, as the cycle would be freed as a
whole. The entry of a component is its lowest node position (deterministic for a snapshot).

The loops run in Python over the unreached part only (usually small; about 1 s per million
unreached objects).
"""

from __future__ import annotations

import numpy as np


def _subgraph(
    offsets: np.ndarray, targets: np.ndarray, nodes: np.ndarray
) -> tuple[list[int], list[int]]:
    """CSR of the edges between ``nodes`` (sorted node positions), relabelled 0..k-1."""
    local = np.full(len(offsets) - 1, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes), dtype=np.int64)
    degree = offsets[nodes + 1] - offsets[nodes]
    starts = np.repeat(offsets[nodes], degree)
    within = np.arange(int(degree.sum()), dtype=np.int64) - np.repeat(
        np.cumsum(degree) - degree, degree
    )
    sub_source = np.repeat(np.arange(len(nodes), dtype=np.int64), degree)
    sub_target = local[targets[starts + within]]
    keep = sub_target >= 0
    sub_source = sub_source[keep]
    sub_target = sub_target[keep]
    sub_offsets = np.zeros(len(nodes) + 1, dtype=np.int64)
    np.cumsum(np.bincount(sub_source, minlength=len(nodes)), out=sub_offsets[1:])
    return sub_offsets.tolist(), sub_target.tolist()


def _mark_from(start: int, off: list[int], tgt: list[int], marked: list[bool]) -> None:
    """Mark every unmarked node reachable from ``start`` (explicit stack, no recursion)."""
    marked[start] = True
    stack = [start]
    while stack:
        v = stack.pop()
        for t in tgt[off[v] : off[v + 1]]:
            if not marked[t]:
                marked[t] = True
                stack.append(t)


def unreached_entry_nodes(
    offsets: np.ndarray, targets: np.ndarray, unreached: np.ndarray
) -> np.ndarray:
    """Node positions to add as roots so that every node in ``unreached`` (bool N) is reached.

    Returns, sorted, the lowest node of each source strongly connected component of the
    unreached subgraph.
    """
    nodes = np.flatnonzero(unreached).astype(np.int64)
    if len(nodes) == 0:
        return nodes
    off, tgt = _subgraph(offsets.astype(np.int64, copy=False), targets, nodes)
    # Pass 1: traverse from every node in position order; each new traversal's start is a
    # candidate. The last candidate sits in a source component (nothing unvisited reached it).
    visited = [False] * len(nodes)
    candidates = []
    for v in range(len(nodes)):
        if not visited[v]:
            candidates.append(v)
            _mark_from(v, off, tgt, visited)
    # Pass 2: candidates from last to first; one that no later entry reaches starts a source
    # component of what is left, which is a source component of the whole unreached subgraph.
    marked = [False] * len(nodes)
    entries = []
    for v in reversed(candidates):
        if not marked[v]:
            entries.append(v)
            _mark_from(v, off, tgt, marked)
    return np.sort(nodes[np.array(entries, dtype=np.int64)])
