"""Serialise a :class:`RawSnapshot` into the heaptui snapshot format (docs/format.md).

Standard library only: this runs inside the program being measured, whatever it has installed.
Format version 2 puts the directory of columns *after* the data, so a column can go out as
several segments while the capture is still running and be forgotten at once (issue 7: a
capture must not hold every column of a big heap in memory). :class:`SnapshotStreamWriter`
writes forward only (a file, a socket's ``makefile``, a pipe): each segment's crc32 is taken
as it is written, straight from the caller's buffer (no copy on little-endian hosts).
:func:`write_snapshot` writes a whole ``RawSnapshot`` (one segment per column);
:func:`atomic_snapshot_stream` and :func:`write_snapshot_file` add an atomic write: temporary
file, fsync, rename.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import struct
import sys
import zlib
from array import array
from collections.abc import Iterator
from itertools import accumulate
from typing import Any, BinaryIO

from ..core.atomic import atomic_file
from ..core.raw import RawSnapshot
from .layout import (
    ALIGN,
    COLUMN_DTYPES,
    END_MARKER,
    FOOTER_FORMAT,
    FORMAT_VERSION,
    LENGTH_FOLLOWS,
    MAGIC,
    OPTIONAL_COLUMN_DTYPES,
    OPTIONAL_LENGTH_FOLLOWS,
    PREAMBLE_FORMAT,
    aligned,
)

_ALL_DTYPES = {**COLUMN_DTYPES, **OPTIONAL_COLUMN_DTYPES}
_LENGTH_RULES = {**LENGTH_FOLLOWS, **OPTIONAL_LENGTH_FOLLOWS}
# Built by finish() from ``raw.strings``: a caller cannot stream them.
_STRING_TABLE = ("string_offsets", "string_blob")

# Byte-swapping copies on big-endian hosts are made this many bytes at a time.
_SWAP_CHUNK = 1 << 22
_UNSIGNED_FORMATS = "BHILQN"
_SIGNED_FORMATS = "bhilqn"
_BYTE_FORMATS = ("B", "b", "c")
_PADDING = b"\0" * ALIGN
_SURROGATE = re.compile("[\ud800-\udfff]")
# Made once at import: struct.pack(fmt, ...) and tempfile.mkstemp() fill module-level caches on
# first use (a Struct, tempfile's random name sequence), which a later capture of the same
# process would report as growth.
_PREAMBLE = MAGIC + struct.Struct(PREAMBLE_FORMAT).pack(FORMAT_VERSION, 0, 0)
_FOOTER = struct.Struct(FOOTER_FORMAT)


class SnapshotStreamWriter:
    """Write one snapshot forward only: segments of columns as they come, then the directory.

    ``add_segment`` may be called any number of times, for any columns, in any interleaving
    (a column is the concatenation of its segments in call order); ``finish(raw)`` appends
    what ``raw`` still holds of every column and closes the file with the directory. The
    preamble is written at once. After an error the writer refuses further calls.
    """

    def __init__(self, fileobj: BinaryIO) -> None:
        self._file = fileobj
        self._segments: dict[str, list[tuple[int, int, int]]] = {}
        self._offset = 0  # where the next segment starts, relative to the data start
        self._string_bytes = 0  # bytes of string_blob streamed by add_(encoded_)strings so far
        self._state = "writing"
        self._written = 0
        self._written = self._guarded(_write_all, fileobj, _PREAMBLE)

    @property
    def bytes_written(self) -> int:
        """Bytes written so far (the whole file's length once :meth:`finish` returned)."""
        return self._written

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` completed (the file is whole)."""
        return self._state == "finished"

    def add_segment(self, name: str, data: Any) -> None:
        """Append ``data`` (native-endian items of column ``name``) as one segment of it.

        ``data`` is an ``array.array`` of the column's type, or any contiguous buffer of raw
        items of the column's item size (``bytes``, ``bytearray``, ``memoryview``). Empty data
        adds nothing. No reference to ``data`` is kept: the caller may reuse its buffer.
        """
        if name not in _ALL_DTYPES or name in _STRING_TABLE:
            raise ValueError(f"snapshot column {name!r} cannot be streamed")
        self._check_writing()
        view = _segment_view(name, data)
        try:
            if len(view):
                self._guarded(self._write_segment, name, view)
        finally:
            view.release()

    def add_strings(self, strings: list[str]) -> None:
        """Append ``strings`` to the string table, after those added before.

        A streamed capture hands its string table over in batches as it grows; ``finish``
        then appends ``raw.strings`` after them. A string's index is its position in the
        whole table, so the batches must come in order, without gaps.
        """
        self._check_writing()
        if strings:
            blob, offsets = _string_table(strings, self._string_bytes)
            del offsets[-1]  # the end of this batch is where the next one starts
            self.add_encoded_strings(blob, offsets)

    def add_encoded_strings(self, blob: Any, offsets: Any) -> None:
        """:meth:`add_strings` for strings already encoded (the C walk's string table).

        ``blob`` holds their UTF-8 bytes back to back; ``offsets`` (native uint64, as an
        ``array("Q")`` or raw bytes) the start of each one in the whole table's blob, so the
        first is the number of blob bytes added before this batch.
        """
        self._check_writing()
        views = [_segment_view("string_offsets", offsets), _segment_view("string_blob", blob)]
        try:
            count, first = len(views[0]) // 8, -1
            if count:
                first = int.from_bytes(views[0][:8], sys.byteorder)
            if (count or len(views[1])) and first != self._string_bytes:
                raise ValueError(
                    f"a string batch must start at blob byte {self._string_bytes}, not {first}"
                )
            for name, view in zip(_STRING_TABLE, views, strict=True):
                if len(view):
                    self._guarded(self._write_segment, name, view)
            self._string_bytes += len(views[1])
        finally:
            for view in views:
                view.release()

    def finish(self, raw: RawSnapshot) -> int:
        """Append ``raw``'s columns as final segments, write the directory; return the size.

        Column lengths (streamed plus ``raw``'s) must agree with each other and ``raw.meta``
        must be plain JSON: ``ValueError``/``TypeError`` otherwise, raised before anything of
        ``raw`` is written (segments streamed before stay written: the file is then unusable).
        """
        self._check_writing()
        final = _FinalColumns(raw, self._counts(), self._string_bytes)
        try:
            return self._finish_with(final)
        finally:
            final.release()

    def _finish_with(self, final: _FinalColumns) -> int:
        self._check_writing()
        return int(self._guarded(self._write_final, final))

    def _check_writing(self) -> None:
        if self._state != "writing":
            raise ValueError(f"this snapshot stream is {self._state}")

    def _guarded(self, action: Any, *args: Any) -> Any:
        """Run one write; any failure leaves the stream broken (its file is unusable)."""
        try:
            return action(*args)
        except BaseException:
            self._state = "broken"
            raise

    def _counts(self) -> dict[str, int]:
        """Items streamed so far, per column."""
        return {
            name: sum(items for _, items, _ in segments)
            for name, segments in self._segments.items()
        }

    def _write_segment(self, name: str, view: memoryview) -> int:
        if view.format != "B":  # a typed view (e.g. of an array): sizes below are in bytes
            with view.cast("B") as flat:
                return self._write_segment(name, flat)
        itemsize = _itemsize(name)
        crc = 0
        size = 0
        for chunk in _little_endian_chunks(view, itemsize):
            crc = zlib.crc32(chunk, crc)
            size += _write_all(self._file, chunk)
        padded = aligned(size)
        self._written += size + _write_all(self._file, _PADDING[: padded - size])
        self._segments.setdefault(name, []).append((self._offset, size // itemsize, crc))
        self._offset += padded
        return size

    def _write_final(self, final: _FinalColumns) -> int:
        for name, view in final.columns:
            if len(view):
                self._write_segment(name, view)
        counts = self._counts()
        directory = {
            "type_names": final.type_names,
            "meta": final.meta,
            "columns": [
                {
                    "name": name,
                    "dtype": _ALL_DTYPES[name],
                    "count": counts.get(name, 0),
                    "segments": [list(segment) for segment in self._segments.get(name, ())],
                }
                for name in final.names
            ],
            "data_size": self._offset,
        }
        directory_bytes = json.dumps(
            directory, ensure_ascii=True, allow_nan=False, separators=(",", ":")
        ).encode("ascii")
        length = len(directory_bytes)
        self._written += _write_all(self._file, directory_bytes)
        self._written += _write_all(self._file, _PADDING[: aligned(length) - length])
        footer = _FOOTER.pack(zlib.crc32(directory_bytes), 0, length)
        self._written += _write_all(self._file, footer + END_MARKER)
        self._state = "finished"
        return self._written


class _FinalColumns:
    """What ``finish`` writes of a ``RawSnapshot``, checked before any of it goes out."""

    def __init__(self, raw: RawSnapshot, streamed: dict[str, int], string_start: int = 0) -> None:
        self.type_names = [_valid_text(name) for name in raw.type_names]
        self.meta = _checked_meta(raw.meta)
        self.columns: list[tuple[str, memoryview]] = []
        try:
            self.names = _column_names(raw, streamed)
            self.columns = _checked_columns(raw, streamed, self.names, string_start)
        except BaseException:
            self.release()
            raise

    def release(self) -> None:
        """Let go of the capture's buffers (so its arrays can be resized again at once)."""
        for _, view in self.columns:
            view.release()
        self.columns = []


def write_snapshot(raw: RawSnapshot, fileobj: BinaryIO) -> int:
    """Write ``raw`` to ``fileobj`` in one forward pass and return the number of bytes written.

    Raises ``ValueError``/``TypeError`` if ``raw`` is inconsistent (column lengths that do not
    agree, metadata that is not plain JSON) before anything is written.
    """
    final = _FinalColumns(raw, {})
    try:
        return SnapshotStreamWriter(fileobj)._finish_with(final)
    finally:
        final.release()


@contextlib.contextmanager
def atomic_snapshot_stream(path: str | os.PathLike[str]) -> Iterator[SnapshotStreamWriter]:
    """Stream a snapshot into ``path`` atomically: the caller adds segments, then finishes.

    Yields a :class:`SnapshotStreamWriter` on an :func:`atomic_file`. On a normal exit the
    writer must have finished; on any exception, or without ``finish``, nothing appears at
    ``path``.
    """
    with atomic_file(path) as out:
        writer = SnapshotStreamWriter(out)
        yield writer
        if not writer.finished:
            raise ValueError("the snapshot stream was left without finish()")


def write_snapshot_file(raw: RawSnapshot, path: str | os.PathLike[str]) -> str:
    """Write ``raw`` to ``path`` atomically and return the path.

    The snapshot goes to a temporary file in the same directory, is flushed to disk, then
    renamed over ``path``: a reader never sees half a file and an older file at ``path``
    survives any failure. The file is created readable by its owner only (mode 0600).
    ``raw`` is checked before any file is created.
    """
    final = _FinalColumns(raw, {})
    try:
        with atomic_snapshot_stream(path) as writer:
            writer._finish_with(final)
    finally:
        final.release()
    return os.fspath(path)


def _column_names(raw: RawSnapshot, streamed: dict[str, int]) -> list[str]:
    """The columns of this file, in file order: all allocation columns, or none."""
    names = list(COLUMN_DTYPES)
    if len(raw.trace_offsets) or streamed.get("trace_offsets"):
        return names + list(OPTIONAL_COLUMN_DTYPES)
    stray = [name for name in OPTIONAL_COLUMN_DTYPES if streamed.get(name)]
    if stray:
        raise ValueError(f"snapshot column {stray[0]!r} was streamed but 'trace_offsets' is empty")
    return names


def _checked_columns(
    raw: RawSnapshot, streamed: dict[str, int], names: list[str], string_start: int = 0
) -> list[tuple[str, memoryview]]:
    """Return the rest of every column as a flat byte view, after checking totals agree."""
    string_blob, string_offsets = _string_table(raw.strings, string_start)
    sources: dict[str, Any] = {name: getattr(raw, name, None) for name in names}
    sources["string_offsets"] = string_offsets
    sources["string_blob"] = string_blob
    if not len(raw.repr_offsets) and not streamed.get("repr_offsets"):
        sources["repr_offsets"] = array("Q", [0])  # no nodes, and no offsets at all
    columns: list[tuple[str, memoryview]] = []
    try:
        for name in names:
            columns.append((name, _byte_view(name, sources[name])))
        _check_totals(columns, streamed, len(raw.type_names))
    except BaseException:
        for _, view in columns:
            view.release()
        raise
    return columns


def _check_totals(
    columns: list[tuple[str, memoryview]], streamed: dict[str, int], type_names: int
) -> None:
    """Raise ValueError unless every column's total (streamed plus ``columns``) follows its
    rule in the layout."""
    totals = {name: streamed.get(name, 0) + len(view) // _itemsize(name) for name, view in columns}
    totals["type_names"] = type_names
    for name, (follows, extra) in _LENGTH_RULES.items():
        if name not in totals:  # the optional columns of a file without them
            continue
        expected = totals[follows] + extra
        if totals[name] != expected:
            raise ValueError(
                f"snapshot column {name!r} has {totals[name]} entries, expected {expected}"
            )


def _itemsize(name: str) -> int:
    return int(_ALL_DTYPES[name][2:])


def _segment_view(name: str, data: Any) -> memoryview:
    """View a segment as flat bytes: typed like its column, or raw bytes of whole items."""
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(
            f"a segment of snapshot column {name!r} must be an array.array or a buffer, "
            f"not {type(data).__name__}"
        ) from None
    itemsize = _itemsize(name)
    if view.format in _BYTE_FORMATS and view.ndim == 1 and view.c_contiguous:
        size = len(view)
        if size % itemsize:
            view.release()
            raise ValueError(
                f"a segment of snapshot column {name!r} has {size} bytes, "
                f"not a multiple of {itemsize}"
            )
        return view.cast("B") if view.format != "B" else view
    view.release()
    return _byte_view(name, data)


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


def _string_table(strings: list[str], start: int = 0) -> tuple[bytes, array]:  # type: ignore[type-arg]
    """Encode strings as one UTF-8 blob plus S + 1 offsets, the first being ``start``."""
    encoded = [text.encode("utf-8", "surrogatepass") for text in strings]
    offsets = array("Q", accumulate(map(len, encoded), initial=start))
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
