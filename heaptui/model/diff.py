"""Differences between two snapshots: growth per type name and objects new in the later one.

Types are matched by name because type objects have different addresses in different
processes. An object is "new" when no object of the same type name sat at its address in the
baseline: addresses are reused after objects die, so this is a good guess, not a proof.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from heaptui.model.snapshot import Snapshot
from heaptui.model.summary import type_counts_and_sizes


class GrowthRow(NamedTuple):
    """Count and bytes of one type name in both snapshots and the change."""

    name: str
    count_base: int
    count_now: int
    count_delta: int
    size_base: int
    size_now: int
    size_delta: int


def _totals_by_name(snapshot: Snapshot) -> dict[str, tuple[int, int]]:
    counts, sizes = type_counts_and_sizes(snapshot)
    totals: dict[str, tuple[int, int]] = {}
    for name, count, size in zip(snapshot.type_names, counts.tolist(), sizes.tolist(), strict=True):
        if count:
            old_count, old_size = totals.get(name, (0, 0))
            totals[name] = (old_count + count, old_size + size)
    return totals


def growth(base: Snapshot, now: Snapshot) -> list[GrowthRow]:
    """Every type whose count or bytes changed, largest byte growth first."""
    before = _totals_by_name(base)
    after = _totals_by_name(now)
    rows = []
    for name in before.keys() | after.keys():
        count_base, size_base = before.get(name, (0, 0))
        count_now, size_now = after.get(name, (0, 0))
        if count_base == count_now and size_base == size_now:
            continue
        rows.append(
            GrowthRow(
                name,
                count_base,
                count_now,
                count_now - count_base,
                size_base,
                size_now,
                size_now - size_base,
            )
        )
    rows.sort(key=lambda r: (-r.size_delta, -r.count_delta, r.name))
    return rows


def _name_ids(base: Snapshot, now: Snapshot) -> tuple[np.ndarray, np.ndarray]:
    """Map both snapshots' type indexes onto one shared id per type name."""
    ids: dict[str, int] = {}
    base_ids = np.array([ids.setdefault(n, len(ids)) for n in base.type_names], dtype=np.int64)
    now_ids = np.array([ids.setdefault(n, len(ids)) for n in now.type_names], dtype=np.int64)
    return base_ids, now_ids


def new_objects(base: Snapshot, now: Snapshot) -> np.ndarray:
    """Boolean mask over ``now``'s nodes: no object with this address and type name in ``base``."""
    if base.node_count == 0 or now.node_count == 0:
        return np.ones(now.node_count, dtype=bool)
    base_ids, now_ids = _name_ids(base, now)
    base_sorted = base.sorted_addr
    base_type_sorted = base_ids[base.type_index[base.addr_order]]
    # Query in address order: searchsorted walks memory forward, many times faster.
    now_sorted = now.sorted_addr
    now_type_sorted = now_ids[now.type_index[now.addr_order]]
    pos = np.searchsorted(base_sorted, now_sorted)
    np.minimum(pos, len(base_sorted) - 1, out=pos)
    same = (base_sorted[pos] == now_sorted) & (base_type_sorted[pos] == now_type_sorted)
    mask = np.empty(now.node_count, dtype=bool)
    mask[now.addr_order] = ~same
    return mask


def program_of(snapshot: Snapshot) -> str | None:
    """The program a snapshot was taken from (``argv[0]``), or None when it is not recorded.

    Growth only means something between snapshots of one program; a restart with other
    arguments is still the same program, so only ``argv[0]`` is compared.
    """
    argv = snapshot.meta.get("argv")
    if isinstance(argv, list) and argv and isinstance(argv[0], str):
        return argv[0]
    return None
