"""A streamed ``dump`` (the C walk hands its columns to the file in chunks) writes the same
snapshot as a capture held in memory, leaves nothing behind on failure, and says what it did."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from heaptui.capture import _run_walker, accel, dump, snapshot
from heaptui.capture.streaming import FileTarget, stream_capture
from heaptui.model.load import load_snapshot
from heaptui.model.snapshot import Snapshot

pytestmark = pytest.mark.skipif(not accel.available(), reason="the C walk is not built")


class Order:
    def __init__(self, n: int) -> None:
        self.n = n
        self.items = [f"item-{n}-{k}" for k in range(3)]
        self.meta = {"id": n, "tags": ("a", "b"), 2.5: None}


def close_over(value: Any) -> Any:
    def inner() -> Any:
        return value

    return inner


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few hundred nodes: a test heap then spans hundreds of segments, and the
    string table forgets what it has seen every few chunks (so names repeat in the file)."""
    monkeypatch.setattr(accel, "CHUNK_NODES", 300)
    monkeypatch.setattr(accel, "CHUNK_EDGES", 500)
    monkeypatch.setattr(accel, "STRING_INDEX_LIMIT", 40)


def described(snap: Snapshot, obj: Any) -> tuple[Any, ...]:
    """What the snapshot says about ``obj``: type, size, text and labelled references."""
    node = snap.node_for_addr(id(obj))
    assert node is not None, f"{type(obj).__name__} object missing from the snapshot"
    start, end = int(snap.edge_offsets[node]), int(snap.edge_offsets[node + 1])
    edges = sorted(
        (snap.edge_label(e), int(snap.addr[snap.edge_target[e]])) for e in range(start, end)
    )
    return snap.type_name(node), int(snap.size[node]), snap.repr_of(node), edges


def test_a_streamed_dump_describes_every_object_as_a_capture_in_memory_does(
    tmp_path: Path, small_chunks: None
) -> None:
    orders = [Order(n) for n in range(2000)]
    closure = close_over(orders[7])
    registry = {f"order:{o.n}": o for o in orders[::10]}
    path = tmp_path / "streamed.heap"

    target = FileTarget(str(path))
    raw = stream_capture(target, _run_walker, sys._getframe(), False, ())
    target.close()
    in_memory = Snapshot.from_raw(snapshot())
    streamed = load_snapshot(path)

    assert raw.streamed_nodes > 10 * accel.CHUNK_NODES  # it really went out in chunks
    assert len(raw.addr) <= accel.CHUNK_NODES
    assert streamed.meta["objects"] == streamed.node_count == raw.node_count
    assert streamed.meta["edges"] == raw.edge_total
    assert streamed.meta["walker"] == "c"
    for obj in [orders[0], orders[1999], orders[5].items, orders[5].meta, closure, registry]:
        assert described(streamed, obj) == described(in_memory, obj)
    assert streamed.repr_of(streamed.node_for_addr(id(orders[3].items[1]))) == "'item-3-1'"
    # The string table went out in batches and was forgotten past 40 entries, many times over;
    # every label above still read right.
    assert len(streamed._string_offsets) - 1 > 10 * 40


def test_a_failing_file_leaves_the_old_snapshot_and_no_temporary(
    tmp_path: Path, small_chunks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "keep.heap"
    dump(str(path))
    before = path.read_bytes()
    from heaptui.fileformat import write

    calls = []

    def failing_segment(self: Any, name: str, view: memoryview) -> int:
        calls.append(name)
        if len(calls) > 40:  # well into the walk
            raise OSError(28, "No space left on device")
        return 0

    monkeypatch.setattr(write.SnapshotStreamWriter, "_write_segment", failing_segment)
    with pytest.raises(OSError, match="No space left"):
        dump(str(path))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.heap"]
    # The walk released what it held: the process captures normally afterwards.
    again = snapshot()
    assert again.node_count > 1000


def test_without_the_c_walk_or_with_tracemalloc_the_dump_is_written_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracemalloc

    held = ["held", "by", "the", "test"]
    tracemalloc.start(1)
    try:
        path = tmp_path / "traced.heap"
        target = FileTarget(str(path))
        raw = stream_capture(target, _run_walker, sys._getframe(), False, ())
        target.close()
    finally:
        tracemalloc.stop()
    assert raw.streamed_nodes == 0
    snap = load_snapshot(path)
    assert snap.meta["tracemalloc"] is True
    assert snap.node_for_addr(id(held)) is not None

    monkeypatch.setenv(accel.WALKER_ENV, "python")
    path = tmp_path / "python.heap"
    dump(str(path))
    snap = load_snapshot(path)
    assert snap.meta["walker"] == "python"
    assert snap.node_for_addr(id(held)) is not None


def test_chunks_shrink_with_a_small_heap_and_stop_growing_with_a_big_one() -> None:
    small, big = accel.chunk_limits(20_000), accel.chunk_limits(50_000_000)
    assert small == (accel.MIN_CHUNK_NODES, 2 * accel.MIN_CHUNK_NODES, accel.MIN_CHUNK_NODES)
    assert big == (accel.CHUNK_NODES, accel.CHUNK_EDGES, accel.STRING_INDEX_LIMIT)
    nodes, edges, strings = accel.chunk_limits(300_000)
    assert accel.MIN_CHUNK_NODES < nodes < accel.CHUNK_NODES
    assert edges == 2 * nodes and strings == nodes
