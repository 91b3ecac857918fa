"""Format version 1 files for the tests: the reader still opens them, the writer no longer
writes them.

``to_v1`` re-lays a version 2 file the way version 1 did (JSON header after the preamble,
columns after it, end marker last); the other helpers do header surgery on the result.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable
from typing import Any

from snapshot_files import directory_of, segment_extents

from heaptui.fileformat.layout import END_MARKER, MAGIC, PREAMBLE_SIZE, aligned


def to_v1(data: bytes) -> bytes:
    """Return the version 1 file holding the same columns, type table and meta as ``data``."""
    directory = directory_of(data)
    columns = []
    body = bytearray()
    for entry in directory["columns"]:
        column = b"".join(data[start:end] for start, end in segment_extents(data, entry["name"]))
        columns.append(
            {
                "name": entry["name"],
                "dtype": entry["dtype"],
                "count": entry["count"],
                "offset": len(body),
                "crc32": zlib.crc32(column),
            }
        )
        body += column + b"\0" * (aligned(len(column)) - len(column))
    header = {
        "type_names": directory["type_names"],
        "meta": directory["meta"],
        "columns": columns,
        "data_size": len(body),
    }
    return _assemble(header, bytes(body))


def _assemble(header: dict[str, Any], body: bytes) -> bytes:
    text = json.dumps(header, separators=(",", ":")).encode("ascii")
    preamble = MAGIC + struct.pack("<IIQ", 1, zlib.crc32(text), len(text))
    padding = b"\0" * (aligned(PREAMBLE_SIZE + len(text)) - PREAMBLE_SIZE - len(text))
    return preamble + text + padding + body + END_MARKER


def v1_header_of(data: bytes) -> dict[str, Any]:
    (length,) = struct.unpack_from("<Q", data, 16)
    return json.loads(data[PREAMBLE_SIZE : PREAMBLE_SIZE + length])


def v1_data_start(data: bytes) -> int:
    (length,) = struct.unpack_from("<Q", data, 16)
    return aligned(PREAMBLE_SIZE + length)


def v1_column_extent(data: bytes, name: str) -> tuple[int, int]:
    start = v1_data_start(data)
    for entry in v1_header_of(data)["columns"]:
        if entry["name"] == name:
            first = start + entry["offset"]
            return first, first + entry["count"] * int(entry["dtype"][2:])
    raise KeyError(name)


def v1_rewrite_header(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
    """Return ``data`` with its header edited by ``change`` (checksum and padding fixed)."""
    header = v1_header_of(data)
    change(header)
    return _assemble(header, data[v1_data_start(data) : -len(END_MARKER)])


def v1_refresh_checksums(data: bytes) -> bytes:
    crcs = {
        entry["name"]: zlib.crc32(data[slice(*v1_column_extent(data, entry["name"]))])
        for entry in v1_header_of(data)["columns"]
    }

    def fix(header: dict[str, Any]) -> None:
        for entry in header["columns"]:
            entry["crc32"] = crcs[entry["name"]]

    return v1_rewrite_header(data, fix)
