"""Pure Python inner loops of :mod:`heaptui.model.dominators`, used when the C module is absent.

Same functions, arguments and results as the compiled ``dominators_native`` module, so the two
are interchangeable and the tests hold each to the same brute-force answer:

- ``dominator_tree(offsets, targets, roots, idom_out, order_out) -> reached``
- ``reachable(offsets, targets, roots, mask_out)``: which nodes the roots reach (bool N).
- ``subtree_sums(idom, order, count, values)``: each node's value added into its dominator's,
  children first (retained sizes).
- ``ancestor_sums(idom, order, count, values)``: each dominator's value added into its
  children's, parents first (positions in a preorder of the dominator tree).

The dominator tree is Lengauer-Tarjan (path compression, O(E log N)), not the simpler iterative
Cooper-Harvey-Kennedy scheme: a doubly linked list held at both ends (a hand-written LRU cache)
makes the iterative scheme quadratic. Every recursion is a loop: heaps have million-long chains.
Python lists are used for speed; expect about 3 s per million objects.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

NONE = -1
UNREACHED = -2


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The loops allocate millions of small objects; a collection pass per 700 would triple
    the time, and none of them can form a cycle."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _check_csr(offsets: np.ndarray, targets: np.ndarray, roots: np.ndarray) -> None:
    n = len(offsets) - 1
    if n < 0 or offsets[0] != 0 or offsets[-1] != len(targets) or np.any(np.diff(offsets) < 0):
        raise ValueError("offsets, targets or roots out of range")
    for column in (targets, roots):
        if len(column) and (column.min() < 0 or column.max() >= n):
            raise ValueError("offsets, targets or roots out of range")


def _depth_first(
    off: list[int], tgt: list[int], roots: list[int], dfnum: list[int]
) -> tuple[list[int], list[int]]:
    """Preorder numbers from 1 (0 is the virtual root); returns (vertex, parent) by number."""
    vertex = [NONE]
    parent = [NONE]
    for root in roots:
        if dfnum[root] != NONE:
            continue
        dfnum[root] = len(vertex)
        vertex.append(root)
        parent.append(0)
        iterators = [iter(tgt[off[root] : off[root + 1]])]
        numbers = [dfnum[root]]
        while iterators:
            for child in iterators[-1]:
                if dfnum[child] == NONE:
                    number = len(vertex)
                    dfnum[child] = number
                    vertex.append(child)
                    parent.append(numbers[-1])
                    iterators.append(iter(tgt[off[child] : off[child + 1]]))
                    numbers.append(number)
                    break
            else:
                iterators.pop()
                numbers.pop()
    return vertex, parent


def _predecessors_by_number(
    offsets: np.ndarray, targets: np.ndarray, dfnum: np.ndarray, count: int
) -> tuple[list[int], list[int]]:
    """Reverse CSR over DFS numbers, reached sources only (numpy, no Python per edge)."""
    source = np.repeat(dfnum, np.diff(offsets))
    target = dfnum[targets]
    keep = source != NONE
    source = source[keep]
    target = target[keep]
    by_target = np.argsort(target, kind="stable")
    pred_off = np.zeros(count + 2, dtype=np.int64)
    np.cumsum(np.bincount(target, minlength=count + 1), out=pred_off[1:])
    return pred_off.tolist(), source[by_target].tolist()


def dominator_tree(
    offsets: np.ndarray,
    targets: np.ndarray,
    roots: np.ndarray,
    idom_out: np.ndarray,
    order_out: np.ndarray,
) -> int:
    """Fill ``idom_out`` (node -> immediate dominator, -1 virtual root, -2 unreached) and
    ``order_out`` (reached nodes in DFS preorder, then -1); return the reached count."""
    _check_csr(offsets, targets, roots)
    with _gc_paused():
        return _dominator_tree(offsets, targets, roots, idom_out, order_out)


def _dominator_tree(
    offsets: np.ndarray,
    targets: np.ndarray,
    roots: np.ndarray,
    idom_out: np.ndarray,
    order_out: np.ndarray,
) -> int:
    n_nodes = len(offsets) - 1
    dfnum_list = [NONE] * n_nodes
    vertex, parent = _depth_first(offsets.tolist(), targets.tolist(), roots.tolist(), dfnum_list)
    count = len(vertex) - 1
    dfnum = np.array(dfnum_list, dtype=np.int64)
    del dfnum_list
    pred_off, preds = _predecessors_by_number(offsets, targets, dfnum, count)
    root_numbers = set(dfnum[roots].tolist()) if len(roots) else set()

    semi = list(range(count + 1))
    label = list(range(count + 1))
    ancestor = [NONE] * (count + 1)
    idom = [0] * (count + 1)
    bucket = [NONE] * (count + 1)
    next_in_bucket = [NONE] * (count + 1)
    path: list[int] = []

    def evaluate(v: int) -> int:
        """Label of the minimum semidominator on v's forest path, compressing the path."""
        if ancestor[v] == NONE:
            return v
        x = v
        while ancestor[ancestor[x]] != NONE:
            path.append(x)
            x = ancestor[x]
        while path:
            x = path.pop()
            anc = ancestor[x]
            if semi[label[anc]] < semi[label[x]]:
                label[x] = label[anc]
            ancestor[x] = ancestor[anc]
        return label[v]

    for w in range(count, 0, -1):
        best = 0 if w in root_numbers else semi[w]
        for i in range(pred_off[w], pred_off[w + 1]):
            v = preds[i]
            u = v if ancestor[v] == NONE else evaluate(v)
            if semi[u] < best:
                best = semi[u]
        semi[w] = best
        next_in_bucket[w] = bucket[best]
        bucket[best] = w
        p = parent[w]
        ancestor[w] = p
        v = bucket[p]
        while v != NONE:
            u = evaluate(v)
            idom[v] = u if semi[u] < semi[v] else p
            v = next_in_bucket[v]
        bucket[p] = NONE

    for w in range(1, count + 1):
        if idom[w] != semi[w]:
            idom[w] = idom[idom[w]]

    vertex_array = np.array(vertex, dtype=np.int64)
    idom_by_number = np.array(idom, dtype=np.int64)
    idom_out[:] = UNREACHED
    reached = vertex_array[1:]
    idom_out[reached] = np.where(idom_by_number[1:] == 0, -1, vertex_array[idom_by_number[1:]])
    order_out[:count] = reached
    order_out[count:] = -1
    return count


def reachable(
    offsets: np.ndarray, targets: np.ndarray, roots: np.ndarray, mask_out: np.ndarray
) -> None:
    """Set ``mask_out`` (bool N) to whether any root reaches each node."""
    _check_csr(offsets, targets, roots)
    with _gc_paused():
        dfnum = [NONE] * (len(offsets) - 1)
        _depth_first(offsets.tolist(), targets.tolist(), roots.tolist(), dfnum)
        mask_out[:] = np.array(dfnum, dtype=np.int64) != NONE


def subtree_sums(idom: np.ndarray, order: np.ndarray, count: int, values: np.ndarray) -> None:
    """Add each node's value into its dominator's, children first, in place."""
    nodes = order[:count].tolist()
    parents = idom[order[:count]].tolist()
    totals = values.tolist()
    for i in range(count - 1, -1, -1):
        p = parents[i]
        if p >= 0:
            totals[p] += totals[nodes[i]]
    values[:] = totals


def ancestor_sums(idom: np.ndarray, order: np.ndarray, count: int, values: np.ndarray) -> None:
    """Add each dominator's value into its children's, parents first, in place."""
    nodes = order[:count].tolist()
    parents = idom[order[:count]].tolist()
    totals = values.tolist()
    for i in range(count):
        p = parents[i]
        if p >= 0:
            totals[nodes[i]] += totals[p]
    values[:] = totals
