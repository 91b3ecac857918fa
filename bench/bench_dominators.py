"""Benchmark dominator trees and retained sizes: heaptui (C and pure Python), igraph, guppy3.

    python bench/bench_dominators.py [--nodes 2200000 --nodes 6500000] [--python] [--live 1000000]

Synthetic part: a graph shaped like a captured heap (about 1.5 references per object: module
roots, a tree of containers, a dict holding 10% of the heap, three linked lists of 2% each, a
doubly linked list held at both ends, references to a few thousand shared "type" nodes, random
cross references, 1% cyclic garbage). Each tool runs in a fresh subprocess on the same arrays
(saved as .npy), so peak memory is its own: VmHWM after minus VmRSS before (VmHWM reset through
/proc/self/clear_refs). heaptui's figure is ``dominators_for`` (roots, garbage entry nodes,
retained sizes) plus ``retained_by_type``; igraph's is building the graph plus
``Graph.dominator()`` from a virtual root over the same roots, checked against heaptui's idoms.

Live part (``--live TRACKED``): the heap of bench/heap_shapes.py captured by heaptui, then the
retained size of a few objects from heaptui's dominator tree next to guppy3's
``hpy().iso(obj).domisize`` on the same live objects. guppy answers one object (or set) per
heap traversal; heaptui answers every object at once, so the times are not like for like.
"seconds" is wall time, "cpu s" the process's CPU time for the same step (shared machines).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_snapshot import _reset_peak, _status  # noqa: E402  (the same VmHWM measurement)

N_TYPES = 2000
N_MODULES = 200


def heap_like_graph(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """CSR arrays, sizes, type indexes and stored roots of a heap-shaped graph of n nodes."""
    rng = np.random.default_rng(seed)
    src_parts: list[np.ndarray] = []
    dst_parts: list[np.ndarray] = []

    def add(src: np.ndarray, dst: np.ndarray) -> None:
        src_parts.append(src.astype(np.int64))
        dst_parts.append(dst.astype(np.int64))

    modules = np.arange(N_MODULES)
    types = np.arange(N_MODULES, N_MODULES + N_TYPES)
    add(rng.integers(0, N_MODULES, N_TYPES), types)  # modules hold the classes
    start = N_MODULES + N_TYPES
    big_dict = start
    fan = n // 10
    add(np.array([0]), np.array([big_dict]))
    add(np.full(fan, big_dict), np.arange(big_dict + 1, big_dict + 1 + fan))
    cursor = big_dict + 1 + fan
    for _ in range(3):  # singly linked lists held by a module
        length = n // 50
        add(rng.integers(0, N_MODULES, 1), np.array([cursor]))
        add(np.arange(cursor, cursor + length - 1), np.arange(cursor + 1, cursor + length))
        cursor += length
    length = n // 100  # doubly linked list (an LRU), owner holds head and tail
    owner = cursor
    add(np.array([1, owner, owner]), np.array([owner, owner + 1, owner + length]))
    links = np.arange(owner + 1, owner + length)
    add(links, links + 1)
    add(links + 1, links)
    cursor = owner + length + 1
    garbage = n // 100 // 3 * 3
    tree_end = n - garbage
    tree = np.arange(cursor, tree_end)
    # Containers: each tree node hangs off a random earlier node (modules, dict values, ...).
    add(rng.integers(N_MODULES + N_TYPES, tree, dtype=np.int64) if len(tree) else tree, tree)
    # Cyclic garbage: 3-cycles that no root reaches, each holding one dict value too.
    g = np.arange(tree_end, n).reshape(-1, 3)
    add(g.ravel(), np.roll(g, -1, axis=1).ravel())
    add(g[:, 0], rng.integers(big_dict + 1, big_dict + 1 + fan, len(g)))
    # Extra references: to shared type objects and random cross references.
    extra = max(3 * n // 2 - sum(len(s) for s in src_parts), 0)
    add(
        rng.integers(N_MODULES, n, extra // 2),
        rng.integers(N_MODULES, N_MODULES + N_TYPES, extra // 2),
    )
    add(rng.integers(N_MODULES, n, extra - extra // 2), rng.integers(0, n, extra - extra // 2))
    src = np.concatenate(src_parts)
    dst = np.concatenate(dst_parts)
    by_src = np.argsort(src, kind="stable")
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=offsets[1:])
    sizes = rng.choice(np.array([16, 28, 56, 64, 72, 104, 232, 640], dtype=np.uint64), n)
    sizes[big_dict] = 10 * 1024 * 1024
    return {
        "offsets": offsets,
        "targets": dst[by_src],
        "sizes": sizes,
        "type_index": rng.integers(0, N_TYPES, n).astype(np.uint32),
        "roots": modules.astype(np.int64),
    }


class _ArraySnapshot:
    """The few Snapshot attributes dominators_for and retained_by_type read."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.edge_offsets = arrays["offsets"]
        self.edge_target = arrays["targets"]
        self.size = arrays["sizes"]
        self.root_node = arrays["roots"]
        self.type_index = arrays["type_index"]
        self.type_names = [f"t{i}" for i in range(N_TYPES)]


class _ArrayIndex:
    def __init__(self, snapshot: _ArraySnapshot, n: int) -> None:
        self.snapshot = snapshot
        in_degree = np.bincount(snapshot.edge_target, minlength=n)
        self.other_roots = np.flatnonzero(in_degree == 0)


def child(tool: str, folder: str) -> dict[str, Any]:
    arrays = {
        name: np.load(Path(folder) / f"{name}.npy")
        for name in ("offsets", "targets", "sizes", "type_index", "roots")
    }
    n = len(arrays["sizes"])
    snapshot = _ArraySnapshot(arrays)
    index = _ArrayIndex(snapshot, n)
    _reset_peak()
    before = _status("VmRSS")
    result: dict[str, Any] = {}
    if tool in ("native", "python"):
        from heaptui.model.dominators import dominators_for, retained_by_type

        t0 = time.perf_counter()
        c0 = time.process_time()
        dom = dominators_for(index, backend=tool)  # type: ignore[arg-type]
        t1 = time.perf_counter()
        result["cpu_seconds"] = time.process_time() - c0
        by_type = retained_by_type(dom, snapshot, backend=tool)  # type: ignore[arg-type]
        t2 = time.perf_counter()
        result |= {
            "seconds": t1 - t0,
            "by_type_seconds": t2 - t1,
            "extra_roots": len(dom.extra_roots),
            "max_by_type": int(by_type.max()),
            "idom_checksum": int((dom.idom * np.arange(n)).sum() % 1_000_000_007),
            "roots": dom.roots.tolist(),
        }
    elif tool == "igraph":
        import igraph as ig

        roots = np.load(Path(folder) / "all_roots.npy")
        t0 = time.perf_counter()
        src = np.repeat(np.arange(n, dtype=np.int64), np.diff(arrays["offsets"]))
        pairs = np.column_stack(
            [
                np.concatenate([src, np.full(len(roots), n)]),
                np.concatenate([arrays["targets"], roots]),
            ]
        )
        graph = ig.Graph(n=n + 1, edges=pairs, directed=True)
        del pairs, src
        t1 = time.perf_counter()
        c1 = time.process_time()
        idom = np.array(graph.dominator(n, mode="out")[:n], dtype=np.int64)
        t2 = time.perf_counter()
        result["cpu_seconds"] = time.process_time() - c1
        idom[idom == n] = -1
        result |= {
            "seconds": t2 - t1,
            "build_seconds": t1 - t0,
            "idom_checksum": int((idom * np.arange(n)).sum() % 1_000_000_007),
        }
    result["peak_extra"] = max(_status("VmHWM") - before, 0)
    return result


def run_child(tool: str, folder: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", tool, "--folder", folder],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout)


def synthetic(n: int, with_python: bool) -> None:
    arrays = heap_like_graph(n)
    edges = len(arrays["targets"])
    print(f"\n== synthetic heap: {n:,} objects, {edges:,} references ({edges / n:.2f} per object)")
    with tempfile.TemporaryDirectory() as folder:
        for name, array in arrays.items():
            np.save(Path(folder) / f"{name}.npy", array)
        tools = ["native"] + (["python"] if with_python else [])
        results = {tool: run_child(tool, folder) for tool in tools}
        if "roots" in results["native"]:
            np.save(Path(folder) / "all_roots.npy", np.array(results["native"]["roots"]))
            try:
                import igraph  # noqa: F401

                results["igraph"] = run_child("igraph", folder)
            except ImportError:
                print("igraph not installed: skipped")
    reference = results["native"].get("idom_checksum")
    print(
        f"{'tool':<22}{'seconds':>9}{'cpu s':>7}{'then':>16}{'peak extra':>12}{'bytes/object':>14}"
        "  same idom"
    )
    for tool, r in results.items():
        if "error" in r:
            print(f"{tool:<22} error: {r['error']}")
            continue
        label = {"native": "heaptui C", "python": "heaptui pure Python", "igraph": "igraph"}[tool]
        if tool == "igraph":
            extra = f"+{r['build_seconds']:.2f} build"
        else:
            extra = f"+{r['by_type_seconds']:.2f} types"
        same = "yes" if r["idom_checksum"] == reference else "NO"
        print(
            f"{label:<22}{r['seconds']:>9.2f}{r['cpu_seconds']:>7.2f}{extra:>16}"
            f"{r['peak_extra'] / 2**20:>9.0f} MB"
            f"{r['peak_extra'] / n:>12.0f}  {same}"
        )
    if "extra_roots" in results["native"]:
        print(f"garbage components given an entry root: {results['native']['extra_roots']:,}")


def live(tracked: int) -> None:
    from heap_shapes import build_heap, cached_value

    import heaptui
    from heaptui.model.dominators import dominators_for
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot

    holder = build_heap(tracked)
    t0 = time.perf_counter()
    snapshot = Snapshot.from_raw(heaptui.snapshot())
    index = GraphIndex(snapshot)
    t1 = time.perf_counter()
    dom = dominators_for(index)
    t2 = time.perf_counter()
    n = snapshot.node_count
    print(f"\n== live heap (bench/heap_shapes.py, {tracked:,} tracked): {n:,} objects captured")
    print(f"capture + index {t1 - t0:.2f} s; heaptui dominators_for (every object) {t2 - t1:.2f} s")
    try:
        from guppy import hpy
    except ImportError:
        print("guppy3 not installed: skipped")
        return
    hp = hpy()
    objects = {
        "lru_cache wrapper": cached_value,
        "linked list head": holder["chain"],
        "points list": holder["points"],
        "sessions dict": holder["cache"],
    }
    print(f"{'object':<20}{'heaptui retained':>18}{'guppy domisize':>16}{'guppy seconds':>15}")
    for name, obj in objects.items():
        node = snapshot.node_for_addr(id(obj))
        ours = int(dom.retained[node]) if node is not None else -1
        t0 = time.perf_counter()
        theirs = hp.iso(obj).domisize
        seconds = time.perf_counter() - t0
        print(f"{name:<20}{ours:>18,}{theirs:>16,}{seconds:>15.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, action="append", help="objects (repeatable)")
    parser.add_argument("--python", action="store_true", help="also time the pure Python loops")
    parser.add_argument("--live", type=int, default=0, help="tracked objects for the live part")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.folder)))
        return
    for n in args.nodes or [2_200_000, 6_500_000]:
        synthetic(n, args.python)
    if args.live:
        live(args.live)


if __name__ == "__main__":
    main()
