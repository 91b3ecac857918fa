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
- no user code runs (see :mod:`heaptui.capture.typeinfo`, :mod:`heaptui.capture.saferepr`,
  :mod:`heaptui.capture.naming`).

The hot loop handles exact lists, tuples, dicts, sets, scalars and the usual instance shape
itself, with bulk C-level calls (``map``, ``array.extend``); referents are collected in a
buffer and deduplicated against the seen-set in chunks (a dict keyed by id and a set
difference) so that no Python-level loop runs per edge.
"""

from __future__ import annotations

import gc
import os
import platform
import sys
import time
import types
from collections import deque
from datetime import datetime, timezone
from itertools import compress, repeat
from operator import not_
from typing import Any

from heaptui.capture import roots as _roots
from heaptui.capture.naming import INLINE_VALUES, GenericInfo, InstanceInfo, Namer
from heaptui.capture.raw import RawSnapshot
from heaptui.capture.saferepr import (
    builtin_text,
    class_text,
    code_text,
    function_text,
    method_text,
    module_text,
    scalar_text_function,
)
from heaptui.capture.strings import StringTable
from heaptui.capture.typeinfo import (
    FLAG_HAVE_GC,
    constant_size,
    has_base,
    is_heap_type,
    safe_sizer,
    type_flags,
    type_name,
)
from heaptui.labels import (
    EDGE_DICT_KEY,
    EDGE_INDEX,
    EDGE_KEY,
    EDGE_MEMBER,
    NODE_GC_TRACKED,
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

# A long switch interval keeps other threads from running while the walk holds the GIL.
SWITCH_INTERVAL = 1000.0
# Referents are deduplicated against the seen-set this many at a time.
CHUNK = 1 << 16

_LEN_TYPES = (list, tuple, dict, set, frozenset, str, bytes, bytearray, deque)
_B_INDEX = bytes([EDGE_INDEX])
_B_KEY = bytes([EDGE_KEY])
_B_DICT_KEY = bytes([EDGE_DICT_KEY])
_B_MEMBER = bytes([EDGE_MEMBER])
_NEG1 = (-1).to_bytes(4, sys.byteorder, signed=True)


class _TypeTable:
    """Per-type walker information, keyed by ``id(type)`` (never by the type object)."""

    def __init__(self, raw: RawSnapshot, strings: StringTable) -> None:
        self.raw = raw
        self.strings = strings
        self.info: dict[int, tuple[Any, ...]] = {}

    def classify(self, tp: type) -> tuple[Any, ...]:
        raw = self.raw
        index = len(raw.type_names)
        raw.type_names.append(type_name(tp))
        raw.type_addr.append(id(tp))
        raw.type_flags.append(type_flags(tp))
        sizer = safe_sizer(tp) or sys.getsizeof
        const_size = constant_size(tp)
        has_len = False
        for t in _LEN_TYPES:
            if tp is t:
                has_len = True
        text = scalar_text_function(tp)
        extra: Any = None
        flags = type.__dict__["__flags__"].__get__(tp)
        if tp is list or tp is deque:
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
            cat = CAT_FRAME
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
        info = (index, cat, const_size, sizer, has_len, text, extra)
        self.info[id(tp)] = info
        return info


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        try:
            import resource

            scale = 1 if sys.platform == "darwin" else 1024
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
        except Exception:
            return 0


def _heaptui_version() -> str:
    module = sys.modules.get("heaptui")
    version = getattr(module, "__version__", None)
    return version if type(version) is str else "unknown"


def take_snapshot(root_frame: Any, *, collect: bool = False) -> RawSnapshot:
    """Capture this process's heap; ``root_frame`` stands for this thread's stack.

    ``root_frame`` is the frame that called the public API (the capture's own frames are
    never part of the snapshot).
    """
    if collect:
        gc.collect()
    gc_was_enabled = gc.isenabled()
    interval = sys.getswitchinterval()
    started = time.perf_counter()
    gc.disable()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        raw = _walk(root_frame)
    finally:
        sys.setswitchinterval(interval)
        if gc_was_enabled:
            gc.enable()
    elapsed = time.perf_counter() - started
    raw.meta.update(
        {
            "pid": os.getpid(),
            "argv": [a for a in sys.argv if type(a) is str],
            "python": platform.python_version(),
            "implementation": sys.implementation.name,
            "platform": sys.platform,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "rss": _rss_bytes(),
            "capture_seconds": round(elapsed, 6),
            "heaptui_version": _heaptui_version(),
            "walker": "python",
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


def _walk(root_frame: Any) -> RawSnapshot:
    objs = gc.get_objects()
    excluded = _own_frame_ids(root_frame)
    excluded.add(id(objs))

    raw = RawSnapshot()
    strings = StringTable()
    namer = Namer(strings, type_name)
    table = _TypeTable(raw, strings)
    root_list = _roots.module_roots() + _roots.thread_roots(root_frame)

    seen = set(map(id, objs))
    seen |= excluded
    for o in objs:
        if type(o) is types.FunctionType:
            namer.register_closure(o)
    closures = namer.closure_names

    pending: list[Any] = []
    for obj, kind, label in root_list:
        raw.root_addr.append(id(obj))
        raw.root_kind.append(kind)
        raw.root_label.append(strings.intern(label))
        if id(obj) not in seen:
            seen.add(id(obj))
            pending.append(obj)
    del root_list, obj

    # Local aliases for the hot loop.
    addr_a = raw.addr.append
    ti_a = raw.type_index.append
    size_a = raw.size.append
    len_a = raw.length.append
    ec_a = raw.edge_count.append
    roff_a = raw.repr_offsets.append
    blob = raw.repr_blob
    et_x = raw.edge_target.extend
    ek_x = raw.edge_kind.extend
    ek_b = raw.edge_kind.frombytes
    ep_x = raw.edge_payload.extend
    ep_b = raw.edge_payload.frombytes
    info_get = table.info.get
    classify = table.classify
    getref = gc.get_referents
    ogetattr = object.__getattribute__
    mget = types.MemberDescriptorType.__get__
    dict_keys = dict.keys
    dict_values = dict.values
    key_cache_get = namer.key_cache.get
    key_payload = namer.key_payload
    label_instance = namer.label_instance
    label_function = namer.label_function
    label_generic = namer.label_generic
    label_closure = namer.label_closure
    inline = INLINE_VALUES
    b_index, b_key, b_dkey, b_member, neg1 = _B_INDEX, _B_KEY, _B_DICT_KEY, _B_MEMBER, _NEG1
    chunk = CHUNK

    roff_a(0)
    flags_b = raw.flags.frombytes
    # The capture's own frames (3.10 tracks every frame) are dropped before the walk.
    batch: list[Any] = list(compress(objs, map(not_, map(excluded.__contains__, map(id, objs)))))
    objs = None  # type: ignore[assignment]
    cand: list[Any] = []
    cand_x = cand.extend
    flag = NODE_GC_TRACKED
    blen = 0
    while batch:
        pend_x = pending.extend
        first_node = len(raw.addr)
        for o in batch:
            tp = type(o)
            info = info_get(id(tp))
            if info is None:
                info = classify(tp)
            ti, cat, const_size, sizer, has_len, text, extra = info
            oid = id(o)
            addr_a(oid)
            ti_a(ti)
            size_a(sizer(o) if const_size < 0 else const_size)
            len_a(len(o) if has_len else -1)
            if text is not None:
                t = text(o)
                if t:
                    blob += t.encode("utf-8", "backslashreplace")
                    blen = len(blob)
            roff_a(blen)

            if cat == CAT_LEAF:
                ec_a(0)
                continue
            if cat == CAT_SEQ or (cat == CAT_TUPLE and oid not in closures):
                # Exact list/tuple/deque iteration is C code; tp_traverse visits the items
                # backwards, so positions come from the object, not from get_referents.
                n = len(o)
                et_x(map(id, o))
                ek_b(b_index * n)
                ep_x(range(n))
                cand_x(o)
                ec_a(n)
            elif cat == CAT_DICT:
                ks = list(dict_keys(o))
                vs = list(dict_values(o))
                n = len(ks)
                kids = list(map(id, ks))
                pl = list(map(key_cache_get, kids))
                if None in pl:
                    i = pl.index(None)
                    while True:
                        pl[i] = key_payload(ks[i])
                        try:
                            i = pl.index(None, i + 1)
                        except ValueError:
                            break
                et_x(map(id, vs))
                et_x(kids)
                ek_b(b_key * n + b_dkey * n)
                ep_x(pl)
                ep_x(pl)
                cand_x(vs)
                cand_x(ks)
                ec_a(n + n)
            elif cat == CAT_SET:
                refs = getref(o)
                n = len(refs)
                et_x(map(id, refs))
                ek_b(b_member * n)
                ep_b(neg1 * n)
                cand_x(refs)
                ec_a(n)
            elif cat == CAT_INSTANCE:
                refs = getref(o)
                done = False
                if extra.fast:
                    names = extra.names
                    try:
                        vals = list(map(ogetattr, repeat(o, len(names)), names)) if inline else []
                        vals.extend(map(mget, extra.member_descrs, repeat(o)))
                    except AttributeError:
                        vals = None
                    if vals is not None:
                        vals.append(tp)
                        a = list(map(id, vals))
                        b = list(map(id, refs))
                        if a == b or (len(a) == len(b) and sorted(a) == sorted(b)):
                            et_x(a)
                            ek_b(extra.kinds)
                            ep_x(extra.payloads)
                            cand_x(vals)
                            ec_a(len(a))
                            done = True
                if not done:
                    targets, kinds, payloads = label_instance(o, refs, extra)
                    et_x(map(id, targets))
                    ek_x(kinds)
                    ep_x(payloads)
                    cand_x(targets)
                    ec_a(len(targets))
            else:
                refs = getref(o)
                if cat == CAT_TUPLE:
                    targets, kinds, payloads = label_closure(o, closures[oid])
                elif cat == CAT_FUNCTION:
                    targets, kinds, payloads = label_function(o, refs)
                elif cat == CAT_CELL:
                    targets, kinds, payloads = namer.label_cell(refs)
                elif cat == CAT_METHOD:
                    targets, kinds, payloads = namer.label_method(o, refs)
                elif cat == CAT_CLASS:
                    targets, kinds, payloads = namer.label_class(o, refs)
                elif cat == CAT_MODULE:
                    targets, kinds, payloads = namer.label_module(o, refs)
                elif cat == CAT_FRAME:
                    targets, kinds, payloads = namer.label_frame(o, refs)
                else:
                    targets, kinds, payloads = label_generic(o, refs, tp, extra)
                et_x(map(id, targets))
                ek_x(kinds)
                ep_x(payloads)
                cand_x(targets)
                ec_a(len(targets))

            if len(cand) > chunk:
                by_id = dict(zip(map(id, cand), cand, strict=True))
                new = set(by_id).difference(seen)
                if new:
                    seen |= new
                    pend_x(map(by_id.__getitem__, new))
                cand.clear()
                del by_id, new
        if cand:
            by_id = dict(zip(map(id, cand), cand, strict=True))
            new = set(by_id).difference(seen)
            if new:
                seen |= new
                pend_x(map(by_id.__getitem__, new))
            cand.clear()
            del by_id, new
        flags_b(bytes([flag]) * (len(raw.addr) - first_node))
        batch = pending
        pending = []
        flag = 0

    # Drop every reference to target objects before returning.
    o = batch = pending = None  # type: ignore[assignment]
    refs = targets = vals = ks = vs = tp = extra = info = None  # type: ignore[assignment]
    table.info.clear()
    namer.key_cache.clear()
    raw.strings = strings.strings
    return raw
