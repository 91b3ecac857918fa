"""Benchmark the snapshot engine against pympler, objgraph and guppy3 on the same heap.

    python bench/bench_snapshot.py --tracked 1000000 [--tracked 5000000] [--skip pympler]

Every measurement runs in a fresh subprocess that builds the same deterministic heap
(bench/heap_shapes.py), so peak-memory figures are not polluted by an earlier tool. Peak extra
memory is VmHWM after the operation minus VmRSS before it (VmHWM is reset through
/proc/self/clear_refs first). The viewer-side figures (load, summary, index, path) run in a
process of their own on the file the capture wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _measure(fn: Any) -> dict[str, float]:
    """Run ``fn`` once; return its seconds and peak extra bytes above the RSS before it."""
    _reset_peak()
    before = _status("VmRSS")
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    peak = _status("VmHWM") - before
    del result
    return {"seconds": seconds, "peak_extra": max(peak, 0)}


# --------------------------------------------------------------------------- child side
def child(tool: str, tracked: int, out_file: str) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from heap_shapes import build_heap

    rss0 = _status("VmRSS")
    holder = build_heap(tracked)
    heap_bytes = _status("VmRSS") - rss0
    import gc

    gc.collect()
    report: dict[str, Any] = {
        "tool": tool,
        "heap_rss": heap_bytes,
        "tracked": len(gc.get_objects()),
    }

    if tool == "heaptui":
        import heaptui

        # What the host pays for a snapshot file: the streamed dump (the walk writes it
        # chunk by chunk, as the agent does over its socket) ...
        dumped = _measure(lambda: heaptui.dump(out_file))
        report["dump_seconds"] = dumped["seconds"]
        report["dump_peak_extra"] = dumped["peak_extra"]
        report["file_bytes"] = os.path.getsize(out_file)
        # ... and the walk alone, the whole snapshot kept in memory (heaptui.snapshot()).
        report.update(_measure(lambda: heaptui.snapshot()))
        raw = heaptui.snapshot()
        report["objects"] = raw.node_count
        report["edges"] = raw.edge_total
        report["walker"] = raw.meta.get("walker")
    elif tool == "pympler":
        from pympler import muppy, summary

        report.update(_measure(lambda: summary.summarize(muppy.get_objects())))
    elif tool == "objgraph-typestats":
        import objgraph

        report.update(_measure(lambda: objgraph.typestats()))
    elif tool == "objgraph-backref":
        import inspect

        import objgraph

        target = holder["cache"][f"session:{len(holder['cache']) // 2}"]
        report.update(
            _measure(lambda: objgraph.find_backref_chain(target, inspect.ismodule, max_depth=20))
        )
    elif tool == "guppy3":
        from guppy import hpy

        h = hpy()
        first = _measure(lambda: h.heap())
        report.update(_measure(lambda: h.heap()))
        report["first_call_seconds"] = first["seconds"]
    del holder
    return report


def viewer(path: str, repeats: int = 5) -> dict[str, Any]:
    """Load the file, summarise it, index it and search paths: what `heaptui open` pays."""
    import numpy as np

    from heaptui.model.index import GraphIndex
    from heaptui.model.load import load_snapshot
    from heaptui.model.paths import shortest_root_path
    from heaptui.model.summary import type_summary

    t0 = time.perf_counter()
    snap = load_snapshot(path)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    rows = type_summary(snap)
    t_summary = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = GraphIndex(snap)
    t_index = time.perf_counter() - t0
    session_type = next(r.type_index for r in rows if r.name.endswith("heap_shapes.Session"))
    nodes = np.flatnonzero(snap.type_index == session_type)
    rng = np.random.default_rng(7)
    times, found = [], 0
    for node in rng.choice(nodes, size=min(repeats, len(nodes)), replace=False):
        t0 = time.perf_counter()
        path_ = shortest_root_path(index, int(node))
        times.append(time.perf_counter() - t0)
        found += path_ is not None
    return {
        "load_seconds": t_load,
        "summary_seconds": t_summary,
        "index_seconds": t_index,
        "path_seconds_median": statistics.median(times),
        "paths_found": f"{found}/{len(times)}",
        "top_type": rows[0].name,
    }


# --------------------------------------------------------------------------- parent side
def run_child(tool: str, tracked: int, out_file: str) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", tool, "--tracked", str(tracked), "--out", out_file]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        return {"tool": tool, "error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def row(label: str, text: str) -> None:
    print(f"{label:28s} {text}")


def mb(n: float) -> str:
    return f"{n / 1e6:8.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--tracked", type=int, action="append", help="gc-tracked objects (repeatable)"
    )
    parser.add_argument("--skip", action="append", default=[], help="tools to skip")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--viewer", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.tracked[0], args.out)))
        return
    if args.viewer:
        print(json.dumps(viewer(args.viewer)))
        return
    tools = ["heaptui", "guppy3", "objgraph-typestats", "objgraph-backref", "pympler"]
    tools = [t for t in tools if t not in args.skip]
    for tracked in args.tracked or [1_000_000]:
        with tempfile.TemporaryDirectory() as tmp:
            out_file = os.path.join(tmp, "bench.heap")
            results = {t: run_child(t, tracked, out_file) for t in tools}
            print(f"\n== heap of {tracked:,} requested tracked objects ==")
            h = results.get("heaptui", {})
            if "error" in h or not h:
                print("heaptui capture failed:", h.get("error"))
            else:
                print(
                    f"heap RSS {mb(h['heap_rss'])}, gc-tracked {h['tracked']:,}, captured "
                    f"objects {h['objects']:,}, edges {h['edges']:,} (walker {h['walker']})"
                )
                heap_rss = max(h["heap_rss"], 1)
                row(
                    "heaptui dump (streamed)",
                    f"{h['dump_seconds']:7.2f} s  peak extra {mb(h['dump_peak_extra'])} "
                    f"({h['dump_peak_extra'] / heap_rss:.0%} of the heap's RSS)",
                )
                per_object = h["file_bytes"] / h["objects"]
                row("heaptui file", f"{per_object:7.1f} bytes/object, {mb(h['file_bytes'])}")
                row(
                    "heaptui capture (in memory)",
                    f"{h['seconds']:7.2f} s  peak extra {mb(h['peak_extra'])} "
                    f"({h['peak_extra'] / heap_rss:.0%} of the heap's RSS)",
                )
                cmd = [sys.executable, __file__, "--viewer", out_file]
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
                if done.returncode == 0:
                    v = json.loads(done.stdout.strip().splitlines()[-1])
                    load, summary = v["load_seconds"], v["summary_seconds"]
                    row("heaptui load", f"{load:7.2f} s")
                    row("heaptui type summary", f"{summary:7.3f} s  (top: {v['top_type']})")
                    row("heaptui load + summary", f"{load + summary:7.2f} s")
                    row("heaptui reverse index", f"{v['index_seconds']:7.2f} s")
                    path_ms = v["path_seconds_median"] * 1000
                    row(
                        "heaptui path from root",
                        f"{path_ms:7.1f} ms median (found {v['paths_found']})",
                    )
                else:
                    print("viewer failed:", done.stderr.strip().splitlines()[-1:])
            for t in tools[1:]:
                r = results[t]
                if "error" in r:
                    print(f"{t:28s} failed: {r['error']}")
                    continue
                extra = (
                    f" (first call {r['first_call_seconds']:.2f} s)"
                    if "first_call_seconds" in r
                    else ""
                )
                ratio = (
                    f"  heaptui capture {r['seconds'] / h['seconds']:.2f}x, "
                    f"dump {r['seconds'] / h['dump_seconds']:.2f}x its speed"
                    if h.get("seconds") and h.get("dump_seconds")
                    else ""
                )
                print(
                    f"{t:28s} {r['seconds']:7.2f} s  peak extra {mb(r['peak_extra'])}{extra}{ratio}"
                )


if __name__ == "__main__":
    main()
