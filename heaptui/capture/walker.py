"""The pure-Python heap walker: every object, its labelled references and the roots.

Standard library only, and the reference the compiled walker (:mod:`heaptui.capture.accel`)
is tested against. :func:`take_snapshot` fills a :class:`RawSnapshot` with every object in
``gc.get_objects()`` plus everything reachable from them that the collector does not track,
with a worklist (never recursion). Objects are handled by exact type, many at a time, with
C-level calls (see :class:`heaptui.capture.columns.Columns`). What keeps it from distorting
the heap it measures, and why it is written the way it is (no closures or comprehensions in
the walking function, no first-call caches), is in docs/capture-walker.md.
"""

from __future__ import annotations

import gc
import types
from itertools import compress
from operator import not_
from typing import Any

from ..core.labels import (
    NODE_GC_TRACKED,
)
from ..core.raw import RawSnapshot
from . import roots as _roots
from .columns import Columns
from .naming import (
    Namer,
)
from .session import own_frame_ids, record_roots, run_paused
from .strings import StringTable
from .typeinfo import (
    type_name,
)
from .typetable import TypeTable

# Referents are deduplicated against the seen-set this many at a time.
CHUNK = 1 << 16
# Objects of one type are handled this many at a time: each bulk pass touches every object
# again (even ``map(id, ...)`` increments its reference count), so a slice small enough to
# stay in the CPU cache makes all passes after the first one cheap.
STEP = 2048


def take_snapshot(root_frame: Any, *, collect: bool = False, exclude_ids: Any = ()) -> RawSnapshot:
    """Capture this process's heap; ``root_frame`` stands for this thread's stack.

    ``root_frame`` is the frame that called the public API (the capture's own frames are
    never part of the snapshot). ``exclude_ids``: addresses (``id()``) that must not become
    nodes, e.g. a caller's own state; as in the C walk, references to them are still written
    (their targets are not nodes, so reading the snapshot drops them).
    """
    return run_paused(_walk, root_frame, exclude_ids, collect=collect, walker="python")


def _drop_excluded(groups: dict[int, Any], tid: int, excluded: set[int]) -> None:
    """Remove the objects whose id is in ``excluded`` from the group of type id ``tid``."""
    group = groups.get(tid)
    if group and not excluded.isdisjoint(map(id, group)):
        groups[tid] = list(compress(group, map(not_, map(excluded.__contains__, map(id, group)))))


def _walk(root_frame: Any, exclude_ids: Any) -> RawSnapshot:
    objs, dropped = _roots.listed_objects()
    excluded = own_frame_ids(root_frame)
    excluded.add(id(objs))
    own_only = len(excluded)
    excluded.update(exclude_ids)
    # Only the caller's exclusions need a pass over every object (see the first batch).
    any_object = len(excluded) > own_only

    raw = RawSnapshot()
    strings = StringTable()
    namer = Namer(strings, type_name)
    table = TypeTable(raw, strings)

    # Tracked objects are nodes from the start; only the untracked ones found on the way (and
    # the few tracked objects the walk itself makes, see Columns.targets) are looked up here.
    seen = set(excluded)
    cols = Columns(raw, namer, strings, seen)
    if _roots.in_finalizer(root_frame):
        cols.frozen = True  # every referent is looked up (see roots.in_finalizer)
    # Tuples left out of the list (see roots.listed_objects) are tracked but not nodes yet:
    # referents to look up, like the dicts that become tracked during the walk.
    cols.late.update(dropped)
    listed_tuples = set(dropped)  # ids (ints): they keep their "listed by gc" flag when found
    dropped = None  # type: ignore[assignment]
    if cols.frozen:
        seen.update(map(id, objs))
    else:
        # Listed objects that say they are not tracked (a type's tp_is_gc may answer no, as a
        # greenlet's does) would otherwise be taken for new referents and walked twice.
        seen.update(map(id, compress(objs, map(not_, map(gc.is_tracked, objs)))))
    root_objects = record_roots(raw, strings, root_frame)

    info_get = table.info.get
    closures = namer.closure_names
    function_tid = id(types.FunctionType)
    batch: list[Any] = objs
    objs = None  # type: ignore[assignment]
    flag = bytes([NODE_GC_TRACKED])
    first_batch = True
    while batch or first_batch:  # the first round also takes the roots (even if no batch)
        first_node = len(raw.addr)
        # Split the batch by exact type: two C-level passes, no Python loop per object.
        tids = list(map(id, map(type, batch)))
        groups: dict[int, Any] = dict.fromkeys(tids)
        for tid in groups:
            groups[tid] = []
        any(map(list.append, map(groups.__getitem__, tids), batch))
        tids = batch = None  # type: ignore[assignment]
        if first_batch:
            # The capture's own frames (3.10 tracks every frame) are dropped before the walk
            # (only frames and lists can be excluded: cheaper than a pass over every object).
            # Objects the caller excludes may be of any type: then every group is filtered.
            if any_object:
                for tid in groups:
                    _drop_excluded(groups, tid, excluded)
            else:
                _drop_excluded(groups, id(types.FrameType), excluded)
                _drop_excluded(groups, id(list), excluded)
            cols.start_frames.update(map(id, groups.get(id(types.FrameType)) or ()))
            cols.start_dicts.update(map(id, groups.get(id(dict)) or ()))
            cols.candidates(root_objects)  # roots not in the batch come next
            root_objects = None  # type: ignore[assignment]
            # Frames first: reading their f_locals may start tracking dicts (see targets).
            frames = groups.pop(id(types.FrameType), None)
            if frames:
                groups = {id(types.FrameType): frames, **groups}
            frames = None
        functions = groups.get(function_tid)
        if functions:
            # Before any tuple is walked: closure tuples are labelled by free variable name.
            for f in functions:
                namer.register_closure(f)
            f = functions = None
        for tid in groups:
            group = groups[tid]
            groups[tid] = None
            if not group:
                continue
            info = info_get(tid)
            if info is None:
                info = table.classify(type(group[0]))
            if len(group) <= STEP:
                cols.group(group, info, closures)
            else:
                for start in range(0, len(group), STEP):
                    cols.group(group[start : start + STEP], info, closures)
                    if len(cols.cand) > CHUNK:
                        cols.dedupe()
            if len(cols.cand) > CHUNK:
                cols.dedupe()
        groups = group = None  # type: ignore[assignment]
        cols.dedupe()
        if listed_tuples and not first_batch:
            # Later rounds hold objects the listing did not give: untracked ones, and tuples it
            # left out (one may have been under construction) found again through a holder.
            raw.flags.frombytes(bytes(map(listed_tuples.__contains__, raw.addr[first_node:])))
        else:
            raw.flags.frombytes(flag * (len(raw.addr) - first_node))
        batch = cols.pending
        cols.pending = []
        flag = b"\0"
        first_batch = False

    # Drop every reference to target objects before returning.
    batch = info = None  # type: ignore[assignment]
    cols.close()
    table.info.clear()
    namer.key_cache.clear()
    namer.closure_names.clear()
    raw.strings = strings.strings
    return raw
