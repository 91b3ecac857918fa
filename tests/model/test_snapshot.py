"""Snapshot: addresses, resolved edges, labels and derived reprs."""

from __future__ import annotations

from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_heaps import APP, APP_DICT, CACHE, ORPHAN, app_heap, value_addr

from heaptui.core.labels import EDGE_ATTR, EDGE_KEY, ROOT_MODULE
from heaptui.model import snapshot as snapshot_module
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


@st.composite
def address_graphs(draw: st.DrawFn) -> tuple[list[int], list[int], list[int]]:
    """Distinct node addresses (aligned, in one or two far-apart clusters, or anywhere in 64
    bits), edge counts, and targets that are mostly nodes and sometimes unknown addresses."""
    layout = draw(st.sampled_from(["heap", "two_clusters", "anywhere"]))
    if layout == "anywhere":
        pool = st.integers(0, 2**64 - 1)
    else:
        base = st.sampled_from(
            [0x7F85_0000_0000, 0x5558_4B40_0000] if layout == "two_clusters" else [0x7F00_0000_0000]
        )
        pool = st.builds(lambda b, k: b + 16 * k, base, st.integers(0, 5000))
    addrs = draw(st.lists(pool, min_size=1, max_size=60, unique=True))
    counts = draw(st.lists(st.integers(0, 3), min_size=len(addrs), max_size=len(addrs)))
    targets = [
        draw(st.one_of(st.sampled_from(addrs), pool, st.just(8))) for _ in range(sum(counts))
    ]
    return addrs, counts, targets


def _resolved(addrs: list[int], counts: list[int], targets: list[int]) -> Snapshot:
    b = SnapshotBuilder()
    for a in addrs:
        b.node(a, "object")
    raw = b.build()
    raw.edge_count = array("I", counts)
    raw.edge_target = array("Q", targets)
    raw.edge_kind = array("B", [0] * len(targets))
    raw.edge_payload = array("i", [-1] * len(targets))
    return Snapshot.from_raw(raw)


@settings(max_examples=80, deadline=None)
@given(address_graphs())
def test_packed_sort_and_search_fallback_resolve_edges_identically(
    graph: tuple[list[int], list[int], list[int]],
) -> None:
    addrs, counts, targets = graph
    fast = _resolved(addrs, counts, targets)
    slow = _resolved(addrs, counts, targets)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(snapshot_module, "resolve_order", lambda *a: None)
        mp.setattr(snapshot_module, "address_order", lambda *a: None)
        slow.resolved_edges  # noqa: B018
        slow.addr_order  # noqa: B018
    a, b = fast.resolved_edges, slow.resolved_edges
    assert fast.addr_order.tolist() == slow.addr_order.tolist()
    assert sorted(addrs) == fast.sorted_addr.tolist()
    for name in ("offsets", "target", "by_target", "target_rank"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    assert a.dropped == b.dropped == sum(t not in set(addrs) for t in targets)
    # Every kept edge points at the node with the address it was captured with.
    kept = [t for t in targets if t in set(addrs)]
    assert [int(fast.addr[p]) for p in a.target] == kept
