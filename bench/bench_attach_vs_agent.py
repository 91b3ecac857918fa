"""Benchmark an injected agent against the built-in one on the same plain heap (issue 12).

For each target Python (this interpreter, and ``--python`` others, e.g. 3.13), two fresh
targets build the same heap of about ``--objects`` objects (tuples of an int and a str, as in
bench_attach.py): one runs the built-in agent (``heaptui.install()``, heaptui importable with
the C walk built for that Python), the other has no heaptui and gets the agent injected by PID.
Each is captured ``--runs`` times; printed side by side:

- pause: how long the capture held the program (the walk, the agent's ``pause_seconds``),
  best of the runs (the machine may be shared), and the injected/built-in ratio (goal <= 1.3x);
- peak extra memory: the target's VmHWM during the capture minus its VmRSS before it (VmHWM
  reset through /proc/PID/clear_refs), the worst of the runs (the first, usually: later ones
  reuse memory the first one left to the allocator), as a share of the RSS before the first
  capture (goal < 50%);
- the walker the injected agent used.

Then ``--cycles`` attach/capture/detach cycles on a small injected target, with its thread,
``sys.modules`` and ``gc.get_objects()`` counts (no collection first) before and after.

    .venv/bin/python bench/bench_attach_vs_agent.py --objects 2700000 \
        --python /root/.pyenv/versions/3.13.0/bin/python3.13

The machine may be shared: pauses are best-of-N wall-clock figures.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

TARGET = """
import gc, os, signal, sys, threading, time
if sys.argv[2] == "agent":
    import heaptui
    heaptui.install()
n = int(sys.argv[1]) // 3
HELD = [(i, str(i)) for i in range(1000, 1000 + n)]  # a tuple, an int and a str each
REPORT = sys.argv[3]

def report(signum, frame):
    counts = (threading.active_count(), len(sys.modules), len(gc.get_objects()))
    with open(REPORT + ".part", "w") as f:
        f.write(repr(counts))
    os.replace(REPORT + ".part", REPORT)

signal.signal(signal.SIGUSR1, report)
print("ready", flush=True)
while True:
    time.sleep(0.1)
"""


class Target:
    """One target process; ``mode`` is ``agent`` (built-in) or ``plain`` (to inject into)."""

    def __init__(self, directory: Path, python: str, objects: int, mode: str, path: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        script = directory / "target.py"
        script.write_text(TARGET)
        self.report_path = directory / f"{mode}.report"
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        args = [python, str(script), str(objects), mode, str(self.report_path)]
        if mode == "agent":
            env["PYTHONPATH"] = path
        else:
            args.insert(1, "-S")  # no site-packages: heaptui is not importable
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise SystemExit(f"target {python} {mode} did not start")
        self.pid = self.proc.pid

    def status(self, field: str) -> int:
        """A field of /proc/PID/status, in bytes for the kB ones."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                parts = line.split()
                return int(parts[1]) * (1024 if parts[-1] == "kB" else 1)
        return 0

    def reset_peak(self) -> None:
        with open(f"/proc/{self.pid}/clear_refs", "w") as f:
            f.write("5")

    def counts(self) -> tuple[int, int, int]:
        self.report_path.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 30
        while not self.report_path.exists():
            if time.monotonic() > deadline:
                raise SystemExit("the target did not report its counts")
            time.sleep(0.02)
        return ast.literal_eval(self.report_path.read_text())  # type: ignore[no-any-return]

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def capture_runs(target: Target, path: str, runs: int) -> dict[str, Any]:
    """Capture ``runs`` times (one connection per capture); best pause and worst peak."""
    from heaptui.transport.client import AgentClient

    pauses, peaks = [], []
    info: dict[str, Any] = {}
    first_rss = target.status("VmRSS")
    for _ in range(runs):
        with AgentClient(path, pid=target.pid, timeout=60) as client:
            info = client.info
            rss = target.status("VmRSS")
            target.reset_peak()
            with open(os.devnull, "wb") as out:
                totals = client.capture_to(out)
            peaks.append(target.status("VmHWM") - rss)
            pauses.append(float(totals["pause_seconds"]))
    return {"pause": min(pauses), "peak": max(peaks), "rss": first_rss, "info": info}


def package_for(python: str, directory: Path) -> str:
    """A heaptui importable by ``python`` with the C walk built for it (for the built-in agent)."""
    from heaptui.transport.attach import viewer_walker

    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[0], sys.version_info[1])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    if tuple(map(int, version)) == sys.version_info[:2]:
        return str(REPO)
    library, note = viewer_walker.walker_for(
        (int(version[0]), int(version[1])), python, target_uid=os.geteuid()
    )
    if library is None:
        raise SystemExit(f"no C walk for {python}: {note}")
    copy = directory / "pkg"
    shutil.copytree(REPO / "heaptui", copy / "heaptui", ignore=shutil.ignore_patterns("*.so"))
    shutil.copy(library, copy / "heaptui" / "capture" / Path(library).name)
    return str(copy)


def compare(python: str, objects: int, runs: int, directory: Path) -> None:
    from heaptui.transport.attach.viewer import inject_agent
    from heaptui.transport.client import AgentClient
    from heaptui.transport.sockdir import socket_path

    path = package_for(python, directory)
    results = {}
    for mode in ("agent", "plain"):
        target = Target(directory / mode, python, objects, mode, path)
        try:
            if mode == "agent":
                socket = socket_path(target.pid)
                deadline = time.monotonic() + 30
                while not os.path.exists(socket) and time.monotonic() < deadline:
                    time.sleep(0.05)
            else:
                socket = inject_agent(target.pid, timeout=60, on_note=print)
            results[mode] = capture_runs(target, socket, runs)
            if mode == "plain":
                with AgentClient(socket, pid=target.pid) as client:
                    client.stop_agent()
        finally:
            target.stop()
    agent, injected = results["agent"], results["plain"]
    version = agent["info"].get("python")
    print(f"\nPython {version} ({python}), {objects:,} objects, {runs} runs")
    print(f"{'':10} {'pause':>8} {'peak extra':>12} {'RSS before':>11} {'peak/RSS':>9}")
    for name, r in (("built-in", agent), ("injected", injected)):
        print(
            f"{name:10} {r['pause']:7.2f}s {r['peak'] / 1e6:10.1f}MB {r['rss'] / 1e6:9.1f}MB "
            f"{r['peak'] / r['rss']:8.0%}"
        )
    ratio = injected["pause"] / agent["pause"]
    print(f"pause ratio injected/built-in: {ratio:.2f}x (goal <= 1.3x)")
    print(f"injected walker: {injected['info'].get('walker')}")


def cycles(python: str, count: int, directory: Path) -> None:
    from heaptui.transport.attach.viewer import inject_agent
    from heaptui.transport.client import AgentClient

    target = Target(directory / "cycles", python, 100_000, "plain", "")
    try:

        def cycle() -> None:
            socket = inject_agent(target.pid, timeout=60)
            with AgentClient(socket, pid=target.pid) as client:
                with open(os.devnull, "wb") as out:
                    client.capture_to(out)
                client.stop_agent()
            deadline = time.monotonic() + 30
            while os.path.exists(socket) or target.status("Threads") != 1:
                if time.monotonic() > deadline:
                    raise SystemExit("the agent did not leave")
                time.sleep(0.02)

        cycle()  # the first one imports the standard-library modules the agent needs
        cycle()
        target.counts()  # the first report warms what reporting itself uses
        before = target.counts()
        for _ in range(count):
            cycle()
        after = target.counts()
    finally:
        target.stop()
    print(
        f"{count} attach/capture/detach cycles on {python}: (threads, modules, gc objects) "
        f"{before} -> {after}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=2_700_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--python", action="append", default=[], help="another target Python")
    parser.add_argument("--no-self", action="store_true", help="only the --python targets")
    args = parser.parse_args()
    pythons = ([] if args.no_self else [sys.executable]) + args.python
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HEAPTUI_SOCKET_DIR"] = os.path.join(tmp, "sockets")
        for n, python in enumerate(pythons):
            compare(python, args.objects, args.runs, Path(tmp) / f"py{n}")
        for n, python in enumerate(pythons if args.cycles else []):
            cycles(python, args.cycles, Path(tmp) / f"cy{n}")


if __name__ == "__main__":
    main()
