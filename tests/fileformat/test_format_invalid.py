"""Bad input: every damaged or hostile file ends in one SnapshotError line, nothing else."""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path
from typing import Any

import pytest
from snapshot_files import (
    column_extent,
    directory_of,
    directory_span,
    encode,
    encode_segmented,
    refresh_checksums,
    rewrite_directory,
    sample_raw,
    segment_extents,
    with_directory_bytes,
)

from heaptui.core.errors import SnapshotError, UserError
from heaptui.core.labels import EDGE_ATTR, EDGE_DICT_KEY, EDGE_KEY, MAX_EDGE_KIND
from heaptui.fileformat.layout import COLUMN_DTYPES, PREAMBLE_SIZE, TAIL_SIZE
from heaptui.fileformat.read import read_snapshot_arrays, read_snapshot_bytes

GOOD = encode(sample_raw())


def error_of(data: bytes, name: str = "base.heap") -> str:
    with pytest.raises(SnapshotError) as info:
        read_snapshot_bytes(data, name)
    message = str(info.value)
    assert "\n" not in message
    return message


def invalid(reason: str, name: str = "base.heap") -> str:
    return f"{name} is not a valid heaptui snapshot ({reason})"


def test_snapshot_errors_reach_the_user_as_user_errors() -> None:
    assert issubclass(SnapshotError, UserError)


# --- files that are not there or not files ---------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.heap"
    with pytest.raises(SnapshotError, match=r"^No such file: .*x\.heap$"):
        read_snapshot_arrays(path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match=r"is a directory, not a snapshot file$"):
        read_snapshot_arrays(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "x.heap"
    path.write_bytes(GOOD)
    path.chmod(0)
    with pytest.raises(SnapshotError, match=r"^Permission denied: .*x\.heap$"):
        read_snapshot_arrays(path)


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (PermissionError(errno.EACCES, "Permission denied"), "Permission denied: x.heap"),
        (OSError(errno.EIO, "Input/output error"), "Cannot read x.heap: Input/output error"),
    ],
)
def test_os_errors_become_one_line(
    monkeypatch: pytest.MonkeyPatch, error: OSError, message: str
) -> None:
    """Whoever runs the tests (root reads anything), the message for each OS error."""
    from heaptui.fileformat import read

    def failing_open(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(read, "open_regular_file", failing_open)
    with pytest.raises(SnapshotError) as info:
        read_snapshot_arrays("x.heap")
    assert str(info.value) == message


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "x.heap"
    path.write_bytes(b"")
    with pytest.raises(
        SnapshotError, match=r"x\.heap is not a valid heaptui snapshot \(empty file\)"
    ):
        read_snapshot_arrays(path)


def test_a_file_on_disk_reads_like_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "x.heap"
    path.write_bytes(GOOD[:-3])
    with pytest.raises(SnapshotError, match=rf"truncated at byte {len(GOOD) - 3}\)$"):
        read_snapshot_arrays(path)


# --- preamble -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04" + b"\0" * 60, b"\x80\x04\x95" + b"\0" * 60, b"HEAPTUX\0" + GOOD[8:]],
    ids=["zip", "pickle", "one letter off"],
)
def test_bad_magic(data: bytes) -> None:
    assert error_of(data) == invalid("bad magic")


def test_newer_format_says_so() -> None:
    data = GOOD[:8] + struct.pack("<I", 7) + GOOD[12:]
    assert error_of(data) == (
        "base.heap was written by a newer heaptui (format 7, this heaptui reads up to 2)"
    )


def test_format_version_zero_is_unknown() -> None:
    data = GOOD[:8] + struct.pack("<I", 0) + GOOD[12:]
    assert error_of(data) == invalid("unknown format version 0")


def test_reserved_preamble_bytes_must_be_zero() -> None:
    data = GOOD[:16] + b"\1" + GOOD[17:]
    assert error_of(data) == invalid("preamble has non-zero reserved bytes")


# --- truncation at every interesting point ---------------------------------------------------


def _cut_points() -> list[tuple[str, int]]:
    points = [("inside magic", 5), ("after magic", 8), ("inside preamble", 20)]
    points.append(("after preamble", PREAMBLE_SIZE))
    for name in COLUMN_DTYPES:
        start, end = column_extent(GOOD, name)
        if end > start:
            points.append((f"inside {name}", (start + end) // 2 if end - start > 1 else start))
    start, length = directory_span(GOOD)
    points.append(("before directory", start))
    points.append(("inside directory", start + length // 2))
    points.append(("inside footer", len(GOOD) - TAIL_SIZE + 12))
    points.append(("inside end marker", len(GOOD) - 4))
    points.append(("before end marker", len(GOOD) - 8))
    return points


@pytest.mark.parametrize(("where", "cut"), _cut_points(), ids=[p[0] for p in _cut_points()])
def test_truncated_file_names_the_byte(where: str, cut: int) -> None:
    assert error_of(GOOD[:cut]) == invalid(f"truncated at byte {cut}")


@pytest.mark.parametrize(
    "data",
    [GOOD + b"junk", GOOD[:-8] + b"XXXXXXXX", GOOD[:-1] + b"\1"],
    ids=["bytes after the end marker", "end marker replaced", "end marker damaged"],
)
def test_a_file_that_does_not_end_with_the_end_marker_reads_as_cut_short(data: bytes) -> None:
    """Without its end the directory cannot be found: a cut file is the likely cause."""
    assert error_of(data) == invalid(f"truncated at byte {len(data)}")


def test_file_length_must_be_a_multiple_of_8() -> None:
    data = GOOD[:-TAIL_SIZE] + b"\0" + GOOD[-TAIL_SIZE:]
    assert error_of(data) == invalid(f"file length {len(data)} is not a multiple of 8")


# --- the footer -----------------------------------------------------------------------------


def _footer(crc: int | None = None, reserved: int = 0, length: int | None = None) -> bytes:
    """GOOD with its footer fields replaced (the ones not given are kept)."""
    old_crc, _, old_length = struct.unpack_from("<IIQ", GOOD, len(GOOD) - TAIL_SIZE)
    footer = struct.pack(
        "<IIQ",
        old_crc if crc is None else crc,
        reserved,
        old_length if length is None else length,
    )
    return GOOD[:-TAIL_SIZE] + footer + GOOD[-8:]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (_footer(length=2**40), "directory length in the footer lies outside the file"),
        (_footer(length=2**64 - 1), "directory length in the footer lies outside the file"),
        (_footer(length=len(GOOD)), "directory length in the footer lies outside the file"),
        (_footer(length=0), "directory length in the footer lies outside the file"),
        (_footer(length=directory_span(GOOD)[1] - 1), "directory fails its checksum"),
        (_footer(length=directory_span(GOOD)[1] + 9), "directory fails its checksum"),
        (_footer(reserved=1), "footer has non-zero reserved bytes"),
        (_footer(crc=0), "directory fails its checksum"),
    ],
    ids=[
        "far past",
        "u64 max",
        "file length",
        "zero",
        "one less",
        "one block more",
        "reserved",
        "crc",
    ],
)
def test_a_footer_that_lies(data: bytes, reason: str) -> None:
    assert error_of(data) == invalid(reason)


def test_a_directory_claimed_to_start_inside_the_preamble() -> None:
    start, _ = directory_span(GOOD)
    data = _footer(length=len(GOOD) - TAIL_SIZE - PREAMBLE_SIZE + 8)
    assert start > PREAMBLE_SIZE
    assert error_of(data) == invalid("directory length in the footer lies outside the file")


# --- checksums ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in COLUMN_DTYPES if len(range(*column_extent(GOOD, n)))])
def test_flipped_byte_in_a_column_fails_its_checksum(name: str) -> None:
    start, end = column_extent(GOOD, name)
    data = bytearray(GOOD)
    data[(start + end) // 2] ^= 0x10
    assert error_of(bytes(data)) == invalid(f"column {name!r} fails its checksum")


def test_flipped_byte_in_one_of_many_segments_names_the_segment() -> None:
    data = encode_segmented(sample_raw(), chunk=3)
    extents = segment_extents(data, "addr")
    assert len(extents) == 4  # 9 nodes: 3 + 3 + 2 streamed, 1 left for finish
    out = bytearray(data)
    out[extents[1][0] + 3] ^= 0x01
    assert error_of(bytes(out)) == invalid("column 'addr' fails its checksum (segment 2 of 4)")


def test_flipped_byte_in_the_directory_fails_its_checksum() -> None:
    start, _ = directory_span(GOOD)
    data = bytearray(GOOD)
    data[start + 5] ^= 0x01
    assert error_of(bytes(data)) == invalid("directory fails its checksum")


# --- a directory that lies (checksum made valid) --------------------------------------------


def _column(directory: dict[str, Any], name: str) -> dict[str, Any]:
    return next(entry for entry in directory["columns"] if entry["name"] == name)


def _set(name: str, key: str, value: Any):  # type: ignore[no-untyped-def]
    def change(directory: dict[str, Any]) -> None:
        _column(directory, name)[key] = value

    return change


def _set_segment(name: str, field: int, value: Any, segment: int = 0):  # type: ignore[no-untyped-def]
    def change(directory: dict[str, Any]) -> None:
        _column(directory, name)["segments"][segment][field] = value

    return change


def _set_count(name: str, value: int):  # type: ignore[no-untyped-def]
    """Column count and its one segment's count both set to ``value``."""

    def change(directory: dict[str, Any]) -> None:
        _column(directory, name)["count"] = value
        _column(directory, name)["segments"][0][1] = value

    return change


def _split(name: str, second_offset_delta: int):  # type: ignore[no-untyped-def]
    """Column ``name`` described as two segments: its first half, then the rest shifted."""

    def change(directory: dict[str, Any]) -> None:
        entry = _column(directory, name)
        ((offset, count, crc),) = entry["segments"]
        itemsize = int(entry["dtype"][2:])
        half = count // 2
        second = offset + half * itemsize + second_offset_delta
        entry["segments"] = [[offset, half, crc], [second, count - half, crc]]

    return change


def _drop(name: str):  # type: ignore[no-untyped-def]
    def change(directory: dict[str, Any]) -> None:
        directory["columns"] = [c for c in directory["columns"] if c["name"] != name]

    return change


def _duplicate(name: str):  # type: ignore[no-untyped-def]
    def change(directory: dict[str, Any]) -> None:
        directory["columns"].append(dict(_column(directory, name)))

    return change


def _put(key: str, value: Any):  # type: ignore[no-untyped-def]
    def change(directory: dict[str, Any]) -> None:
        directory[key] = value

    return change


DATA_SIZE = directory_of(GOOD)["data_size"]
NOT_A_SEGMENT = "column 'addr' has a segment that is not [offset, count, crc32]"
BAD_FIELD = "column 'addr' has a bad count, offset or checksum field"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_set("addr", "dtype", "<f4"), "column 'addr' has unknown dtype '<f4'"),
        (_set("addr", "dtype", "<i8"), "column 'addr' has dtype <i8, expected <u8"),
        (_set("addr", "dtype", "O"), "column 'addr' has unknown dtype 'O'"),
        (_set("addr", "count", -1), BAD_FIELD),
        (_set("addr", "count", True), "directory field 'count' missing or not int"),
        (_set("addr", "count", 1.0), "directory field 'count' missing or not int"),
        (_set("addr", "count", 8), "column 'addr' has segments that do not add up to its count"),
        (
            _set("addr", "segments", []),
            "column 'addr' has segments that do not add up to its count",
        ),
        (_set("addr", "segments", None), "directory field 'segments' missing or not list"),
        (_set("addr", "segments", [[0, 9]]), NOT_A_SEGMENT),
        (_set("addr", "segments", [[0, 9, 0, 0]]), NOT_A_SEGMENT),
        (_set("addr", "segments", [{"offset": 0}]), NOT_A_SEGMENT),
        (_set("addr", "segments", [0, 9, 0]), NOT_A_SEGMENT),
        (_set_segment("addr", 1, True), NOT_A_SEGMENT),
        (_set_segment("addr", 0, 0.0), NOT_A_SEGMENT),
        (_set_segment("addr", 2, "0"), NOT_A_SEGMENT),
        (_set_segment("addr", 0, 4), BAD_FIELD),
        (_set_segment("addr", 0, -8), BAD_FIELD),
        (_set_segment("addr", 2, 2**32), BAD_FIELD),
        (_set_segment("addr", 2, -1), BAD_FIELD),
        (_set_count("addr", -1), BAD_FIELD),
        (_set_count("addr", 0), "column 'addr' has an empty segment"),
        (_set_count("addr", 10**9), "column 'addr' lies outside the data section"),
        (_set_count("addr", 2**62), "column 'addr' lies outside the data section"),
        (_set_segment("addr", 0, DATA_SIZE), "column 'addr' lies outside the data section"),
        (
            _set_segment("string_blob", 0, DATA_SIZE - 8),
            "column 'string_blob' lies outside the data section",
        ),
        (_set_segment("edge_kind", 0, 0), "columns 'edge_kind' and 'addr' overlap"),
        (_split("addr", -8), "two segments of column 'addr' overlap"),
        (_split("addr", 0), "column 'addr' fails its checksum (segment 1 of 2)"),
        (_set("addr", "name", 5), "directory field 'name' missing or not str"),
        (_drop("root_kind"), "column 'root_kind' missing"),
        (_duplicate("size"), "column 'size' appears twice"),
        (_put("columns", {"addr": 1}), "directory field 'columns' missing or not list"),
        (_put("columns", [1]), "a column entry is not an object"),
        (_put("data_size", DATA_SIZE - 8), "bad data size in directory"),
        (_put("data_size", DATA_SIZE + 8), "bad data size in directory"),
        (_put("data_size", -8), "bad data size in directory"),
        (_put("data_size", None), "directory field 'data_size' missing or not int"),
        (_put("type_names", "dict"), "directory field 'type_names' missing or not list"),
        (_put("type_names", ["a", 1]), "a type name is not a string"),
        (_put("type_names", ["a\ud800"]), "a type name is not valid UTF-8"),
        (_put("meta", []), "directory field 'meta' missing or not dict"),
        (_put("meta", {"x": {"y": 1}}), "meta field 'x' is not a JSON scalar or a list of them"),
        (_put("meta", {"x": [[1]]}), "meta field 'x' is not a JSON scalar or a list of them"),
        (_put("meta", {"x": "\udc80"}), "meta field 'x' is not valid UTF-8"),
    ],
)
def test_directory_that_lies_about_its_columns(change: Any, reason: str) -> None:
    assert error_of(rewrite_directory(GOOD, change)) == invalid(reason)


def test_split_segments_with_their_own_checksums_read_back_the_same() -> None:
    """The same bytes described as two segments are the same column (the control for above)."""

    def split_with_checksums(directory: dict[str, Any]) -> None:
        _split("addr", 0)(directory)

    data = refresh_checksums(rewrite_directory(GOOD, split_with_checksums))
    assert len(directory_of(data)["columns"][0]["segments"]) == 2
    got = read_snapshot_bytes(data, "x").addr
    assert got.tolist() == list(sample_raw().addr)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"[1, 2]", "directory is not a JSON object"),
        (b"{not json", "directory is not valid JSON"),
        (b"\xff\xfe{}", "directory is not valid JSON"),
        (b'{"a": NaN}', "NaN in directory"),
        (b'{"a": 1e999}', "non-finite number in directory"),
        (b'{"a": 1, "a": 2}', "duplicate key in directory"),
        (b"[" * 100_000 + b"]" * 100_000, "directory is not valid JSON"),
        (b'{"data_size": 1' + b"0" * 5000 + b"}", "directory is not valid JSON"),
        (b"{}", "directory field 'data_size' missing or not int"),
    ],
)
def test_directory_that_is_not_the_expected_json(text: bytes, reason: str) -> None:
    assert error_of(with_directory_bytes(GOOD, text)) == invalid(reason)


def test_unknown_extra_columns_are_allowed_for_later_versions() -> None:
    def add(directory: dict[str, Any]) -> None:
        directory["columns"].append({"name": "future", "dtype": "<u8", "count": 0, "segments": []})

    arrays = read_snapshot_bytes(rewrite_directory(GOOD, add), "x")
    assert len(arrays.addr) == len(sample_raw().addr)


def test_unknown_columns_are_still_checked_for_placement() -> None:
    def add(directory: dict[str, Any]) -> None:
        directory["columns"].append(
            {"name": "future", "dtype": "<u8", "count": 1, "segments": [[0, 1, 0]]}
        )

    assert error_of(rewrite_directory(GOOD, add)) == invalid("columns 'future' and 'addr' overlap")


# --- columns that disagree (every checksum valid) --------------------------------------------


def _crafted(**changes: Any) -> bytes:
    """Encode the sample with some columns replaced (the writer checks lengths, not values)."""
    raw = sample_raw()
    for name, edit in changes.items():
        edit(raw) if callable(edit) else setattr(raw, name, edit)
    return encode(raw)


def _poke(data: bytes, name: str, index: int, value: int) -> bytes:
    """Overwrite entry ``index`` of column ``name`` and fix the checksums."""
    code = {"<u8": "<Q", "<i8": "<q", "<u4": "<I", "<i4": "<i", "|u1": "<B"}[COLUMN_DTYPES[name]]
    start, _ = column_extent(data, name)
    out = bytearray(data)
    struct.pack_into(code, out, start + index * struct.calcsize(code), value)
    return refresh_checksums(bytes(out))


def _edge_with_kind(kind: int) -> int:
    return list(sample_raw().edge_kind).index(kind)


@pytest.mark.parametrize(
    ("name", "index", "value", "reason"),
    [
        ("type_index", 0, 99, "column 'type_index' refers to a type that does not exist"),
        ("edge_kind", 0, MAX_EDGE_KIND + 1, "column 'edge_kind' holds an unknown edge kind"),
        ("edge_count", 0, 2, "edge counts do not add up to the number of edges"),
        ("root_kind", 0, 0, "column 'root_kind' holds an unknown root kind"),
        ("root_kind", 1, 9, "column 'root_kind' holds an unknown root kind"),
        ("root_label", 0, 10_000, "column 'root_label' refers to a string that does not exist"),
        ("repr_offsets", 0, 1, "column 'repr_offsets' does not span its text"),
        ("repr_offsets", 1, 1000, "column 'repr_offsets' is not in increasing order"),
        ("string_offsets", 1, 10_000, "column 'string_offsets' is not in increasing order"),
    ],
)
def test_out_of_range_values_with_valid_checksums(
    name: str, index: int, value: int, reason: str
) -> None:
    assert error_of(_poke(GOOD, name, index, value)) == invalid(reason)


@pytest.mark.parametrize(
    ("kind", "payload"),
    [(EDGE_ATTR, -1), (EDGE_ATTR, 10_000), (EDGE_KEY, 2**31 - 1), (EDGE_DICT_KEY, -2)],
)
def test_edge_payload_outside_the_string_table(kind: int, payload: int) -> None:
    data = _poke(GOOD, "edge_payload", _edge_with_kind(kind), payload)
    assert error_of(data) == invalid("column 'edge_payload' refers to a string that does not exist")


def test_index_payloads_are_positions_not_strings() -> None:
    from heaptui.core.labels import EDGE_INDEX

    data = _poke(GOOD, "edge_payload", _edge_with_kind(EDGE_INDEX), 10_000)
    assert read_snapshot_bytes(data, "x").edge_payload.max() == 10_000


@pytest.mark.parametrize(
    ("column", "reason"),
    [
        ("size", "column 'size' has 8 entries, expected 9"),
        ("edge_payload", "column 'edge_payload' has 9 entries, expected 10"),
        ("type_flags", "column 'type_flags' has 8 entries, expected 9"),
        ("root_label", "column 'root_label' has 1 entries, expected 2"),
    ],
)
def test_columns_of_the_wrong_length(column: str, reason: str) -> None:
    def shorten(directory: dict[str, Any]) -> None:
        entry = _column(directory, column)
        entry["count"] -= 1
        entry["segments"][-1][1] -= 1

    assert error_of(refresh_checksums(rewrite_directory(GOOD, shorten))) == invalid(reason)


def test_string_table_that_is_not_utf8() -> None:
    start, _ = column_extent(GOOD, "string_blob")
    out = bytearray(GOOD)
    out[start] = 0xFF
    assert error_of(refresh_checksums(bytes(out))) == invalid("the string table is not UTF-8")


def test_string_that_starts_inside_a_character() -> None:
    raw = sample_raw()
    index = raw.strings.index("'ключ'")
    start_of_key = sum(len(s.encode()) for s in raw.strings[:index])
    data = _poke(GOOD, "string_offsets", index + 1, start_of_key + 2)  # inside "к"
    assert error_of(data) == invalid("a string starts inside a UTF-8 character")


def test_directory_has_the_type_table() -> None:
    assert directory_of(GOOD)["type_names"] == sample_raw().type_names
