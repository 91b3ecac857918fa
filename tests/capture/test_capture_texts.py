"""The walker's bulk texts are exactly the per-object safe texts (what a user reads as repr)."""

from __future__ import annotations

from heaptui.capture import bulktexts
from heaptui.capture.saferepr import MAX_KEY, MAX_REPR, bytes_text, int_text, key_text, str_text

STRINGS = [
    "",
    "plain",
    'it\'s "quoted"',
    "tab\there\nnewline",
    "caf\u00e9 \u4e2d\u6587",
    "lone \ud800 surrogate",
    "x" * (MAX_KEY - 1),
    "x" * MAX_KEY,
    "x" * (MAX_KEY + 1),
    "\n" * 40,  # short, but its repr is longer than both limits
    "y" * (MAX_REPR - 1),
    "y" * MAX_REPR,
    "y" * (MAX_REPR + 1),
    "z" * 100_000,
]


def test_str_texts_match_str_text() -> None:
    lens = [len(s) for s in STRINGS]
    assert bulktexts.str_texts(STRINGS, lens) == [str_text(s) for s in STRINGS]
    short = STRINGS[:6]  # no long string: the fast path without slicing
    assert bulktexts.str_texts(short, [len(s) for s in short]) == [str_text(s) for s in short]


def test_bytes_and_int_texts_match() -> None:
    blobs = [b"", b"\x00\xff", b"a" * MAX_REPR, b"b" * (MAX_REPR + 5), b"'\"" * 30]
    assert bulktexts.bytes_texts(blobs, [len(b) for b in blobs]) == [bytes_text(b) for b in blobs]
    ints = [0, -1, 2**63, -(2**199), 2**200, 10**5000]
    assert bulktexts.int_texts(ints, None) == [int_text(i) for i in ints]
    assert bulktexts.int_texts(ints[:3], None) == [int_text(i) for i in ints[:3]]


def test_key_texts_match_key_text() -> None:
    for keys in (STRINGS, [1, 2**300, -5], [1, "a", (1, "b"), None, 2.5, b"k"]):
        assert bulktexts.key_texts(list(keys)) == [key_text(k) for k in keys]
