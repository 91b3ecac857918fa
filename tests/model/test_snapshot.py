"""Snapshot: addresses, resolved edges, labels and derived reprs."""

from __future__ import annotations

from model_heaps import APP, APP_DICT, CACHE, ORPHAN, app_heap, value_addr

from heaptui.labels import EDGE_ATTR, EDGE_KEY, ROOT_MODULE
from heaptui.model.snapshot import Snapshot
from heaptui.testing import SnapshotBuilder


def test_node_for_addr_finds_objects_and_rejects_unknown_addresses() -> None:
    snap = app_heap()
    node = snap.node_for_addr(CACHE)
    assert node is not None
    assert int(snap.addr[node]) == CACHE
    assert snap.type_name(node) == "dict"
    assert snap.node_for_addr(0x1234) is None
    assert snap.node_for_addr(-1) is None


def test_edges_resolve_to_positions_with_labels() -> None:
    snap = app_heap()
    app_dict = snap.node_for_addr(APP_DICT)
    start, end = snap.edge_offsets[app_dict], snap.edge_offsets[app_dict + 1]
    assert end - start == 1
    assert int(snap.edge_target[start]) == snap.node_for_addr(CACHE)
    assert snap.edge_label(int(start)) == "['CACHE']"
    app = snap.node_for_addr(APP)
    assert snap.edge_label(int(snap.edge_offsets[app])) == ".__dict__"


def test_edges_to_unknown_addresses_are_dropped_and_counted() -> None:
    b = SnapshotBuilder()
    b.node(0x10, "list", length=3)
    b.node(0x20, "int", repr="7")
    b.edge(0x10, 0x999, EDGE_KEY, "'gone'")
    b.edge(0x10, 0x20, EDGE_ATTR, "kept")
    b.edge(0x20, 0x998)
    b.root(0x10, ROOT_MODULE, "sys.modules['m']")
    snap = Snapshot.from_raw(b.build())
    assert snap.stored_edge_total == 3
    assert snap.edge_total == 1
    assert snap.meta["dropped_edges"] == 2
    assert snap.edge_offsets.tolist() == [0, 1, 1]
    assert snap.edge_label(0) == ".kept"
    assert snap.edge_target.tolist() == [1]


def test_repr_is_stored_text_or_derived_from_type_length_and_address() -> None:
    snap = app_heap()
    assert snap.repr_of(snap.node_for_addr(value_addr(0) + 0x20)) == "'payload 000'"
    assert snap.repr_of(snap.node_for_addr(CACHE)) == "dict len=3"
    assert snap.repr_of(snap.node_for_addr(value_addr(1))) == f"app.Value at {value_addr(1):#x}"
    assert snap.repr_of(snap.node_for_addr(ORPHAN)) == "tuple len=1"


def test_totals_and_roots() -> None:
    snap = app_heap(values=2)
    assert snap.total_bytes == int(snap.size.sum())
    assert snap.node_count == 3 + 2 * 3 + 3
    assert [snap.string(int(i)) for i in snap.root_label] == [
        "sys.modules['app']",
        "thread Worker: worker() app.py:10",
    ]
    assert snap.root_node.tolist()[0] == snap.node_for_addr(APP)


def test_empty_snapshot_is_usable() -> None:
    snap = Snapshot.from_raw(SnapshotBuilder().build())
    assert snap.node_count == 0
    assert snap.edge_total == 0
    assert snap.total_bytes == 0
    assert snap.node_for_addr(0x10) is None
