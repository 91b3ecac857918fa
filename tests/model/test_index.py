"""GraphIndex: referents and referrers with labels, in-degree, root kinds."""

from __future__ import annotations

from model_heaps import APP, APP_DICT, CACHE, FRAME, ORPHAN, PENDING, app_heap, value_addr

from heaptui.core.labels import ROOT_MODULE, ROOT_OTHER, ROOT_THREAD
from heaptui.model.index import GraphIndex


def _labelled(index: GraphIndex, nodes, edges) -> set[tuple[int, str]]:
    snap = index.snapshot
    return {
        (int(snap.addr[n]), snap.edge_label(int(e)))
        for n, e in zip(nodes.tolist(), edges.tolist(), strict=True)
    }


def test_referents_are_the_outgoing_references_with_labels() -> None:
    snap = app_heap(values=2)
    index = GraphIndex(snap)
    nodes, edges = index.referents(snap.node_for_addr(CACHE))
    assert _labelled(index, nodes, edges) == {
        (value_addr(0), "['user:0']"),
        (value_addr(1), "['user:1']"),
    }


def test_referrers_are_the_incoming_references_with_labels() -> None:
    snap = app_heap(values=2)
    index = GraphIndex(snap)
    nodes, edges = index.referrers(snap.node_for_addr(CACHE))
    assert _labelled(index, nodes, edges) == {(APP_DICT, "['CACHE']"), (ORPHAN, "<ref>")}
    nodes, edges = index.referrers(snap.node_for_addr(PENDING))
    assert _labelled(index, nodes, edges) == {(FRAME, "f_locals['pending']")}


def test_in_degree_matches_the_referrer_lists() -> None:
    snap = app_heap(values=4, pending=3)
    index = GraphIndex(snap)
    for node in range(snap.node_count):
        assert index.in_degree[node] == len(index.referrers(node)[0])
    assert int(index.in_degree.sum()) == snap.edge_total


def test_root_kinds_stored_and_other() -> None:
    snap = app_heap()
    index = GraphIndex(snap)
    assert index.root_kind_of(snap.node_for_addr(APP)) == ROOT_MODULE
    assert index.root_kind_of(snap.node_for_addr(FRAME)) == ROOT_THREAD
    assert index.root_kind_of(snap.node_for_addr(ORPHAN)) == ROOT_OTHER
    assert index.root_kind_of(snap.node_for_addr(CACHE)) is None
    # The module and the thread frame have no referrers either, but they are stored roots.
    assert [int(snap.addr[n]) for n in index.other_roots] == [ORPHAN]
    assert index.root_label_of(snap.node_for_addr(APP)) == "sys.modules['app']"
    assert index.root_label_of(snap.node_for_addr(ORPHAN)) == (
        "tuple held outside Python objects (interpreter or C extension state; e.g. atexit)"
    )
