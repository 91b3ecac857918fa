"""Per-type naming facts: which slots, getsets, container items and attribute names to try.

Standard library only. :class:`InstanceInfo` (Python classes and other heap types) and
:class:`GenericInfo` (C types) are built once per type; :mod:`heaptui.capture.naming` uses
them to label references. Attribute names are found without reading ``__dict__`` (that would
make one where none exists) and without running user code; the heuristic and its limits are
described in docs/capture-naming.md.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ..core.labels import (
    EDGE_ATTR,
)
from .strings import Interner
from .typeinfo import (
    has_base,
    is_heap_type,
    is_one_of,
    mro_lookup,
    mro_of,
    namespace_items,
    type_name,
)

INLINE_VALUES = sys.version_info >= (3, 11)

_GENERATOR_TYPES = (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType)
_type_getset = type.__dict__
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
FUNCTION_GETTERS = tuple(
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
