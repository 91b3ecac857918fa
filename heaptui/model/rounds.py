"""Censuses of a heap taken between runs of the same code, and which types grow steadily.

A leak test runs a body several times and counts objects per type after each run. Caches fill
once, churn comes and goes, but a leak adds objects every time: a type is a suspect only when
its count rose in *every* measured round. That rule also lets a check stop early, as soon as
no type has risen in every round so far.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from heaptui.core.raw import RawSnapshot

# Type name -> (objects, bytes) in one capture.
Census = dict[str, tuple[int, int]]


class SteadyGrowth(NamedTuple):
    """A type whose count rose in every round: the change of count and bytes per round."""

    name: str
    counts: tuple[int, ...]
    sizes: tuple[int, ...]

    @property
    def bytes_per_round(self) -> float:
        """Mean bytes added per round."""
        return sum(self.sizes) / len(self.sizes) if self.sizes else 0.0


def census_of(raw: RawSnapshot) -> Census:
    """Objects and bytes per type name of a capture (names shared by two classes add up)."""
    names = raw.type_names
    if not len(raw.type_index):
        return {}
    types = np.frombuffer(raw.type_index, dtype=np.uint32)
    sizes = np.frombuffer(raw.size, dtype=np.uint64)
    counts = np.bincount(types, minlength=len(names)).tolist()
    totals = np.bincount(types, weights=sizes, minlength=len(names)).astype(np.int64).tolist()
    del types, sizes  # release the exports of the capture's arrays
    census: Census = {}
    for name, count, size in zip(names, counts, totals, strict=True):
        if count:
            old_count, old_size = census.get(name, (0, 0))
            census[name] = (old_count + count, old_size + size)
    return census


def steady_growth(censuses: Sequence[Census], ignore: Collection[str] = ()) -> list[SteadyGrowth]:
    """Types whose count rose between every pair of consecutive censuses, most bytes first.

    ``censuses[0]`` is the baseline (taken after the warm-up); each later census follows one
    measured round. Types named in ``ignore`` are left out.
    """
    if len(censuses) < 2:
        return []
    found = []
    for name in censuses[-1]:
        if name in ignore:
            continue
        counts = [census.get(name, (0, 0))[0] for census in censuses]
        deltas = [b - a for a, b in pairwise(counts)]
        if min(deltas) <= 0:
            continue
        sizes = [census.get(name, (0, 0))[1] for census in censuses]
        found.append(SteadyGrowth(name, tuple(deltas), tuple(b - a for a, b in pairwise(sizes))))
    found.sort(key=lambda g: (-sum(g.sizes), -sum(g.counts), g.name))
    return found
