"""Bad input: every damaged or hostile file ends in one SnapshotError line, nothing else."""

from __future__ import annotations

import errno
import os
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from snapshot_files import (
    column_extent,
    data_start,
    encode,
    header_of,
    refresh_checksums,
    rewrite_header,
    sample_raw,
)

from heaptui.errors import SnapshotError, UserError
from heaptui.fileformat.layout import COLUMN_DTYPES, PREAMBLE_SIZE
from heaptui.fileformat.read import read_snapshot_arrays, read_snapshot_bytes
from heaptui.labels import EDGE_ATTR, EDGE_DICT_KEY, EDGE_KEY, MAX_EDGE_KIND

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

    monkeypatch.setattr(read, "open", failing_open, raising=False)
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
        "base.heap was written by a newer heaptui (format 7, this heaptui reads up to 1)"
    )


def test_format_version_zero_is_unknown() -> None:
    data = GOOD[:8] + struct.pack("<I", 0) + GOOD[12:]
    assert error_of(data) == invalid("unknown format version 0")


# --- truncation at every interesting point ---------------------------------------------------


def _cut_points() -> list[tuple[str, int]]:
    points = [("inside magic", 5), ("after magic", 8), ("inside preamble", 20)]
    points += [("inside header", PREAMBLE_SIZE + 10), ("before data", data_start(GOOD))]
    for name in COLUMN_DTYPES:
        start, end = column_extent(GOOD, name)
        if end > start:
            points.append((f"inside {name}", (start + end) // 2 if end - start > 1 else start))
    points.append(("inside end marker", len(GOOD) - 4))
    points.append(("before end marker", len(GOOD) - 8))
    return points


@pytest.mark.parametrize(("where", "cut"), _cut_points(), ids=[p[0] for p in _cut_points()])
def test_truncated_file_names_the_byte(where: str, cut: int) -> None:
    assert error_of(GOOD[:cut]) == invalid(f"truncated at byte {cut}")


def test_bytes_after_the_end_marker() -> None:
    assert error_of(GOOD + b"junk") == invalid("4 unexpected bytes after the end marker")


def test_missing_end_marker() -> None:
    assert error_of(GOOD[:-8] + b"XXXXXXXX") == invalid("end marker missing")


# --- checksums ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in COLUMN_DTYPES if len(range(*column_extent(GOOD, n)))])
def test_flipped_byte_in_a_column_fails_its_checksum(name: str) -> None:
    start, end = column_extent(GOOD, name)
    data = bytearray(GOOD)
    data[(start + end) // 2] ^= 0x10
    assert error_of(bytes(data)) == invalid(f"column {name!r} fails its checksum")


def test_flipped_byte_in_the_header_fails_its_checksum() -> None:
    data = bytearray(GOOD)
    data[PREAMBLE_SIZE + 5] ^= 0x01
    assert error_of(bytes(data)) == invalid("header fails its checksum")


# --- a header that lies (checksum made valid) -----------------------------------------------


def _column(header: dict[str, Any], name: str) -> dict[str, Any]:
    return next(entry for entry in header["columns"] if entry["name"] == name)


def _set(name: str, key: str, value: Any):  # type: ignore[no-untyped-def]
    def change(header: dict[str, Any]) -> None:
        _column(header, name)[key] = value

    return change


def _header_bytes(text: bytes) -> bytes:
    """A file whose header is ``text`` (with a correct checksum), then the original data."""
    body = GOOD[data_start(GOOD) :]
    preamble = GOOD[:12] + struct.pack("<IQ", zlib.crc32(text), len(text))
    padding = b"\0" * (-(PREAMBLE_SIZE + len(text)) % 8)
    return preamble + text + padding + body


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (b"[1, 2]", "header is not a JSON object"),
        (b"{not json", "header is not valid JSON"),
        (b"\xff\xfe{}", "header is not valid JSON"),
        (b'{"a": NaN}', "NaN in header"),
        (b'{"a": 1e999}', "non-finite number in header"),
        (b'{"a": 1, "a": 2}', "duplicate key"),
        (b"[" * 100_000 + b"]" * 100_000, "header is not valid JSON"),
        (b'{"data_size": 1' + b"0" * 5000 + b"}", "header is not valid JSON"),
        (b"{}", "header field 'data_size' missing or not int"),
    ],
)
def test_header_that_is_not_the_expected_json(text: bytes, reason: str) -> None:
    assert error_of(_header_bytes(text)) == invalid(reason)


def _drop(name: str):  # type: ignore[no-untyped-def]
    def change(header: dict[str, Any]) -> None:
        header["columns"] = [c for c in header["columns"] if c["name"] != name]

    return change


def _duplicate(name: str):  # type: ignore[no-untyped-def]
    def change(header: dict[str, Any]) -> None:
        header["columns"].append(dict(_column(header, name)))

    return change


def _put(key: str, value: Any):  # type: ignore[no-untyped-def]
    def change(header: dict[str, Any]) -> None:
        header[key] = value

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (_set("addr", "dtype", "<f4"), "column 'addr' has unknown dtype '<f4'"),
        (_set("addr", "dtype", "<i8"), "column 'addr' has dtype <i8, expected <u8"),
        (_set("addr", "dtype", "O"), "column 'addr' has unknown dtype 'O'"),
        (_set("addr", "count", -1), "column 'addr' has a bad count, offset or checksum field"),
        (_set("addr", "count", True), "header field 'count' missing or not int"),
        (_set("addr", "count", 1.0), "header field 'count' missing or not int"),
        (_set("addr", "offset", 4), "column 'addr' has a bad count, offset or checksum field"),
        (_set("addr", "crc32", 2**32), "column 'addr' has a bad count, offset or checksum field"),
        (_set("addr", "count", 10**9), "column 'addr' lies outside the data section"),
        (_set("edge_kind", "offset", 0), "columns 'edge_kind' and 'addr' overlap"),
        (_set("addr", "name", 5), "header field 'name' missing or not str"),
        (_drop("root_kind"), "column 'root_kind' missing"),
        (_duplicate("size"), "column 'size' appears twice"),
        (_put("columns", {"addr": 1}), "header field 'columns' missing or not list"),
        (_put("columns", [1]), "a column entry is not an object"),
        (_put("data_size", 12), "bad data size in header"),
        (_put("data_size", -8), "bad data size in header"),
        (_put("type_names", "dict"), "header field 'type_names' missing or not list"),
        (_put("type_names", ["a", 1]), "a type name is not a string"),
        (_put("type_names", ["a\ud800"]), "a type name is not valid UTF-8"),
        (_put("meta", []), "header field 'meta' missing or not dict"),
        (_put("meta", {"x": {"y": 1}}), "meta field 'x' is not a JSON scalar or a list of them"),
        (_put("meta", {"x": [[1]]}), "meta field 'x' is not a JSON scalar or a list of them"),
        (_put("meta", {"x": "\udc80"}), "meta field 'x' is not valid UTF-8"),
    ],
)
def test_header_that_lies_about_its_columns(change: Any, reason: str) -> None:
    assert error_of(rewrite_header(GOOD, change)) == invalid(reason)


def test_unknown_extra_columns_are_allowed_for_later_versions() -> None:
    def add(header: dict[str, Any]) -> None:
        header["columns"].append(
            {"name": "future", "dtype": "<u8", "count": 0, "offset": 0, "crc32": 0}
        )

    arrays = read_snapshot_bytes(rewrite_header(GOOD, add), "x")
    assert len(arrays.addr) == len(sample_raw().addr)


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
    from heaptui.labels import EDGE_INDEX

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
    def shorten(header: dict[str, Any]) -> None:
        entry = _column(header, column)
        entry["count"] -= 1

    assert error_of(refresh_checksums(rewrite_header(GOOD, shorten))) == invalid(reason)


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


def test_header_has_the_type_table() -> None:
    assert header_of(GOOD)["type_names"] == sample_raw().type_names
