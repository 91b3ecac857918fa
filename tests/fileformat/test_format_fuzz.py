"""Fuzz the reader: any input gives either consistent arrays or a SnapshotError, never more."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snapshot_files import (
    directory_of,
    directory_span,
    encode,
    encode_segmented,
    refresh_checksums,
    rewrite_directory,
    sample_raw,
)
from v1_files import to_v1

from heaptui.core.errors import SnapshotError
from heaptui.core.labels import (
    EDGE_ATTR,
    EDGE_CLOSURE,
    EDGE_DICT_KEY,
    EDGE_KEY,
    EDGE_LOCAL,
    MAX_EDGE_KIND,
    MAX_ROOT_KIND,
)
from heaptui.fileformat.arrays import SnapshotArrays
from heaptui.fileformat.layout import COLUMN_DTYPES, MAGIC, PREAMBLE_SIZE
from heaptui.fileformat.read import read_snapshot_bytes

GOOD = encode(sample_raw())
# The same heap streamed two items at a time: many interleaved segments per column.
SEGMENTED = encode_segmented(sample_raw(), chunk=2)
V1 = to_v1(GOOD)
FILES = {"one segment per column": GOOD, "many segments": SEGMENTED, "version 1": V1}
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_usable(arrays: SnapshotArrays) -> None:
    """What the model relies on without checking again."""
    nodes, edges = len(arrays.addr), len(arrays.edge_target)
    strings = len(arrays.string_offsets) - 1
    for name in ("type_index", "size", "length", "flags", "edge_count"):
        assert len(getattr(arrays, name)) == nodes
    assert len(arrays.repr_offsets) == nodes + 1
    assert int(arrays.edge_count.sum()) == edges
    assert all(int(t) < len(arrays.type_names) for t in arrays.type_index)
    assert all(int(k) <= MAX_EDGE_KIND for k in arrays.edge_kind)
    assert all(1 <= int(k) <= MAX_ROOT_KIND for k in arrays.root_kind)
    assert all(int(label) < strings for label in arrays.root_label)
    blob = arrays.string_blob.tobytes()
    offsets = arrays.string_offsets.tolist()
    for start, end in itertools.pairwise(offsets):
        blob[start:end].decode("utf-8", "surrogatepass")
    for kind, payload in zip(arrays.edge_kind.tolist(), arrays.edge_payload.tolist(), strict=True):
        if kind in (EDGE_ATTR, EDGE_KEY, EDGE_CLOSURE, EDGE_LOCAL):
            assert 0 <= payload < strings
        if kind == EDGE_DICT_KEY:
            assert -1 <= payload < strings
    json.dumps(arrays.meta)


def read_or_refuse(data: bytes) -> None:
    try:
        arrays = read_snapshot_bytes(data, "fuzz.heap")
    except SnapshotError as exc:
        assert "\n" not in str(exc)
        return
    assert_usable(arrays)


@pytest.mark.parametrize("kind", FILES)
def test_every_truncation_of_a_valid_file_is_refused(kind: str) -> None:
    data = FILES[kind]
    for cut in range(1, len(data)):
        try:
            read_snapshot_bytes(data[:cut], "cut.heap")
        except SnapshotError as exc:
            assert str(exc) == (
                f"cut.heap is not a valid heaptui snapshot (truncated at byte {cut})"
            )
        else:
            raise AssertionError(f"a file cut at byte {cut} was accepted")


flips = st.lists(
    st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), min_size=1, max_size=8
)


def _flipped(data: bytes, changes: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for position, mask in changes:
        out[position % len(out)] ^= mask
    return bytes(out)


@FUZZ
@given(st.sampled_from(list(FILES)), flips)
def test_flipped_bytes_anywhere(kind: str, changes: list[tuple[int, int]]) -> None:
    read_or_refuse(_flipped(FILES[kind], changes))


def _data_flips(data: bytes) -> st.SearchStrategy[list[tuple[int, int]]]:
    """Flips inside the data region of a version 2 file (between preamble and directory)."""
    end = directory_span(data)[0] - 1
    return st.lists(
        st.tuples(st.integers(PREAMBLE_SIZE, end), st.integers(1, 255)), min_size=1, max_size=6
    )


@FUZZ
@given(
    st.sampled_from([GOOD, SEGMENTED]).flatmap(
        lambda data: st.tuples(st.just(data), _data_flips(data))
    )
)
def test_flipped_column_bytes_with_fixed_checksums(
    case: tuple[bytes, list[tuple[int, int]]],
) -> None:
    """Past the checksums: the consistency checks alone must catch what is wrong."""
    data, changes = case
    read_or_refuse(refresh_checksums(_flipped(data, changes)))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=6,
)


def _entry(directory: dict[str, Any], column: str) -> dict[str, Any]:
    return next(e for e in directory["columns"] if e["name"] == column)


@FUZZ
@given(
    st.sampled_from([*COLUMN_DTYPES, "directory"]),
    st.sampled_from(
        ["name", "dtype", "count", "segments", "data_size", "type_names", "meta", "columns"]
    ),
    json_values,
)
def test_directory_fields_replaced_by_any_json(column: str, key: str, value: Any) -> None:
    def change(directory: dict[str, Any]) -> None:
        if column == "directory":
            directory[key] = value
        else:
            _entry(directory, column)[key] = value

    read_or_refuse(rewrite_directory(SEGMENTED, change))


@FUZZ
@given(
    st.sampled_from(list(COLUMN_DTYPES)),
    st.integers(0, 5),
    st.integers(0, 2),
    st.integers(-(2**65), 2**65) | st.integers(-64, 64) | st.sampled_from([0.5, True, None, "8"]),
)
def test_segment_fields_replaced(column: str, segment: int, field: int, value: Any) -> None:
    def change(directory: dict[str, Any]) -> None:
        segments = _entry(directory, column)["segments"]
        if segments:
            segments[segment % len(segments)][field] = value

    changed = rewrite_directory(SEGMENTED, change)
    read_or_refuse(changed)
    if field != 2 and type(value) is int:  # the checksum made to match what is named now
        read_or_refuse(refresh_checksums(changed))


@FUZZ
@given(st.sampled_from(list(COLUMN_DTYPES)), st.integers(-3, 3), st.booleans())
def test_column_counts_shifted_with_fixed_checksums(column: str, delta: int, both: bool) -> None:
    """Shifting a column's count alone, or with its last segment's (so they still add up)."""

    def change(directory: dict[str, Any]) -> None:
        entry = _entry(directory, column)
        entry["count"] = entry["count"] + delta
        if both and entry["segments"]:
            entry["segments"][-1][1] += delta

    read_or_refuse(refresh_checksums(rewrite_directory(SEGMENTED, change)))


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    read_or_refuse(data)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_after_a_valid_preamble(tail: bytes) -> None:
    read_or_refuse(GOOD[:24] + tail)
    read_or_refuse(MAGIC + tail)


@pytest.mark.parametrize("kind", FILES)
def test_unfuzzed_files_are_accepted(kind: str) -> None:
    arrays = read_snapshot_bytes(FILES[kind], "good.heap")
    assert_usable(arrays)
    assert np.array_equal(arrays.addr, np.array(list(sample_raw().addr), dtype=np.uint64))
    assert len(directory_of(SEGMENTED)["columns"][0]["segments"]) == 5
