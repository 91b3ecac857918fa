"""Retained bytes of a selection and the accumulation point, against hand-computed answers
and a brute-force "remove the selection, count what becomes unreachable" check."""

from __future__ import annotations

import random

import numpy as np
from model_heaps import CACHE, app_heap

from heaptui.core.labels import EDGE_ATTR, EDGE_INDEX, ROOT_MODULE
from heaptui.model.dominators import dominators_for
from heaptui.model.index import HELD_OUTSIDE, GraphIndex
from heaptui.model.retained import find_accumulation, outermost_selected, retained_of_selection
from heaptui.model.snapshot import Snapshot
from heaptui.testing import SnapshotBuilder


def _mask(snapshot: Snapshot, addrs: list[int]) -> np.ndarray:
    mask = np.zeros(snapshot.node_count, dtype=bool)
    for addr in addrs:
        node = snapshot.node_for_addr(addr)
        assert node is not None
        mask[node] = True
    return mask


def _reachable_bytes(snapshot: Snapshot, index: GraphIndex, removed: np.ndarray) -> int:
    """Bytes reachable from the roots (stored and "other") without passing a removed node."""
    roots = np.concatenate([snapshot.root_node, index.other_roots]).tolist()
    seen = np.zeros(snapshot.node_count, dtype=bool)
    stack = [r for r in roots if not removed[r]]
    seen[stack] = True
    while stack:
        node = stack.pop()
        for target in index.referents(node)[0].tolist():
            if not seen[target] and not removed[target]:
                seen[target] = True
                stack.append(target)
    return int(snapshot.size[seen].sum())


def _brute_force_retained(snapshot: Snapshot, index: GraphIndex, selected: np.ndarray) -> int:
    everything = _reachable_bytes(snapshot, index, np.zeros(snapshot.node_count, dtype=bool))
    return everything - _reachable_bytes(snapshot, index, selected)


def single_mask(n: int, node: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[node] = True
    return mask


def _linked_list(length: int) -> Snapshot:
    """``app.HEAD -> Node -> Node -> ...``: each node also owns a 100-byte bytes object."""
    b = SnapshotBuilder()
    b.node(0x10, "module", size=72)
    b.root(0x10, ROOT_MODULE, "sys.modules['app']")
    previous = 0x10
    for i in range(length):
        node = 0x1000 + i * 0x100
        b.node(node, "app.Node", size=48)
        b.node(node + 0x10, "bytes", size=100, tracked=False)
        b.edge(previous, node, EDGE_ATTR, "next" if i else "HEAD")
        b.edge(node, node + 0x10, EDGE_ATTR, "data")
        previous = node
    return Snapshot.from_raw(b.build())


def test_a_linked_list_is_retained_once_through_its_first_selected_link() -> None:
    snap = _linked_list(5)
    index = GraphIndex(snap)
    dom = dominators_for(index)
    links = [0x1000 + i * 0x100 for i in range(5)]
    selected = _mask(snap, links[2:])  # the last three links
    top = outermost_selected(dom, selected)
    assert [int(snap.addr[n]) for n in np.flatnonzero(top)] == [links[2]]
    assert retained_of_selection(dom, selected) == 3 * 148
    assert retained_of_selection(dom, selected) == _brute_force_retained(snap, index, selected)


def test_accumulation_point_of_cached_values_is_the_cache_dict() -> None:
    snap = app_heap(values=6)
    index = GraphIndex(snap)
    dom = dominators_for(index)
    selected = snap.type_index == snap.type_names.index("app.Value")
    acc = find_accumulation(dom, index, selected)
    assert acc is not None
    assert int(snap.addr[acc.node]) == CACHE
    assert (acc.type, acc.held, acc.total, acc.share) == ("dict", 6, 6, 1.0)
    assert acc.retained == 1200 + 6 * (56 + 104 + 60)
    # The nearest root is the unreferenced tuple that also refers to CACHE.
    assert acc.path is not None and acc.path.root_label == "tuple " + HELD_OUTSIDE
    assert int(acc.path.steps.nodes[-1]) == acc.node


def test_no_accumulation_point_when_no_object_holds_half() -> None:
    b = SnapshotBuilder()
    for m in range(3):  # three modules, each holding one Value: no single holder of half
        b.node(0x100 * (m + 1), "module", size=72)
        b.root(0x100 * (m + 1), ROOT_MODULE, f"sys.modules['m{m}']")
        b.node(0x1000 * (m + 1), "app.Value", size=56)
        b.edge(0x100 * (m + 1), 0x1000 * (m + 1), EDGE_ATTR, "v")
    snap = Snapshot.from_raw(b.build())
    index = GraphIndex(snap)
    selected = snap.type_index == snap.type_names.index("app.Value")
    assert find_accumulation(dominators_for(index), index, selected) is None
    assert find_accumulation(dominators_for(index), index, np.zeros_like(selected)) is None


def test_retained_of_random_selections_against_brute_force() -> None:
    """One object: exactly what removing it frees. Several: at least the sum over the
    outermost ones (objects kept alive only by two selected objects together are not
    counted, as in MAT's quick "minimum retained size"), at most what removing all frees."""
    rng = random.Random(6)
    for _ in range(25):
        n = rng.randrange(2, 40)
        b = SnapshotBuilder()
        for i in range(n):
            b.node(0x1000 + i * 0x10, "app.T" if i % 3 else "list", size=rng.randrange(1, 500))
        for _ in range(rng.randrange(0, 3 * n)):
            src, dst = rng.randrange(n), rng.randrange(n)
            b.edge(0x1000 + src * 0x10, 0x1000 + dst * 0x10, EDGE_INDEX, 0)
        for r in rng.sample(range(n), rng.randrange(1, 3)):
            b.root(0x1000 + r * 0x10, ROOT_MODULE, f"root {r}")
        snap = Snapshot.from_raw(b.build())
        index = GraphIndex(snap)
        dom = dominators_for(index)
        # Brute force counts only what the roots reach; skip heaps with garbage cycles.
        if _reachable_bytes(snap, index, np.zeros(n, dtype=bool)) != int(snap.size.sum()):
            continue
        single = np.zeros(n, dtype=bool)
        single[rng.randrange(n)] = True
        assert retained_of_selection(dom, single) == _brute_force_retained(snap, index, single)
        selected = np.array([rng.random() < 0.3 for _ in range(n)])
        top = np.flatnonzero(outermost_selected(dom, selected))
        expected_floor = sum(_brute_force_retained(snap, index, single_mask(n, t)) for t in top)
        assert retained_of_selection(dom, selected) == expected_floor
        assert expected_floor <= _brute_force_retained(snap, index, selected)
