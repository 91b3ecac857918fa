"""The C walk's string table: positions, deduplication, encoded batches for the writer, and
forgetting past its limit, so a streamed capture's table never grows with the heap."""

from __future__ import annotations

import io
from array import array
from itertools import pairwise
from typing import Any

import pytest

from heaptui.capture import accel
from heaptui.core.raw import RawSnapshot
from heaptui.fileformat.read import read_snapshot_bytes
from heaptui.fileformat.write import SnapshotStreamWriter

pytestmark = pytest.mark.skipif(not accel.available(), reason="the C walk is not built")


def new_table(limit: int = 0) -> Any:
    from heaptui.capture import _walk  # type: ignore[attr-defined]

    return _walk.StringTable(limit)


class Batches:
    """A drain sink that decodes what it was given (it must not keep the views)."""

    def __init__(self) -> None:
        self.batches: list[tuple[list[int], bytes]] = []

    def __call__(self, blob: memoryview, offsets: memoryview) -> None:
        starts = array("Q", bytes(offsets)).tolist()
        self.batches.append((starts, bytes(blob)))

    def texts(self) -> list[str]:
        out = []
        for starts, blob in self.batches:
            base = starts[0]
            bounds = [s - base for s in starts] + [len(blob)]
            out += [blob[a:b].decode("utf-8", "surrogatepass") for a, b in pairwise(bounds)]
        return out


def test_intern_gives_each_distinct_text_one_position_in_first_seen_order() -> None:
    table = new_table()
    assert [table.intern(t) for t in ["a", "b", "a", "", "b", "c"]] == [0, 1, 0, 2, 1, 3]
    assert table.intern_many(["c", "d", "a"]) == [3, 4, 0]
    assert len(table) == 5
    assert table.undrained() == ["a", "b", "", "c", "d"]


def test_texts_that_are_not_ascii_or_hold_lone_surrogates_come_back_unchanged() -> None:
    table = new_table()
    texts = ["caf\u00e9", "\U0001f600 grin", "lone \ud800 surrogate", "caf\u00e9"]
    positions = [table.intern(t) for t in texts]
    assert positions == [0, 1, 2, 0]
    assert table.undrained() == texts[:3]


def test_many_texts_survive_the_index_growing() -> None:
    table = new_table()
    texts = [f"key-{i}" for i in range(50_000)]
    assert table.intern_many(texts) == list(range(50_000))
    assert table.intern_many(texts[::-1]) == list(range(50_000))[::-1]
    assert table.undrained() == texts


def test_drain_hands_over_encoded_batches_with_offsets_into_the_whole_blob() -> None:
    table, sink = new_table(), Batches()
    table.intern_many(["one", "tw\u00f6"])
    assert table.drain(sink) == 2
    table.intern_many(["one", "three"])  # "one" is still remembered: same position
    assert table.drain(sink) == 3
    assert table.drain(sink) == 3  # nothing new: no call
    assert [starts for starts, _ in sink.batches] == [[0, 3], [7]]
    assert sink.texts() == ["one", "tw\u00f6", "three"]
    assert table.undrained() == []


def test_past_its_limit_the_table_forgets_at_a_drain_and_positions_go_on() -> None:
    table, sink = new_table(limit=2), Batches()
    assert table.intern_many(["a", "b", "c"]) == [0, 1, 2]
    table.drain(sink)  # 3 remembered > 2: forgotten
    assert table.intern_many(["a", "d"]) == [3, 4]  # "a" again: a repeat in the file
    table.drain(sink)
    assert sink.texts() == ["a", "b", "c", "a", "d"]
    assert [starts[0] for starts, _ in sink.batches] == [0, 3]


def test_a_failing_sink_keeps_its_error_and_the_strings() -> None:
    table = new_table()
    table.intern("kept")

    def broken(blob: memoryview, offsets: memoryview) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        table.drain(broken)
    assert table.undrained() == ["kept"]


def test_the_views_given_to_a_sink_are_released_after_the_call() -> None:
    table, kept = new_table(), []
    table.intern("x")
    table.drain(lambda blob, offsets: kept.append(blob))
    with pytest.raises(ValueError):
        bytes(kept[0])


def test_intern_refuses_what_is_not_an_exact_str() -> None:
    class Str(str):
        pass

    table = new_table()
    for bad in [b"bytes", 3, Str("sub")]:
        with pytest.raises(TypeError):
            table.intern(bad)
    with pytest.raises(ValueError):
        new_table(limit=-1)


def test_drained_batches_read_back_as_the_files_string_table() -> None:
    table, out = new_table(limit=1), io.BytesIO()
    writer = SnapshotStreamWriter(out)
    table.intern_many(["alpha", "b\u00e9ta"])
    table.drain(writer.add_encoded_strings)
    table.intern_many(["alpha", ""])
    table.drain(writer.add_encoded_strings)
    table.intern("tail")
    raw = RawSnapshot(strings=table.undrained())
    raw.repr_offsets.append(0)
    writer.finish(raw)
    arrays = read_snapshot_bytes(out.getvalue(), "streamed")
    blob, offsets = arrays.string_blob.tobytes(), arrays.string_offsets.tolist()
    texts = [blob[a:b].decode("utf-8") for a, b in pairwise(offsets)]
    assert texts == ["alpha", "b\u00e9ta", "alpha", "", "tail"]


def test_the_writer_refuses_a_batch_that_does_not_start_where_the_table_ends() -> None:
    writer = SnapshotStreamWriter(io.BytesIO())
    writer.add_encoded_strings(b"abc", array("Q", [0, 1]))
    with pytest.raises(ValueError, match="must start at blob byte 3"):
        writer.add_encoded_strings(b"de", array("Q", [0]))
