"""Type summary of a snapshot (count and bytes per type) and the instances of one type.

Two bincounts over the node columns: fast enough for millions of objects without touching
the edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from heaptui.model.snapshot import Snapshot


@dataclass(frozen=True)
class TypeRow:
    """One line of the type summary; ``share`` is the fraction of the snapshot's bytes."""

    type_index: int
    name: str
    count: int
    size: int
    share: float


def type_counts_and_sizes(snapshot: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """Per type index: number of objects (int64) and their total shallow bytes (int64)."""
    types = len(snapshot.type_names)
    counts = np.bincount(snapshot.type_index, minlength=types).astype(np.int64)
    # float64 weights are exact below 2**53 bytes (8 PiB) per type.
    sizes = np.bincount(snapshot.type_index, weights=snapshot.size, minlength=types)
    return counts, sizes.astype(np.int64)


def type_summary(snapshot: Snapshot) -> list[TypeRow]:
    """Types present in the snapshot, largest total size first (ties: more objects first)."""
    counts, sizes = type_counts_and_sizes(snapshot)
    present = np.flatnonzero(counts)
    order = present[np.lexsort((-counts[present], -sizes[present]))]
    total = snapshot.total_bytes or 1
    return [
        TypeRow(t, snapshot.type_names[t], int(counts[t]), int(sizes[t]), int(sizes[t]) / total)
        for t in order.tolist()
    ]


def instances_of(snapshot: Snapshot, type_index: int) -> np.ndarray:
    """Node positions of every object of type ``type_index``, largest shallow size first."""
    nodes = np.flatnonzero(snapshot.type_index == type_index)
    sizes = snapshot.size[nodes]
    return nodes[np.argsort(-sizes.astype(np.int64), kind="stable")]
