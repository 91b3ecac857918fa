"""`heaptui snapshot PID` on a process that never imported heaptui: inject, capture, leave.

The user's path through issue 5 on the command line: the agent is injected through gdb, the
snapshot names the leaked type, and afterwards the target has no agent thread or socket left.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from heaptui.cli import main
from heaptui.model.load import load_snapshot
from heaptui.model.summary import type_summary

pytestmark = pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")

TARGET = """
import sys, time
class LeakyThing:
    pass
HOLD = [LeakyThing() for _ in range(4000)]
print("ready", flush=True)
while True:
    time.sleep(0.2)
"""


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads line")


def test_snapshot_by_pid_injects_captures_and_removes_the_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HEAPTUI_SOCKET_DIR", str(tmp_path / "sockets"))
    # -S: the target cannot import heaptui; the agent must travel as source.
    target = subprocess.Popen(
        [sys.executable, "-S", "-c", TARGET], stdout=subprocess.PIPE, text=True
    )
    try:
        assert target.stdout is not None
        assert target.stdout.readline().strip() == "ready"
        threads_before = _threads(target.pid)
        out = tmp_path / "now.heap"
        assert main(["snapshot", str(target.pid), "-o", str(out), "--timeout", "30"]) == 0
        assert "agent injected" in capsys.readouterr().err
        rows = {row.name: row for row in type_summary(load_snapshot(str(out)))}
        assert rows["__main__.LeakyThing"].count == 4000
        deadline = time.monotonic() + 10
        while _threads(target.pid) != threads_before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _threads(target.pid) == threads_before
        sockets = tmp_path / "sockets"
        assert not sockets.exists() or not any(p.name.endswith(".sock") for p in sockets.iterdir())
        assert target.poll() is None, "the target must keep running"
    finally:
        target.kill()
        target.wait()
        if target.stdout is not None:
            target.stdout.close()


def test_snapshot_of_a_process_that_does_not_exist_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    assert main(["snapshot", str(dead.pid), "-o", os.fspath(tmp_path / "x.heap")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("heaptui: error: ")
    assert str(dead.pid) in err
    assert not (tmp_path / "x.heap").exists()
