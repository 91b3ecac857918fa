"""Shortest root paths: labels, root preference, other roots, cycles, long chains, wide levels."""

from __future__ import annotations

import time

import numpy as np
import pytest
from heaps import arrays_graph
from hypothesis import given, settings
from hypothesis import strategies as st
from model_heaps import CACHE, ORPHAN, app_heap, value_addr

from heaptui.core.labels import EDGE_ATTR, EDGE_KEY, ROOT_MODULE, ROOT_OTHER, ROOT_THREAD
from heaptui.model import paths
from heaptui.model.index import HELD_OUTSIDE, GraphIndex
from heaptui.model.paths import display_steps, render_path, shortest_root_path
from heaptui.model.snapshot import Snapshot
from heaptui.testing import SnapshotBuilder


def test_path_from_a_thread_local_names_the_variable_and_index() -> None:
    snap = app_heap(pending=3)
    path = shortest_root_path(GraphIndex(snap), snap.node_for_addr(0x20_0080))
    assert path is not None
    assert path.root_kind == ROOT_THREAD
    assert [s.edge for s in path.steps] == [None, "f_locals['pending']", "[2]"]
    assert [s.type for s in path.steps] == ["frame", "list", "app.Job"]
    assert (
        render_path(path)
        == "thread Worker: worker() app.py:10 -> f_locals['pending'] -> [2] -> Job"
    )


def _module_and_orphan_heap(orphan_first: bool) -> Snapshot:
    """The target is referred to by an unreferenced tuple and, at the same depth, by a module."""
    b = SnapshotBuilder()
    nodes = [(0x10, "tuple"), (0x20, "module")]
    for addr, name in nodes if orphan_first else nodes[::-1]:
        b.node(addr, name, length=1 if name == "tuple" else -1)
    b.node(0x30, "dict", length=1)
    b.node(0x40, "app.Value")
    b.edge(0x10, 0x40)
    b.edge(0x20, 0x30, EDGE_ATTR, "__dict__")
    b.edge(0x30, 0x40, EDGE_KEY, "'VALUE'")
    b.node(0x50, "tuple", length=1)  # a second orphan one level further: same depth as module
    b.node(0x60, "list", length=1)
    b.edge(0x50, 0x60)
    b.edge(0x60, 0x40, 3, 0)
    b.root(0x20, ROOT_MODULE, "sys.modules['app']")
    return Snapshot.from_raw(b.build())


@pytest.mark.parametrize("orphan_first", [True, False])
def test_nearest_root_wins_and_module_roots_win_ties(orphan_first: bool) -> None:
    snap = _module_and_orphan_heap(orphan_first)
    index = GraphIndex(snap)
    path = shortest_root_path(index, snap.node_for_addr(0x40))
    assert path is not None
    # The tuple at 0x10 is one step away: nearest wins.
    assert path.root_kind == ROOT_OTHER
    assert path.root_label == "tuple " + HELD_OUTSIDE
    assert len(path.steps) == 2
    # From the dict, the module (depth 1) and the list's tuple (depth 2) compete: module.
    path = shortest_root_path(index, snap.node_for_addr(0x30))
    assert path is not None and path.root_kind == ROOT_MODULE


def test_same_depth_module_root_beats_other_root() -> None:
    b = SnapshotBuilder()
    b.node(0x10, "tuple", length=1)
    b.node(0x18, "tuple", length=1)
    b.node(0x20, "module", repr="app")
    b.node(0x40, "app.Value")
    b.edge(0x10, 0x40)
    b.edge(0x18, 0x40)
    b.edge(0x20, 0x40, EDGE_ATTR, "VALUE")
    b.root(0x20, ROOT_MODULE, "sys.modules['app']")
    snap = Snapshot.from_raw(b.build())
    path = shortest_root_path(GraphIndex(snap), snap.node_for_addr(0x40))
    assert path is not None
    assert path.root_kind == ROOT_MODULE
    assert render_path(path) == "sys.modules['app'] -> .VALUE -> Value"


def test_instance_dict_steps_merge_into_attribute_names() -> None:
    snap = app_heap()
    index = GraphIndex(snap)
    # Value -> .__dict__ -> ['data'] -> str is shown as Value -> .data -> str.
    path = shortest_root_path(index, snap.node_for_addr(value_addr(0) + 0x20))
    assert path is not None
    assert [s.edge for s in path.steps][-2:] == [".__dict__", "['data']"]
    assert [s.edge for s in display_steps(path)][-1] == ".data"
    assert render_path(path).endswith("-> ['user:0'] -> .data -> str")


def test_other_roots_explain_objects_nothing_named_holds() -> None:
    snap = app_heap()
    path = shortest_root_path(GraphIndex(snap), snap.node_for_addr(CACHE))
    assert path is not None
    assert path.root_kind == ROOT_OTHER
    assert path.steps[0].node == snap.node_for_addr(ORPHAN)
    assert render_path(path) == f"tuple {HELD_OUTSIDE} -> <ref> -> dict"


def test_a_root_is_its_own_path_and_a_rootless_cycle_has_none() -> None:
    b = SnapshotBuilder()
    b.node(0x10, "module", repr="m")
    b.node(0x20, "app.A")
    b.node(0x30, "app.B")
    b.edge(0x20, 0x30, EDGE_ATTR, "b")
    b.edge(0x30, 0x20, EDGE_ATTR, "a")
    b.root(0x10, ROOT_MODULE, "sys.modules['m']")
    snap = Snapshot.from_raw(b.build())
    index = GraphIndex(snap)
    path = shortest_root_path(index, 0)
    assert path is not None and len(path.steps) == 1 and path.steps[0].edge is None
    assert shortest_root_path(index, 1) is None


def test_cycles_on_the_way_do_not_loop() -> None:
    # root -> 0 -> 1 -> 2 -> 3 -> 1 (cycle); target 3
    snap = arrays_graph([1, 2, 3, 1], [1, 1, 1, 1], roots=[(0, ROOT_MODULE)])
    path = shortest_root_path(GraphIndex(snap), 3)
    assert path is not None
    assert [s.node for s in path.steps] == [0, 1, 2, 3]


def test_a_million_long_chain_is_walked_without_recursion_in_seconds() -> None:
    n = 1_000_000
    snap = arrays_graph(np.arange(1, n), np.r_[np.ones(n - 1), 0], roots=[(0, ROOT_MODULE)])
    index = GraphIndex(snap)
    started = time.perf_counter()
    path = shortest_root_path(index, n - 1)
    elapsed = time.perf_counter() - started
    assert path is not None
    assert len(path.steps) == n
    assert path.steps[-1].node == n - 1 and path.steps[1].edge == "[0]"
    assert elapsed < 20  # about 2 s here; quadratic behaviour would take hours


def test_wide_levels_use_numpy_and_find_the_root() -> None:
    # module 0 -> 1..W (fan out), each of them -> W+1 (the target): W referrers in one level.
    w = 5000
    targets = [*range(1, w + 1), *([w + 1] * w)]
    counts = [w, *([1] * w), 0]
    snap = arrays_graph(targets, counts, roots=[(0, ROOT_MODULE)])
    path = shortest_root_path(GraphIndex(snap), w + 1)
    assert path is not None
    assert path.root_kind == ROOT_MODULE
    assert len(path.steps) == 3


@st.composite
def random_graphs(draw: st.DrawFn) -> tuple[list[int], list[int], list[tuple[int, int]], int]:
    n = draw(st.integers(2, 40))
    counts = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    targets = [draw(st.integers(0, n - 1)) for _ in range(sum(counts))]
    root_nodes = draw(st.sets(st.integers(0, n - 1), max_size=3))
    roots = [(r, draw(st.sampled_from([ROOT_MODULE, ROOT_THREAD]))) for r in sorted(root_nodes)]
    return targets, counts, roots, draw(st.integers(0, n - 1))


@settings(max_examples=80, deadline=None)
@given(random_graphs())
def test_numpy_and_python_levels_agree_and_paths_are_real_edges(
    graph: tuple[list[int], list[int], list[tuple[int, int]], int],
) -> None:
    targets, counts, roots, node = graph
    snap = arrays_graph(targets, counts, roots=roots)
    index = GraphIndex(snap)
    results = []
    for threshold in (1, 10**9):
        old = paths._NUMPY_FRONTIER
        paths._NUMPY_FRONTIER = threshold
        try:
            results.append(shortest_root_path(index, node))
        finally:
            paths._NUMPY_FRONTIER = old
    numpy_path, python_path = results
    assert (numpy_path is None) == (python_path is None)
    if python_path is None:
        return
    assert numpy_path is not None
    assert len(numpy_path.steps) == len(python_path.steps)
    assert numpy_path.root_kind == python_path.root_kind
    steps = python_path.steps
    assert steps[-1].node == node and index.root_kind_of(steps[0].node) is not None
    for i in range(1, len(steps)):
        edge = int(steps.edges[i])
        assert int(snap.edge_target[edge]) == steps[i].node
        assert (
            snap.edge_offsets[steps[i - 1].node] <= edge < snap.edge_offsets[steps[i - 1].node + 1]
        )
