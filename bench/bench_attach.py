"""Benchmark attach by PID: from ``inject_agent`` to the agent answering, then to a summary.

Starts a real target (``sys.executable -S``: no heaptui importable in it) holding about
``--objects`` objects, attaches with gdb, and prints:

- attach: ``inject_agent`` returned (the agent listens in the target);
- answer: the agent answered the handshake;
- capture: the snapshot arrived (the walk in the target plus the transfer);
- summary: the snapshot loaded and the type summary computed (what the TUI shows first);
- detach: the agent stopped and its socket is gone;

next to ``py-spy dump`` on the same process when py-spy is found (``--py-spy PATH`` or on
PATH), which attaches with ptrace and reads stacks without running code in the target.
Goal (issue 5): attach + answer under 3 s, plus the capture itself.

    .venv/bin/python bench/bench_attach.py --objects 1000000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = """
import sys, time
n = int(sys.argv[1]) // 3
HELD = [(i, str(i)) for i in range(1000, 1000 + n)]  # a tuple, an int and a str each
print("ready", flush=True)
while True:
    time.sleep(0.1)
"""


def start_target(directory: Path, objects: int) -> subprocess.Popen[str]:
    script = directory / "target.py"
    script.write_text(TARGET)
    proc = subprocess.Popen(
        [sys.executable, "-S", str(script), str(objects)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def time_py_spy(py_spy: str | None, pid: int) -> str:
    if py_spy is None:
        return "py-spy not found (pip download --no-deps py-spy; pass --py-spy PATH)"
    started = time.perf_counter()
    result = subprocess.run([py_spy, "dump", "--pid", str(pid)], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    status = "ok" if result.returncode == 0 else f"failed: {result.stderr.strip()[:80]}"
    return f"{elapsed:6.2f} s  (py-spy dump, stacks only, {status})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--py-spy", default=shutil.which("py-spy"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HEAPTUI_SOCKET_DIR"] = os.path.join(tmp, "sockets")
        from heaptui.model.load import load_snapshot
        from heaptui.model.summary import type_summary
        from heaptui.transport.attach.viewer import inject_agent
        from heaptui.transport.client import AgentClient

        proc = start_target(Path(tmp), args.objects)
        try:
            t0 = time.perf_counter()
            path = inject_agent(proc.pid, timeout=30)
            t_attach = time.perf_counter()
            client = AgentClient(path, pid=proc.pid, timeout=30)
            client.connect()
            t_answer = time.perf_counter()
            snapshot_file = os.path.join(tmp, "now.heap")
            with open(snapshot_file, "wb") as out:
                totals = client.capture_to(out)
            t_capture = time.perf_counter()
            rows = type_summary(load_snapshot(snapshot_file))
            t_summary = time.perf_counter()
            client.stop_agent()
            client.close()
            while os.path.exists(path):
                time.sleep(0.005)
            t_detach = time.perf_counter()

            print(f"target: pid {proc.pid}, {totals['objects']:,} objects captured")
            print(f"attach   {t_attach - t0:6.2f} s  (gdb + payload: the agent listens)")
            print(f"answer   {t_answer - t0:6.2f} s  (handshake done)        goal < 3 s")
            print(
                f"capture  {t_capture - t0:6.2f} s  (+{t_capture - t_answer:.2f} s: walk "
                f"{totals['pause_seconds']:.2f} s, {totals['bytes'] / 1e6:.1f} MB sent)"
            )
            print(f"summary  {t_summary - t0:6.2f} s  (+{t_summary - t_capture:.2f} s: load)")
            print(f"detach   {t_detach - t_summary:6.2f} s  (agent stopped, socket gone)")
            print(f"top type {rows[0].name} x {rows[0].count:,}")
            print(f"py-spy   {time_py_spy(args.py_spy, proc.pid)}")
        finally:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
