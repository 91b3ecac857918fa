"""Time and peak memory of heaptui's pure-Python capture against a plain unlabelled walk.

Usage: python bench/bench_walker.py [TRACKED_OBJECTS] [ROUNDS]   (default 1_000_000, 2)

Both walks run in this process on the same synthetic heap (``heap_shapes.build_heap``, the
benchmarks' common heap), alternately, so machine load hits both alike; the ratio is the
figure to read. Times are wall clock and CPU time of this process (on a loaded machine the
CPU ratio is the steadier one). Peak extra memory is VmHWM after resetting it
(/proc/self/clear_refs), minus VmRSS before the walk. The pure-Python walker is measured
(``HEAPTUI_WALKER=python``) unless HEAPTUI_WALKER is set otherwise (``HEAPTUI_WALKER=`` for
the default walker, the compiled one when it is built).
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from array import array

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from heap_shapes import build_heap


def plain_walk() -> int:
    """The reference: every object and its referents, no labels, no sizes, edges in arrays."""
    objs = gc.get_objects()
    seen = set(map(id, objs))
    targets = array("Q")
    stack = list(objs)
    del objs
    getref = gc.get_referents
    while stack:
        o = stack.pop()
        for r in getref(o):
            i = id(r)
            targets.append(i)
            if i not in seen:
                seen.add(i)
                stack.append(r)
    return len(seen)


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def measure(fn) -> tuple[float, float, int, object]:  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds, peak extra bytes, result) of one call."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = _status("VmRSS:")
    started = time.perf_counter()
    cpu = time.process_time()
    result = fn()
    cpu = time.process_time() - cpu
    elapsed = time.perf_counter() - started
    return elapsed, cpu, _status("VmHWM:") - before, result


def main() -> None:
    os.environ.setdefault("HEAPTUI_WALKER", "python")
    from heaptui.capture import snapshot

    tracked = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    heap = build_heap(tracked)
    gc.collect()
    heap_rss = _status("VmRSS:")
    print(
        f"python {sys.version.split()[0]}, gc-tracked objects: {len(gc.get_objects())}, "
        f"HEAPTUI_WALKER={os.environ['HEAPTUI_WALKER']!r}"
    )
    wall_ratios, cpu_ratios = [], []
    for _ in range(rounds):
        gc.disable()
        t_plain, c_plain, m_plain, plain_nodes = measure(plain_walk)
        gc.enable()
        t_cap, c_cap, m_cap, raw = measure(snapshot)
        n, e = raw.node_count, raw.edge_total  # type: ignore[attr-defined]
        walker = raw.meta["walker"]  # type: ignore[attr-defined]
        del raw
        wall_ratios.append(t_cap / t_plain)
        cpu_ratios.append(c_cap / c_plain)
        print(
            f"plain walk {t_plain:6.2f} s (cpu {c_plain:5.2f}) peak +{m_plain / 1e6:5.0f} MB "
            f"({plain_nodes} objects) | heaptui capture ({walker}) {t_cap:6.2f} s "
            f"(cpu {c_cap:5.2f}) "
            f"peak +{m_cap / 1e6:5.0f} MB ({n} nodes, {e} edges) | "
            f"ratio wall {t_cap / t_plain:4.2f}x cpu {c_cap / c_plain:4.2f}x"
        )
    print(
        f"median ratio to the plain walk: wall {statistics.median(wall_ratios):.2f}x, "
        f"cpu {statistics.median(cpu_ratios):.2f}x; "
        f"process RSS with the heap: {heap_rss / 1e6:.0f} MB"
    )
    del heap


if __name__ == "__main__":
    main()
