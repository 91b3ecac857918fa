"""Allocation sites: where each object was allocated, when the program runs under tracemalloc.

Standard library only; runs inside the target after the heap walk. :func:`record_alloc_sites`
makes a second, separate pass over the objects (``gc.get_objects()`` plus the untracked objects
they refer to: strings, ints, untracked tuples and dicts), asks tracemalloc for each one's
allocation traceback, and stores them deduplicated in the snapshot's optional columns (a table
of frames, a table of tracebacks, and one traceback index per object address). It only reads
tracemalloc's tables: no user code runs, and it keeps no reference to any object once it
returns. When tracemalloc is not tracing it only says so in ``meta``.

Limits, said in the snapshot's meta and by ``heaptui report``:

- objects allocated before tracemalloc started, and objects taken from a free list that was
  filled before, have no traceback or the traceback of the first allocation of that memory;
- Python 3.11's ``tracemalloc.get_object_traceback`` returns None for instances of classes
  with a ``__dict__`` (it misses their pre-header, cpython#101430; fixed in 3.12);
- the pass runs after the walk, so an object freed in between and its address reused by a
  new object gets the new object's traceback (rare: other threads are held off).
"""

from __future__ import annotations

import gc
import time
from array import array
from itertools import compress, filterfalse, repeat
from operator import ne, not_
from typing import Any

from ..core.raw import RawSnapshot

try:  # the C half of tracemalloc: importing ``tracemalloc`` itself would pull in pickle & co
    import _tracemalloc
except ImportError:  # pragma: no cover - other implementations
    _tracemalloc = None  # type: ignore[assignment]

# Objects are looked up this many at a time (bounded temporary lists).
CHUNK = 1 << 14
# Index of "no traceback" while looking up (never stored).
NO_TRACE = 0xFFFF_FFFF


def tracemalloc_tracing() -> bool:
    """Whether tracemalloc is recording allocations in this process now."""
    return _tracemalloc is not None and bool(_tracemalloc.is_tracing())


def record_alloc_sites(raw: RawSnapshot) -> None:
    """Fill ``raw``'s allocation columns and meta if tracemalloc is tracing; else note it is off.

    Meta keys: ``tracemalloc`` (bool), and when on ``tracemalloc_frames`` (frames kept per
    traceback), ``alloc_traced`` / ``alloc_untraced`` (objects with / without a traceback)
    and ``alloc_seconds``.
    """
    raw.meta["tracemalloc"] = tracemalloc_tracing()
    if not raw.meta["tracemalloc"]:
        return
    started = time.perf_counter()
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection during the pass would free objects and reuse their addresses
    try:
        traced, untraced = _lookup_all(raw)
    finally:
        if gc_was_enabled:
            gc.enable()
    raw.meta.update(
        {
            "tracemalloc_frames": int(_tracemalloc.get_traceback_limit()),
            "alloc_traced": traced,
            "alloc_untraced": untraced,
            "alloc_seconds": round(time.perf_counter() - started, 6),
        }
    )


class _Tables(dict):  # type: ignore[type-arg]
    """Traceback -> index, filled on first sight (``__missing__``) with its frames in ``raw``.

    Used as ``map(tables.__getitem__, map(get_traceback, objects))``: each traceback tuple is
    dropped as soon as it is looked up, so under tracemalloc (where every allocation is
    traced, 10 to 20 times slower than usual) its frame tuples come back from the tuple free
    list instead of costing a traced allocation each. ``None`` (no traceback) maps to
    :data:`NO_TRACE`.
    """

    def __init__(self, raw: RawSnapshot) -> None:
        super().__init__()
        self[None] = NO_TRACE
        self.raw = raw
        self.count = 0
        self.frames: dict[Any, int] = {}
        self.files: dict[str, int] = {}
        raw.trace_offsets.append(0)

    def __missing__(self, tb: Any) -> int:
        raw = self.raw
        for frame in tb:
            index = self.frames.get(frame)
            if index is None:
                index = self.frames[frame] = len(self.frames)
                raw.frame_file.append(self._file(frame[0]))
                raw.frame_line.append(max(0, min(int(frame[1]), 0xFFFF_FFFF)))
            raw.trace_frames.append(index)
        raw.trace_offsets.append(len(raw.trace_frames))
        index = self[tb] = self.count
        self.count += 1
        return index

    def _file(self, name: Any) -> int:
        text = name if type(name) is str else "?"
        index = self.files.get(text)
        if index is None:
            index = self.files[text] = len(self.raw.strings)
            self.raw.strings.append(text)
        return index


def _lookup_all(raw: RawSnapshot) -> tuple[int, int]:
    """Look up every object's traceback; return (objects traced, objects without one)."""
    get_traceback = _tracemalloc._get_object_traceback
    tables = _Tables(raw)
    seen_untracked: set[int] = set()
    # The capture's own containers (its string table above all) are not the program's objects.
    own = {id(raw), id(raw.strings), id(raw.type_names), id(raw.meta)}
    objects = gc.get_objects()
    pending = [list(compress(objects, map(not_, map(own.__contains__, map(id, objects)))))]
    del objects
    looked_up = 0
    trace_of = array("I")
    while pending:
        batch = pending.pop()
        for start in range(0, len(batch), CHUNK):
            chunk = batch[start : start + CHUNK]
            looked_up += len(chunk)
            trace_of.extend(map(tables.__getitem__, map(get_traceback, chunk)))
            has = list(map(ne, trace_of, repeat(NO_TRACE)))
            raw.alloc_addr.extend(compress(map(id, chunk), has))
            raw.alloc_trace.extend(compress(trace_of, has))
            del trace_of[:]
            fresh = _new_untracked_referents(chunk, seen_untracked)
            if fresh:
                pending.append(fresh)
            del chunk, has, fresh
        del batch
    return len(raw.alloc_addr), looked_up - len(raw.alloc_addr)


def _new_untracked_referents(chunk: list[Any], seen: set[int]) -> list[Any]:
    """Objects ``chunk`` refers to that the collector does not track, not seen before.

    Tracked objects all come from ``gc.get_objects()``; untracked ones (str, int, untracked
    tuples and dicts) are found only through their referrers.
    """
    untracked = list(filterfalse(gc.is_tracked, gc.get_referents(*chunk)))
    by_id = dict(zip(map(id, untracked), untracked, strict=True))
    fresh_ids = list(compress(by_id, map(not_, map(seen.__contains__, by_id))))
    seen.update(fresh_ids)
    return list(map(by_id.__getitem__, fresh_ids))
