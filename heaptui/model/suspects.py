"""Leak suspects: the types that grew, user-defined ones first, each with an example and its path.

A leak of ``Value`` objects also grows the ``dict``s, ``str``s and ``list``s each ``Value``
owns, and those often weigh more; a person fixes the leak by finding where ``Value``s are
kept, so types the user wrote rank above builtins and standard-library types.

Given the snapshot's dominator tree (:func:`heaptui.model.dominators.dominators_for`), each
suspect also carries the bytes its new objects retain and its accumulation point: the object
that retains most of them (see :mod:`heaptui.model.retained`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from heaptui.labels import TYPE_USER
from heaptui.model.diff import GrowthRow, growth, new_objects
from heaptui.model.dominators import Dominators
from heaptui.model.index import GraphIndex
from heaptui.model.paths import RootPath, shortest_root_path
from heaptui.model.retained import Accumulation, find_accumulation, retained_of_selection
from heaptui.model.snapshot import Snapshot


class Suspect(NamedTuple):
    """A type that grew, a sample new object of it (largest first) and that object's root path.

    ``retained`` (bytes the new objects of the type retain, each byte once) and ``accumulation``
    (where they pile up) are filled only when dominators were given; otherwise None.
    """

    name: str
    count_delta: int
    size_delta: int
    sample: int | None
    path: RootPath | None
    user_type: bool
    retained: int | None = None
    accumulation: Accumulation | None = None


def _user_type_names(snapshot: Snapshot) -> set[str]:
    flags = snapshot.type_flags.tolist()
    return {name for name, f in zip(snapshot.type_names, flags, strict=True) if f & TYPE_USER}


def rank_growth(rows: list[GrowthRow], user_types: set[str]) -> list[GrowthRow]:
    """Types with more objects than before, user-defined first, then by bytes grown."""
    grown = [r for r in rows if r.count_delta > 0]
    return sorted(grown, key=lambda r: (r.name not in user_types, -r.size_delta, -r.count_delta))


def _largest_new_of_each(now: Snapshot, is_new: np.ndarray, names: list[str]) -> dict[str, int]:
    """For each type name, the largest new object of that type (one pass over new nodes)."""
    wanted = {name for name in names}
    type_ids = [t for t, name in enumerate(now.type_names) if name in wanted]
    if not type_ids:
        return {}
    candidates = np.flatnonzero(is_new & np.isin(now.type_index, type_ids))
    if len(candidates) == 0:
        return {}
    # Largest first, then earliest position; the first occurrence of each type wins.
    order = np.lexsort((candidates, -now.size[candidates].astype(np.int64)))
    ordered = candidates[order]
    samples: dict[str, int] = {}
    for node, t in zip(ordered.tolist(), now.type_index[ordered].tolist(), strict=True):
        name = now.type_names[t]
        if name not in samples:
            samples[name] = node
            if len(samples) == len(wanted):
                break
    return samples


def new_samples(now: Snapshot, is_new: np.ndarray, names: list[str]) -> dict[str, int]:
    """For each type name, its largest new object in ``now``: the example a suspect shows."""
    return _largest_new_of_each(now, is_new, names)


def new_of_type(now: Snapshot, is_new: np.ndarray, name: str) -> np.ndarray:
    """Bool mask over ``now``'s nodes: the new objects whose type is called ``name``."""
    type_ids = [t for t, type_name in enumerate(now.type_names) if type_name == name]
    return is_new & np.isin(now.type_index, type_ids)


def leak_suspects(
    base: Snapshot,
    now: Snapshot,
    index_now: GraphIndex,
    top: int = 10,
    *,
    dominators: Dominators | None = None,
    is_new: np.ndarray | None = None,
) -> list[Suspect]:
    """The ``top`` most likely leaking types between ``base`` and ``now``, with paths.

    With ``dominators`` (of ``now``), each suspect gets its retained bytes and accumulation
    point. ``is_new`` may pass a precomputed :func:`new_objects` mask.
    """
    user_types = _user_type_names(now)
    ranked = rank_growth(growth(base, now), user_types)[: max(top, 0)]
    if not ranked:
        return []
    if is_new is None:
        is_new = new_objects(base, now)
    samples = _largest_new_of_each(now, is_new, [r.name for r in ranked])
    suspects = []
    for row in ranked:
        sample = samples.get(row.name)
        path = shortest_root_path(index_now, sample) if sample is not None else None
        retained = accumulation = None
        if dominators is not None:
            selected = new_of_type(now, is_new, row.name)
            retained = retained_of_selection(dominators, selected)
            accumulation = find_accumulation(dominators, index_now, selected)
        suspects.append(
            Suspect(
                row.name,
                row.count_delta,
                row.size_delta,
                sample,
                path,
                row.name in user_types,
                retained,
                accumulation,
            )
        )
    return suspects
