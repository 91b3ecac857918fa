"""Leak suspects: the types that grew, user-defined ones first, each with an example and its path.

A leak of ``Value`` objects also grows the ``dict``s, ``str``s and ``list``s each ``Value``
owns, and those often weigh more; a person fixes the leak by finding where ``Value``s are
kept, so types the user wrote rank above builtins and standard-library types.

Given the snapshot's dominator tree (:func:`heaptui.model.dominators.dominators_for`), each
suspect also carries the bytes its new objects retain and its accumulation point: the object
that retains most of them (see :mod:`heaptui.model.retained`). With it, types that accumulate
at the same point are one leak and become one suspect: a logger-per-request leak grows
``Logger``, ``dict``, ``list`` and ``str`` under ``loggerDict``, and is named by its
*outermost* new objects (the Loggers: new objects whose immediate dominator is not new; the
dicts, lists and strings live inside them). Groups rank by the bytes their new objects retain,
groups holding a type the user wrote first; the per-type growth table stays as it was.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from heaptui.core.format import human_bytes
from heaptui.core.labels import TYPE_USER
from heaptui.model.diff import GrowthRow, growth, new_objects
from heaptui.model.dominators import Dominators
from heaptui.model.index import GraphIndex
from heaptui.model.paths import RootPath, shortest_root_path
from heaptui.model.retained import (
    Accumulation,
    find_accumulation,
    outermost_selected,
    retained_of_selection,
)
from heaptui.model.snapshot import Snapshot


class Suspect(NamedTuple):
    """A type that grew, a sample new object of it (largest first) and that object's root path.

    ``retained`` (bytes the new objects of the type retain, each byte once; for a group,
    what its leaked items retain) and ``accumulation`` (where they pile up) are filled only
    when dominators were given; otherwise None.
    """

    name: str
    count_delta: int
    size_delta: int
    sample: int | None
    path: RootPath | None
    user_type: bool
    retained: int | None = None
    accumulation: Accumulation | None = None
    # With dominators: the grown types accumulating at the same point, ``name`` first, and
    # how many new objects of ``name`` there are (``count_delta`` is the net change).
    members: tuple[str, ...] = ()
    new_count: int | None = None
    # The member type whose new objects are outermost (no new object dominates them): the
    # group's name, unless a type the user wrote is inside them (then ``name`` is that type).
    outermost: str | None = None


def holder_text(path: RootPath) -> str:
    """``sys.modules['logging'] → .Logger → .loggerDict ['svc.request.1959']``.

    The root and every reference on the way (instance dicts merged into ``.name``); a
    subscript follows its container after a space, as it reads in code. A path of a million
    links shows its two ends.
    """
    from heaptui.model.paths import merge_dict_steps

    steps = path.steps
    if len(steps) > 4 * _PATH_ENDS:
        shown = merge_dict_steps(steps[: 2 * _PATH_ENDS])
        tail = merge_dict_steps(steps[len(steps) - 2 * _PATH_ENDS :])
        middle = len(steps) - 4 * _PATH_ENDS
    else:
        shown, tail, middle = merge_dict_steps(steps), [], 0
    text = path.root_label
    for step in shown[1:]:
        text += _joined(step.edge)
    if middle:
        text += f" → … {middle:,} more …"
    for step in tail:
        text += _joined(step.edge)
    return text


_PATH_ENDS = 6


def _joined(edge: str | None) -> str:
    if not edge:
        return " → <ref>"
    return (" " if edge.startswith("[") else " → ") + edge


def answer_text(suspect: Suspect) -> str:
    """The suspect as one sentence: ``1,995 new logging.Logger (+1.1 MiB retained) held by
    sys.modules['logging'] → .Logger → .manager → .loggerDict ['svc.request.1959']``."""
    count = suspect.new_count if suspect.new_count is not None else suspect.count_delta
    retained = f" (+{human_bytes(suspect.retained)} retained)" if suspect.retained else ""
    text = f"{count:,} new {suspect.name}{retained}"
    if suspect.path is not None:
        return f"{text} held by {holder_text(suspect.path)}"
    if suspect.sample is not None:
        return f"{text}, reached from no root (garbage in a cycle?)"
    return text


def accumulation_parts(
    type_name: str, acc: Accumulation, where: str | None
) -> list[tuple[str, str]]:
    """Where the new ``type_name`` objects pile up, as ``(role, text)`` pieces of one sentence:
    ``the dict at sys.modules['app'] -> .CACHE retains 98% of the new Session objects (490 of
    500; 52.0 MiB in all)``. ``where`` is the accumulation point's path as the caller draws it
    (None: no path). The report joins the texts; the UI styles each role ("holder", "where",
    "counts"; "" for the words between).
    """
    from heaptui.model.paths import short_type

    parts = [("holder", f"the {short_type(acc.type)}")]
    if where is not None:
        parts += [("", " at "), ("where", where)]
    parts += [
        ("", f" retains {acc.share:.0%} of the new {short_type(type_name)} objects "),
        ("counts", f"({acc.held:,} of {acc.total:,}; {human_bytes(acc.retained)} in all)"),
    ]
    return parts


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
    group: bool = True,
) -> list[Suspect]:
    """The ``top`` most likely leaks between ``base`` and ``now``, with paths.

    Without ``dominators``, one suspect per grown type. With ``dominators`` (of ``now``),
    each suspect also gets its retained bytes and accumulation point, and (unless
    ``group=False``) the types accumulating at the same point are one suspect named by its
    outermost new objects. ``is_new`` may pass a precomputed :func:`new_objects` mask.
    """
    user_types = _user_type_names(now)
    ranked_all = rank_growth(growth(base, now), user_types)
    if dominators is not None and group:
        if is_new is None:
            is_new = new_objects(base, now)
        return grouped_suspects(now, index_now, dominators, is_new, ranked_all, user_types, top)
    ranked = ranked_all[: max(top, 0)]
    if not ranked:
        return []
    if is_new is None:
        is_new = new_objects(base, now)
    samples = _largest_new_of_each(now, is_new, [r.name for r in ranked])
    suspects = []
    for row in ranked:
        retained = accumulation = None
        if dominators is not None:
            selected = new_of_type(now, is_new, row.name)
            retained = retained_of_selection(dominators, selected)
            accumulation = find_accumulation(dominators, index_now, selected)
        suspects.append(
            _suspect(
                index_now,
                row,
                samples.get(row.name),
                user_types,
                retained=retained,
                accumulation=accumulation,
            )
        )
    return suspects


def _suspect(
    index: GraphIndex,
    row: GrowthRow,
    sample: int | None,
    user_types: set[str],
    *,
    retained: int | None = None,
    accumulation: Accumulation | None = None,
    members: tuple[str, ...] = (),
    new_count: int | None = None,
    outermost: str | None = None,
) -> Suspect:
    """The one place a :class:`Suspect` is made: the grown type's row, its sample's root path,
    whether the user wrote it, and what the dominators told (retained bytes, accumulation
    point, the group)."""
    path = shortest_root_path(index, sample) if sample is not None else None
    return Suspect(
        row.name,
        row.count_delta,
        row.size_delta,
        sample,
        path,
        row.name in user_types,
        retained,
        accumulation,
        members,
        new_count,
        outermost,
    )


# Grouping looks at this many grown types beyond ``top``: types merged into one group leave
# room for the next ones.
GROUP_EXTRA_TYPES = 10


def _type_ids_by_name(snapshot: Snapshot) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {}
    for t, name in enumerate(snapshot.type_names):
        ids.setdefault(name, []).append(t)
    return ids


def grouped_suspects(
    now: Snapshot,
    index: GraphIndex,
    dom: Dominators,
    is_new: np.ndarray,
    ranked: list[GrowthRow],
    user_types: set[str],
    top: int,
) -> list[Suspect]:
    """Suspects grouped by accumulation point, each named by its outermost new type.

    The first ``top`` + :data:`GROUP_EXTRA_TYPES` grown types each get their accumulation
    point (as ungrouped suspects do); types sharing one point form a group, types with none
    stay alone. A group is named by the member type whose outermost new objects retain the
    most, or by the first type the user wrote among its members (a ``Handler`` inside the
    bound methods a listener list keeps); groups holding a user type rank first, then by
    the bytes their new objects retain.
    """
    if top <= 0 or not ranked:
        return []
    rows = ranked[: top + GROUP_EXTRA_TYPES]
    ids = _type_ids_by_name(now)
    type_index = now.type_index
    retained = dom.retained
    groups: dict[int, list[tuple[GrowthRow, np.ndarray, Accumulation | None]]] = {}
    alone = -1
    for row in rows:
        selected = is_new & np.isin(type_index, ids.get(row.name, []))
        if not selected.any():
            continue
        acc = find_accumulation(dom, index, selected)
        key = acc.node if acc is not None else alone
        if acc is None:
            alone -= 1
        groups.setdefault(key, []).append((row, selected, acc))
    built = []
    for members in groups.values():
        union = np.zeros(len(is_new), dtype=bool)
        for _, selected, _ in members:
            union |= selected
        items = _leaked_items(dom, union)
        best = None
        for row, selected, acc in members:
            top_of_type = selected & items
            weight = int(retained[top_of_type].sum(dtype=np.uint64))
            key = (weight, row.name in user_types, int(np.count_nonzero(top_of_type)))
            if best is None or key > best[0]:
                best = (key, row, selected, acc, top_of_type)
        assert best is not None
        outermost = best[1].name
        # A type the user wrote names the group even inside a wrapper (the bound methods
        # of a listener list, the generators of a list of readers): it is what they fix.
        mine = next(((r, sel, a) for r, sel, a in members if r.name in user_types), None)
        if mine is not None and mine[0].name != outermost:
            row, selected, acc = mine
            top_of_type = selected & items
        else:
            _, row, selected, acc, top_of_type = best
        # What the leaked items retain (a new holder's bytes are its own group's).
        group_retained = int(retained[items].sum(dtype=np.uint64))
        names = [row.name] + [m[0].name for m in members if m[0].name != row.name]
        built.append(
            (
                mine is None,
                -group_retained,
                row,
                selected,
                acc,
                top_of_type,
                group_retained,
                tuple(names),
                outermost,
            )
        )
    built.sort(key=lambda g: (g[0], g[1], g[2].name))
    suspects = []
    for _, _, row, selected, acc, top_of_type, group_retained, names, outermost in built[:top]:
        sample = _largest(now, top_of_type if top_of_type.any() else selected)
        suspects.append(
            _suspect(
                index,
                row,
                sample,
                user_types,
                retained=group_retained,
                accumulation=acc,
                members=names,
                new_count=int(np.count_nonzero(selected)),
                outermost=outermost,
            )
        )
    return suspects


# An outermost new object that by itself retains more than this share of its group's new
# objects is a new holder (a cache dict created after the baseline), not one of the leaked items.
HOLDER_SHARE = 0.1


def _leaked_items(dom: Dominators, union: np.ndarray) -> np.ndarray:
    """Bool N: the group's outermost new objects (no other new object of the group dominates
    them) that are not themselves holders of it."""
    from heaptui.model.dominators import _backend

    held = union.astype(np.int64)
    _backend(None).subtree_sums(dom.idom, dom.order, len(dom.order), held)
    top = outermost_selected(dom, union)
    items = top & (held <= HOLDER_SHARE * int(np.count_nonzero(union)))
    return items if items.any() else top


def _largest(now: Snapshot, mask: np.ndarray) -> int | None:
    """The largest object of ``mask`` (the earliest among equals), or None."""
    candidates = np.flatnonzero(mask)
    if len(candidates) == 0:
        return None
    sizes = now.size[candidates].astype(np.int64)
    return int(candidates[int(np.argmax(sizes))])
