"""Serialise a :class:`RawSnapshot` into the heaptui snapshot format (docs/format.md).

Standard library only: this runs inside the program being measured, whatever it has installed.
:func:`write_snapshot` streams to any binary file-like object without seeking (a file, a
socket's ``makefile``, a pipe): the directory of columns is computed up front from the column
lengths and each column's crc32 is taken before the header goes out. Columns are written
straight from their ``array.array`` buffers (no copies of big arrays on little-endian hosts).
:func:`write_snapshot_file` adds an atomic write: temporary file, fsync, rename.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import struct
import sys
import zlib
from array import array
from collections.abc import Iterator
from itertools import accumulate, count
from typing import Any, BinaryIO

from heaptui.capture.raw import RawSnapshot
from heaptui.fileformat.layout import (
    ALIGN,
    COLUMN_DTYPES,
    END_MARKER,
    FORMAT_VERSION,
    MAGIC,
    OPTIONAL_COLUMN_DTYPES,
    aligned,
)

_ALL_DTYPES = {**COLUMN_DTYPES, **OPTIONAL_COLUMN_DTYPES}

# Byte-swapping copies on big-endian hosts are made this many bytes at a time.
_SWAP_CHUNK = 1 << 22
_UNSIGNED_FORMATS = "BHILQN"
_SIGNED_FORMATS = "bhilqn"
_PADDING = b"\0" * ALIGN
_SURROGATE = re.compile("[\ud800-\udfff]")
# Made once at import: struct.pack(fmt, ...) and tempfile.mkstemp() fill module-level caches on
# first use (a Struct, tempfile's random name sequence), which a later capture of the same
# process would report as growth.
_PREAMBLE = struct.Struct("<IIQ")
_TEMP_COUNTER = count()
_TEMP_ATTEMPTS = 10_000


def write_snapshot(raw: RawSnapshot, fileobj: BinaryIO) -> int:
    """Write ``raw`` to ``fileobj`` in one forward pass and return the number of bytes written.

    Raises ``ValueError``/``TypeError`` if ``raw`` is inconsistent (column lengths that do not
    agree, metadata that is not plain JSON) before anything is written.
    """
    columns = _columns_of(raw)
    try:
        return _write_columns(raw, columns, fileobj)
    finally:
        for _, view in columns:  # let the capture's arrays be resized again at once
            view.release()


def _write_columns(
    raw: RawSnapshot, columns: list[tuple[str, memoryview]], fileobj: BinaryIO
) -> int:
    """Compute the directory (offsets and checksums), then stream preamble, header, columns."""
    directory: list[dict[str, Any]] = []
    offset = 0
    for name, view in columns:
        directory.append(
            {
                "name": name,
                "dtype": _ALL_DTYPES[name],
                "count": len(view) // _itemsize(name),
                "offset": offset,
                "crc32": _crc32_le(view, _itemsize(name)),
            }
        )
        offset = aligned(offset + len(view))
    header = {
        "type_names": [_valid_text(name) for name in raw.type_names],
        "meta": _checked_meta(raw.meta),
        "columns": directory,
        "data_size": offset,
    }
    header_bytes = json.dumps(
        header, ensure_ascii=True, allow_nan=False, separators=(",", ":")
    ).encode("ascii")
    preamble = MAGIC + _PREAMBLE.pack(FORMAT_VERSION, zlib.crc32(header_bytes), len(header_bytes))
    written = _write_all(fileobj, preamble)
    written += _write_all(fileobj, header_bytes)
    written += _write_all(fileobj, _PADDING[: aligned(written) - written])
    for name, view in columns:
        itemsize = _itemsize(name)
        size = 0
        for chunk in _little_endian_chunks(view, itemsize):
            size += _write_all(fileobj, chunk)
        written += size + _write_all(fileobj, _PADDING[: aligned(size) - size])
    written += _write_all(fileobj, END_MARKER)
    return written


def write_snapshot_file(raw: RawSnapshot, path: str | os.PathLike[str]) -> str:
    """Write ``raw`` to ``path`` atomically and return the path.

    The snapshot goes to a temporary file in the same directory, is flushed to disk, then
    renamed over ``path``: a reader never sees half a file and an older file at ``path``
    survives any failure. The file is created readable by its owner only (mode 0600), because
    a snapshot holds short reprs of the program's strings (which may include secrets).
    """
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    fd, temp_path = _create_temp_file(directory, os.path.basename(target))
    try:
        with os.fdopen(fd, "wb") as out:
            write_snapshot(raw, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise
    _fsync_directory(directory)
    return target


def _columns_of(raw: RawSnapshot) -> list[tuple[str, memoryview]]:
    """Return every column as a flat byte view, in file order, after checking lengths agree."""
    nodes = len(raw.addr)
    repr_offsets: Any = raw.repr_offsets if len(raw.repr_offsets) else array("Q", [0])
    string_blob, string_offsets = _string_table(raw.strings)
    sources: dict[str, Any] = {
        "addr": raw.addr,
        "type_index": raw.type_index,
        "size": raw.size,
        "length": raw.length,
        "flags": raw.flags,
        "edge_count": raw.edge_count,
        "repr_offsets": repr_offsets,
        "repr_blob": raw.repr_blob,
        "edge_target": raw.edge_target,
        "edge_kind": raw.edge_kind,
        "edge_payload": raw.edge_payload,
        "type_addr": raw.type_addr,
        "type_flags": raw.type_flags,
        "root_addr": raw.root_addr,
        "root_kind": raw.root_kind,
        "root_label": raw.root_label,
        "string_offsets": string_offsets,
        "string_blob": string_blob,
    }
    if len(raw.trace_offsets):  # allocation sites were recorded: all six columns go out
        sources.update({name: getattr(raw, name) for name in OPTIONAL_COLUMN_DTYPES})
    expected_lengths = {
        "type_index": nodes,
        "size": nodes,
        "length": nodes,
        "flags": nodes,
        "edge_count": nodes,
        "repr_offsets": nodes + 1,
        "edge_kind": len(raw.edge_target),
        "edge_payload": len(raw.edge_target),
        "type_addr": len(raw.type_names),
        "type_flags": len(raw.type_names),
        "root_kind": len(raw.root_addr),
        "root_label": len(raw.root_addr),
        "alloc_trace": len(raw.alloc_addr),
        "frame_line": len(raw.frame_file),
    }
    columns = []
    for name, source in sources.items():
        view = _byte_view(name, source)
        itemsize = _itemsize(name)
        expected = expected_lengths.get(name)
        if expected is not None and len(view) // itemsize != expected:
            raise ValueError(
                f"snapshot column {name!r} has {len(view) // itemsize} entries, expected {expected}"
            )
        columns.append((name, view))
    return columns


def _itemsize(name: str) -> int:
    return int(_ALL_DTYPES[name][2:])


def _byte_view(name: str, column: Any) -> memoryview:
    """View ``column`` (an ``array.array``, ``bytes`` or other buffer) as flat bytes."""
    dtype = _ALL_DTYPES[name]
    try:
        view = memoryview(column)
    except TypeError:
        raise TypeError(
            f"snapshot column {name!r} must be an array.array or a buffer, "
            f"not {type(column).__name__}"
        ) from None
    itemsize = _itemsize(name)
    kinds = _SIGNED_FORMATS if dtype[1] == "i" else _UNSIGNED_FORMATS
    code = view.format.lstrip("@=<")
    if view.itemsize != itemsize or len(code) != 1 or code not in kinds or view.ndim != 1:
        raise TypeError(
            f"snapshot column {name!r} must hold {dtype} integers, "
            f"got format {view.format!r} of {view.itemsize} bytes"
        )
    return view.cast("B") if view.format != "B" else view


def _string_table(strings: list[str]) -> tuple[bytes, array]:  # type: ignore[type-arg]
    """Encode the string table as one UTF-8 blob plus S + 1 offsets."""
    encoded = [text.encode("utf-8", "surrogatepass") for text in strings]
    offsets = array("Q", [0])
    offsets.extend(accumulate(len(item) for item in encoded))
    return b"".join(encoded), offsets


def _little_endian_chunks(view: memoryview, itemsize: int) -> Iterator[memoryview]:
    """Yield the bytes of ``view`` in little-endian order (copies only on big-endian hosts)."""
    if itemsize == 1 or sys.byteorder == "little":
        yield view
        return
    step = _SWAP_CHUNK - _SWAP_CHUNK % itemsize
    code = {2: "H", 4: "I", 8: "Q"}[itemsize]
    for start in range(0, len(view), step):
        part = array(code)
        part.frombytes(view[start : start + step])
        part.byteswap()
        yield memoryview(part).cast("B")


def _crc32_le(view: memoryview, itemsize: int) -> int:
    """Return the crc32 of the column's little-endian bytes, as the reader will see them."""
    crc = 0
    for chunk in _little_endian_chunks(view, itemsize):
        crc = zlib.crc32(chunk, crc)
    return crc


def _write_all(fileobj: BinaryIO, data: bytes | memoryview) -> int:
    """Write all of ``data`` and return its length.

    Raw streams may take less than asked (the rest is written again); a ``write`` that returns
    None is taken to have written everything (custom sinks often return nothing). Non-blocking
    streams are not supported.
    """
    view = memoryview(data)
    total = len(view)
    while view:
        count = fileobj.write(view)
        if count is None or count >= len(view):  # None: a writer that does not count
            break
        view = view[count:]
    return total


def _valid_text(text: Any) -> str:
    """Return ``text`` as a string that encodes to strict UTF-8 (lone surrogates replaced)."""
    if not isinstance(text, str):
        raise TypeError(f"snapshot type names must be str, not {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def _checked_meta(meta: Any) -> dict[str, Any]:
    """Return ``meta`` after checking it holds only what the reader accepts."""
    if not isinstance(meta, dict):
        raise TypeError(f"snapshot meta must be a dict, not {type(meta).__name__}")
    for key, value in meta.items():
        if not isinstance(key, str):
            raise TypeError(f"snapshot meta keys must be str, not {key!r}")
        items = value if isinstance(value, list) else [value]
        for item in items:
            if not _is_json_scalar(item):
                raise TypeError(
                    f"snapshot meta[{key!r}] must be a JSON scalar or a list of them, "
                    f"got {type(item).__name__}"
                )
    return {key: _valid_meta_value(value) for key, value in meta.items()}


def _is_json_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (bool, int, str))


def _valid_meta_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_valid_text(v) if isinstance(v, str) else v for v in value]
    return _valid_text(value) if isinstance(value, str) else value


def _create_temp_file(directory: str, basename: str) -> tuple[int, str]:
    """Create ``.<basename>.<pid>.<n>.tmp`` in ``directory`` exclusively, mode 0600.

    Unlike ``tempfile.mkstemp`` this leaves nothing behind in the process (mkstemp keeps a
    ``random.Random`` for its names from the first call on, which would show up as growth in
    the next snapshot of this process).
    """
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    pid = os.getpid()
    for _ in range(_TEMP_ATTEMPTS):
        path = os.path.join(directory, f".{basename}.{pid}.{next(_TEMP_COUNTER)}.tmp")
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); silently skipped where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
