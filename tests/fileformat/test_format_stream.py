"""Streaming a snapshot in segments: what a capture that hands over chunks while it walks
gets back is the same snapshot, and the stream refuses what would make a broken file."""

from __future__ import annotations

import io
import os
import stat
import sys
from array import array
from pathlib import Path

import numpy as np
import pytest
from snapshot_files import (
    STREAMED_COLUMNS,
    assert_same_arrays,
    directory_of,
    encode,
    encode_segmented,
    sample_raw,
    sample_raw_with_alloc_sites,
    segment_extents,
)

from heaptui.core.raw import RawSnapshot
from heaptui.fileformat import write
from heaptui.fileformat.arrays import arrays_from_raw
from heaptui.fileformat.layout import PREAMBLE_SIZE
from heaptui.fileformat.read import read_snapshot_arrays, read_snapshot_bytes
from heaptui.fileformat.write import SnapshotStreamWriter, atomic_snapshot_stream
from heaptui.testing import SnapshotBuilder


@pytest.mark.parametrize(("chunk", "keep"), [(1, 0), (1, 1), (2, 1), (4, 3), (100, 0)])
def test_a_snapshot_streamed_in_segments_reads_back_as_the_unsplit_file(
    chunk: int, keep: int
) -> None:
    data = encode_segmented(sample_raw(), chunk, keep)
    assert data != encode(sample_raw())
    assert_same_arrays(
        read_snapshot_bytes(data, "x"), read_snapshot_bytes(encode(sample_raw()), "y")
    )


def test_segments_of_different_columns_interleave_in_the_file() -> None:
    data = encode_segmented(sample_raw(), chunk=2, keep=0)
    addr = segment_extents(data, "addr")
    size = segment_extents(data, "size")
    edge_target = segment_extents(data, "edge_target")
    assert len(addr) == len(size) == 5  # 9 nodes, two at a time
    assert len(edge_target) == 5  # 10 edges
    # Chunk 2 of addr comes after chunk 1 of every other column.
    assert size[0][0] < addr[1][0] and edge_target[0][0] < addr[1][0]
    directory = directory_of(data)
    counts = {entry["name"]: entry["count"] for entry in directory["columns"]}
    assert counts["addr"] == 9 and counts["edge_kind"] == 10


def test_multi_segment_columns_are_read_only_copies_single_ones_are_views() -> None:
    data = encode_segmented(sample_raw(), chunk=4, keep=1)
    arrays = read_snapshot_bytes(data, "x")
    buffer = np.frombuffer(data, dtype=np.uint8)
    assert not np.shares_memory(arrays.addr, buffer)  # three segments, concatenated
    assert np.shares_memory(arrays.string_blob, buffer)  # one segment, a view
    for name in ("addr", "edge_target", "string_blob"):
        assert not getattr(arrays, name).flags.writeable, name


def test_empty_columns_have_no_segments() -> None:
    data = encode(RawSnapshot())
    directory = directory_of(data)
    for entry in directory["columns"]:
        expected = 1 if entry["name"] in ("repr_offsets", "string_offsets") else 0
        assert len(entry["segments"]) == expected == entry["count"], entry["name"]
    arrays = read_snapshot_bytes(data, "empty.heap")
    assert arrays.edge_target.dtype == np.uint64 and len(arrays.edge_target) == 0
    assert arrays.repr_offsets.tolist() == [0]


def test_every_node_and_edge_streamed_leaves_finish_nothing_of_them() -> None:
    raw = sample_raw()
    data = encode_segmented(raw, chunk=3, keep=0)
    assert all(len(getattr(raw, name)) == 0 for name in STREAMED_COLUMNS)
    assert_same_arrays(read_snapshot_bytes(data, "x"), arrays_from_raw(sample_raw()))


def test_segments_may_be_raw_native_bytes_of_whole_items() -> None:
    raw = sample_raw()
    out = io.BytesIO()
    writer = SnapshotStreamWriter(out)
    writer.add_segment("addr", raw.addr[:2].tobytes())  # bytes
    writer.add_segment("addr", bytearray(raw.addr[2:4].tobytes()))  # bytearray
    writer.add_segment("addr", memoryview(raw.addr[4:6].tobytes()))  # memoryview of bytes
    writer.add_segment("addr", memoryview(raw.addr[6:8]))  # typed memoryview
    writer.add_segment("flags", bytes(raw.flags))
    raw.addr = raw.addr[8:]
    raw.flags = array("B")
    writer.finish(raw)
    assert_same_arrays(read_snapshot_bytes(out.getvalue(), "x"), arrays_from_raw(sample_raw()))


def test_empty_segments_add_nothing() -> None:
    out = io.BytesIO()
    writer = SnapshotStreamWriter(out)
    before = writer.bytes_written
    writer.add_segment("addr", array("Q"))
    writer.add_segment("repr_blob", b"")
    assert writer.bytes_written == before == len(out.getvalue()) == PREAMBLE_SIZE
    writer.finish(sample_raw())
    assert out.getvalue() == encode(sample_raw())


@pytest.mark.parametrize(
    ("name", "data", "error", "message"),
    [
        ("nodes", array("Q", [1]), ValueError, "'nodes' cannot be streamed"),
        ("string_blob", b"abc", ValueError, "'string_blob' cannot be streamed"),
        ("string_offsets", array("Q", [0]), ValueError, "'string_offsets' cannot be streamed"),
        ("addr", array("I", [1, 2]), TypeError, "'addr' must hold <u8 integers"),
        ("edge_payload", array("I", [1]), TypeError, "'edge_payload' must hold <i4 integers"),
        ("addr", b"\0" * 12, ValueError, "has 12 bytes, not a multiple of 8"),
        ("addr", [1, 2], TypeError, "must be an array.array or a buffer"),
        ("size", memoryview(b"\0" * 16)[::2], TypeError, "'size' must hold <u8 integers"),
    ],
    ids=[
        "unknown",
        "string blob",
        "string offsets",
        "narrow",
        "unsigned",
        "ragged",
        "list",
        "strided",
    ],
)
def test_segments_that_would_break_the_file_are_refused_before_writing(
    name: str, data: object, error: type[Exception], message: str
) -> None:
    out = io.BytesIO()
    writer = SnapshotStreamWriter(out)
    with pytest.raises(error, match=message):
        writer.add_segment(name, data)
    assert len(out.getvalue()) == writer.bytes_written == PREAMBLE_SIZE
    writer.finish(sample_raw())  # the stream is still usable
    read_snapshot_bytes(out.getvalue(), "x")


def test_the_writer_keeps_no_reference_to_a_segment() -> None:
    """The capture reuses its chunk buffers: a kept export would make resizing them fail."""
    chunk = array("Q", [1, 2, 3])
    blob = bytearray(b"abc")
    writer = SnapshotStreamWriter(io.BytesIO())
    writer.add_segment("addr", chunk)
    writer.add_segment("repr_blob", blob)
    del chunk[:]  # BufferError if a view of it were still alive
    blob.extend(b"more")
    raw = sample_raw()
    with pytest.raises(ValueError, match="'type_index' has 9 entries, expected 12"):
        writer.finish(raw)
    raw.addr.append(0xDEAD)  # nor of the columns finish refused


def test_finish_checks_streamed_and_final_totals_together() -> None:
    raw = sample_raw()
    out = io.BytesIO()
    writer = SnapshotStreamWriter(out)
    writer.add_segment("edge_kind", raw.edge_kind[:4])
    written = writer.bytes_written
    with pytest.raises(ValueError, match="'edge_kind' has 14 entries, expected 10"):
        writer.finish(raw)  # raw still holds all 10: 4 of them twice
    assert writer.bytes_written == written == len(out.getvalue())  # nothing of raw went out
    raw.edge_kind = raw.edge_kind[4:]
    writer.finish(raw)  # a corrected remainder completes the file
    assert_same_arrays(read_snapshot_bytes(out.getvalue(), "x"), arrays_from_raw(sample_raw()))


def test_repr_offsets_streamed_need_the_last_offset_from_finish() -> None:
    raw = sample_raw()
    writer = SnapshotStreamWriter(io.BytesIO())
    writer.add_segment("addr", raw.addr)
    writer.add_segment("repr_offsets", raw.repr_offsets[:-2])
    raw.addr = array("Q")
    raw.repr_offsets = array("Q")
    with pytest.raises(ValueError, match="'repr_offsets' has 8 entries, expected 10"):
        writer.finish(raw)


def test_the_stream_refuses_more_once_finished() -> None:
    writer = SnapshotStreamWriter(io.BytesIO())
    size = writer.finish(sample_raw())
    assert writer.finished and writer.bytes_written == size
    with pytest.raises(ValueError, match="this snapshot stream is finished"):
        writer.add_segment("addr", array("Q", [1]))
    with pytest.raises(ValueError, match="this snapshot stream is finished"):
        writer.finish(sample_raw())


class _FailingSink:
    def __init__(self, after: int) -> None:
        self.left = after

    def write(self, data: bytes) -> int:
        if self.left <= 0:
            raise OSError(28, "No space left on device")
        self.left -= 1
        return len(data)


def test_a_failed_write_breaks_the_stream() -> None:
    writer = SnapshotStreamWriter(_FailingSink(after=2))  # type: ignore[arg-type]
    writer.add_segment("addr", array("Q", [1]))  # data and padding... (8 bytes: no padding)
    with pytest.raises(OSError, match="No space left"):
        writer.add_segment("addr", array("Q", [2]))
    with pytest.raises(ValueError, match="this snapshot stream is broken"):
        writer.finish(sample_raw())


def test_allocation_columns_stream_too() -> None:
    raw = sample_raw_with_alloc_sites([0x1000, 0x2000, 0x3000])
    expected = read_snapshot_bytes(encode(raw), "x")
    assert expected.alloc is not None
    out = io.BytesIO()
    writer = SnapshotStreamWriter(out)
    writer.add_segment("alloc_addr", raw.alloc_addr[:2])
    writer.add_segment("alloc_trace", raw.alloc_trace[:2])
    raw.alloc_addr = raw.alloc_addr[2:]
    raw.alloc_trace = raw.alloc_trace[2:]
    writer.finish(raw)
    assert_same_arrays(read_snapshot_bytes(out.getvalue(), "y"), expected)


def test_allocation_columns_streamed_without_tracebacks_are_refused() -> None:
    writer = SnapshotStreamWriter(io.BytesIO())
    writer.add_segment("alloc_addr", array("Q", [0x1000]))
    with pytest.raises(ValueError, match="'alloc_addr' was streamed but 'trace_offsets' is empty"):
        writer.finish(sample_raw())


def test_big_endian_hosts_stream_little_endian_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = encode_segmented(sample_raw(), chunk=2)
    monkeypatch.setattr(write.sys, "byteorder", "big")
    monkeypatch.setattr(write, "_SWAP_CHUNK", 8)
    raw = sample_raw()
    out = io.BytesIO()
    writer = SnapshotStreamWriter(out)
    for name in STREAMED_COLUMNS:
        column = getattr(raw, name)
        for start in range(0, len(column) - 1, 2):
            part = column[start : min(start + 2, len(column) - 1)]
            part.byteswap()  # what a big-endian host holds in memory
            writer.add_segment(name, part.tobytes() if start % 4 else part)
        setattr(raw, name, column[len(column) - 1 :])
    assert sys.byteorder == "big"
    monkeypatch.setattr(write.sys, "byteorder", "little")  # finish: native columns as they are
    writer.finish(raw)
    # Chunks interleave differently from encode_segmented (column by column here): compare arrays.
    assert_same_arrays(read_snapshot_bytes(out.getvalue(), "x"), read_snapshot_bytes(expected, "y"))


# --- atomic streaming to a file --------------------------------------------------------------


def test_atomic_stream_writes_a_private_file_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "now.heap"
    raw = sample_raw()
    with atomic_snapshot_stream(path) as writer:
        writer.add_segment("addr", raw.addr[:5])
        assert os.listdir(tmp_path) != ["now.heap"]  # only a temporary file so far
        raw.addr = raw.addr[5:]
        writer.finish(raw)
    assert os.listdir(tmp_path) == ["now.heap"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert_same_arrays(read_snapshot_arrays(path), arrays_from_raw(sample_raw()))


def _previous_file(path: Path) -> bytes:
    old = SnapshotBuilder()
    old.node(0x1, "int", size=28, repr="1")
    write.write_snapshot_file(old.build(), path)
    return path.read_bytes()


def test_leaving_the_stream_without_finish_keeps_the_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "now.heap"
    before = _previous_file(path)
    with (
        pytest.raises(ValueError, match="left without finish"),
        atomic_snapshot_stream(path) as writer,
    ):
        writer.add_segment("addr", array("Q", [1, 2]))
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["now.heap"]


@pytest.mark.parametrize("exc", [RuntimeError("walk failed"), KeyboardInterrupt()])
def test_an_error_while_streaming_removes_the_temporary_file(
    tmp_path: Path, exc: BaseException
) -> None:
    path = tmp_path / "now.heap"
    before = _previous_file(path)
    with pytest.raises(type(exc)), atomic_snapshot_stream(path) as writer:
        writer.add_segment("addr", array("Q", [1, 2]))
        raise exc
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["now.heap"]


def test_an_inconsistent_finish_leaves_no_file(tmp_path: Path) -> None:
    raw = sample_raw()
    with (
        pytest.raises(ValueError, match="'type_index' has 18 entries, expected 9"),
        atomic_snapshot_stream(tmp_path / "x.heap") as w,
    ):
        w.add_segment("type_index", raw.type_index)
        w.finish(raw)
    assert os.listdir(tmp_path) == []
