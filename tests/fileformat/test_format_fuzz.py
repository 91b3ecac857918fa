"""Fuzz the reader: any input gives either consistent arrays or a SnapshotError, never more."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snapshot_files import data_start, encode, refresh_checksums, rewrite_header, sample_raw

from heaptui.errors import SnapshotError
from heaptui.fileformat.arrays import SnapshotArrays
from heaptui.fileformat.layout import COLUMN_DTYPES, MAGIC
from heaptui.fileformat.read import read_snapshot_bytes
from heaptui.labels import (
    EDGE_ATTR,
    EDGE_CLOSURE,
    EDGE_DICT_KEY,
    EDGE_KEY,
    EDGE_LOCAL,
    MAX_EDGE_KIND,
    MAX_ROOT_KIND,
)

GOOD = encode(sample_raw())
DATA_START = data_start(GOOD)
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


def test_every_truncation_of_a_valid_file_is_refused() -> None:
    for cut in range(1, len(GOOD)):
        try:
            read_snapshot_bytes(GOOD[:cut], "cut.heap")
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
@given(flips)
def test_flipped_bytes_anywhere(changes: list[tuple[int, int]]) -> None:
    read_or_refuse(_flipped(GOOD, changes))


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(DATA_START, len(GOOD) - 9), st.integers(1, 255)),
        min_size=1,
        max_size=6,
    )
)
def test_flipped_column_bytes_with_fixed_checksums(changes: list[tuple[int, int]]) -> None:
    """Past the checksums: the consistency checks alone must catch what is wrong."""
    read_or_refuse(refresh_checksums(_flipped(GOOD, changes)))


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


@FUZZ
@given(
    st.sampled_from([*COLUMN_DTYPES, "header"]),
    st.sampled_from(
        ["name", "dtype", "count", "offset", "crc32", "data_size", "type_names", "meta", "columns"]
    ),
    json_values,
)
def test_header_fields_replaced_by_any_json(column: str, key: str, value: Any) -> None:
    def change(header: dict[str, Any]) -> None:
        if column == "header":
            header[key] = value
        else:
            entry = next(e for e in header["columns"] if e["name"] == column)
            entry[key] = value

    read_or_refuse(rewrite_header(GOOD, change))


@FUZZ
@given(st.sampled_from(list(COLUMN_DTYPES)), st.integers(-3, 3))
def test_column_counts_shifted_with_fixed_checksums(column: str, delta: int) -> None:
    def change(header: dict[str, Any]) -> None:
        entry = next(e for e in header["columns"] if e["name"] == column)
        entry["count"] = entry["count"] + delta

    read_or_refuse(refresh_checksums(rewrite_header(GOOD, change)))


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    read_or_refuse(data)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_after_a_valid_preamble(tail: bytes) -> None:
    read_or_refuse(GOOD[:24] + tail)
    read_or_refuse(MAGIC + tail)


def test_unfuzzed_file_is_accepted() -> None:
    arrays = read_snapshot_bytes(GOOD, "good.heap")
    assert_usable(arrays)
    assert np.array_equal(arrays.addr, np.array(list(sample_raw().addr), dtype=np.uint64))
