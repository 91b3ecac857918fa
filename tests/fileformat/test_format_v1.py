"""Files written by an older heaptui (format version 1, header first) still open, and a
damaged one is refused with one line, as before."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from snapshot_files import (
    assert_same_arrays,
    encode,
    encode_segmented,
    sample_raw,
    sample_raw_with_alloc_sites,
)
from v1_files import (
    to_v1,
    v1_column_extent,
    v1_data_start,
    v1_header_of,
    v1_refresh_checksums,
    v1_rewrite_header,
)

from heaptui.core.errors import SnapshotError
from heaptui.fileformat.layout import COLUMN_DTYPES, PREAMBLE_SIZE
from heaptui.fileformat.read import read_snapshot_arrays, read_snapshot_bytes

V1 = to_v1(encode(sample_raw()))
# sample_raw() as the version 1 writer wrote it (heaptui before format version 2).
WRITTEN_BY_V1 = Path(__file__).parent / "data" / "v1_sample.heap"


def error_of(data: bytes) -> str:
    with pytest.raises(SnapshotError) as info:
        read_snapshot_bytes(data, "old.heap")
    assert "\n" not in str(info.value)
    return str(info.value)


def invalid(reason: str) -> str:
    return f"old.heap is not a valid heaptui snapshot ({reason})"


def test_a_file_from_the_version_1_writer_opens() -> None:
    expected = read_snapshot_bytes(encode(sample_raw()), "new")
    assert_same_arrays(read_snapshot_arrays(WRITTEN_BY_V1), expected)
    assert WRITTEN_BY_V1.read_bytes() == V1  # so the crafted version 1 files below are faithful


def test_a_version_1_file_reads_like_the_version_2_file(tmp_path: Any) -> None:
    assert int.from_bytes(V1[8:12], "little") == 1
    path = tmp_path / "old.heap"
    path.write_bytes(V1)
    expected = read_snapshot_bytes(encode(sample_raw()), "new")
    assert_same_arrays(read_snapshot_arrays(path), expected)
    assert_same_arrays(read_snapshot_bytes(to_v1(encode_segmented(sample_raw(), 2)), "x"), expected)


def test_a_version_1_file_with_allocation_sites() -> None:
    raw = sample_raw_with_alloc_sites([0x1000])
    arrays = read_snapshot_bytes(to_v1(encode(raw)), "x")
    assert arrays.alloc is not None and arrays.alloc.frame_line.tolist() == [7]


def _cut_points() -> list[tuple[str, int]]:
    points = [("inside header", PREAMBLE_SIZE + 10), ("before data", v1_data_start(V1))]
    for name in ("addr", "edge_kind", "string_blob"):
        start, end = v1_column_extent(V1, name)
        points.append((f"inside {name}", (start + end) // 2))
    points.append(("inside end marker", len(V1) - 4))
    return points


@pytest.mark.parametrize(("where", "cut"), _cut_points(), ids=[p[0] for p in _cut_points()])
def test_truncated_version_1_file_names_the_byte(where: str, cut: int) -> None:
    assert error_of(V1[:cut]) == invalid(f"truncated at byte {cut}")


def test_version_1_end() -> None:
    assert error_of(V1 + b"junk") == invalid("4 unexpected bytes after the end marker")
    assert error_of(V1[:-8] + b"XXXXXXXX") == invalid("end marker missing")


def test_version_1_checksums() -> None:
    data = bytearray(V1)
    data[PREAMBLE_SIZE + 5] ^= 0x01
    assert error_of(bytes(data)) == invalid("header fails its checksum")
    data = bytearray(V1)
    start, end = v1_column_extent(V1, "edge_target")
    data[(start + end) // 2] ^= 0x10
    assert error_of(bytes(data)) == invalid("column 'edge_target' fails its checksum")


def _set(name: str, key: str, value: Any):  # type: ignore[no-untyped-def]
    def change(header: dict[str, Any]) -> None:
        next(entry for entry in header["columns"] if entry["name"] == name)[key] = value

    return change


def _put(key: str, value: Any):  # type: ignore[no-untyped-def]
    def change(header: dict[str, Any]) -> None:
        header[key] = value

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_set("addr", "offset", 4), "column 'addr' has a bad count, offset or checksum field"),
        (_set("addr", "crc32", -1), "column 'addr' has a bad count, offset or checksum field"),
        (_set("addr", "offset", None), "header field 'offset' missing or not int"),
        (_set("addr", "count", 10**9), "column 'addr' lies outside the data section"),
        (_set("edge_kind", "offset", 0), "columns 'edge_kind' and 'addr' overlap"),
        (_set("addr", "dtype", "<i8"), "column 'addr' has dtype <i8, expected <u8"),
        (_put("data_size", 12), "bad data size in header"),
        (_put("meta", []), "header field 'meta' missing or not dict"),
    ],
)
def test_version_1_header_that_lies(change: Any, reason: str) -> None:
    assert error_of(v1_rewrite_header(V1, change)) == invalid(reason)


def test_version_1_columns_are_checked_for_consistency() -> None:
    start, _ = v1_column_extent(V1, "type_index")
    data = bytearray(V1)
    struct.pack_into("<I", data, start, 99)
    assert error_of(v1_refresh_checksums(bytes(data))) == invalid(
        "column 'type_index' refers to a type that does not exist"
    )


def test_version_1_header_is_where_version_1_put_it() -> None:
    header = v1_header_of(V1)
    assert [entry["name"] for entry in header["columns"]] == list(COLUMN_DTYPES)
    assert header["type_names"] == sample_raw().type_names
