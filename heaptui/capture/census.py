"""A cheap census of this process's heap: object count and bytes per type, no graph.

Standard library only (it runs inside the host, in the agent's thread, every few seconds while
a watch samples it). One pass over ``gc.get_objects()`` (the gc-tracked objects: instances,
containers, functions, classes...) and, with the compiled pass, the objects the collector does
not track that they reach, each counted once (str, int, float, tuples and dicts of scalars:
what ``gc.get_referents`` finds; the string keys of string-keyed dicts it hides are not
counted). The compiled pass (``heaptui.capture._census``) costs about what objgraph's
``typestats`` costs (see bench/bench_census.py); the pure-Python fallback counts the tracked
objects only, by default. No user code runs: names come from
:func:`heaptui.capture.typeinfo.type_name`, sizes from C ``__sizeof__`` only (a class with a
Python ``__sizeof__`` is sized by its layout), as in the snapshot walker.

``bytes`` is what ``sys.getsizeof`` reports (the GC pre-header included), so a census and a
snapshot of the same heap agree on a type's shallow size.
"""

from __future__ import annotations

import gc
import sys
import time
from typing import Any

from ..core import procinfo
from .allocsites import CHUNK, _new_untracked_referents
from .typeinfo import constant_size, safe_sizer, size_preheader, type_name

try:
    from . import _census  # type: ignore[attr-defined]
except ImportError:  # built without a compiler
    _census = None

# A census keeps at most this many types (by count, then bytes); the rest are summed into
# OTHER. Real programs have a few thousand types at most; the cap bounds a timeline's lines.
MAX_TYPES = 2000
OTHER = "(other types)"

__all__ = ["MAX_TYPES", "OTHER", "available", "take_census"]


def available() -> bool:
    """True when the compiled census pass was built."""
    return _census is not None


def _count_python(objects: list[Any], untracked: bool) -> list[tuple[type, int, int]]:
    """The fallback pass: sizes through a per-type sizer (a constant where it cannot vary)."""
    table: dict[int, list[Any]] = {}  # id(type) -> [type, count, bytes, const, sizer]
    getsizeof = sys.getsizeof

    def count(batch: list[Any]) -> None:
        for obj in batch:
            tp = type(obj)
            row = table.get(id(tp))
            if row is None:
                const = constant_size(tp)
                row = table[id(tp)] = [tp, 0, 0, const, safe_sizer(tp) or getsizeof]
            row[1] += 1
            row[2] += row[3] if row[3] >= 0 else row[4](obj)

    count(objects)
    if untracked:  # what the tracked objects reach and the collector does not track, once
        seen: set[int] = set()
        pending = [objects]
        while pending:
            batch = pending.pop()
            for start in range(0, len(batch), CHUNK):
                fresh = _new_untracked_referents(batch[start : start + CHUNK], seen)
                if fresh:
                    count(fresh)
                    pending.append(fresh)
                del fresh
            del batch
    return [(row[0], row[1], row[2]) for row in table.values()]


def _count_c(objects: list[Any], untracked: bool) -> list[tuple[type, int, int]]:
    rows = _census.census(objects, untracked=untracked)
    return [(tp, count, size + count * size_preheader(tp)) for tp, count, size in rows]


def take_census(
    *, compiled: bool | None = None, max_types: int = MAX_TYPES, untracked: bool | None = None
) -> dict[str, Any]:
    """Count this heap's gc-tracked objects per type; return a JSON-ready sample.

    ``{"time", "rss", "objects", "heap_bytes", "allocated_blocks", "seconds", "walker",
    "types": {name: [count, bytes]}}``: ``heap_bytes`` sums the bytes of every type (also
    those folded into :data:`OTHER`), ``seconds`` is what the pass cost, ``objects`` how many
    were counted. ``compiled`` forces a pass (default: the compiled one when built);
    ``untracked=False`` counts the gc-tracked objects only (what objgraph's typestats sees); by
    default the compiled pass counts the untracked objects too, the Python pass does not (it
    would cost about ten times more).
    """
    use_c = available() if compiled is None else compiled
    if untracked is None:
        untracked = use_c
    if use_c and _census is None:
        raise RuntimeError("the compiled census is not built")
    started = time.perf_counter()
    objects = gc.get_objects()
    try:
        rows = _count_c(objects, untracked) if use_c else _count_python(objects, untracked)
    finally:
        del objects  # hold no host object once counted
    per_name: dict[str, list[int]] = {}
    for tp, count, size in rows:
        name = type_name(tp)
        entry = per_name.get(name)
        if entry is None:
            per_name[name] = [count, size]
        else:  # two classes of the same name: one row, as in the snapshot's summary
            entry[0] += count
            entry[1] += size
    del rows
    total_objects = sum(entry[0] for entry in per_name.values())
    heap_bytes = sum(entry[1] for entry in per_name.values())
    if len(per_name) > max_types:
        ranked = sorted(per_name.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
        kept = dict(ranked[:max_types])
        rest = ranked[max_types:]
        kept[OTHER] = [sum(v[0] for _, v in rest), sum(v[1] for _, v in rest)]
        per_name = kept
    return {
        "time": time.time(),
        "rss": procinfo.rss_bytes(),
        "objects": total_objects,
        "heap_bytes": heap_bytes,
        "allocated_blocks": sys.getallocatedblocks(),
        "seconds": time.perf_counter() - started,
        "walker": "c" if use_c else "python",
        "untracked": untracked,
        "types": per_name,
    }
