"""What the walker needs to know about a type, read without running any user code.

Standard library only. A user class can define a metaclass with ``__getattribute__``,
``__hash__`` or ``__eq__``, properties named ``__module__``, or its own ``__sizeof__``; so this
module reads type attributes only through the getset descriptors of ``type`` itself
(``type.__dict__['__qualname__'].__get__(cls)``), looks names up in the MRO's real ``__dict__``
mappings, and keys nothing by a type object (only by ``id``).

Provides :func:`type_name` (the module-qualified naming convention: builtins bare, everything
else ``module.QualName``), :func:`type_flags` (``labels.TYPE_*``), :func:`mro_lookup`, and
:func:`safe_sizer` (``None`` when ``sys.getsizeof`` runs only C code for this type, else a
function that computes the same figure from the first C ``__sizeof__`` in the MRO).
"""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Callable
from itertools import compress, repeat
from operator import is_, itemgetter
from typing import Any

from ..core.labels import TYPE_BUILTIN, TYPE_STDLIB, TYPE_USER

_type_dict: Any = type.__dict__
_QUALNAME = _type_dict["__qualname__"].__get__
_MODULE = _type_dict["__module__"].__get__
_MRO = _type_dict["__mro__"].__get__
_FLAGS = _type_dict["__flags__"].__get__
_TYPE_DICT = _type_dict["__dict__"].__get__
_METHOD_OWNER = types.MethodDescriptorType.__dict__["__objclass__"].__get__
_WRAPPER_OWNER = types.WrapperDescriptorType.__dict__["__objclass__"].__get__

FLAG_HEAPTYPE = 1 << 9
FLAG_READY = 1 << 12  # Py_TPFLAGS_READY: PyType_Ready ran (tp_dict, tp_mro, tp_bases are set)
FLAG_HAVE_GC = 1 << 14
FLAG_MANAGED_DICT = 1 << 4  # 3.11+
FLAG_MANAGED_WEAKREF = 1 << 3  # 3.12+

# C implementations of ``__sizeof__`` (and other slots) are these descriptor types.
C_DESCRIPTOR_TYPES = (
    types.MethodDescriptorType,
    types.WrapperDescriptorType,
    types.BuiltinMethodType,
    types.ClassMethodDescriptorType,
)
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins", "__future__"}
_POINTER = 8 if sys.maxsize > 2**32 else 4
# What sys.getsizeof adds for a GC object: the size of PyGC_Head, measured on a safe object.
GC_HEADER = sys.getsizeof([]) - [].__sizeof__()


def is_ready(cls: type) -> bool:
    """Whether ``PyType_Ready`` ran for ``cls``.

    A C extension may hold a static type it never made ready (``_testcapi``'s
    ``test_structmembersType``, 3.10's memoryview iterator and 3.10/3.11's ``co_lines``
    iterator): its ``tp_bases`` is NULL and reading ``__bases__`` crashes the process. Such a
    type is a leaf, named only; nothing else of it is read.
    """
    try:
        return bool(_FLAGS(cls) & FLAG_READY)
    except Exception:
        return False


def mro_of(cls: type) -> tuple[type, ...]:
    """Return the MRO tuple itself, never calling a metaclass ``mro`` or ``__getattribute__``."""
    if not is_ready(cls):
        return (cls,)
    mro = _MRO(cls)
    return mro if type(mro) is tuple else (cls,)


def class_dict(cls: type) -> Any:
    """Return the read-only mapping proxy over ``cls``'s real namespace dict."""
    return _TYPE_DICT(cls)


def _namespace(cls: type) -> dict[Any, Any] | None:
    """The real dict behind ``cls.__dict__`` (None for a type that is not ready)."""
    if not is_ready(cls):
        return None
    try:
        proxy = _TYPE_DICT(cls)
    except Exception:
        return None
    for inner in gc.get_referents(proxy):
        if type(inner) is dict:
            return inner
    return None


def namespace_items(cls: type) -> list[tuple[str, Any]]:
    """``(name, value)`` of ``cls``'s own namespace, exact ``str`` keys only.

    Iterating a dict runs no user code, but a look-up does when a key of another type has the
    same hash (its ``__eq__`` is called): a class namespace is never searched with ``in`` or
    ``[]`` here, only iterated, keeping the entries whose key is exactly ``str``.
    """
    ns = _namespace(cls)
    if ns is None:
        return []
    items = list(dict.items(ns))
    keep = list(map(is_, map(type, map(itemgetter(0), items)), repeat(str)))
    return list(compress(items, keep))


def _own_lookup(cls: type, name: str) -> tuple[bool, Any]:
    ns = _namespace(cls)
    if ns is None:
        return False, None
    for key, value in list(dict.items(ns)):
        if type(key) is str and key == name:
            return True, value
    return False, None


def mro_lookup(cls: type, name: str) -> tuple[bool, Any, type | None]:
    """Find ``name`` in the MRO's namespaces as attribute lookup would, without descriptors.

    Returns ``(found, value, definer)``. Only keys that are exactly ``str`` are compared (see
    :func:`namespace_items`), so no user ``__eq__`` or ``__hash__`` runs.
    """
    for base in mro_of(cls):
        found, value = _own_lookup(base, name)
        if found:
            return True, value, base
    return False, None, None


def own_descriptor(cls: type, impl: Any) -> bool:
    """Whether ``impl`` is a C method descriptor that applies to instances of ``cls``.

    ``class X: __sizeof__ = dict.__sizeof__`` puts dict's C method in a class that is not a
    dict: calling its C function on an X reads a dict that is not there. Only a descriptor
    whose owner (``__objclass__``) is in ``cls``'s MRO is genuine.
    """
    tp = type(impl)
    if tp is types.MethodDescriptorType:
        owner = _METHOD_OWNER(impl)
    elif tp is types.WrapperDescriptorType:
        owner = _WRAPPER_OWNER(impl)
    else:
        return False
    return has_base(cls, owner)


def is_one_of(obj: Any, candidates: tuple[Any, ...]) -> bool:
    """``obj in candidates`` by identity only (``in`` may call a user ``__eq__``)."""
    for item in candidates:  # noqa: SIM110 - no generator on a hot path
        if item is obj:
            return True
    return False


def has_base(cls: type, base: type) -> bool:
    """``base in cls.__mro__`` by identity (``in`` would call a metaclass ``__eq__``)."""
    for item in mro_of(cls):  # noqa: SIM110
        if item is base:
            return True
    return False


def is_heap_type(cls: type) -> bool:
    return bool(_FLAGS(cls) & FLAG_HEAPTYPE)


def type_name(cls: type) -> str:
    """Return ``cls``'s name: bare for the ``builtins`` module, else ``module.QualName``."""
    try:
        qualname = _QUALNAME(cls)
    except Exception:
        qualname = None
    if type(qualname) is not str:
        qualname = "?"
    try:
        module = _MODULE(cls)
    except Exception:
        module = None
    if type(module) is not str:
        module = "?"
    if module == "builtins":
        return qualname
    return module + "." + qualname


def module_of(cls: type) -> str:
    try:
        module = _MODULE(cls)
    except Exception:
        return "?"
    return module if type(module) is str else "?"


def type_flags(cls: type) -> int:
    """Return the ``labels.TYPE_*`` bits of ``cls``."""
    flags = 0
    heap = is_heap_type(cls)
    if not heap:
        flags |= TYPE_BUILTIN
    top = module_of(cls).partition(".")[0]
    if top in _STDLIB:
        flags |= TYPE_STDLIB
    elif heap and top != "heaptui":
        flags |= TYPE_USER
    return flags


def _preheader(cls: type, obj_is_type: bool) -> int:
    """Bytes sys.getsizeof adds to ``__sizeof__`` for instances of ``cls`` on this Python."""
    flags = _FLAGS(cls)
    is_gc = bool(flags & FLAG_HAVE_GC)
    if sys.version_info < (3, 11):
        # 3.10 asks the object itself (tp_is_gc): static type objects are not GC objects.
        return GC_HEADER if is_gc and not obj_is_type else 0
    extra = 0
    if sys.version_info >= (3, 12):
        if flags & (FLAG_MANAGED_DICT | FLAG_MANAGED_WEAKREF):
            extra = 2 * _POINTER
    elif flags & FLAG_MANAGED_DICT:
        extra = 2 * _POINTER
    return (GC_HEADER if is_gc else 0) + extra


def size_preheader(cls: type) -> int:
    """What ``sys.getsizeof`` adds to ``__sizeof__`` for instances (not classes) of ``cls``."""
    return _preheader(cls, False)


def constant_size(cls: type) -> int:
    """The ``sys.getsizeof`` of every instance of ``cls`` if it cannot vary, else -1.

    True when instances have no variable part (``__itemsize__ == 0``) and ``__sizeof__`` is
    ``object``'s (it returns ``__basicsize__``): most classes, floats, functions, cells.
    Saves a ``sys.getsizeof`` call per object.
    """
    if not is_ready(cls):
        return -1
    found, impl, _ = mro_lookup(cls, "__sizeof__")
    if not found or impl is not object.__dict__["__sizeof__"] or has_base(cls, type):
        return -1
    try:
        itemsize = _type_dict["__itemsize__"].__get__(cls)
        basicsize = _type_dict["__basicsize__"].__get__(cls)
    except Exception:
        return -1
    if itemsize != 0 or type(basicsize) is not int:
        return -1
    return basicsize + _preheader(cls, False)


def sizeof_method(cls: type) -> tuple[Any, bool]:
    """``(impl, exact)``: the C ``__sizeof__`` to call for instances of ``cls``.

    The first ``__sizeof__`` of the MRO that is a genuine C method of a class in the MRO (see
    :func:`own_descriptor`); ``exact`` is False when ``sys.getsizeof`` would call something
    else first (a Python function, or another type's C method). ``object.__sizeof__``
    (``__basicsize__`` plus ``__itemsize__`` per item) when there is none, or when ``cls`` is
    not ready.
    """
    if not is_ready(cls):
        return _OBJECT_SIZEOF, False
    exact = True
    for base in mro_of(cls):
        found, impl = _own_lookup(base, "__sizeof__")
        if not found:
            continue
        if own_descriptor(cls, impl):
            return impl, exact
        exact = False
    return _OBJECT_SIZEOF, False


_OBJECT_SIZEOF = object.__dict__["__sizeof__"]


def safe_sizer(cls: type) -> Callable[[Any], int] | None:
    """Return ``None`` if ``sys.getsizeof`` is safe for instances of ``cls``, else a sizer.

    ``sys.getsizeof`` calls the first ``__sizeof__`` found in the MRO; when that is a Python
    function (user code) or another type's C method, the sizer calls the first genuine C
    implementation further up instead (:func:`sizeof_method`) and adds the header
    sys.getsizeof would add.
    """
    first_c, exact = sizeof_method(cls)
    if exact:
        return None
    obj_is_type = has_base(cls, type)
    pre_static = _preheader(cls, False)
    if obj_is_type and sys.version_info < (3, 11):

        def size_of_class(obj: Any, _c: Any = first_c) -> int:
            # 3.10: a class counts the GC header only if it is a heap type (type_is_gc).
            extra = GC_HEADER if _FLAGS(obj) & FLAG_HEAPTYPE else 0
            return int(_c(obj)) + extra

        return size_of_class

    def size_of(obj: Any, _c: Any = first_c, _pre: int = pre_static) -> int:
        return int(_c(obj)) + _pre

    return size_of
