"""Benchmark the watch's census against objgraph's typestats on the same heap.

    python bench/bench_census.py [--tracked 1000000] [--runs 7]

``--tracked 1000000`` builds the 2.2M-object benchmark heap of bench/heap_shapes.py (one
million gc-tracked objects plus the untracked ones they reach). Tools, each in a fresh
subprocess building the same deterministic heap: ``census-c`` (the compiled pass, what the
agent runs when the extension was built: the tracked objects and the untracked ones they
reach), ``census-c-tracked`` (the same pass over the tracked objects only, what typestats
counts), ``census-python`` (the pure-Python fallback: tracked objects only, its default),
``typestats`` (``objgraph.typestats()``: counts per short type name, no sizes) and
``typestats-full`` (``objgraph.typestats(shortnames=False)``: module-qualified names, as the
census gives). Times are medians of ``--runs`` calls, wall clock and CPU, with
``gc.get_objects()`` included for every tool (each calls it). The census also sums bytes per
type, which typestats does not.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOOLS = ("census-c", "census-c-tracked", "census-python", "typestats", "typestats-full")


def _tool(name: str) -> Any:
    if name.startswith("census-"):
        from heaptui.capture import census

        compiled = name.startswith("census-c")
        untracked = name == "census-c"
        if compiled and not census.available():
            raise SystemExit("the compiled census is not built (pip install -e .)")
        return lambda: census.take_census(compiled=compiled, untracked=untracked)
    import objgraph

    if name == "typestats":
        return objgraph.typestats
    if name == "typestats-full":
        return lambda: objgraph.typestats(shortnames=False)
    raise SystemExit(f"unknown tool {name!r}")


def child(name: str, tracked: int, runs: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import gc

    from heap_shapes import build_heap

    holder = build_heap(tracked)
    gc.collect()
    fn = _tool(name)
    fn()  # warm: imports, caches
    walls, cpus = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        census = isinstance(result.get("types"), dict)
        types = len(result["types"]) if census else len(result)
        counted = result["objects"] if census else sum(result.values())
        del result
    report = {
        "tool": name,
        "tracked": len(gc.get_objects()),
        "types": types,
        "counted": counted,
        "seconds": statistics.median(walls),
        "best": min(walls),
        "cpu_seconds": statistics.median(cpus),
    }
    del holder
    return report


def run_tool(name: str, tracked: int, runs: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", name, "--tracked", str(tracked)]
    proc = subprocess.run([*cmd, "--runs", str(runs)], capture_output=True, text=True)
    if proc.returncode != 0:
        return {"tool": name, "error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def print_table(tracked: int, rows: list[dict[str, Any]]) -> None:
    base = next((r for r in rows if r["tool"] == "typestats" and "error" not in r), None)
    print(f"\nheap_shapes.build_heap({tracked:,}); medians of the timed calls")
    print(
        f"{'tool':16} {'counted':>10} {'types':>6} {'wall s':>8} {'best s':>8} {'cpu s':>8} "
        f"{'vs typestats (wall, cpu)':>26}"
    )
    for r in rows:
        if "error" in r:
            print(f"{r['tool']:16} failed: {r['error']}")
            continue
        ratio = ""
        if base is not None:
            wall = r["seconds"] / base["seconds"]
            ratio = f"{wall:.2f}x, {r['cpu_seconds'] / base['cpu_seconds']:.2f}x"
        print(
            f"{r['tool']:16} {r['counted']:>10,} {r['types']:>6} {r['seconds']:8.3f} "
            f"{r['best']:8.3f} {r['cpu_seconds']:8.3f} {ratio:>26}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracked", type=int, default=1_000_000, help="gc-tracked objects")
    parser.add_argument("--runs", type=int, default=7, help="timed calls per tool (median)")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated tools")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.tracked, args.runs)))
        return 0
    rows = [run_tool(t, args.tracked, args.runs) for t in args.tools.split(",")]
    print_table(args.tracked, rows)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
