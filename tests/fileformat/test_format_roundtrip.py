"""Round trips: what the writer puts in a file, the reader gives back column for column."""

from __future__ import annotations

import io
import itertools
import os
import threading
from array import array
from dataclasses import fields
from typing import Any

import numpy as np
import pytest
from snapshot_files import assert_same_arrays, directory_of, encode, sample_raw, segment_extents

from heaptui.core.raw import RawSnapshot
from heaptui.fileformat.arrays import SnapshotArrays, arrays_from_raw
from heaptui.fileformat.layout import ALIGN, FORMAT_VERSION, MAGIC
from heaptui.fileformat.read import read_snapshot_arrays, read_snapshot_bytes
from heaptui.fileformat.write import write_snapshot, write_snapshot_file


def decoded_strings(arrays: SnapshotArrays) -> list[str]:
    blob = arrays.string_blob.tobytes()
    offsets = arrays.string_offsets.tolist()
    return [blob[a:b].decode("utf-8", "surrogatepass") for a, b in itertools.pairwise(offsets)]


def test_file_round_trip_gives_back_every_column_strings_and_meta(tmp_path: object) -> None:
    raw = sample_raw()
    path = os.path.join(str(tmp_path), "now.heap")
    assert write_snapshot_file(raw, path) == path
    arrays = read_snapshot_arrays(path)
    assert_same_arrays(arrays, arrays_from_raw(raw))
    assert decoded_strings(arrays) == raw.strings
    assert arrays.meta["note"] == "café ☕"
    assert arrays.meta["threads"] == ["MainThread", "worker-1"]
    assert arrays.type_names == ["module", "dict", "app.models.Value", *raw.type_names[3:]]


def test_bytes_round_trip_matches_the_file_and_reports_its_length() -> None:
    raw = sample_raw()
    out = io.BytesIO()
    written = write_snapshot(raw, out)
    data = out.getvalue()
    assert written == len(data)
    assert data.startswith(MAGIC)
    assert int.from_bytes(data[8:12], "little") == FORMAT_VERSION
    assert_same_arrays(read_snapshot_bytes(data, "live"), arrays_from_raw(raw))


def test_columns_are_aligned_so_numpy_views_need_no_copy() -> None:
    data = encode(sample_raw())
    for entry in directory_of(data)["columns"]:
        extents = segment_extents(data, entry["name"])
        assert len(extents) == (1 if entry["count"] else 0), entry["name"]
        for start, _ in extents:
            assert start % ALIGN == 0, entry["name"]
    arrays = read_snapshot_bytes(data, "x")
    buffer = np.frombuffer(data, dtype=np.uint8)
    for name in ("addr", "edge_target", "string_blob"):  # views of the buffer, not copies
        assert np.shares_memory(getattr(arrays, name), buffer), name


def test_arrays_are_read_only_whatever_buffer_they_came_from(tmp_path: object) -> None:
    path = os.path.join(str(tmp_path), "now.heap")
    write_snapshot_file(sample_raw(), path)
    for arrays in (
        read_snapshot_arrays(path),
        read_snapshot_bytes(encode(sample_raw()), "bytes"),
        read_snapshot_bytes(bytearray(encode(sample_raw())), "bytearray"),
    ):
        for column in fields(SnapshotArrays):
            value = getattr(arrays, column.name)
            if isinstance(value, np.ndarray):
                assert not value.flags.writeable, column.name


def test_empty_snapshot_round_trips() -> None:
    raw = RawSnapshot()  # no nodes, no repr offsets at all, no strings
    arrays = read_snapshot_bytes(encode(raw), "empty.heap")
    assert len(arrays.addr) == 0
    assert arrays.repr_offsets.tolist() == [0]
    assert arrays.string_offsets.tolist() == [0]
    assert arrays.type_names == []


def test_lone_surrogates_in_strings_and_type_names_do_not_break_the_file() -> None:
    raw = sample_raw()
    raw.strings.append("bad \udc80 key")
    raw.type_names[2] = "app.\ud800Weird"
    arrays = read_snapshot_bytes(encode(raw), "x")
    assert decoded_strings(arrays)[-1] == "bad \udc80 key"
    assert arrays.type_names[2] == "app.\ufffdWeird"


class _WriteOnly:
    """A non-seekable stream that accepts at most 7 bytes per write, like a busy socket."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        piece = bytes(data[:7])
        self.chunks.append(piece)
        return len(piece)


def test_streams_to_a_non_seekable_object_that_takes_short_writes() -> None:
    raw = sample_raw()
    sink = _WriteOnly()
    written = write_snapshot(raw, sink)  # type: ignore[arg-type]
    data = b"".join(sink.chunks)
    assert written == len(data)
    assert data == encode(raw)


def test_streams_through_a_pipe_to_a_reader_on_the_other_end() -> None:
    raw = sample_raw()
    read_fd, write_fd = os.pipe()
    received: list[bytes] = []

    def drain() -> None:
        with os.fdopen(read_fd, "rb") as reader:
            received.append(reader.read())

    thread = threading.Thread(target=drain)
    thread.start()
    with os.fdopen(write_fd, "wb") as writer:
        write_snapshot(raw, writer)
    thread.join()
    assert_same_arrays(read_snapshot_bytes(received[0], "pipe"), arrays_from_raw(raw))


def test_writer_accepts_any_buffer_with_the_right_item_size() -> None:
    raw = sample_raw()
    raw.flags = bytes(raw.flags)  # type: ignore[assignment]
    raw.addr = memoryview(raw.addr)  # type: ignore[assignment]
    assert_same_arrays(read_snapshot_bytes(encode(raw), "x"), arrays_from_raw(sample_raw()))


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("size", array("I", [1, 2]), "'size' must hold <u8 integers"),
        ("length", array("Q"), "'length' must hold <i8 integers"),
        ("edge_kind", [1, 2, 3], "'edge_kind' must be an array.array or a buffer"),
    ],
)
def test_writer_rejects_columns_of_the_wrong_type(column: str, value: object, message: str) -> None:
    raw = sample_raw()
    setattr(raw, column, value)
    out = io.BytesIO()
    with pytest.raises(TypeError, match=message):
        write_snapshot(raw, out)
    assert out.getvalue() == b""


def test_writer_rejects_columns_that_disagree_before_writing_anything() -> None:
    raw = sample_raw()
    raw.edge_kind.append(1)
    out = io.BytesIO()
    with pytest.raises(ValueError, match="'edge_kind' has 11 entries, expected 10"):
        write_snapshot(raw, out)
    assert out.getvalue() == b""


@pytest.mark.parametrize(
    "meta",
    [{"bad": {"nested": 1}}, {"bad": float("nan")}, {"bad": [object()]}, {1: "x"}],
)
def test_writer_rejects_meta_the_reader_would_refuse(meta: dict[object, object]) -> None:
    raw = sample_raw()
    raw.meta = meta  # type: ignore[assignment]
    out = io.BytesIO()
    with pytest.raises(TypeError, match="snapshot meta"):
        write_snapshot(raw, out)
    assert out.getvalue() == b""


def test_big_endian_hosts_write_little_endian_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    from heaptui.fileformat import write

    raw = sample_raw()
    expected = encode(raw)
    monkeypatch.setattr(write.sys, "byteorder", "big")
    swapped = sample_raw()
    for column in ("addr", "type_index", "size", "length", "edge_payload", "root_label"):
        getattr(swapped, column).byteswap()  # what a big-endian host holds in memory
    swapped.repr_offsets.byteswap()
    swapped.edge_count.byteswap()
    swapped.edge_target.byteswap()
    swapped.type_addr.byteswap()
    swapped.root_addr.byteswap()
    monkeypatch.setattr(write, "_SWAP_CHUNK", 16)  # many chunks, to test the chunking
    # The string offsets are built by the writer itself, natively: make them big-endian too.
    original_table = write._string_table

    def big_endian_table(*args: Any) -> tuple[bytes, array]:  # type: ignore[type-arg]
        blob, offsets = original_table(*args)
        offsets.byteswap()
        return blob, offsets

    monkeypatch.setattr(write, "_string_table", big_endian_table)
    out = io.BytesIO()
    write_snapshot(swapped, out)
    assert out.getvalue() == expected


def test_a_real_capture_in_another_process_loads(tmp_path: object) -> None:
    """The capture's real columns and metadata fit the format (not just the test builder's)."""
    import subprocess
    import sys

    path = os.path.join(str(tmp_path), "real.heap")
    program = (
        "import os, heaptui\n"
        "leak = {f'key {i}': [i] * 3 for i in range(200)}\n"
        f"heaptui.dump({path!r})\n"
        "print(os.getpid())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True
    )
    arrays = read_snapshot_arrays(path)
    assert arrays.meta["pid"] == int(done.stdout)
    assert len(arrays.addr) > 1000
    assert "'key 199'" in decoded_strings(arrays)  # the dict keys, rendered by the capture


class _Uncounted:
    """A sink whose write() returns None, as hand-written sinks often do."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data


def test_streams_to_a_sink_that_does_not_return_counts() -> None:
    sink = _Uncounted()
    write_snapshot(sample_raw(), sink)  # type: ignore[arg-type]
    assert bytes(sink.data) == encode(sample_raw())
