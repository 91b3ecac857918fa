"""Helpers for the file format tests: sample snapshots, and surgery on encoded files.

Crafting a bad file by hand is how the reader's checks are reached past the checksums:
``rewrite_directory`` edits the JSON directory at the end of a version 2 file (and fixes its
checksum and the footer), ``refresh_checksums`` recomputes every segment checksum after bytes
were changed on purpose. ``encode_segmented`` streams a snapshot in many small interleaved
segments, as a capture that hands its columns over in chunks does.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from array import array
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import numpy as np

from heaptui.capture import accel
from heaptui.core.labels import (
    EDGE_ATTR,
    EDGE_CELL,
    EDGE_CLOSURE,
    EDGE_DICT_KEY,
    EDGE_INDEX,
    EDGE_KEY,
    EDGE_LOCAL,
    EDGE_MEMBER,
    EDGE_OTHER,
    ROOT_MODULE,
    ROOT_THREAD,
)
from heaptui.core.raw import RawSnapshot
from heaptui.fileformat.arrays import AllocColumns
from heaptui.fileformat.layout import END_MARKER, PREAMBLE_SIZE, TAIL_SIZE, aligned
from heaptui.fileformat.write import SnapshotStreamWriter, write_snapshot
from heaptui.testing import SnapshotBuilder


def sample_raw() -> RawSnapshot:
    """A small heap using every edge kind, both stored root kinds and non-ASCII text."""
    b = SnapshotBuilder(meta={"note": "café ☕", "threads": ["MainThread", "worker-1"]})
    app = b.node(0x1000, "module", size=72, repr="app")
    cache = b.node(0x2000, "dict", size=1200, length=2)
    value = b.node(0x3000, "app.models.Value", size=48)
    key = b.node(0x4000, "str", size=53, length=4, repr="'ключ'", tracked=False)
    items = b.node(0x5000, "list", size=88, length=2)
    members = b.node(0x6000, "set", size=216, length=1)
    frame = b.node(0x7000, "frame", size=400, repr="serve() app.py:42")
    cell = b.node(0x8000, "cell", size=40)
    closure = b.node(0x9000, "tuple", size=48, length=1)
    b.edge(app, cache, EDGE_ATTR, "cache")
    b.edge(cache, value, EDGE_KEY, "'ключ'")
    b.edge(cache, key, EDGE_DICT_KEY, "'ключ'")
    b.edge(cache, items, EDGE_DICT_KEY)  # a key without rendered text: payload -1
    b.edge(items, value, EDGE_INDEX, 1)
    b.edge(members, value, EDGE_MEMBER)
    b.edge(frame, items, EDGE_LOCAL, "pending")
    b.edge(closure, cell, EDGE_CLOSURE, "count")
    b.edge(cell, value, EDGE_CELL)
    b.edge(value, app, EDGE_OTHER)
    b.root(app, ROOT_MODULE, "sys.modules['app']")
    b.root(frame, ROOT_THREAD, "thread MainThread: serve() app.py:42")
    return b.build()


def sample_raw_with_alloc_sites(addresses: list[int]) -> RawSnapshot:
    """:func:`sample_raw` plus allocation sites: the objects at ``addresses`` were allocated
    at one traceback of one frame, line 7 of the file named by string 0."""
    raw = sample_raw()
    raw.trace_offsets = array("Q", [0, 1])
    raw.trace_frames = array("I", [0])
    raw.frame_file = array("I", [0])
    raw.frame_line = array("I", [7])
    raw.alloc_addr = array("Q", addresses)
    raw.alloc_trace = array("I", [0] * len(addresses))
    return raw


def assert_same_arrays(got: Any, expected: Any) -> None:
    """Every column of two SnapshotArrays (or AllocColumns) equal, with the same dtypes."""
    for column in fields(expected):
        mine, theirs = getattr(got, column.name), getattr(expected, column.name)
        if isinstance(theirs, np.ndarray):
            assert mine.dtype == theirs.dtype, column.name
            np.testing.assert_array_equal(mine, theirs, err_msg=column.name)
        elif isinstance(theirs, AllocColumns):
            assert isinstance(mine, AllocColumns), column.name
            assert_same_arrays(mine, theirs)
        else:
            assert mine == theirs, column.name


def encode(raw: RawSnapshot) -> bytes:
    """Return ``raw`` as the bytes of a snapshot file (one segment per column)."""
    out = io.BytesIO()
    write_snapshot(raw, out)
    return out.getvalue()


# Node and edge columns cut into chunks by item, as the C walk hands them over (the repr bytes
# are left whole in ``raw`` for ``finish``: their offsets are absolute either way).
STREAMED_COLUMNS = tuple(name for name in accel.STREAMED_COLUMNS if name != "repr_blob")


def encode_segmented(raw: RawSnapshot, chunk: int, keep: int = 1) -> bytes:
    """Stream ``raw``'s node and edge columns ``chunk`` items at a time, interleaved.

    Chunk ``i`` of every column goes out before chunk ``i + 1`` of any, as a capture that
    hands its columns over while it walks writes them; the last ``keep`` items of each stay
    in ``raw`` for ``finish``. ``raw`` is left with only those remainders.
    """
    out = io.BytesIO()
    writer = SnapshotStreamWriter(out)
    columns = [name for name in STREAMED_COLUMNS if len(getattr(raw, name))]
    cut = {name: max(0, len(getattr(raw, name)) - keep) for name in columns}
    start = 0
    while any(start < cut[name] for name in columns):
        for name in columns:
            column = getattr(raw, name)
            if start < cut[name]:
                writer.add_segment(name, column[start : min(start + chunk, cut[name])])
        start += chunk
    for name in columns:
        setattr(raw, name, getattr(raw, name)[cut[name] :])
    written = writer.finish(raw)
    assert written == writer.bytes_written == len(out.getvalue())
    return out.getvalue()


def directory_span(data: bytes) -> tuple[int, int]:
    """Return where the directory of a well-formed version 2 file starts, and its length."""
    (length,) = struct.unpack_from("<Q", data, len(data) - TAIL_SIZE + 8)
    return len(data) - TAIL_SIZE - aligned(length), length


def directory_of(data: bytes) -> dict[str, Any]:
    """Decode the JSON directory of a well-formed version 2 file."""
    start, length = directory_span(data)
    return json.loads(data[start : start + length])


def with_directory_bytes(data: bytes, text: bytes, *, length: int | None = None) -> bytes:
    """``data``'s segments followed by ``text`` as its directory (footer fixed to match)."""
    start, _ = directory_span(data)
    padding = b"\0" * (aligned(len(text)) - len(text))
    footer = struct.pack("<IIQ", zlib.crc32(text), 0, len(text) if length is None else length)
    return data[:start] + text + padding + footer + END_MARKER


def rewrite_directory(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    """Return ``data`` with its directory edited by ``change`` (checksum and footer fixed)."""
    directory = directory_of(data)
    change(directory)
    return with_directory_bytes(data, json.dumps(directory).encode("utf-8"))


def segment_extents(data: bytes, name: str) -> list[tuple[int, int]]:
    """Return the byte ranges ``[start, end)`` of column ``name``'s segments in the file."""
    for entry in directory_of(data)["columns"]:
        if entry["name"] == name:
            itemsize = int(entry["dtype"][2:])
            return [
                (PREAMBLE_SIZE + offset, PREAMBLE_SIZE + offset + items * itemsize)
                for offset, items, _ in entry["segments"]
            ]
    raise KeyError(name)


def column_extent(data: bytes, name: str) -> tuple[int, int]:
    """Return the byte range of column ``name`` (one segment; empty columns give (24, 24))."""
    extents = segment_extents(data, name)
    if not extents:
        return PREAMBLE_SIZE, PREAMBLE_SIZE
    (extent,) = extents
    return extent


def refresh_checksums(data: bytes) -> bytes:
    """Return ``data`` with every segment checksum recomputed from the bytes as they are."""

    def fix(directory: dict[str, Any]) -> None:
        for entry in directory["columns"]:
            itemsize = int(entry["dtype"][2:])
            for segment in entry["segments"]:
                start = PREAMBLE_SIZE + segment[0]
                segment[2] = zlib.crc32(data[start : start + segment[1] * itemsize])

    return rewrite_directory(data, fix)
