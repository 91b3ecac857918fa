"""Real target processes for the attach-by-PID tests, and what can be read about them from outside.

Targets run ``sys.executable -S`` (no site-packages: heaptui is not importable in them, as in
a process that never installed it) and write their own output to files, so a test can check
that attaching changed nothing the program prints. On SIGUSR1 a target writes which heaptui
modules, which threads and how many objects (after a collection) it has, for the "nothing
left behind" checks.
"""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

TARGET_SOURCE = r"""
import gc, os, signal, sys, threading, time

class LeakyRecord:
    pass

CACHE = {"records": [LeakyRecord() for _ in range(3000)]}
REPORT = sys.argv[2]

def report(signum, frame):
    modules = sorted(m for m in sys.modules if "heaptui" in m)
    threads = sorted(t.name for t in threading.enumerate())
    gc.collect()
    with open(REPORT + ".part", "w") as f:
        f.write(repr((modules, threads, len(gc.get_objects()))))
    os.replace(REPORT + ".part", REPORT)

signal.signal(signal.SIGUSR1, report)

def busy_worker():
    n = 0
    while True:
        n += 1

def sleepy_worker():
    while True:
        time.sleep(0.01)

mode = sys.argv[1]
if mode == "threads":
    threading.Thread(target=busy_worker, name="busy", daemon=True).start()
    for i in range(2):
        threading.Thread(target=sleepy_worker, name=f"sleepy{i}", daemon=True).start()
print("ready", flush=True)
n = 0
if mode in ("sleeping", "threads"):
    while True:
        n += 1
        print(f"tick {n}", flush=True)
        time.sleep(0.05)
elif mode == "busy":
    while True:
        n += 1
        if n % 300_000 == 0:
            print(f"tick {n // 300_000}", flush=True)
elif mode == "blocked":
    time.sleep(1000)
elif mode == "gil-held":
    sum(range(int(sys.argv[3])))  # one long C call holding the GIL
    while True:
        n += 1
        print(f"tick {n}", flush=True)
        time.sleep(0.05)
"""


class InjectTarget:
    """One running target; ``mode`` is sleeping, busy, blocked, threads or gil-held."""

    def __init__(
        self,
        directory: Path,
        mode: str,
        *extra: str,
        python: str = sys.executable,
        preexec_fn: object = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.script = directory / "target.py"
        self.script.write_text(TARGET_SOURCE)
        self.out = directory / f"{mode}.out"
        self.err = directory / f"{mode}.err"
        self.report_path = directory / f"{mode}.report"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [python, "-S", str(self.script), mode, str(self.report_path), *extra],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                preexec_fn=preexec_fn,  # type: ignore[arg-type]
            )
        self.pid = self.proc.pid
        self.wait_for(lambda: self.output().startswith("ready\n"), "the target to start")

    def output(self) -> str:
        return self.out.read_text()

    def ticks(self) -> list[int]:
        return [int(line.split()[1]) for line in self.output().splitlines()[1:] if line]

    def wait_for(self, condition: object, what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():  # type: ignore[operator]
            if self.proc.poll() is not None:
                raise AssertionError(f"target exited ({self.err.read_text()}) waiting for {what}")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.02)

    def wait_for_more_ticks(self) -> None:
        seen = len(self.ticks())
        self.wait_for(lambda: len(self.ticks()) > seen + 1, "the target to keep running")

    def report(self) -> tuple[list[str], list[str], int]:
        """Ask the target (through SIGUSR1) for its heaptui modules, threads and object count."""
        self.report_path.unlink(missing_ok=True)
        os.kill(self.pid, signal.SIGUSR1)
        self.wait_for(self.report_path.exists, "the target's report")
        modules, threads, objects = ast.literal_eval(self.report_path.read_text())
        return modules, threads, objects

    def status(self) -> dict[str, int]:
        """Threads, open fds and resident memory, read from /proc."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("Threads", "VmRSS"):
                fields[key] = int(value.split()[0])
        fields["fds"] = len(os.listdir(f"/proc/{self.pid}/fd"))
        return fields

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
