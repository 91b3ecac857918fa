"""Benchmark the compiled capture against the pure-Python walker and guppy3 on one heap.

    python bench/bench_capture_c.py --tracked 1000000 [--tracked 5000000] [--runs 5]

Tools: ``c`` (the compiled walk, snapshot kept in memory), ``c-dump`` (the compiled walk
streamed to a file, as ``heaptui.dump`` and the agent do; file writing included), ``python``
(the reference walker) and ``guppy``. Each tool runs in a fresh subprocess that builds the
same deterministic heap (bench/heap_shapes.py), so its peak-memory figure is its own: peak
extra memory is VmHWM during the first timed call minus VmRSS before it (VmHWM is reset through
/proc/self/clear_refs). Times are medians of ``--runs`` calls, wall clock and CPU (the machine
may be shared: CPU time is the steadier figure), and the pause: how long the capture held the
program (the walk, from the snapshot's ``capture_seconds``; a dump then finishes its file and
fsyncs it with the program running again; guppy holds it throughout), median and best (on
a shared machine the best run is the one least disturbed by neighbours). guppy3's
``hpy().heap()`` is timed from its second call on (its first call builds caches and takes
about twice as long), as in the issue's reference figures.
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
sys.path.insert(0, str(HERE))
from bench_snapshot import _reset_peak, _status  # noqa: E402  (the same VmHWM measurement)

TOOLS = ("c", "c-dump", "python", "guppy")


# --------------------------------------------------------------------------- child side
def _capture_function(tool: str) -> Any:
    if tool == "c":
        from heaptui.capture import accel

        if not accel.available():
            raise SystemExit("the C capture extension is not built (pip install -e .)")
        return accel.capture_raw
    if tool == "c-dump":  # the streamed capture: what dump() and the agent's socket pay
        import os
        import tempfile

        import heaptui

        path = os.path.join(tempfile.mkdtemp(), "bench.heap")

        def dump() -> Any:
            return heaptui.dump(path)

        return dump
    if tool == "python":
        from heaptui.capture.walker import take_snapshot

        def python_capture() -> Any:
            return take_snapshot(sys._getframe(1))

        return python_capture
    if tool == "guppy":
        from guppy import hpy

        h = hpy()
        h.heap()  # the first call builds guppy's caches; the issue times the second one
        return h.heap
    raise SystemExit(f"unknown tool {tool!r}")


def child(tool: str, tracked: int, runs: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import gc

    from heap_shapes import build_heap

    rss0 = _status("VmRSS")
    holder = build_heap(tracked)
    gc.collect()
    heap_bytes = _status("VmRSS") - rss0
    capture = _capture_function(tool)
    gc.collect()
    report: dict[str, Any] = {
        "tool": tool,
        "heap_rss": heap_bytes,
        "tracked": len(gc.get_objects()),
    }
    walls, cpus, pauses = [], [], []
    for i in range(runs):
        if i == 0:
            _reset_peak()
            before = _status("VmRSS")
        w0, c0 = time.perf_counter(), time.process_time()
        result = capture()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
        if i == 0:
            report["peak_extra"] = max(_status("VmHWM") - before, 0)
            if tool in ("c", "python"):  # (c-dump returns a path)
                report["objects"] = result.node_count
                report["edges"] = result.edge_total
                report["walker"] = result.meta.get("walker")
        pauses.append(_pause(tool, result, walls[-1]))  # (reads the dump: after the peak)
        del result
        gc.collect()
    report["seconds"] = statistics.median(walls)
    report["pause_seconds"] = statistics.median(pauses)
    report["best_pause_seconds"] = min(pauses)
    report["cpu_seconds"] = statistics.median(cpus)
    report["runs"] = runs
    del holder
    return report


def _pause(tool: str, result: Any, wall: float) -> float:
    """How long the capture held the program: the walk (meta ``capture_seconds``), without
    what a dump does after it (finishing the file, fsync); guppy holds it throughout."""
    if tool == "guppy":
        return wall
    if tool == "c-dump":
        from heaptui.fileformat.read import read_snapshot_arrays

        return float(read_snapshot_arrays(result).meta["capture_seconds"])
    return float(result.meta["capture_seconds"])


# --------------------------------------------------------------------------- parent side
def run_tool(tool: str, tracked: int, runs: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", tool, "--tracked", str(tracked)]
    cmd += ["--runs", str(runs)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        return {"tool": tool, "error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _mb(n: float) -> str:
    return f"{n / 1e6:8.1f}"


def print_table(tracked: int, rows: list[dict[str, Any]]) -> None:
    ok = [r for r in rows if "error" not in r]
    guppy = next((r for r in ok if r["tool"] == "guppy"), None)
    heap = max((r["heap_rss"] for r in ok), default=0)
    print(f"\n{tracked:,} tracked objects requested; heap RSS about {heap / 1e6:.0f} MB")
    print(
        f"{'tool':8} {'wall s':>8} {'cpu s':>8} {'pause s':>8} {'best':>6} {'peak MB':>8} "
        f"{'peak/heap':>9} {'vs guppy (wall, cpu, pause, best)':>36} {'objects':>10} "
        f"{'edges':>10}"
    )
    for r in rows:
        if "error" in r:
            print(f"{r['tool']:8} failed: {r['error']}")
            continue
        ratio = ""
        if guppy is not None:
            ratio = (
                f"{guppy['seconds'] / r['seconds']:.2f}x, "
                f"{guppy['cpu_seconds'] / r['cpu_seconds']:.2f}x, "
                f"{guppy['pause_seconds'] / r['pause_seconds']:.2f}x, "
                f"{guppy['best_pause_seconds'] / r['best_pause_seconds']:.2f}x faster"
            )
        share = r["peak_extra"] / r["heap_rss"] if r["heap_rss"] else 0.0
        print(
            f"{r['tool']:8} {r['seconds']:8.3f} {r['cpu_seconds']:8.3f} {r['pause_seconds']:8.3f} "
            f"{r['best_pause_seconds']:6.3f} {_mb(r['peak_extra'])} {share:9.0%} {ratio:>36} "
            f"{r.get('objects', ''):>10} {r.get('edges', ''):>10}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracked", type=int, action="append", help="gc-tracked objects")
    parser.add_argument("--runs", type=int, default=5, help="timed calls per tool (median)")
    parser.add_argument("--python-runs", type=int, default=3, help="timed calls of the slow one")
    parser.add_argument("--tools", default=",".join(TOOLS), help="comma-separated: c,python,guppy")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = args.tracked or [1_000_000]
    if args.child:
        print(json.dumps(child(args.child, sizes[0], args.runs)))
        return 0
    for tracked in sizes:
        rows = []
        for tool in args.tools.split(","):
            runs = args.python_runs if tool == "python" else args.runs
            rows.append(run_tool(tool, tracked, runs))
        print_table(tracked, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
