"""The pure-Python heap walker: every object, its labelled references and the roots.

Standard library only. :func:`take_snapshot` fills a :class:`RawSnapshot` with every object in
``gc.get_objects()`` plus everything reachable from them that the collector does not track
(strings, ints, untracked tuples and dicts, dict keys that ``gc.get_referents`` hides...), with
a worklist (never recursion, so a million-long chain is fine).

Not distorting what it measures:

- the collector is off during the walk and other threads are held off with a long switch
  interval (both restored in ``finally``); ``gc.collect()`` runs only if asked;
- the walk's own objects (the ``gc.get_objects()`` list, seen-sets, the columns, its frames)
  are created after that list is taken or excluded by id, and no target object is referenced
  once the call returns (temporaries are dropped; nothing is cached at module level);
- the walking function uses no closures, comprehensions or lambdas: on 3.10/3.11 they turn its
  locals into cells that already exist when ``gc.get_objects()`` runs, and whatever is later
  assigned to them (a previous capture's columns) would appear in the snapshot;
- nothing it calls fills a first-call cache (``platform``'s version cache, ``struct``'s format
  cache, ``tempfile``'s name sequence...): such leftovers would show up as growth between a
  first and a second snapshot;
- no user code runs (see :mod:`heaptui.capture.typeinfo`, :mod:`heaptui.capture.saferepr`,
  :mod:`heaptui.capture.naming`).

Speed: the walk is bound by per-object interpreter work and by memory accesses, so each batch
(first the objects of ``gc.get_objects()``, then the new referents found while walking it, and
so on) is split by exact type with C-level calls only, and each type's objects are handled
together, 2048 at a time (a slice that stays in the CPU cache across the passes): ids, sizes
(the C ``__sizeof__``), lengths and texts by ``map`` and ``array.fromlist``, the items of
lists, tuples, sets, dicts and cells by ``itertools.chain.from_iterable``, the instances of a
class checked in bulk against the attribute layout learned from the first one, functions from
column getters. Per-object Python loops remain only for rare kinds (classes, modules, frames,
methods, C types' instances, instances that do not fit their class's layout). Nodes therefore
come out grouped by type within a batch, not in ``gc.get_objects()`` order. Referents the
collector tracks are nodes already (they are in ``gc.get_objects()``), so only untracked ones
are deduplicated against the seen-set, in chunks, with no Python-level loop per edge (see
:meth:`_Columns.targets` for the few exceptions: frames made by reading ``f_back``, dicts
tracked once ``f_locals`` is read, everything after ``gc.freeze()``).
"""

from __future__ import annotations

import gc
import os
import sys
import time
import types
from array import array
from collections import deque
from collections.abc import Callable
from datetime import datetime, timezone
from itertools import accumulate, chain, compress, repeat
from operator import add, attrgetter, getitem, gt, is_, not_, or_
from typing import Any

from ..core import procinfo
from ..core.labels import (
    EDGE_CELL,
    EDGE_DICT_KEY,
    EDGE_INDEX,
    EDGE_KEY,
    EDGE_MEMBER,
    NODE_GC_TRACKED,
)
from ..core.raw import RawSnapshot
from ..core.version import VERSION
from . import guard as _guard
from . import roots as _roots
from .naming import (
    HIDDEN_DICTS,
    INLINE_VALUES,
    GenericInfo,
    InstanceInfo,
    Namer,
    hidden_dict,
)
from .saferepr import (
    ELLIPSIS,
    MAX_INT_BITS,
    MAX_KEY,
    MAX_REPR,
    builtin_text,
    bytes_text,
    class_text,
    code_text,
    function_text,
    int_text,
    key_text,
    method_text,
    module_text,
    scalar_text_function,
    str_text,
)
from .strings import Interner, StringTable
from .typeinfo import (
    FLAG_HAVE_GC,
    constant_size,
    has_base,
    is_heap_type,
    is_ready,
    mro_lookup,
    safe_sizer,
    size_preheader,
    sizeof_method,
    type_flags,
    type_name,
)

# Walker categories, one per type (cached by id(type)).
CAT_LEAF = 0  # no referents (not a GC type): str, int, float, bytes, code ...
CAT_SEQ = 1  # exact list / deque: referents are the items in order
CAT_TUPLE = 2  # exact tuple (closure tuples get free variable names)
CAT_DICT = 3  # exact dict: values by key, plus the keys themselves
CAT_SET = 4  # exact set / frozenset
CAT_INSTANCE = 5  # heap types: Python classes, subclasses of builtins, C heap types
CAT_FUNCTION = 6
CAT_CELL = 7
CAT_METHOD = 8
CAT_CLASS = 9
CAT_MODULE = 10
CAT_FRAME = 11
CAT_GENERIC = 12  # other C types: members and a few safe getsets by identity

# The walk leaves the program's switch interval as it is. Raising it (to hold other threads off)
# was measured to hang captures: a busy thread waiting for the GIL when it is raised still takes
# it once after the old 5 ms, and then (1) a pure-Python loop keeps it for the whole raised
# interval, while (2) a loop that releases the GIL often (any I/O) restarts the walk's own long
# wait at every release and wins the GIL back almost every time. With 1000 s, 0.5 s and 5 s alike,
# a 0.3 s walk beside such a loop took 0.5 to 55 s; at the default 5 ms it takes 0.5-0.9 s.

# A C function's keyword-name tuple (Argument Clinic) is built on its first call with keywords.
# Made during a capture, it would be missing from that snapshot and show up as growth in the
# next one; making it at import, before any capture, keeps two snapshots in a row comparable.
accumulate((), initial=0)
# Referents are deduplicated against the seen-set this many at a time.
CHUNK = 1 << 16
# Objects of one type are handled this many at a time: each bulk pass touches every object
# again (even ``map(id, ...)`` increments its reference count), so a slice small enough to
# stay in the CPU cache makes all passes after the first one cheap.
STEP = 2048

_LEN_TYPES = (list, tuple, dict, set, frozenset, str, bytes, bytearray, deque)
_B_INDEX = bytes([EDGE_INDEX])
_B_KEY = bytes([EDGE_KEY])
_B_DICT_KEY = bytes([EDGE_DICT_KEY])
_B_MEMBER = bytes([EDGE_MEMBER])
_B_KEY_PAIR = bytes([EDGE_KEY, EDGE_DICT_KEY])
_B_CELL = bytes([EDGE_CELL])
_NEG1_I = array("i", [-1]).tobytes()
_NEG1_Q = array("q", [-1]).tobytes()
_ZERO_I = array("I", [0]).tobytes()
_ZERO = (0,)
_SLICE_REPR = slice(0, MAX_REPR)
_SLICE_KEY = slice(0, MAX_KEY)


class _TypeTable:
    """Per-type walker information, keyed by ``id(type)`` (never by the type object)."""

    def __init__(self, raw: RawSnapshot, strings: Interner) -> None:
        self.raw = raw
        self.strings = strings
        self.info: dict[int, tuple[Any, ...]] = {}

    def classify(self, tp: type) -> tuple[Any, ...]:
        """``(index, category, constant size, sizer, size add, has len, text function, extra)``.

        The size of an object is ``constant size`` if that is not negative, else
        ``sizer(obj) + size add``. :mod:`heaptui.capture.accel` relies on the first two and the
        last two entries.
        """
        raw = self.raw
        index = len(raw.type_names)
        raw.type_names.append(type_name(tp))
        raw.type_addr.append(id(tp))
        raw.type_flags.append(type_flags(tp))
        sizer, size_add = _bulk_sizer(tp)
        const_size = constant_size(tp)
        has_len = False
        for t in _LEN_TYPES:
            if tp is t:
                has_len = True
        text = scalar_text_function(tp)
        extra: Any = None
        flags = type.__dict__["__flags__"].__get__(tp)
        if not is_ready(tp):
            cat = CAT_LEAF  # nothing of a type that is not ready is read (typeinfo.is_ready)
        elif tp is list or tp is deque:
            cat = CAT_SEQ
        elif tp is tuple:
            cat = CAT_TUPLE
        elif tp is dict:
            cat = CAT_DICT
        elif tp is set or tp is frozenset:
            cat = CAT_SET
        elif tp is types.FunctionType:
            cat, text = CAT_FUNCTION, function_text
        elif tp is types.CellType:
            cat = CAT_CELL
        elif tp is types.MethodType:
            cat, text = CAT_METHOD, method_text
        elif tp is types.FrameType:
            cat, text = CAT_FRAME, _roots.frame_node_text
        elif tp is types.CodeType:
            cat, text = CAT_LEAF, code_text
        elif has_base(tp, type):
            cat, text = CAT_CLASS, class_text
        elif has_base(tp, types.ModuleType):
            cat, text = CAT_MODULE, module_text
        elif not flags & FLAG_HAVE_GC:
            cat = CAT_LEAF
        elif is_heap_type(tp):
            cat, extra = CAT_INSTANCE, InstanceInfo(tp, self.strings)
        else:
            cat = CAT_GENERIC
            extra = GenericInfo(tp, self.strings, sequence=False)
            if tp is types.BuiltinFunctionType:
                text = builtin_text
        info = (index, cat, const_size, sizer, size_add, has_len, text, extra)
        self.info[id(tp)] = info
        return info


def _bulk_sizer(tp: type) -> tuple[Any, int]:
    """``(sizer, add)`` with ``sizer(obj) + add == sys.getsizeof(obj)`` for instances of ``tp``.

    For types whose ``__sizeof__`` is C code (all builtins), the C ``__sizeof__`` itself plus
    the header ``sys.getsizeof`` adds: about seven times cheaper per call than
    ``sys.getsizeof``, which parses its arguments and looks the method up every time.
    """
    sizer = safe_sizer(tp)
    if sizer is not None:
        return sizer, 0
    impl, _ = sizeof_method(tp)
    if has_base(tp, type):
        return sys.getsizeof, 0
    # Never sys.getsizeof otherwise: its own look-up of __sizeof__ may compare a user's odd
    # namespace key (one equal to "__sizeof__") with __eq__.
    return impl, size_preheader(tp)


def python_version() -> str:
    """``3.11.7``: from ``sys.version_info`` (``platform.python_version()`` fills a cache)."""
    major, minor, micro = sys.version_info[:3]
    return f"{major}.{minor}.{micro}"


def take_snapshot(root_frame: Any, *, collect: bool = False, exclude_ids: Any = ()) -> RawSnapshot:
    """Capture this process's heap; ``root_frame`` stands for this thread's stack.

    ``root_frame`` is the frame that called the public API (the capture's own frames are
    never part of the snapshot). ``exclude_ids``: addresses (``id()``) that must not become
    nodes, e.g. a caller's own state; as in the C walk, references to them are still written
    (their targets are not nodes, so reading the snapshot drops them).
    """
    return run_paused(_walk, root_frame, exclude_ids, collect=collect, walker="python")


def run_paused(
    walk: Callable[..., RawSnapshot],
    root_frame: Any,
    exclude_ids: Any,
    *,
    collect: bool,
    walker: str,
    open_sink: Any = None,
) -> RawSnapshot:
    """Run ``walk(root_frame, exclude_ids)`` with gc off, then add the metadata.

    Both walkers (this one and :mod:`heaptui.capture.accel`) go through here: gc is off around
    the walk only, and restored in ``finally``. Other threads keep their usual turns (see the
    comment on the switch interval in this module): the C walk runs no bytecode except
    in its Python labellers and sinks, so it rarely yields; the pure-Python walk shares the GIL
    with a busy thread. The metadata's ``capture_cpu_seconds`` against ``capture_seconds``
    shows how much others ran. The arguments are passed one by one, never packed: a tuple made
    here would be a snapshot node.
    """
    _guard.enter()  # one capture at a time; a nested one raises CaptureInProgressError
    try:
        if collect:
            gc.collect()
        gc_was_enabled = gc.isenabled()
        started = time.perf_counter()
        cpu_started = time.thread_time()
        gc.disable()
        try:
            if open_sink is None:
                raw = walk(root_frame, exclude_ids)
            else:  # only the C walk streams (heaptui.capture.accel)
                raw = walk(root_frame, exclude_ids, open_sink)
        finally:
            if gc_was_enabled:
                gc.enable()
    finally:
        _guard.leave()
    elapsed = time.perf_counter() - started
    cpu = time.thread_time() - cpu_started
    raw.meta.update(
        {
            "pid": os.getpid(),
            "argv": [a for a in sys.argv if type(a) is str],
            "python": python_version(),
            "implementation": sys.implementation.name,
            "platform": sys.platform,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "rss": procinfo.rss_bytes() or 0,
            "capture_seconds": round(elapsed, 6),
            # Wall time minus this: roughly how long other threads held the GIL mid-walk.
            "capture_cpu_seconds": round(cpu, 6),
            "heaptui_version": VERSION,
            "walker": walker,
            "gc_collected": bool(collect),
            "objects": raw.node_count,
            "edges": raw.edge_total,
        }
    )
    return raw


def _own_frame_ids(root_frame: Any) -> set[int]:
    """ids of the frames between this one and ``root_frame`` (the capture's own)."""
    ids = set()
    frame = sys._getframe(1)
    while frame is not None and frame is not root_frame:
        ids.add(id(frame))
        frame = frame.f_back
    return ids


# --- texts of many objects of one exact type at once --------------------------------------
def _largest(values: Any) -> int:
    """``max(values, default=0)`` for non-negative values, without the keyword: on first use
    a keyword argument makes ``max`` build and keep a tuple of its keyword names (growth)."""
    return max(chain(_ZERO, values))


def _sliced_texts(objs: list[Any], lens: list[int], cut: slice, limit: int) -> list[str]:
    """``str_text``/``bytes_text`` of each object: the repr of a slice, cut to ``limit``.

    ``lens`` are the objects' lengths. A text is cut when the object or its repr is longer
    than ``limit``, exactly as the per-object functions do.
    """
    if _largest(lens) > limit:
        texts = list(map(repr, map(getitem, objs, repeat(cut))))
    else:
        texts = list(map(repr, objs))
    text_lens = list(map(len, texts))
    if _largest(lens) > limit or _largest(text_lens) > limit:
        longest = list(map(max, lens, text_lens))
        for i in compress(range(len(texts)), map(gt, longest, repeat(limit))):
            texts[i] = texts[i][: limit - 1] + ELLIPSIS
    return texts


def _str_texts(objs: list[Any], lens: list[int]) -> list[str]:
    return _sliced_texts(objs, lens, _SLICE_REPR, MAX_REPR)


def _bytes_texts(objs: list[Any], lens: list[int]) -> list[str]:
    return _sliced_texts(objs, lens, _SLICE_REPR, MAX_REPR)


def _int_texts(objs: list[Any], lens: Any) -> list[str]:
    # Up to MAX_INT_BITS bits the repr is short (and never hits the int-to-str digit limit).
    if _largest(map(int.bit_length, objs)) <= MAX_INT_BITS:
        return list(map(repr, objs))
    return list(map(int_text, objs))


def _repr_texts(objs: list[Any], lens: Any) -> list[str]:
    return list(map(repr, objs))


# Keyed by id() of the per-object text function the type table gives.
_BULK_TEXTS: dict[int, Any] = {
    id(str_text): _str_texts,
    id(bytes_text): _bytes_texts,
    id(int_text): _int_texts,
    id(repr): _repr_texts,
}


def _key_texts(keys: list[Any]) -> list[str]:
    """``key_text`` of each key, in bulk for exact str and int keys."""
    tp = type(keys[0])
    if (tp is str or tp is int) and all(map(is_, map(type, keys), repeat(tp))):
        if tp is int:
            return _int_texts(keys, None)
        return _sliced_texts(keys, list(map(len, keys)), _SLICE_KEY, MAX_KEY)
    return list(map(key_text, keys))


class _Columns:
    """Appends the nodes and edges of a group of objects of one exact type to a RawSnapshot.

    Holds target objects only in ``cand`` (referents not yet deduplicated) and ``pending``
    (the next batch); :meth:`close` drops both.
    """

    def __init__(self, raw: RawSnapshot, namer: Namer, strings: StringTable, seen: set[int]):
        self.raw = raw
        self.namer = namer
        self.strings = strings
        self.seen = seen
        self.frozen = gc.get_freeze_count() > 0  # then tracked does not mean "a node already"
        self.start_frames: set[int] = set()  # ids of the frames in gc.get_objects()
        self.start_dicts: set[int] = set()  # ids of the dicts in gc.get_objects()
        self.late: set[int] = set()  # ids of dicts that became tracked during the walk
        self.cand: list[Any] = []
        self.cand_ids: list[int] = []  # id() of each entry of ``cand``
        self.getters: dict[int, tuple[list[str], Any]] = {}  # id(InstanceInfo) -> attrgetter
        self.pending: list[Any] = []
        self.blen = 0
        raw.repr_offsets.append(0)

    # --- node columns ---------------------------------------------------------------------
    def nodes(self, objs: list[Any], info: tuple[Any, ...]) -> None:
        """Write the node columns of ``objs``."""
        ti, _, const_size, sizer, size_add, has_len, text, _ = info
        raw = self.raw
        n = len(objs)
        raw.addr.fromlist(list(map(id, objs)))
        raw.type_index.frombytes(array("I", [ti]).tobytes() * n)
        if const_size >= 0:
            raw.size.frombytes(array("Q", [const_size]).tobytes() * n)
        elif size_add:
            raw.size.fromlist(list(map(add, map(sizer, objs), repeat(size_add))))
        else:
            raw.size.fromlist(list(map(sizer, objs)))
        lens: list[int] | None = None
        if has_len:
            lens = list(map(len, objs))
            raw.length.fromlist(lens)
        else:
            raw.length.frombytes(_NEG1_Q * n)
        if text is None:
            raw.repr_offsets.frombytes(array("Q", [self.blen]).tobytes() * n)
        else:
            bulk = _BULK_TEXTS.get(id(text))
            texts = bulk(objs, lens or []) if bulk is not None else list(map(text, objs))
            self.texts(texts)

    def texts(self, texts: list[str]) -> None:
        blob = self.raw.repr_blob
        joined = "".join(texts)
        if joined.isascii():
            blob += joined.encode("ascii")
            sizes: Any = map(len, texts)
        else:
            encoded = list(map(str.encode, texts, repeat("utf-8"), repeat("backslashreplace")))
            blob += b"".join(encoded)
            sizes = map(len, encoded)
        offsets = list(accumulate(sizes, initial=self.blen))
        del offsets[0]
        self.raw.repr_offsets.fromlist(offsets)
        self.blen = len(blob)

    # --- edges of whole groups ------------------------------------------------------------
    def targets(self, objs: list[Any], ids: list[int] | None = None, all_new: bool = False) -> None:
        """Record edge targets (``ids`` are their ids if already known); keep them for dedupe.

        Objects the collector tracks were in ``gc.get_objects()``, so they are nodes already
        and need no look-up in the seen-set (the costliest part of a walk): only untracked
        ones are kept. Not so for what the rare per-object labellers return (``all_new``): a
        frame's ``f_back`` may be a frame object created just now, and on 3.10-3.12 reading
        ``f_locals`` may start tracking a dict that was untracked when the walk began. Nor
        after ``gc.freeze()``: frozen objects are tracked but not in ``gc.get_objects()``.
        """
        if ids is None:
            ids = list(map(id, objs))
        self.raw.edge_target.fromlist(ids)
        if self.frozen:
            self.cand += objs
            self.cand_ids += ids
            return
        if all_new:
            self.candidates(objs, ids)
            return
        keep: Any = map(not_, map(gc.is_tracked, objs))
        if self.late:
            keep = map(or_, keep, map(self.late.__contains__, ids))
        keep = list(keep)
        self.cand += compress(objs, keep)
        self.cand_ids += compress(ids, keep)

    def candidates(self, objs: list[Any], ids: list[int] | None = None) -> None:
        """Keep those of ``objs`` that may not be nodes yet, one by one (a rare path)."""
        if ids is None:
            ids = list(map(id, objs))
        if self.frozen:
            self.cand += objs
            self.cand_ids += ids
            return
        is_tracked = gc.is_tracked
        for o, i in zip(objs, ids, strict=True):
            if not is_tracked(o) or self.created_during_walk(o, i):
                self.cand.append(o)
                self.cand_ids.append(i)

    def created_during_walk(self, o: Any, i: int) -> bool:
        """Whether tracked ``o`` was not in ``gc.get_objects()`` (so not a node yet).

        Only frames and dicts can be: a frame object made on reading ``f_back``, the locals
        dict a frame fills when ``f_locals`` is read (3.10-3.12; it becomes tracked then, so
        bulk kinds must look it up too: ``late``). The walk handles the batch's frames first.
        """
        if i in self.late:  # a tuple left out of the list (roots.listed_objects)
            return True
        tp = type(o)
        if tp is types.FrameType:
            return i not in self.start_frames
        if tp is dict and i not in self.start_dicts:
            self.late.add(i)
            return True
        return False

    def no_edges(self, n: int) -> None:
        self.raw.edge_count.frombytes(_ZERO_I * n)

    def items(self, objs: list[Any], kind: bytes) -> None:
        """Lists, tuples, deques (``[i]``) and sets (``<member>``): iteration order is C's.

        Other threads may run between two passes of the walk and change a container, so its
        items and their count come from one copy, taken for all of ``objs`` in a single C call
        (no bytecode runs inside it, so no thread can switch in).
        """
        raw = self.raw
        tp = type(objs[0])
        if tp is tuple or tp is list:
            # A tuple or list being filled (tuple(), zip(), list(), ElementTree's builder)
            # has empty (NULL) slots that iterating would crash on; tp_traverse skips them
            # (and visits the items last to first).
            copies: list[Any] = list(map(list, map(reversed, map(gc.get_referents, objs))))
        else:
            copies = list(map(tuple, objs))
        lens = list(map(len, copies))
        items = list(chain.from_iterable(copies))
        del copies
        self.targets(items)
        raw.edge_kind.frombytes(kind * len(items))
        if kind is _B_INDEX:
            raw.edge_payload.fromlist(list(chain.from_iterable(map(range, lens))))
        else:
            raw.edge_payload.frombytes(_NEG1_I * len(items))
        raw.edge_count.fromlist(lens)

    def cells(self, objs: list[Any]) -> None:
        raw = self.raw
        refs = list(map(gc.get_referents, objs))
        items = list(chain.from_iterable(refs))
        self.targets(items)
        raw.edge_kind.frombytes(_B_CELL * len(items))
        raw.edge_payload.frombytes(_NEG1_I * len(items))
        raw.edge_count.fromlist(list(map(len, refs)))

    def dicts(self, objs: list[Any]) -> None:
        """Exact dicts: per entry its value (``['key']``), then its key (``<key 'key'>``).

        Entry by entry, like the items of dict subclasses (:meth:`Namer.container_items`).
        Keys, values and counts come from one copy of each dict, taken for all of ``objs`` in a
        single C call (see :meth:`items`).
        """
        raw = self.raw
        objs = list(map(dict.copy, objs))
        lens = list(map(len, objs))
        keys = list(chain.from_iterable(objs))
        if not keys:
            self.no_edges(len(objs))
            return
        key_ids = list(map(id, keys))
        cache = self.namer.key_cache
        payloads = list(map(cache.get, key_ids))
        if None in payloads:
            self.learn_keys(list(compress(keys, map(is_, payloads, repeat(None)))))
            payloads = list(map(cache.__getitem__, key_ids))
        values = list(chain.from_iterable(map(dict.values, objs)))
        targets = list(chain.from_iterable(zip(values, keys, strict=True)))
        del values, keys
        self.targets(targets)
        raw.edge_kind.frombytes(_B_KEY_PAIR * len(key_ids))
        raw.edge_payload.fromlist(list(chain.from_iterable(zip(payloads, payloads, strict=True))))
        raw.edge_count.fromlist(list(map(add, lens, lens)))

    def learn_keys(self, keys: list[Any]) -> None:
        """Put the string index of each key's text into the namer's key cache."""
        by_id = dict(zip(map(id, keys), keys, strict=True))
        keys = list(by_id.values())
        payloads = self.strings.intern_many(_key_texts(keys))
        self.namer.key_cache.update(zip(by_id, payloads, strict=True))

    def instances(self, objs: list[Any], tp: type, extra: InstanceInfo) -> bool:
        """Instances whose references are exactly the class's learned layout, in bulk.

        Returns False (writing nothing) unless every object has exactly the referents
        ``names`` (inline attributes, 3.11+) + slots + class, in that order.
        """
        n = len(objs)
        k = len(extra.payloads)
        refs = list(map(gc.get_referents, objs))
        if min(map(len, refs)) != k or sum(map(len, refs)) != n * k:
            return False
        if HIDDEN_DICTS and not all(map(is_, map(hidden_dict, objs), repeat(None))):
            return False  # a dict beside inline values: one by one (the namer adds it)
        columns: list[Any] = []
        names = extra.names if INLINE_VALUES else []
        getter = self.attr_getter(tp, extra) if names else None
        try:
            if getter is not None and not extra.member_descrs:
                tail = (tp,)
                if len(names) == 1:
                    values = list(chain.from_iterable(zip(map(getter, objs), repeat(tp))))
                else:
                    values = list(chain.from_iterable(map(add, map(getter, objs), repeat(tail))))
            else:
                ogetattr = object.__getattribute__
                for name in names:
                    columns.append(list(map(ogetattr, objs, repeat(name))))
                mget = types.MemberDescriptorType.__get__
                for descr in extra.member_descrs:
                    columns.append(list(map(mget, repeat(descr), objs)))
                columns.append(repeat(tp, n))
                values = list(chain.from_iterable(zip(*columns, strict=False)))
                del columns
        except AttributeError:
            return False
        # By identity, with no int made per reference (``==`` could run a user __eq__).
        if not all(map(is_, values, chain.from_iterable(refs))):
            return False
        raw = self.raw
        self.targets(values)
        raw.edge_kind.frombytes(extra.kinds * n)
        raw.edge_payload.frombytes(array("i", extra.payloads).tobytes() * n)
        raw.edge_count.frombytes(array("I", [k]).tobytes() * n)
        return True

    def attr_getter(self, tp: type, extra: InstanceInfo) -> Any:
        """``operator.attrgetter(*extra.names)`` if getattr on instances of ``tp`` is safe.

        Safe when the class keeps ``object.__getattribute__`` and has no ``__getattr__`` (so a
        missing attribute raises AttributeError instead of running user code) and no class in
        the MRO defines one of the names (the namer only learns such names): then ``getattr``
        reads exactly what ``object.__getattribute__`` reads, in one C call per instance.
        """
        cached = self.getters.get(id(extra))
        if cached is not None and cached[0] is extra.names:
            return cached[1]
        getter = None
        dotted = False
        for name in extra.names:
            if "." in name:  # attrgetter would follow a dotted path
                dotted = True
        if extra.getattr_ok and not dotted and not mro_lookup(tp, "__getattr__")[0]:
            getter = attrgetter(*extra.names)
        self.getters[id(extra)] = (extra.names, getter)
        return getter

    # --- edges of one object --------------------------------------------------------------
    def edges(self, targets: list[Any], kinds: Any, payloads: Any) -> None:
        raw = self.raw
        self.targets(targets, all_new=True)
        raw.edge_kind.extend(kinds)
        raw.edge_payload.extend(payloads)
        raw.edge_count.append(len(targets))

    def instance(self, o: Any, tp: type, extra: InstanceInfo) -> None:
        """One instance: its class's layout if it fits (in any order), else the namer."""
        refs = gc.get_referents(o)
        if extra.fast and (not HIDDEN_DICTS or hidden_dict(o) is None):
            names = extra.names
            try:
                vals = (
                    list(map(object.__getattribute__, repeat(o, len(names)), names))
                    if INLINE_VALUES
                    else []
                )
                vals.extend(map(types.MemberDescriptorType.__get__, extra.member_descrs, repeat(o)))
            except AttributeError:
                vals = None
            if vals is not None:
                vals.append(tp)
                a = list(map(id, vals))
                b = list(map(id, refs))
                if a == b or (len(a) == len(b) and sorted(a) == sorted(b)):
                    raw = self.raw
                    self.targets(vals, a)
                    raw.edge_kind.frombytes(extra.kinds)
                    raw.edge_payload.fromlist(extra.payloads)
                    raw.edge_count.append(len(a))
                    return
        self.edges(*self.namer.label_instance(o, refs, extra))

    # --- referents not yet seen become the next batch -------------------------------------
    def dedupe(self) -> None:
        """Move the candidates not seen before into ``pending`` (once each)."""
        cand = self.cand
        if not cand:
            return
        ids = self.cand_ids
        unknown = list(map(not_, map(self.seen.__contains__, ids)))
        fresh = dict(zip(compress(ids, unknown), compress(cand, unknown), strict=True))
        cand.clear()
        ids.clear()
        if fresh:
            self.seen.update(fresh)
            self.pending.extend(fresh.values())

    def group(self, objs: list[Any], info: tuple[Any, ...], closures: dict[int, Any]) -> None:
        """Write the nodes and edges of ``objs``, objects of one exact type."""
        cat = info[1]
        if cat == CAT_LEAF:
            self.nodes(objs, info)
            self.no_edges(len(objs))
            return
        if cat == CAT_TUPLE:
            is_closure = list(map(closures.__contains__, map(id, objs)))
            if any(is_closure):
                plain = list(compress(objs, map(not_, is_closure)))
                if plain:
                    self.group(plain, info, {})
                label_closure = self.namer.label_closure
                objs = list(compress(objs, is_closure))
                self.nodes(objs, info)
                for o in objs:
                    self.edges(*label_closure(o, closures[id(o)]))
                return
        if cat == CAT_SEQ or cat == CAT_TUPLE or cat == CAT_SET:  # noqa: SIM109 - ints
            self.nodes(objs, info)
            self.items(objs, _B_MEMBER if cat == CAT_SET else _B_INDEX)
            return
        if cat == CAT_DICT:
            self.nodes(objs, info)
            self.dicts(objs)
            return
        if cat == CAT_CELL:
            self.nodes(objs, info)
            self.cells(objs)
            return
        tp = type(objs[0])
        extra = info[-1]
        if cat == CAT_INSTANCE:
            if extra.fast:
                if self.instances(objs, tp, extra):
                    self.nodes(objs, info)
                    return
                # Learn the layout from the first instance, then try the rest in bulk again.
                self.nodes(objs[:1], info)
                self.instance(objs[0], tp, extra)
                objs = objs[1:]
                if not objs:
                    return
                if self.instances(objs, tp, extra):
                    self.nodes(objs, info)
                    return
            self.nodes(objs, info)
            for o in objs:
                self.instance(o, tp, extra)
            return
        self.nodes(objs, info)
        namer = self.namer
        if cat == CAT_FUNCTION:
            targets, kinds, payloads, counts = namer.label_functions(objs)
            self.targets(targets)
            raw = self.raw
            raw.edge_kind.fromlist(kinds)
            raw.edge_payload.fromlist(payloads)
            raw.edge_count.fromlist(counts)
            return
        getref = gc.get_referents
        for o in objs:
            refs = getref(o)
            if cat == CAT_METHOD:
                self.edges(*namer.label_method(o, refs))
            elif cat == CAT_CLASS:
                self.edges(*namer.label_class(o, refs))
            elif cat == CAT_MODULE:
                self.edges(*namer.label_module(o, refs))
            elif cat == CAT_FRAME:
                self.edges(*namer.label_frame(o, refs))
            else:
                self.edges(*namer.label_generic(o, refs, tp, extra))

    def close(self) -> None:
        self.getters.clear()
        self.cand.clear()
        self.cand_ids.clear()
        self.pending = []


def _drop_excluded(groups: dict[int, Any], tid: int, excluded: set[int]) -> None:
    """Remove the objects whose id is in ``excluded`` from the group of type id ``tid``."""
    group = groups.get(tid)
    if group and not excluded.isdisjoint(map(id, group)):
        groups[tid] = list(compress(group, map(not_, map(excluded.__contains__, map(id, group)))))


def _walk(root_frame: Any, exclude_ids: Any) -> RawSnapshot:
    objs, dropped = _roots.listed_objects()
    excluded = _own_frame_ids(root_frame)
    excluded.add(id(objs))
    own_only = len(excluded)
    excluded.update(exclude_ids)
    # Only the caller's exclusions need a pass over every object (see the first batch).
    any_object = len(excluded) > own_only

    raw = RawSnapshot()
    strings = StringTable()
    namer = Namer(strings, type_name)
    table = _TypeTable(raw, strings)
    root_list = _roots.module_roots() + _roots.thread_roots(root_frame)

    # Tracked objects are nodes from the start; only the untracked ones found on the way (and
    # the few tracked objects the walk itself makes, see _Columns.targets) are looked up here.
    seen = set(excluded)
    cols = _Columns(raw, namer, strings, seen)
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
    root_objects = []
    for obj, kind, label in root_list:
        raw.root_addr.append(id(obj))
        raw.root_kind.append(kind)
        raw.root_label.append(strings.intern(label))
        root_objects.append(obj)
    del root_list, obj

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
