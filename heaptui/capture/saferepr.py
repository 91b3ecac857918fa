"""Short, safe text for an object or a dict key, produced without running user code.

Standard library only. Only exact builtin types are ever rendered by their value (``repr`` of
an exact ``str``, ``int``, ``float`` ... is C code); a subclass could override ``__repr__``.
Huge values are cut *before* rendering (a 10 MB string is sliced first, a million-digit int is
described by its bit length, never converted). Functions, code objects, classes and modules
are named through the C descriptors of their own types, never through ``getattr`` on a user
object. Everything else gets ``""`` and the model derives ``Type at 0x...``.
"""

from __future__ import annotations

import types
from typing import Any

from .typeinfo import has_base, is_one_of, type_name

MAX_REPR = 80
MAX_KEY = 60
MAX_INT_BITS = 200
ELLIPSIS = "\u2026"

_FUNC_QUALNAME = types.FunctionType.__dict__["__qualname__"].__get__
_FUNC_MODULE = types.FunctionType.__dict__["__module__"].__get__
_MODULE_DICT = types.ModuleType.__dict__["__dict__"].__get__
_BUILTIN_NAME = types.BuiltinFunctionType.__dict__["__name__"].__get__
_METHOD_FUNC = types.MethodType.__dict__["__func__"].__get__
_CODE_NAME = types.CodeType.__dict__["co_name"].__get__
_CODE_QUALNAME = (
    types.CodeType.__dict__["co_qualname"].__get__
    if "co_qualname" in types.CodeType.__dict__
    else _CODE_NAME
)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def str_text(s: str, limit: int = MAX_REPR) -> str:
    """``repr`` of an exact str, computed on a slice so a huge string costs nothing."""
    if len(s) > limit:
        return repr(s[:limit])[: limit - 1] + ELLIPSIS
    return _cut(repr(s), limit)


def bytes_text(b: bytes, limit: int = MAX_REPR) -> str:
    if len(b) > limit:
        return repr(b[:limit])[: limit - 1] + ELLIPSIS
    return _cut(repr(b), limit)


def int_text(i: int) -> str:
    bits = i.bit_length()
    if bits > MAX_INT_BITS:
        return f"<int of {bits} bits>"
    return _cut(repr(i), MAX_REPR)


def function_text(f: Any) -> str:
    qual = _FUNC_QUALNAME(f)
    module = _FUNC_MODULE(f)
    if type(qual) is not str:
        qual = "?"
    if type(module) is str and module != "builtins":
        return _cut(module + "." + qual, MAX_REPR)
    return _cut(qual, MAX_REPR)


def method_text(m: Any) -> str:
    func = _METHOD_FUNC(m)
    if type(func) is types.FunctionType:
        return function_text(func)
    return ""


def builtin_text(f: Any) -> str:
    name = _BUILTIN_NAME(f)
    return _cut(name, MAX_REPR) if type(name) is str else ""


def code_text(c: Any) -> str:
    name = _CODE_QUALNAME(c)
    return _cut(name, MAX_REPR) if type(name) is str else ""


def class_text(cls: type) -> str:
    return _cut(type_name(cls), MAX_REPR)


def module_name(m: Any) -> str:
    """The ``__name__`` stored in a module's namespace, read from its real dict."""
    try:
        ns = _MODULE_DICT(m)
    except Exception:
        return ""
    if not has_base(type(ns), dict):
        return ""
    name = dict.get(ns, "__name__")
    return name if type(name) is str else ""


def module_text(m: Any) -> str:
    return _cut(module_name(m), MAX_REPR)


# Keyed by id(): hashing a type object could run a user metaclass's __hash__.
_SCALAR_TEXT: dict[int, Any] = {
    id(str): str_text,
    id(bytes): bytes_text,
    id(int): int_text,
    id(bool): repr,
    id(float): repr,
    id(complex): repr,
    id(type(None)): repr,
    id(type(Ellipsis)): repr,
    id(type(NotImplemented)): repr,
}


def scalar_text_function(cls: type) -> Any:
    """Return the function rendering instances of the exact scalar type ``cls``, or None."""
    return _SCALAR_TEXT.get(id(cls))


def key_text(key: Any) -> str:
    """A dict key as it would appear between brackets: ``'user:42'``, ``42``, ``(1, 'a')``.

    Only exact scalars and small tuples of them show their value; other keys show
    ``<Type at 0x...>`` (classes and functions show their qualified name).
    """
    tp = type(key)
    if tp is str:
        return str_text(key, MAX_KEY)
    if tp is int:
        return int_text(key)
    if tp is bytes:
        return bytes_text(key, MAX_KEY)
    if is_one_of(tp, (bool, float, complex, type(None))):
        return repr(key)
    if tp is tuple and len(key) <= 4:
        parts = []
        for item in key:
            if type(item) is tuple:
                return f"<tuple at {id(key):#x}>"
            parts.append(key_text(item))
        inner = ", ".join(parts) + ("," if len(parts) == 1 else "")
        return _cut("(" + inner + ")", MAX_KEY)
    if tp is types.FunctionType:
        return "<function " + function_text(key) + ">"
    if has_base(tp, type):
        return "<class " + type_name(key) + ">"
    return f"<{type_name(tp)} at {id(key):#x}>"
