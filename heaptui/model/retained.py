"""Retained figures for reports and suspects: what a selection of objects keeps alive, and where.

Built on :mod:`heaptui.model.dominators` (the dominator tree of one snapshot):

- :func:`retained_of_selection`: bytes the selected objects retain, each counted once (MAT's
  quick "minimum retained size" of a group: the sum over the selected objects no other
  selected object dominates; an object kept alive only by two selected objects *together* is
  not counted, so freeing them all may free more);
- :func:`find_accumulation`: the object that retains most of a selection (the cache dict
  holding the new ``Session`` objects), with its share, its retained bytes and its path from
  a root: an :class:`Accumulation`.

Pure functions over numpy arrays; no live objects.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from heaptui.model.dominators import Dominators, _backend, accumulation_point
from heaptui.model.index import GraphIndex
from heaptui.model.paths import RootPath, shortest_root_path

# An accumulation point must retain at least this share of the selected objects. Above one
# half the candidates form a single chain from a root, so "the deepest one" is well defined.
ACCUMULATION_SHARE = 0.5


class Accumulation(NamedTuple):
    """The object where a selection piles up, and how much of it that object keeps alive."""

    node: int
    type: str
    repr: str
    retained: int  # bytes retained by ``node`` (its whole dominator subtree)
    held: int  # selected objects ``node`` retains
    total: int  # selected objects in all
    path: RootPath | None  # from a root to ``node``

    @property
    def share(self) -> float:
        """Fraction of the selected objects that ``node`` retains (0..1)."""
        return self.held / self.total if self.total else 0.0


def outermost_selected(
    dom: Dominators, selected: np.ndarray, *, backend: str | None = None
) -> np.ndarray:
    """Selected nodes that no other selected node dominates (bool N).

    Summing their retained sizes counts every byte once: a linked list of new ``Node``
    objects is retained through its first new node, not once per link.
    """
    mask = np.asarray(selected, dtype=bool)
    above = mask.astype(np.int64)
    _backend(backend).ancestor_sums(dom.idom, dom.order, len(dom.order), above)
    return mask & (above == 1)


def retained_of_selection(
    dom: Dominators, selected: np.ndarray, *, backend: str | None = None
) -> int:
    """Bytes retained by the selected objects, no byte counted twice (a lower bound of what
    freeing them all together would free: see the module docstring)."""
    top = outermost_selected(dom, selected, backend=backend)
    return int(dom.retained[top].sum(dtype=np.uint64))


def find_accumulation(
    dom: Dominators,
    index: GraphIndex,
    selected: np.ndarray,
    *,
    share: float = ACCUMULATION_SHARE,
    backend: str | None = None,
) -> Accumulation | None:
    """Where ``selected`` objects accumulate, or None when no single object retains ``share``.

    The answer is the deepest object (not itself selected) whose dominator subtree holds at
    least ``share`` of the selected objects: the container, not a link in the middle of it.
    """
    total = int(np.count_nonzero(selected))
    found = accumulation_point(dom, selected, share, backend=backend)
    if found is None:
        return None
    node, count = found
    snapshot = index.snapshot
    return Accumulation(
        node=node,
        type=snapshot.type_name(node),
        repr=snapshot.repr_of(node),
        retained=int(dom.retained[node]),
        held=count,
        total=total,
        path=shortest_root_path(index, node),
    )
