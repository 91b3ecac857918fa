"""Allocation sites: file round trip of the optional columns, their validation, per-object
tracebacks, growth grouped by site, and what the status says when sites are missing."""

from __future__ import annotations

from array import array
from pathlib import Path

import pytest

from heaptui.core.errors import SnapshotError
from heaptui.core.labels import EDGE_INDEX, ROOT_MODULE
from heaptui.core.raw import RawSnapshot
from heaptui.fileformat.write import write_snapshot_file
from heaptui.model.allocsites import Frame, alloc_site, alloc_status, growth_by_site
from heaptui.model.load import load_snapshot
from heaptui.model.snapshot import Snapshot
from heaptui.testing import SnapshotBuilder

LIST = 0x100


def _heap(items: int, *, traced: bool = True, python: str = "3.12.1") -> RawSnapshot:
    """A module list holding ``items`` app.Item objects; item i was allocated at app.py line
    10 (even i) or 20 (odd i), both called from main.py:5; the last item has no traceback."""
    meta: dict[str, object] = {"python": python, "tracemalloc": traced}
    b = SnapshotBuilder(meta)
    b.node(LIST, "list", size=56 + 8 * items, length=items)
    b.root(LIST, ROOT_MODULE, "sys.modules['app']")
    for i in range(items):
        b.node(0x1000 + i * 0x40, "app.Item", size=48 + i)
        b.edge(LIST, 0x1000 + i * 0x40, EDGE_INDEX, i)
    raw = b.build()
    if not traced:
        return raw
    app, main = len(raw.strings), len(raw.strings) + 1
    raw.strings += ["app.py", "main.py"]
    raw.frame_file = array("I", [app, app, main])
    raw.frame_line = array("I", [10, 20, 5])
    raw.trace_offsets = array("Q", [0, 2, 4])  # trace 0: app.py:10 <- main.py:5
    raw.trace_frames = array("I", [0, 2, 1, 2])  # trace 1: app.py:20 <- main.py:5
    raw.alloc_addr = array("Q", [0x1000 + i * 0x40 for i in range(items - 1)] + [0xDEAD])
    raw.alloc_trace = array("I", [i % 2 for i in range(items - 1)] + [0])
    raw.meta.update({"tracemalloc_frames": 2, "alloc_traced": items, "alloc_untraced": 1})
    return raw


def _load(raw: RawSnapshot, tmp_path: Path, name: str = "x.heap") -> Snapshot:
    return load_snapshot(write_snapshot_file(raw, tmp_path / name))


def test_each_object_gets_its_traceback_after_a_file_round_trip(tmp_path: Path) -> None:
    snap = _load(_heap(5), tmp_path)
    node = snap.node_for_addr(0x1000 + 3 * 0x40)
    assert node is not None
    assert alloc_site(snap, node) == [Frame("app.py", 20), Frame("main.py", 5)]
    assert str(alloc_site(snap, snap.node_for_addr(0x1000) or 0)[0]) == "app.py:10"  # type: ignore[index]
    assert alloc_site(snap, snap.node_for_addr(0x1000 + 4 * 0x40) or 0) is None  # the last one
    assert alloc_site(snap, snap.node_for_addr(LIST) or 0) is None
    assert alloc_status(snap).recorded


def test_growth_by_site_groups_new_objects_biggest_first(tmp_path: Path) -> None:
    base = Snapshot.from_raw(_heap(1))
    now = _load(_heap(7), tmp_path)
    sites = growth_by_site(base, now, "app.Item")
    assert sites is not None
    # New: items 1..6; item 6 has no traceback; odd items (1, 3, 5) came from line 20.
    assert (sites.total_count, sites.untraced_count, sites.untraced_size) == (6, 1, 54)
    assert [(str(g.frames[0]), g.objects, g.size) for g in sites.groups] == [
        ("app.py:20", 3, 49 + 51 + 53),
        ("app.py:10", 2, 50 + 52),
    ]
    assert sites.groups[0].frames[1] == Frame("main.py", 5)
    assert int(now.addr[sites.groups[0].sample]) == 0x1000 + 5 * 0x40  # the largest
    both = growth_by_site(base, now, "app.Item", depth=2)
    assert both is not None and [g.objects for g in both.groups] == [3, 2]
    nothing = growth_by_site(base, now, "no.SuchType")
    assert nothing is not None and (nothing.groups, nothing.total_count) == ([], 0)


def test_old_files_and_untraced_programs_have_no_sites_and_say_how(tmp_path: Path) -> None:
    snap = _load(_heap(3, traced=False), tmp_path)
    assert snap.alloc is None and snap.node_trace is None
    assert alloc_site(snap, 0) is None
    assert growth_by_site(snap, snap, "app.Item") is None
    text = alloc_status(snap).explanation
    assert "tracemalloc was off" in text and "PYTHONTRACEMALLOC=25" in text
    raw = _heap(3, traced=False)
    del raw.meta["tracemalloc"]  # a file from before allocation sites existed
    assert "has no allocation sites" in alloc_status(_load(raw, tmp_path, "old.heap")).explanation


def test_status_names_the_311_bug_and_counts_objects_without_traceback(tmp_path: Path) -> None:
    text = alloc_status(_load(_heap(4, python="3.11.7"), tmp_path)).explanation
    assert "1 of 5 objects have no traceback" in text and "cpython#101430" in text
    assert "cpython#101430" not in alloc_status(_load(_heap(4), tmp_path, "y.heap")).explanation


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("alloc_trace", array("I", [0, 9, 0, 1]), "'alloc_trace' refers to a traceback"),
        ("trace_frames", array("I", [0, 7, 1, 2]), "'trace_frames' refers to a frame"),
        ("frame_file", array("I", [0, 999, 1]), "'frame_file' refers to a string"),
        ("trace_offsets", array("Q", [0, 3, 2]), "'trace_offsets' does not span"),
        ("frame_line", array("I", [1]), "'frame_line' does not match"),
    ],
)
def test_reader_refuses_inconsistent_allocation_columns(
    tmp_path: Path,
    column: str,
    value: array,
    message: str,  # type: ignore[type-arg]
) -> None:
    raw = _heap(4)
    setattr(raw, column, value)
    path = tmp_path / "bad.heap"
    if column == "frame_line":
        with pytest.raises(ValueError, match="frame_line"):  # the writer refuses it first
            write_snapshot_file(raw, path)
        return
    write_snapshot_file(raw, path)
    with pytest.raises(SnapshotError, match=message.replace("'", ".")):
        load_snapshot(path)
