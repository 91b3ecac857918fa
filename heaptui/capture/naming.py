"""Label the references of one object, matching ``gc.get_referents`` results by identity.

Standard library only. The walker handles the hot, simple shapes itself (exact lists, tuples,
dicts, sets, scalars and the fast path for instances); this module does the rest. Each
``label_*`` function returns three parallel lists ``(targets, kinds, payloads)``: every object
``gc.get_referents`` reported appears exactly once (unnamed ones as ``EDGE_OTHER``), plus
explicit edges the walker adds on purpose (dict keys that ``get_referents`` hides, the locals of
running frames, ``f_back``). How instance attributes are named, and where that fails, is in
docs/capture-naming.md; the per-type facts are in :mod:`heaptui.capture.typelayout`.
"""

from __future__ import annotations

import contextlib
import sys
import types
from itertools import repeat
from typing import Any

from ..core.labels import (
    EDGE_ATTR,
    EDGE_CELL,
    EDGE_DICT_KEY,
    EDGE_INDEX,
    EDGE_INTERNAL,
    EDGE_KEY,
    EDGE_LOCAL,
    EDGE_MEMBER,
    EDGE_OTHER,
)
from .saferepr import key_text
from .strings import Interner
from .typeinfo import (
    is_heap_type,
    is_ready,
)
from .typelayout import (
    FUNCTION_GETTERS,
    METHOD_ATTRS,
    GenericInfo,
    InstanceInfo,
    free_var_names,
)

try:  # the compiled accelerator reads fast locals in place (heaptui/capture/_frames.c)
    from ._walk import (  # type: ignore[import-not-found]
        frame_locals as _c_frame_locals,
    )
    from ._walk import (  # type: ignore[import-not-found]
        frame_locals_dict as _c_frame_locals_dict,
    )
except ImportError:  # pure Python only: locals are not read (see _frame_local_items)
    _c_frame_locals = _c_frame_locals_dict = None
try:  # 3.13+: a dict made beside inline values is not among gc.get_referents (see hidden_dict)
    from ._walk import (  # type: ignore[import-not-found]
        hidden_dict as _c_hidden_dict,
    )
except ImportError:
    _c_hidden_dict = None

# Only 3.13+ keeps the values inline once the dict exists; without the compiled helper that
# dict cannot be found without making one where none exists, so it is left out (a gap).
HIDDEN_DICTS = sys.version_info >= (3, 13) and _c_hidden_dict is not None


def _no_hidden_dict(obj: Any) -> None:
    """Before 3.13 an existing instance dict is always a referent (and without the compiled
    helper on 3.13 it cannot be read safely)."""
    return None


# ``hidden_dict(obj)``: ``obj``'s ``__dict__`` if it exists while its values stay inline
# (3.13+), else None. ``gc.get_referents(obj)`` then reports the values but not the dict, so
# the walkers add the ``.__dict__`` edge themselves. Read in place by the C helper (called
# directly: the walker maps it over every instance of a class); reading ``obj.__dict__`` would
# make a dict where there is none.
hidden_dict: Any = _c_hidden_dict if HIDDEN_DICTS else _no_hidden_dict


_getref = __import__("gc").get_referents
_object_getattribute = object.__getattribute__
_member_get = types.MemberDescriptorType.__get__
_getset_get = types.GetSetDescriptorType.__get__
_type_getset = type.__dict__
_TYPE_MRO = _type_getset["__mro__"].__get__
_TYPE_BASES = _type_getset["__bases__"].__get__
_TYPE_BASE = _type_getset["__base__"].__get__
_TYPE_NS = _type_getset["__dict__"].__get__
_MODULE_DICT = types.ModuleType.__dict__["__dict__"].__get__


def _counts(refs: list[Any]) -> dict[int, int]:
    """How many times each referent (by id) is still to be labelled."""
    want: dict[int, int] = {}
    for r in refs:
        rid = id(r)
        want[rid] = want.get(rid, 0) + 1
    return want


def _consume(want: dict[int, int], entries: list[tuple[Any, int, int]]) -> int:
    """Mark the referents among ``entries`` as labelled in ``want``; return how many were."""
    taken = 0
    for value, _, _ in entries:
        vid = id(value)
        count = want.get(vid)
        if count:
            want[vid] = count - 1
            taken += 1
    return taken


class Namer:
    """Labels references of objects the walker does not handle inline."""

    def __init__(self, strings: Interner, type_name_of: Any) -> None:
        self.strings = strings
        self.intern = strings.intern
        self.type_name_of = type_name_of
        self.key_cache: dict[int, int] = {}  # id(key object) -> string index of its text
        self.closure_names: dict[int, tuple[int, ...]] = {}  # id(closure tuple) -> payloads
        self.attr_payload: dict[str, int] = {}
        self.function_payloads = [self.intern(name) for name, _ in FUNCTION_GETTERS]

    # --- helpers ---------------------------------------------------------------------------
    def attr(self, name: str) -> int:
        return self.intern(name)

    def key_payload(self, key: Any) -> int:
        kid = id(key)
        payload = self.key_cache.get(kid)
        if payload is None:
            payload = self.key_cache[kid] = self.intern(key_text(key))
        return payload

    @staticmethod
    def match(
        refs: list[Any], named: Any, explicit: Any = ()
    ) -> tuple[list[Any], list[int], list[int]]:
        """Give each referent the first unused label naming it; the rest are ``EDGE_OTHER``.

        ``named`` and ``explicit`` are ``(value, kind, payload)`` triples. ``named`` labels are
        used only if their object is a referent; ``explicit`` ones become edges in any case
        (consuming a matching referent if there is one). The one matching loop of both walkers'
        Python labellers.
        """
        want = _counts(refs)
        left = len(refs)
        targets: list[Any] = []
        kinds: list[int] = []
        payloads: list[int] = []
        for phase in (0, 1, 2):  # explicit labels, then named ones, then the unnamed rest
            if phase == 0:
                entries = explicit
            elif not left:
                break  # every referent is labelled: nothing else can match
            else:
                entries = named if phase == 1 else zip(refs, repeat(EDGE_OTHER), repeat(-1))
            forced = phase == 0
            for value, kind, payload in entries:
                vid = id(value)
                count = want.get(vid)
                if count:
                    want[vid] = count - 1
                    left -= 1
                elif not forced:
                    continue
                targets.append(value)
                kinds.append(kind)
                payloads.append(payload)
        return targets, kinds, payloads

    def container_items(self, obj: Any, base: type, out: list[tuple[Any, int, int]]) -> None:
        """Items of a dict/list/tuple/set (or subclass), read through the base's C methods.

        Each is copied in one C call first: another thread may change it between two steps of
        a Python loop (and a dict or set that changes size would stop the iteration).
        """
        if base is dict:
            for k, v in list(dict.items(obj)):
                payload = self.key_payload(k)
                out.append((v, EDGE_KEY, payload))
                out.append((k, EDGE_DICT_KEY, payload))
        elif base is list or base is tuple:
            for i, v in enumerate(list(base.__iter__(obj))):
                out.append((v, EDGE_INDEX, i))
        else:
            for v in list(base.__iter__(obj)):
                out.append((v, EDGE_MEMBER, -1))

    def members(self, obj: Any, descrs: list[Any], payloads: list[int], out: list[Any]) -> None:
        for descr, payload in zip(descrs, payloads, strict=True):
            try:
                value = _member_get(descr, obj)
            except Exception:
                continue
            out.append((value, EDGE_ATTR, payload))

    # --- categories ------------------------------------------------------------------------
    def label_instance(
        self, obj: Any, refs: list[Any], info: InstanceInfo
    ) -> tuple[list[Any], list[int], list[int]]:
        """Instances of heap types (Python classes, subclasses of builtins, C heap types)."""
        tp = info.tp
        named: list[tuple[Any, int, int]] = [(tp, EDGE_ATTR, info.class_payload)]
        explicit: list[tuple[Any, int, int]] = []
        self.members(obj, info.member_descrs, info.member_payloads, named)
        for payload, descr in info.getsets:
            try:
                named.append((_getset_get(descr, obj), EDGE_ATTR, payload))
            except Exception:
                continue
        if info.container is not None:
            # Dict keys are explicit: get_referents hides str keys.
            self.container_items(obj, info.container, explicit)
        want = _counts(refs)
        unnamed = len(refs) - _consume(want, explicit) - _consume(want, named)
        if unnamed and info.getattr_ok:
            learned: list[str] = []
            tried: set[str] = set()
            for source in (info.names, info.candidate_names()):
                for name in source:
                    if name in tried:
                        continue
                    tried.add(name)
                    try:
                        value = _object_getattribute(obj, name)
                    except AttributeError:
                        continue
                    vid = id(value)
                    c = want.get(vid)
                    if c:
                        want[vid] = c - 1
                        unnamed -= 1
                        named.append((value, EDGE_ATTR, self.intern(name)))
                        learned.append(name)
                        if not unnamed:
                            break
                if not unnamed:
                    break
            if learned and learned != info.names:
                info.relearn(learned, self.strings)
        hidden = hidden_dict(obj)
        if unnamed and info.internal_dict >= 0:
            self._name_internal_dict(refs, want, named, info)
        elif unnamed and info.has_dict and hidden is None:
            for r in refs:
                if type(r) is dict and want.get(id(r)):
                    named.append((r, EDGE_ATTR, info.dict_payload))
                    break
        targets, kinds, payloads = self.match(refs, named, explicit)
        if hidden is not None:  # not a referent: added after them (as the C walker does)
            targets.append(hidden)
            kinds.append(EDGE_ATTR)
            payloads.append(info.dict_payload)
        return targets, kinds, payloads

    @staticmethod
    def _name_internal_dict(
        refs: list[Any], want: dict[int, int], named: list[Any], info: InstanceInfo
    ) -> None:
        """The first unnamed dict is the internal one (``<cache>``, ``<dicts by thread>``); a
        later one is the real ``.__dict__`` (the last referent: lru_cache's traverse order on
        3.10-3.13). Nothing is read: reading ``__dict__`` could create one."""
        dicts = [r for r in refs if type(r) is dict and want.get(id(r))]
        if dicts:
            named.append((dicts[0], EDGE_INTERNAL, info.internal_dict))
        if len(dicts) > 1 and info.has_dict:
            named.append((dicts[-1], EDGE_ATTR, info.dict_payload))

    @classmethod
    def match_attrs(
        cls, refs: list[Any], values: Any, payloads: Any
    ) -> tuple[list[Any], list[int], list[int]]:
        """:meth:`match` for ``named`` attributes only (``values[i]`` is named ``payloads[i]``)."""
        return cls.match(refs, zip(values, repeat(EDGE_ATTR), payloads))

    def label_function(self, f: Any, refs: list[Any]) -> tuple[list[Any], list[int], list[int]]:
        values = [getter(f) for _, getter in FUNCTION_GETTERS]
        return self.match_attrs(refs, values, self.function_payloads)

    def label_functions(
        self, funcs: list[Any]
    ) -> tuple[list[Any], list[int], list[int], list[int]]:
        """:meth:`label_function` of many functions: flat targets, kinds, payloads, and counts."""
        columns = []
        for _, getter in FUNCTION_GETTERS:
            columns.append(list(map(getter, funcs)))
        targets: list[Any] = []
        kinds: list[int] = []
        payloads: list[int] = []
        counts: list[int] = []
        match_attrs = self.match_attrs
        names = self.function_payloads
        for refs, values in zip(map(_getref, funcs), zip(*columns, strict=True), strict=True):
            t, k, p = match_attrs(refs, values, names)
            targets += t
            kinds += k
            payloads += p
            counts.append(len(t))
        return targets, kinds, payloads, counts

    def register_closure(self, f: Any) -> None:
        """Remember the free variable names of ``f``'s closure tuple (walked later)."""
        closure = f.__closure__
        if closure is None:
            return
        names = free_var_names(f.__code__, len(closure))
        self.closure_names[id(closure)] = tuple(
            self.intern(n) if type(n) is str else -1 for n in names
        )

    def label_closure(
        self, tup: tuple[Any, ...], payloads: tuple[int, ...]
    ) -> tuple[list[Any], list[int], list[int]]:
        from ..core.labels import EDGE_CLOSURE

        targets = list(tup)
        if len(payloads) != len(targets):
            return targets, [EDGE_INDEX] * len(targets), list(range(len(targets)))
        return targets, [EDGE_CLOSURE] * len(targets), list(payloads)

    def label_cell(self, refs: list[Any]) -> tuple[list[Any], list[int], list[int]]:
        return refs, [EDGE_CELL] * len(refs), [-1] * len(refs)

    def label_method(self, m: Any, refs: list[Any]) -> tuple[list[Any], list[int], list[int]]:
        named = [(getattr(m, n), EDGE_ATTR, self.attr(n)) for n in METHOD_ATTRS]
        return self.match(refs, named, [])

    def label_class(self, cls: type, refs: list[Any]) -> tuple[list[Any], list[int], list[int]]:
        """A class's ``.__dict__``, ``.__mro__``, ``.__bases__``, ``.__base__``, ``.__class__``.

        A static type (``int``, ``dict``, a C extension's type) is not a GC object, so
        ``gc.get_referents`` reports nothing for it: its namespace dict and MRO/bases tuples
        would look like unreferenced "other" roots. They become explicit edges instead (the
        namespace is the real dict behind the mapping proxy; ``__base__`` only when it is not
        None; no ``__class__`` edge, as the metatype is a static type too).
        """
        named: list[tuple[Any, int, int]] = []
        if not is_ready(cls):  # a leaf, named only (typeinfo.is_ready)
            return self.match(refs, [], [])
        try:
            for inner in _getref(_TYPE_NS(cls)):
                if type(inner) is dict:
                    named.append((inner, EDGE_ATTR, self.attr("__dict__")))
            named.append((_TYPE_MRO(cls), EDGE_ATTR, self.attr("__mro__")))
            named.append((_TYPE_BASES(cls), EDGE_ATTR, self.attr("__bases__")))
            named.append((_TYPE_BASE(cls), EDGE_ATTR, self.attr("__base__")))
        except Exception:
            pass
        if not is_heap_type(cls):
            explicit = []
            for entry in named:
                if entry[0] is not None:
                    explicit.append(entry)
            return self.match(refs, [], explicit)
        named.append((type(cls), EDGE_ATTR, self.attr("__class__")))
        return self.match(refs, named, [])

    def label_module(self, m: Any, refs: list[Any]) -> tuple[list[Any], list[int], list[int]]:
        named = []
        with contextlib.suppress(Exception):
            named.append((_MODULE_DICT(m), EDGE_ATTR, self.attr("__dict__")))
        named.append((type(m), EDGE_ATTR, self.attr("__class__")))
        return self.match(refs, named, [])

    def label_generic(
        self, obj: Any, refs: list[Any], tp: type, info: GenericInfo
    ) -> tuple[list[Any], list[int], list[int]]:
        named: list[tuple[Any, int, int]] = []
        explicit: list[tuple[Any, int, int]] = []
        self.members(obj, info.member_descrs, info.member_payloads, named)
        for descr, payload in zip(info.getset_descrs, info.getset_payloads, strict=True):
            try:
                named.append((_getset_get(descr, obj), EDGE_ATTR, payload))
            except Exception:
                continue
        if info.container is not None:
            self.container_items(obj, info.container, explicit)
        if info.suspends:
            for name, value in _frame_local_items(obj):
                if type(name) is str:
                    named.append((value, EDGE_LOCAL, self.intern(name)))
        if info.sequence:
            for i, v in enumerate(refs):
                named.append((v, EDGE_INDEX, i))
        named.append((tp, EDGE_ATTR, self.attr("__class__")))
        return self.match(refs, named, explicit)

    def label_frame(self, f: Any, refs: list[Any]) -> tuple[list[Any], list[int], list[int]]:
        """Locals by name, ``f_code``, ``f_globals``, ``f_back`` ...

        On 3.11+ a running frame reports no referents at all (the interpreter's stack is a GC
        root), so these become explicit edges. Locals are read in place by the accelerator,
        never through ``f_locals`` (see :func:`_frame_local_items`).
        """
        running = not refs
        pairs: list[tuple[Any, int, int]] = []
        for name in ("f_code", "f_globals", "f_builtins", "f_trace"):
            try:
                value = getattr(f, name)
            except Exception:
                continue
            if value is not None:
                pairs.append((value, EDGE_ATTR, self.attr(name)))
        items = _frame_local_items(f)
        for name, value in items:
            if type(name) is str:
                pairs.append((value, EDGE_LOCAL, self.intern(name)))
        del items
        back = f.f_back
        explicit = []
        if back is not None:
            explicit.append((back, EDGE_ATTR, self.attr("f_back")))
        if _c_frame_locals_dict is not None:
            loc = _c_frame_locals_dict(f)
            if loc is not None:  # the dict locals() filled (or a class/module body's)
                explicit.append((loc, EDGE_ATTR, self.attr("f_locals")))
            loc = None
        if running:
            explicit.extend(pairs)
            return self.match(refs, [], explicit)
        return self.match(refs, pairs, explicit)


def _frame_local_items(f: Any) -> list[tuple[Any, Any]]:
    """``(name, value)`` of a frame's (or a suspended generator's) locals, or ``[]``.

    Never ``f.f_locals``: on 3.10-3.12 it refreshes the dict the program's own ``locals()``
    returned (a loop over it fails), and a running trace or profile function writes that dict
    back into the frame when it returns (locals vanish: UnboundLocalError). Without the
    compiled accelerator the locals stay unnamed: a suspended frame's values are still
    referents (``EDGE_OTHER``); a running frame's (3.11+) are not edges at all.
    """
    if _c_frame_locals is None:
        return []
    try:
        items = _c_frame_locals(f)
    except Exception:
        return []
    return items if items is not None else []


__all__ = ["HIDDEN_DICTS", "Namer", "hidden_dict"]
