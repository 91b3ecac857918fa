"""Per-type facts for both walkers: each type's category, size rule and text function.

Keyed by ``id(type)``, never by the type object, so the table holds no target object once its
``info`` is cleared at the end of a walk. :mod:`heaptui.capture.accel` reuses it for the C walk.
"""

from __future__ import annotations

import sys
import types
from collections import deque
from typing import Any

from ..core.raw import RawSnapshot
from . import roots as _roots
from .saferepr import (
    builtin_text,
    class_text,
    code_text,
    function_text,
    method_text,
    module_text,
    scalar_text_function,
)
from .strings import Interner
from .typeinfo import (
    FLAG_HAVE_GC,
    constant_size,
    has_base,
    is_heap_type,
    is_ready,
    safe_sizer,
    size_preheader,
    sizeof_method,
    type_flags,
    type_name,
)
from .typelayout import GenericInfo, InstanceInfo

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

_LEN_TYPES = (list, tuple, dict, set, frozenset, str, bytes, bytearray, deque)


class TypeTable:
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
