"""The columns writer of the pure-Python walk: nodes and edges of a group of one exact type."""

from __future__ import annotations

import gc
import types
from array import array
from itertools import accumulate, chain, compress, repeat
from operator import add, attrgetter, is_, not_, or_
from typing import Any

from ..core.labels import (
    EDGE_CELL,
    EDGE_DICT_KEY,
    EDGE_INDEX,
    EDGE_KEY,
    EDGE_MEMBER,
)
from ..core.raw import RawSnapshot
from .bulktexts import BULK_TEXTS, key_texts
from .naming import HIDDEN_DICTS, Namer, hidden_dict
from .strings import StringTable
from .typeinfo import (
    mro_lookup,
)
from .typelayout import INLINE_VALUES, InstanceInfo
from .typetable import (
    CAT_CELL,
    CAT_CLASS,
    CAT_DICT,
    CAT_FRAME,
    CAT_FUNCTION,
    CAT_INSTANCE,
    CAT_LEAF,
    CAT_METHOD,
    CAT_MODULE,
    CAT_SEQ,
    CAT_SET,
    CAT_TUPLE,
)

# A C function's keyword-name tuple (Argument Clinic) is built on its first call with keywords.
# Made during a capture, it would be missing from that snapshot and show up as growth in the
# next one; making it at import, before any capture, keeps two snapshots in a row comparable.
accumulate((), initial=0)

_B_INDEX = bytes([EDGE_INDEX])
_B_KEY = bytes([EDGE_KEY])
_B_DICT_KEY = bytes([EDGE_DICT_KEY])
_B_MEMBER = bytes([EDGE_MEMBER])
_B_KEY_PAIR = bytes([EDGE_KEY, EDGE_DICT_KEY])
_B_CELL = bytes([EDGE_CELL])
_NEG1_I = array("i", [-1]).tobytes()
_NEG1_Q = array("q", [-1]).tobytes()
_ZERO_I = array("I", [0]).tobytes()


class Columns:
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
            bulk = BULK_TEXTS.get(id(text))
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
        payloads = self.strings.intern_many(key_texts(keys))
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
