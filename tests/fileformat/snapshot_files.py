"""Helpers for the file format tests: a sample snapshot, and surgery on encoded files.

Crafting a bad file by hand is how the reader's checks are reached past the checksums:
``rewrite_header`` edits the JSON header (and fixes its checksum), ``refresh_checksums``
recomputes every column checksum after bytes were changed on purpose.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable
from typing import Any

from heaptui.capture.raw import RawSnapshot
from heaptui.fileformat.layout import PREAMBLE_SIZE, aligned
from heaptui.fileformat.write import write_snapshot
from heaptui.labels import (
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


def encode(raw: RawSnapshot) -> bytes:
    """Return ``raw`` as the bytes of a snapshot file."""
    out = io.BytesIO()
    write_snapshot(raw, out)
    return out.getvalue()


def header_of(data: bytes) -> dict[str, Any]:
    """Decode the JSON header of a well-formed file."""
    (length,) = struct.unpack_from("<Q", data, 16)
    return json.loads(data[PREAMBLE_SIZE : PREAMBLE_SIZE + length])


def data_start(data: bytes) -> int:
    (length,) = struct.unpack_from("<Q", data, 16)
    return aligned(PREAMBLE_SIZE + length)


def column_extent(data: bytes, name: str) -> tuple[int, int]:
    """Return the byte range ``[start, end)`` of column ``name`` in the file."""
    start = data_start(data)
    for entry in header_of(data)["columns"]:
        if entry["name"] == name:
            itemsize = int(entry["dtype"][2:])
            first = start + entry["offset"]
            return first, first + entry["count"] * itemsize
    raise KeyError(name)


def rewrite_header(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    """Return ``data`` with its header edited by ``change`` (checksum and padding fixed)."""
    header = header_of(data)
    change(header)
    body = data[data_start(data) :]
    header_bytes = json.dumps(header).encode("utf-8")
    preamble = data[:8] + struct.pack(
        "<IIQ", struct.unpack_from("<I", data, 8)[0], zlib.crc32(header_bytes), len(header_bytes)
    )
    padding = b"\0" * (
        aligned(PREAMBLE_SIZE + len(header_bytes)) - PREAMBLE_SIZE - len(header_bytes)
    )
    return preamble + header_bytes + padding + body


def refresh_checksums(data: bytes) -> bytes:
    """Return ``data`` with every column checksum recomputed from the bytes as they are."""
    columns = {entry["name"]: entry for entry in header_of(data)["columns"]}
    crcs = {name: zlib.crc32(data[slice(*column_extent(data, name))]) for name in columns}

    def fix(header: dict[str, Any]) -> None:
        for entry in header["columns"]:
            entry["crc32"] = crcs[entry["name"]]

    return rewrite_header(data, fix)
