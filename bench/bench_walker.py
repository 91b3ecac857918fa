"""Time and peak memory of heaptui's pure-Python capture against a plain unlabelled walk.

Usage: python bench/bench_walker.py [TRACKED_OBJECTS]   (default 1_000_000)

Both walks run in this process on the same synthetic heap, alternately, so machine load hits
both alike; the ratio is the figure to read. Peak extra memory is VmHWM after resetting it
(/proc/self/clear_refs), minus VmRSS before the walk.
"""

from __future__ import annotations

import functools
import gc
import sys
import time
from array import array


class Value:
    def __init__(self, i: int) -> None:
        self.i = i
        self.name = f"value-{i}"
        self.tags = [i, str(i)]


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self, i: int) -> None:
        self.a = i * 1.5
        self.b = (i, "x")


@functools.cache
def cached(i: int) -> tuple[int, str]:
    return (i, f"c{i}")


def build(tracked: int) -> list[object]:
    n = tracked // 8
    heap: list[object] = [Value(i) for i in range(n)]
    heap += [Slotted(i) for i in range(n)]
    heap.append({f"key-{i}": {"x": i, "y": [i]} for i in range(n // 2)})
    ring: list[object] = []
    for i in range(n // 4):
        node = [i, None]
        if ring:
            node[1] = ring[-1]
        ring.append(node)
    heap.append(ring)
    heap.append([cached(i) for i in range(n // 4)])
    return heap


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


def measure(fn) -> tuple[float, int, object]:  # type: ignore[no-untyped-def]
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass
    before = _status("VmRSS:")
    started = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - started
    return elapsed, _status("VmHWM:") - before, result


def main() -> None:
    from heaptui.capture import capture

    tracked = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    heap = build(tracked)
    gc.collect()
    heap_rss = _status("VmRSS:")
    print(f"python {sys.version.split()[0]}, gc-tracked objects: {len(gc.get_objects())}")
    rows = []
    for _ in range(2):
        gc.disable()
        t_plain, m_plain, nodes = measure(plain_walk)
        gc.enable()
        t_cap, m_cap, raw = measure(capture)
        rows.append((t_plain, m_plain, t_cap, m_cap, raw.node_count, raw.edge_total, nodes))
        del raw
    for t_plain, m_plain, t_cap, m_cap, n, e, plain_nodes in rows:
        print(
            f"plain walk {t_plain:6.2f} s peak +{m_plain / 1e6:5.0f} MB ({plain_nodes} objects) | "
            f"heaptui capture {t_cap:6.2f} s peak +{m_cap / 1e6:5.0f} MB "
            f"({n} nodes, {e} edges) | ratio {t_cap / t_plain:4.2f}x"
        )
    print(f"process RSS with the heap: {heap_rss / 1e6:.0f} MB")
    del heap


if __name__ == "__main__":
    main()
