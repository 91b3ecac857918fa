"""Label the references of one object, matching ``gc.get_referents`` results by identity.

Standard library only. The walker handles the hot, simple shapes itself (exact lists, tuples,
dicts, sets, scalars and the fast path for instances); this module does the rest. Each
``label_*`` function returns three parallel lists ``(targets, kinds, payloads)``: every object
``gc.get_referents`` reported appears exactly once (unnamed ones as ``EDGE_OTHER``), plus
explicit edges the walker adds on purpose (dict keys that ``get_referents`` hides, the locals of
running frames, ``f_back``).

How instance attributes are named (the heuristic and its limits)
----------------------------------------------------------------
On 3.11+ an instance whose ``__dict__`` was never touched keeps its attributes inline and
``gc.get_referents`` returns the values themselves; reading ``obj.__dict__`` would create a
dict for good (the heap would change because we looked), so it is never read. Instead, per
class, candidate attribute names are tried with ``object.__getattribute__(obj, name)``, which
on such a name reads the inline values without materialising anything. A candidate is only
tried when the name is found in no class ``__dict__`` along the MRO (so no descriptor,
property or other user code can run) and when the class's ``__getattribute__`` is object's.
Candidates, in order: the names that matched on earlier instances of the class, then
``co_names`` of every function (and nested code) in the MRO namespaces (``self.x = ...`` puts
``x`` there), then ``__slots__`` and ``__annotations__`` keys. Each value read is matched to a
referent by ``id``; the search stops when every referent is named.

Limits: an attribute set from outside the class (``obj.extra = 1`` in another module, or
``setattr`` with a computed name) is not among the candidates and stays ``EDGE_OTHER``; two
attributes holding the same object are both found; a materialised instance dict is recognised
as the one unnamed exact ``dict`` referent and labelled ``.__dict__`` (its entries are then
labelled by key). On 3.13 a dict made while the values stay inline is not a referent at all
(the instance's traverse visits the values only): :func:`hidden_dict` reads it in place with
the compiled helper and the ``.__dict__`` edge is added after the referents. Without the
compiled helper that edge is missing on 3.13 (the dict is then a node held by nothing).
"""

from __future__ import annotations

import contextlib
import sys
import types
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
    class_dict,
    has_base,
    is_heap_type,
    is_one_of,
    is_ready,
    mro_lookup,
    mro_of,
    namespace_items,
    type_name,
)

INLINE_VALUES = sys.version_info >= (3, 11)

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

_GENERATOR_TYPES = (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)

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
_OBJECT_GETATTRIBUTE = object.__dict__["__getattribute__"]
_MEMBER_OWNER = types.MemberDescriptorType.__dict__["__objclass__"].__get__
_GETSET_OWNER = types.GetSetDescriptorType.__dict__["__objclass__"].__get__


def _applies_to(tp: type, descr: Any, owner_of: Any) -> bool:
    """Whether a slot or getset descriptor found in ``tp``'s MRO was made for ``tp``'s layout.

    A class namespace may hold another class's descriptor (``class B: x = A.x``); reading it
    on a B would fail (in C, read at another class's offset), so it is not used.
    """
    try:
        return has_base(tp, owner_of(descr))
    except Exception:
        return False


# Attributes of exact C types that only return an existing pointer (no object is created).
FUNCTION_ATTRS = (
    "__code__",
    "__globals__",
    "__builtins__",
    "__defaults__",
    "__kwdefaults__",
    "__closure__",
    "__name__",
    "__qualname__",
    "__module__",
    "__doc__",
    "__type_params__",
)
# What getattr(f, name) reads on an exact function: the function type's own data descriptors
# (members and getsets), which an instance __dict__ cannot shadow. Names missing on this Python
# (``__type_params__`` before 3.12) are left out, as getattr would fail on them.
_FUNCTION_GETTERS = tuple(
    (name, types.FunctionType.__dict__[name].__get__)
    for name in FUNCTION_ATTRS
    if name in types.FunctionType.__dict__
)
METHOD_ATTRS = ("__func__", "__self__")
# Getsets that are safe to read on C types (they return a stored pointer).
GENERIC_GETSETS = ("__self__", "__func__", "__objclass__", "gi_code", "cr_code", "ag_code")
CONTAINER_BASES = (dict, list, tuple, set, frozenset)
# Getsets of particular C types that also only return a stored pointer (checked in CPython
# 3.10-3.13), keyed by the type's name: what an exception, a traceback, an asyncio task or a
# suspended coroutine holds is then named instead of ``<ref>``. They apply to the type and
# to its subclasses (an exception class the user wrote).
TYPE_GETSETS: dict[str, tuple[str, ...]] = {
    "BaseException": ("args", "__traceback__", "__context__", "__cause__"),
    "traceback": ("tb_next",),
    "_asyncio.Future": ("_loop", "_result", "_exception"),
    "_asyncio.Task": ("_coro", "_fut_waiter"),
    "coroutine": ("cr_await",),
    "generator": ("gi_yieldfrom",),
    "async_generator": ("ag_await",),
}
# C types whose instances hold a dict in a field that is no attribute, and its name: an
# lru_cache's cache; a threading.local's dict of per-thread attribute dicts.
INTERNAL_DICTS = {
    "functools._lru_cache_wrapper": "cache",
    "_thread._local": "dicts by thread",
}


def type_getsets(tp: type) -> list[tuple[str, Any]]:
    """``(name, getset descriptor)`` of :data:`TYPE_GETSETS` along ``tp``'s MRO."""
    found: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for base in mro_of(tp):
        names = TYPE_GETSETS.get(type_name(base))
        if not names:
            continue
        for name, value in namespace_items(base):
            if type(value) is types.GetSetDescriptorType and name in names and name not in seen:
                seen.add(name)
                found.append((name, value))
    return found


def _internal_dict_name(tp: type) -> str | None:
    for base in mro_of(tp):
        name = INTERNAL_DICTS.get(type_name(base))
        if name is not None:
            return name
    return None


class InstanceInfo:
    """What the walker learned about one class: how to name its instances' references."""

    __slots__ = (
        "candidates",
        "class_payload",
        "container",
        "dict_payload",
        "fast",
        "getattr_ok",
        "getsets",
        "has_dict",
        "internal_dict",
        "kinds",
        "member_descrs",
        "member_payloads",
        "names",
        "payloads",
        "tp",
    )

    def __init__(self, tp: type, strings: Interner) -> None:
        self.tp = tp
        self.class_payload = strings.intern("__class__")
        self.dict_payload = strings.intern("__dict__")
        self.container: type | None = None
        for base in CONTAINER_BASES:
            if has_base(tp, base):
                self.container = base
                break
        _, getattribute, _ = mro_lookup(tp, "__getattribute__")
        self.getattr_ok = INLINE_VALUES and getattribute is _OBJECT_GETATTRIBUTE
        dict_found, _, _ = mro_lookup(tp, "__dict__")
        self.has_dict = dict_found
        self.member_descrs: list[Any] = []
        self.member_payloads: list[int] = []
        seen_members: set[int] = set()
        for base in mro_of(tp):
            if base is object:
                continue
            for name, value in namespace_items(base):
                if (
                    type(value) is types.MemberDescriptorType
                    and id(value) not in seen_members
                    and _applies_to(tp, value, _MEMBER_OWNER)
                ):
                    seen_members.add(id(value))
                    self.member_descrs.append(value)
                    self.member_payloads.append(strings.intern(name))
        self.candidates: list[str] | None = None  # computed on first need
        self.names: list[str] = []  # attribute names that matched last time, in order
        self.payloads: list[int] = []  # string indexes of names + members + class
        self.kinds = b""
        # Getsets of C bases (an exception's __traceback__), and the name of a dict the
        # instances hold in a C field (an lru_cache's cache): named by label_instance only.
        self.getsets = [(strings.intern(n), d) for n, d in type_getsets(tp)]
        internal = _internal_dict_name(tp)
        self.internal_dict = strings.intern(internal) if internal is not None else -1
        # The walker's fast path needs plain instances: inline attributes and/or slots.
        self.fast = (
            self.container is None and is_heap_type(tp) and not self.getsets and internal is None
        )
        self.relearn([], strings)

    def relearn(self, names: list[str], strings: Interner) -> None:
        """Remember ``names`` as the attributes instances of this class usually have."""
        self.names = names
        payloads = [strings.intern(n) for n in names]
        payloads.extend(self.member_payloads)
        payloads.append(self.class_payload)
        self.payloads = payloads
        self.kinds = bytes([EDGE_ATTR]) * len(payloads)

    def candidate_names(self) -> list[str]:
        if self.candidates is None:
            self.candidates = _candidate_names(self.tp)
        return self.candidates


def _has_local_name(varname: Any, i: int) -> bool:
    try:
        varname(i)
    except IndexError:
        return False
    return True


def free_var_names(code: Any, count: int) -> tuple[Any, ...]:
    """``code.co_freevars`` (``count`` names), without leaving anything behind on 3.12+.

    3.12 and later build ``co_freevars`` on first access and cache the tuple on the code
    object for good: a capture would add one tuple per closure's code to the heap, seen as
    growth in the next snapshot. Free variables are the last entries of the code's local
    names, which ``code._varname_from_oparg(i)`` reads one at a time without caching; their
    number is the length of the function's closure.
    """
    varname = getattr(code, "_varname_from_oparg", None)
    if sys.version_info < (3, 12) or varname is None:
        return code.co_freevars
    upper = 1
    while _has_local_name(varname, upper):
        upper *= 2
    lo, hi = 0, upper  # the number of local names is in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        if _has_local_name(varname, mid):
            lo = mid + 1
        else:
            hi = mid
    names = []
    for i in range(max(lo - count, 0), lo):
        names.append(varname(i))
    return tuple(names)


def _code_names(code: Any, out: list[str], seen: set[str]) -> None:
    stack = [code]
    while stack:
        co = stack.pop()
        for name in co.co_names:
            if type(name) is str and name not in seen:
                seen.add(name)
                out.append(name)
        for const in co.co_consts:
            if type(const) is types.CodeType:
                stack.append(const)


def _functions_in(value: Any) -> list[Any]:
    """Plain functions behind a class attribute: itself, or a staticmethod/property's parts."""
    tp = type(value)
    if tp is types.FunctionType:
        return [value]
    found = []
    if tp is staticmethod or tp is classmethod:
        inner = tp.__dict__["__func__"].__get__(value)
        if type(inner) is types.FunctionType:
            found.append(inner)
    elif tp is property:
        for attr in ("fget", "fset", "fdel"):
            inner = property.__dict__[attr].__get__(value)
            if type(inner) is types.FunctionType:
                found.append(inner)
    return found


def _candidate_names(tp: type) -> list[str]:
    """Names that may be instance attributes of ``tp``, none found in an MRO namespace."""
    names: list[str] = []
    seen: set[str] = set()
    for base in mro_of(tp):
        if base is object or not is_heap_type(base):
            continue
        for key, value in namespace_items(base):
            if key == "__slots__":
                slot_names = [value] if type(value) is str else value
                if type(slot_names) is list or type(slot_names) is tuple:
                    for n in slot_names:
                        if type(n) is str and n not in seen:
                            seen.add(n)
                            names.append(n)
            elif key == "__annotations__" and type(value) is dict:
                for n in list(dict.keys(value)):
                    if type(n) is str and n not in seen:
                        seen.add(n)
                        names.append(n)
            else:
                for func in _functions_in(value):
                    _code_names(func.__code__, names, seen)
    result = []
    for n in names:
        found, _, _ = mro_lookup(tp, n)
        if not found:
            result.append(n)
    return result


class Namer:
    """Labels references of objects the walker does not handle inline."""

    def __init__(self, strings: Interner, type_name_of: Any) -> None:
        self.strings = strings
        self.intern = strings.intern
        self.type_name_of = type_name_of
        self.key_cache: dict[int, int] = {}  # id(key object) -> string index of its text
        self.closure_names: dict[int, tuple[int, ...]] = {}  # id(closure tuple) -> payloads
        self.attr_payload: dict[str, int] = {}
        self.function_payloads = [self.intern(name) for name, _ in _FUNCTION_GETTERS]

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
        refs: list[Any], named: list[tuple[Any, int, int]], explicit: list[tuple[Any, int, int]]
    ) -> tuple[list[Any], list[int], list[int]]:
        """Give each referent the first unused label naming it; the rest are ``EDGE_OTHER``.

        ``named`` labels are used only if their object is a referent; ``explicit`` ones become
        edges in any case (consuming a matching referent if there is one).
        """
        want: dict[int, int] = {}
        for r in refs:
            rid = id(r)
            want[rid] = want.get(rid, 0) + 1
        targets: list[Any] = []
        kinds: list[int] = []
        payloads: list[int] = []
        for value, kind, payload in explicit:
            vid = id(value)
            count = want.get(vid)
            if count:
                want[vid] = count - 1
            targets.append(value)
            kinds.append(kind)
            payloads.append(payload)
        for value, kind, payload in named:
            vid = id(value)
            count = want.get(vid)
            if count:
                want[vid] = count - 1
                targets.append(value)
                kinds.append(kind)
                payloads.append(payload)
        for r in refs:
            rid = id(r)
            count = want.get(rid)
            if count:
                want[rid] = count - 1
                targets.append(r)
                kinds.append(EDGE_OTHER)
                payloads.append(-1)
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
        want = {}
        for r in refs:
            want[id(r)] = want.get(id(r), 0) + 1
        for value, _, _ in named:
            c = want.get(id(value))
            if c:
                want[id(value)] = c - 1
        for value, _, _ in explicit:
            c = want.get(id(value))
            if c:
                want[id(value)] = c - 1
        unnamed = sum(want.values())
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

    @staticmethod
    def match_attrs(
        refs: list[Any], values: Any, payloads: list[int]
    ) -> tuple[list[Any], list[int], list[int]]:
        """:meth:`match` for ``named`` attributes only (``values[i]`` is named ``payloads[i]``)."""
        want: dict[int, int] = {}
        for r in refs:
            rid = id(r)
            want[rid] = want.get(rid, 0) + 1
        targets: list[Any] = []
        out: list[int] = []
        for value, payload in zip(values, payloads, strict=True):
            vid = id(value)
            count = want.get(vid)
            if count:
                want[vid] = count - 1
                targets.append(value)
                out.append(payload)
        kinds = [EDGE_ATTR] * len(targets)
        if len(targets) < len(refs):
            for r in refs:
                rid = id(r)
                count = want.get(rid)
                if count:
                    want[rid] = count - 1
                    targets.append(r)
                    kinds.append(EDGE_OTHER)
                    out.append(-1)
        return targets, kinds, out

    def label_function(self, f: Any, refs: list[Any]) -> tuple[list[Any], list[int], list[int]]:
        values = [getter(f) for _, getter in _FUNCTION_GETTERS]
        return self.match_attrs(refs, values, self.function_payloads)

    def label_functions(
        self, funcs: list[Any]
    ) -> tuple[list[Any], list[int], list[int], list[int]]:
        """:meth:`label_function` of many functions: flat targets, kinds, payloads, and counts."""
        columns = []
        for _, getter in _FUNCTION_GETTERS:
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


class GenericInfo:
    """How to name the references of instances of a C type (members, safe getsets, items)."""

    __slots__ = (
        "container",
        "getset_descrs",
        "getset_payloads",
        "member_descrs",
        "member_payloads",
        "sequence",
        "suspends",
    )

    def __init__(self, tp: type, strings: Interner, sequence: bool) -> None:
        # Generators, coroutines, async generators: their locals are named like a frame's.
        self.suspends = is_one_of(tp, _GENERATOR_TYPES)
        self.member_descrs: list[Any] = []
        self.member_payloads: list[int] = []
        self.getset_descrs: list[Any] = []
        self.getset_payloads: list[int] = []
        self.sequence = sequence
        self.container: type | None = None
        for base in CONTAINER_BASES:
            if has_base(tp, base):
                self.container = base
                break
        seen: set[str] = set()
        for base in mro_of(tp):
            if base is object:
                continue
            allowed = TYPE_GETSETS.get(type_name(base), ())
            for name, value in namespace_items(base):
                if name in seen:
                    continue
                seen.add(name)
                if type(value) is types.MemberDescriptorType and _applies_to(
                    tp, value, _MEMBER_OWNER
                ):
                    self.member_descrs.append(value)
                    self.member_payloads.append(strings.intern(name))
                elif (
                    type(value) is types.GetSetDescriptorType
                    and (is_one_of(name, GENERIC_GETSETS) or name in allowed)
                    and _applies_to(tp, value, _GETSET_OWNER)
                ):
                    self.getset_descrs.append(value)
                    self.getset_payloads.append(strings.intern(name))


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


__all__ = [
    "HIDDEN_DICTS",
    "INLINE_VALUES",
    "GenericInfo",
    "InstanceInfo",
    "Namer",
    "class_dict",
    "hidden_dict",
]
