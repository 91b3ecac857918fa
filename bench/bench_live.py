"""What live mode costs: host pause, bytes, transfer time, time to a summary, idle CPU.

Starts a target (``sys.executable``) holding a synthetic heap of about ``--objects`` objects
(``bench/heap_shapes.py``; ~1.75 objects per gc-tracked one) with the agent installed, then:

- idle CPU of the target over ``--idle-seconds`` (the issue asks for 60 s; default 10), with no
  viewer and with a connected but silent viewer: the main thread is blocked reading stdin, so
  every tick counted is the agent's;
- one capture over the socket: the host's longest stall (a thread in the target ticking every
  millisecond measures it), the agent's pause (the walk, with other threads held off), the walk
  time the capture itself reports, bytes sent, the whole transfer, and the time until the
  viewer has the type summary (validate + model + summary).

Run: ``.venv/bin/python bench/bench_live.py [--objects 1000000 --objects 5000000]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OBJECTS_PER_TRACKED = 1.75  # measured with heap_shapes on 3.11


# --- the target ---------------------------------------------------------------------------------


def target(tracked: int) -> None:
    sys.path.insert(0, str(HERE))
    from heap_shapes import build_heap

    import heaptui

    holder = build_heap(tracked)  # noqa: F841 - the heap must stay alive
    heaptui.install()
    max_gap = [0.0]

    def tick() -> None:
        while True:
            started = time.perf_counter()
            time.sleep(0.001)
            max_gap[0] = max(max_gap[0], time.perf_counter() - started)

    print("ready", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "tick":
            threading.Thread(target=tick, daemon=True).start()
            print("ticking", flush=True)
        elif command == "gap":
            print(f"{max_gap[0]:.6f}", flush=True)
            max_gap[0] = 0.0
        elif command == "exit":
            return


# --- the viewer ---------------------------------------------------------------------------------


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def idle_cpu_seconds(pid: int, seconds: float) -> float:
    before = cpu_ticks(pid)
    time.sleep(seconds)
    return (cpu_ticks(pid) - before) / os.sysconf("SC_CLK_TCK")


def measure(objects: int, idle_seconds: float) -> dict[str, float]:
    from heaptui.fileformat.read import read_snapshot_bytes
    from heaptui.model.snapshot import Snapshot
    from heaptui.model.summary import type_summary
    from heaptui.transport.client import AgentClient

    socket_dir = tempfile.mkdtemp(prefix="htbench")
    env = {**os.environ, "HEAPTUI_SOCKET_DIR": os.path.join(socket_dir, "s")}
    env["PYTHONPATH"] = str(REPO)
    tracked = int(objects / OBJECTS_PER_TRACKED)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--target", str(tracked)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None

    def command(text: str) -> str:
        proc.stdin.write(text + "\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        return proc.stdout.readline().strip()  # type: ignore[union-attr]

    try:
        assert proc.stdout.readline().strip() == "ready"
        result: dict[str, float] = {}
        result["idle_cpu_no_viewer"] = idle_cpu_seconds(proc.pid, idle_seconds)
        with AgentClient.for_pid(proc.pid, env["HEAPTUI_SOCKET_DIR"]) as client:
            result["idle_cpu_viewer"] = idle_cpu_seconds(proc.pid, idle_seconds)
            command("tick")
            time.sleep(0.2)
            command("gap")  # reset
            started = time.perf_counter()
            data, totals = client.capture_bytes()
            received = time.perf_counter()
            host_gap = float(command("gap"))
            snapshot = Snapshot(read_snapshot_bytes(data, "live"), source="live")
            rows = type_summary(snapshot)
            summary_ready = time.perf_counter()
        assert rows
        result.update(
            objects=snapshot.node_count,
            edges=snapshot.edge_total,
            walk=float(snapshot.meta.get("capture_seconds", 0.0)),
            pause=float(totals["pause_seconds"]),
            host_gap=host_gap,
            bytes=float(totals["bytes"]),
            send=float(totals["send_seconds"]),
            transfer=received - started,
            summary=summary_ready - started,
        )
        command("exit")
        proc.wait(30)
        return result
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--objects", type=int, action="append", help="objects in the target (repeatable)"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=10.0, help="idle CPU window (issue: 60)"
    )
    parser.add_argument("--target", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.target is not None:
        target(args.target)
        return
    sizes = args.objects or [1_000_000]
    python = sys.version.split()[0]
    print(f"Python {python}, {os.cpu_count()} CPUs; idle window {args.idle_seconds:g} s")
    header = (
        f"{'objects':>10} {'edges':>10} {'walk s':>7} {'pause s':>7} {'host gap s':>10} "
        f"{'MB sent':>8} {'send s':>7} {'transfer s':>10} {'+% vs walk':>10} "
        f"{'summary s':>9} {'idle CPU s':>10} {'idle+viewer':>11}"
    )
    print(header)
    for objects in sizes:
        r = measure(objects, args.idle_seconds)
        extra = (r["transfer"] - r["pause"]) / r["pause"] * 100 if r["pause"] else 0.0
        print(
            f"{int(r['objects']):>10,} {int(r['edges']):>10,} {r['walk']:>7.2f} {r['pause']:>7.2f} "
            f"{r['host_gap']:>10.2f} {r['bytes'] / 1e6:>8.1f} {r['send']:>7.2f} "
            f"{r['transfer']:>10.2f} {extra:>9.0f}% {r['summary']:>9.2f} "
            f"{r['idle_cpu_no_viewer']:>10.2f} {r['idle_cpu_viewer']:>11.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
