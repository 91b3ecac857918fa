"""Dominator tree and retained sizes against a brute-force "remove it, what is lost?" check."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heaptui.core.labels import ROOT_MODULE
from heaptui.model import dominators as dm
from heaptui.model.dominators_unreachable import unreached_entry_nodes
from heaptui.testing import SnapshotBuilder

BACKENDS = [
    "python",
    pytest.param(
        "native",
        marks=pytest.mark.skipif(
            "native" not in dm.BACKENDS,
            reason="C extension heaptui.model.dominators_native not built",
        ),
    ),
]


def csr(n: int, edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """CSR arrays of a graph given as (source, target) pairs, edges kept in the given order."""
    by_source: list[list[int]] = [[] for _ in range(n)]
    for src, dst in edges:
        by_source[src].append(dst)
    offsets = np.zeros(n + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(t) for t in by_source])
    targets = np.array([t for ts in by_source for t in ts], dtype=np.int64)
    return offsets, targets


def reachable(
    n: int, edges: list[tuple[int, int]], roots: list[int], removed: int = -1
) -> set[int]:
    adjacency: dict[int, list[int]] = {}
    for src, dst in edges:
        adjacency.setdefault(src, []).append(dst)
    seen = {r for r in roots if r != removed}
    stack = list(seen)
    while stack:
        for t in adjacency.get(stack.pop(), []):
            if t != removed and t not in seen:
                seen.add(t)
                stack.append(t)
    return seen


def brute_force(
    n: int, edges: list[tuple[int, int]], roots: list[int], sizes: list[int]
) -> tuple[list[int], list[int]]:
    """(idom, retained) by definition: d dominates v if removing d makes v unreachable."""
    live = reachable(n, edges, roots)
    dominated = {d: (live - reachable(n, edges, roots, removed=d)) for d in live}
    idom = [dm.UNREACHED] * n
    retained = list(sizes)
    for v in live:
        strict = [d for d in live if d != v and v in dominated[d]]
        # The immediate dominator is the strict dominator dominated by all the others.
        idom[v] = max(
            strict, key=lambda d: len([x for x in strict if d in dominated[x]]), default=-1
        )
        retained[v] = sum(sizes[x] for x in dominated[v])
    return idom, retained


def check(backend: str, n: int, edges: list[tuple[int, int]], roots: list[int]) -> np.ndarray:
    sizes = [10 + 7 * i for i in range(n)]
    offsets, targets = csr(n, edges)
    idom, order = dm.dominator_tree(offsets, targets, roots, backend=backend)
    expected_idom, expected_retained = brute_force(n, edges, roots, sizes)
    assert idom.tolist() == expected_idom
    retained = dm.retained_sizes(idom, np.array(sizes), order, backend=backend)
    assert retained.tolist() == expected_retained
    # Without an order, one is derived from idom alone: same answer.
    assert dm.retained_sizes(idom, np.array(sizes), backend=backend).tolist() == expected_retained
    assert sorted(order.tolist()) == sorted(reachable(n, edges, roots))
    return idom


@pytest.mark.parametrize("backend", BACKENDS)
def test_chain_each_link_dominates_the_rest(backend: str) -> None:
    idom = check(backend, 5, [(0, 1), (1, 2), (2, 3), (3, 4)], [0])
    assert idom.tolist() == [-1, 0, 1, 2, 3]


@pytest.mark.parametrize("backend", BACKENDS)
def test_diamond_join_is_dominated_by_the_fork(backend: str) -> None:
    idom = check(backend, 5, [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)], [0])
    assert idom[3] == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_cycles_and_self_loops(backend: str) -> None:
    edges = [(0, 1), (1, 2), (2, 1), (2, 2), (2, 3), (3, 0), (3, 4), (4, 4), (4, 2)]
    check(backend, 5, edges, [0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_bypass_above_the_semidominator_moves_the_idom_up(backend: str) -> None:
    # 0 -> 1 -> 2 -> 3 -> 4, 1 -> 4 and 0 -> 2: 4's semidominator is 1 but 0 -> 2 -> 3 -> 4
    # avoids 1, so only the root dominates 4 (the case Lengauer-Tarjan's last pass fixes).
    idom = check(backend, 5, [(0, 1), (1, 2), (2, 3), (3, 4), (1, 4), (0, 2)], [0])
    assert idom.tolist() == [-1, 0, 0, 2, 0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_object_held_by_two_roots_belongs_to_neither(backend: str) -> None:
    # Two modules share a cache: neither module retains it, the virtual root does.
    idom = check(backend, 4, [(0, 2), (1, 2), (2, 3)], [0, 1])
    assert idom.tolist() == [-1, -1, -1, 2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_root_referred_to_by_others_stays_a_root(backend: str) -> None:
    idom = check(backend, 3, [(0, 1), (1, 2), (2, 0)], [1, 1, 0])
    assert idom[0] == idom[1] == -1


@pytest.mark.parametrize("backend", BACKENDS)
def test_unreached_cycle_is_marked_and_keeps_its_own_size(backend: str) -> None:
    idom = check(backend, 4, [(0, 1), (2, 3), (3, 2), (3, 1)], [0])
    assert idom.tolist() == [-1, 0, dm.UNREACHED, dm.UNREACHED]


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_graph_and_no_roots(backend: str) -> None:
    idom, order = dm.dominator_tree(
        np.zeros(1, np.int64), np.zeros(0, np.int64), [], backend=backend
    )
    assert len(idom) == 0 and len(order) == 0
    idom, order = dm.dominator_tree(*csr(2, [(0, 1)]), [], backend=backend)
    assert idom.tolist() == [dm.UNREACHED] * 2 and len(order) == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_bad_arrays_raise_instead_of_crashing(backend: str) -> None:
    offsets, targets = csr(3, [(0, 1), (1, 2)])
    with pytest.raises(ValueError):
        dm.dominator_tree(offsets, np.array([1, 7]), [0], backend=backend)
    with pytest.raises(ValueError):
        dm.dominator_tree(offsets, targets, [3], backend=backend)
    with pytest.raises(ValueError):
        dm.dominator_tree(np.array([0, 2, 1, 2]), targets, [0], backend=backend)


@st.composite
def random_graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], list[int]]:
    """Random graphs with deep parts: chain links i -> i+1 plus random extra references."""
    n = draw(st.integers(1, 30))
    node = st.integers(0, n - 1)
    links = draw(st.lists(st.booleans(), min_size=n - 1, max_size=n - 1))
    edges = [(i, i + 1) for i, linked in enumerate(links) if linked]
    edges += draw(st.lists(st.tuples(node, node), max_size=2 * n))
    edges = draw(st.permutations(edges))
    roots = draw(st.lists(node, min_size=1, max_size=4))
    return n, edges, roots


@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=150, deadline=None)
@given(graph=random_graphs())
def test_random_graphs_match_brute_force(backend: str, graph: tuple) -> None:
    check(backend, *graph)


@pytest.mark.parametrize("backend", BACKENDS)
def test_million_long_chain_finishes_fast(backend: str) -> None:
    n = 1_000_000
    offsets = np.minimum(np.arange(n + 1, dtype=np.int64), n - 1)
    targets = np.arange(1, n, dtype=np.int64)
    started = time.perf_counter()
    idom, order = dm.dominator_tree(offsets, targets, [0], backend=backend)
    retained = dm.retained_sizes(idom, np.full(n, 16), order, backend=backend)
    elapsed = time.perf_counter() - started
    assert idom[-1] == n - 2 and retained[0] == 16 * n and retained[-1] == 16
    assert elapsed < (2.0 if backend == "native" else 20.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_doubly_linked_list_held_at_both_ends(backend: str) -> None:
    # A hand-written LRU list: the owner holds head and tail; every link points both ways.
    # No link dominates another; the iterative (Cooper-Harvey-Kennedy) scheme is quadratic here.
    n = 200_000
    edges = [(0, 1), (0, n)]
    edges += [(i, i + 1) for i in range(1, n)] + [(i + 1, i) for i in range(1, n)]
    offsets, targets = csr(n + 1, edges)
    idom, _ = dm.dominator_tree(offsets, targets, [0], backend=backend)
    assert idom[0] == -1 and (idom[1:] == 0).all()


@pytest.mark.skipif("native" not in dm.BACKENDS, reason="C extension not built")
def test_c_and_python_agree_on_a_large_random_heap() -> None:
    rng = np.random.default_rng(5)
    n = 50_000
    parents = rng.integers(0, np.arange(1, n))  # a random tree under node 0 ...
    extra = rng.integers(0, n, (n // 2, 2))  # ... plus cross references, cycles and garbage
    edges = [(int(p), i + 1) for i, p in enumerate(parents) if i % 97] + [
        (int(a), int(b)) for a, b in extra
    ]
    offsets, targets = csr(n, edges)
    roots = [0, 17, 17, 400]
    native = dm.dominator_tree(offsets, targets, roots, backend="native")
    python = dm.dominator_tree(offsets, targets, roots, backend="python")
    assert native[0].tolist() == python[0].tolist()
    assert native[1].tolist() == python[1].tolist()
    sizes = rng.integers(16, 1000, n)
    assert (
        dm.retained_sizes(native[0], sizes, native[1], backend="native").tolist()
        == dm.retained_sizes(python[0], sizes, python[1], backend="python").tolist()
    )


# --- garbage no root reaches -------------------------------------------------------------


def test_unreached_entry_nodes_one_per_source_component() -> None:
    # 1<->2 is a garbage cycle that refers to the cycle 3<->4 and to 5; 6 is a self-loop.
    n = 7
    edges = [(0, 0), (1, 2), (2, 1), (2, 3), (3, 4), (4, 3), (4, 5), (6, 6)]
    offsets, targets = csr(n, edges)
    unreached = np.array([False] + [True] * 6)
    assert unreached_entry_nodes(offsets, targets, unreached).tolist() == [1, 6]


@settings(max_examples=150, deadline=None)
@given(graph=random_graphs())
def test_entry_nodes_reach_everything_and_none_is_redundant(graph: tuple) -> None:
    n, edges, roots = graph
    offsets, targets = csr(n, edges)
    idom = dm.immediate_dominators(offsets, targets, roots)
    extra = unreached_entry_nodes(offsets, targets, idom == dm.UNREACHED).tolist()
    assert reachable(n, edges, roots + extra) == set(range(n))
    for node in extra:
        others = [e for e in extra if e != node]
        assert node not in reachable(n, edges, roots + others)


def heap_with_garbage() -> tuple[object, object]:
    """module -> dict -> [a, b]; b -> c; a garbage cycle g1 <-> g2 holding a big blob."""
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot

    b = SnapshotBuilder()
    mod = b.node(0x1000, "module", size=100, repr="app")
    table = b.node(0x2000, "dict", size=200)
    a = b.node(0x3000, "app.Item", size=30)
    item_b = b.node(0x4000, "app.Item", size=40)
    c = b.node(0x5000, "app.Item", size=50)
    g1 = b.node(0x6000, "app.Node", size=60)
    g2 = b.node(0x7000, "app.Node", size=70)
    blob = b.node(0x8000, "bytes", size=1000)
    for src, dst in [(mod, table), (table, a), (table, item_b), (item_b, c), (a, c)]:
        b.edge(src, dst)
    for src, dst in [(g1, g2), (g2, g1), (g2, blob)]:
        b.edge(src, dst)
    b.root(mod, ROOT_MODULE, "sys.modules['app']")
    snapshot = Snapshot.from_raw(b.build())
    return snapshot, GraphIndex(snapshot)


@pytest.mark.parametrize("backend", BACKENDS)
def test_dominators_for_gives_garbage_cycles_a_retained_size(backend: str) -> None:
    _, index = heap_with_garbage()
    phases: list[str] = []
    dom = dm.dominators_for(index, progress=phases.append, backend=backend)
    assert phases == ["unreachable", "dominators", "retained"]
    assert (dom.idom >= dm.VIRTUAL_ROOT).all()
    assert dom.extra_roots.tolist() == [5]  # g1: the cycle's lowest node
    assert dom.retained.tolist() == [420, 320, 30, 40, 50, 1130, 1070, 1000]
    # MAT-like view: the biggest retainer first, then down the tree.
    assert dm.dominated_children(dom).tolist() == [5, 0]
    assert dm.dominated_children(dom, 1).tolist() == [4, 3, 2]
    assert dm.dominated_children(dom, 2).tolist() == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_empty_snapshot_has_an_empty_tree(backend: str) -> None:
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot

    snapshot = Snapshot.from_raw(SnapshotBuilder().build())
    dom = dm.dominators_for(GraphIndex(snapshot), backend=backend)
    assert len(dom.idom) == len(dom.retained) == len(dm.dominated_children(dom)) == 0
    assert len(dm.retained_by_type(dom, snapshot)) == 0


def test_dominator_chain_and_accumulation_point() -> None:
    snapshot, index = heap_with_garbage()
    dom = dm.dominators_for(index)
    assert dm.dominator_chain(dom, 4) == [0, 1, 4]
    assert dm.dominator_chain(dom, 6) == [5, 6]
    items = np.array([t == "app.Item" for t in map(snapshot.type_name, range(8))])
    assert dm.accumulation_point(dom, items) == (1, 3)  # the dict holds all three Items
    assert dm.accumulation_point(dom, np.zeros(8, dtype=bool)) is None
    # c under the module, the blob under the garbage cycle: no single node holds 80%.
    assert dm.accumulation_point(dom, np.array([0, 0, 0, 0, 1, 0, 0, 1], dtype=bool)) is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_accumulation_point_of_a_linked_list_is_its_owner(backend: str) -> None:
    # owner 1 -> link 2 -> ... -> link 11; a module 0 holds the owner and link 6 too.
    n = 12
    edges = [(0, 1), (0, 6)] + [(i, i + 1) for i in range(1, 11)]
    offsets, targets = csr(n, edges)
    idom, order = dm.dominator_tree(offsets, targets, [0], backend=backend)
    retained = dm.retained_sizes(idom, np.ones(n), order, backend=backend)
    dom = dm.Dominators(idom, retained, order, np.array([0]), np.zeros(0, np.int64))
    links = np.arange(n) >= 2
    assert dm.accumulation_point(dom, links, backend=backend) == (0, 10)
    assert dm.accumulation_point(dom, links, share=0.4, backend=backend) == (1, 4)


def test_retained_by_type_counts_nested_instances_once() -> None:
    snapshot, index = heap_with_garbage()
    dom = dm.dominators_for(index)
    totals = dict(
        zip(snapshot.type_names, dm.retained_by_type(dom, snapshot).tolist(), strict=True)
    )
    # app.Item: a, b, c are all top-level instances (c is held by a and b): 30 + 40 + 50.
    # app.Node: g2 sits under g1, so the cycle counts once: 1130, not 1130 + 1070.
    assert totals == {"module": 420, "dict": 320, "app.Item": 120, "app.Node": 1130, "bytes": 1000}


@settings(max_examples=100, deadline=None)
@given(graph=random_graphs(), types=st.lists(st.integers(0, 3), min_size=30, max_size=30))
def test_retained_by_type_matches_union_of_dominated_sets(graph: tuple, types: list[int]) -> None:
    n, edges, roots = graph
    offsets, targets = csr(n, edges)
    sizes = [3 + 5 * i for i in range(n)]
    idom, order = dm.dominator_tree(offsets, targets, roots)
    retained = dm.retained_sizes(idom, np.array(sizes), order)
    dom = dm.Dominators(idom, retained, order, np.array(roots), np.zeros(0, np.int64))

    class FakeSnapshot:
        type_names = ["a", "b", "c", "d"]
        type_index = np.array(types[:n], dtype=np.uint32)

    got = dm.retained_by_type(dom, FakeSnapshot())  # type: ignore[arg-type]
    live = reachable(n, edges, roots)
    for t in range(4):
        freed: set[int] = set()
        for v in live:
            if types[v] == t:
                freed |= live - reachable(n, edges, roots, removed=v)
        assert got[t] == sum(sizes[x] for x in freed)
