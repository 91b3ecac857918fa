"""Texts of many objects of one exact type at once, equal to the per-object ones of saferepr."""

from __future__ import annotations

from array import array
from itertools import chain, compress, repeat
from operator import getitem, gt, is_
from typing import Any

from .saferepr import (
    ELLIPSIS,
    MAX_INT_BITS,
    MAX_KEY,
    MAX_REPR,
    bytes_text,
    int_text,
    key_text,
    str_text,
)

_ZERO_I = array("I", [0]).tobytes()
_ZERO = (0,)
_SLICE_REPR = slice(0, MAX_REPR)
_SLICE_KEY = slice(0, MAX_KEY)


def largest(values: Any) -> int:
    """``max(values, default=0)`` for non-negative values, without the keyword: on first use
    a keyword argument makes ``max`` build and keep a tuple of its keyword names (growth)."""
    return max(chain(_ZERO, values))


def sliced_texts(objs: list[Any], lens: list[int], cut: slice, limit: int) -> list[str]:
    """``str_text``/``bytes_text`` of each object: the repr of a slice, cut to ``limit``.

    ``lens`` are the objects' lengths. A text is cut when the object or its repr is longer
    than ``limit``, exactly as the per-object functions do.
    """
    if largest(lens) > limit:
        texts = list(map(repr, map(getitem, objs, repeat(cut))))
    else:
        texts = list(map(repr, objs))
    text_lens = list(map(len, texts))
    if largest(lens) > limit or largest(text_lens) > limit:
        longest = list(map(max, lens, text_lens))
        for i in compress(range(len(texts)), map(gt, longest, repeat(limit))):
            texts[i] = texts[i][: limit - 1] + ELLIPSIS
    return texts


def str_texts(objs: list[Any], lens: list[int]) -> list[str]:
    return sliced_texts(objs, lens, _SLICE_REPR, MAX_REPR)


def bytes_texts(objs: list[Any], lens: list[int]) -> list[str]:
    return sliced_texts(objs, lens, _SLICE_REPR, MAX_REPR)


def int_texts(objs: list[Any], lens: Any) -> list[str]:
    # Up to MAX_INT_BITS bits the repr is short (and never hits the int-to-str digit limit).
    if largest(map(int.bit_length, objs)) <= MAX_INT_BITS:
        return list(map(repr, objs))
    return list(map(int_text, objs))


def repr_texts(objs: list[Any], lens: Any) -> list[str]:
    return list(map(repr, objs))


# Keyed by id() of the per-object text function the type table gives.
BULK_TEXTS: dict[int, Any] = {
    id(str_text): str_texts,
    id(bytes_text): bytes_texts,
    id(int_text): int_texts,
    id(repr): repr_texts,
}


def key_texts(keys: list[Any]) -> list[str]:
    """``key_text`` of each key, in bulk for exact str and int keys."""
    tp = type(keys[0])
    if (tp is str or tp is int) and all(map(is_, map(type, keys), repeat(tp))):
        if tp is int:
            return int_texts(keys, None)
        return sliced_texts(keys, list(map(len, keys)), _SLICE_KEY, MAX_KEY)
    return list(map(key_text, keys))
