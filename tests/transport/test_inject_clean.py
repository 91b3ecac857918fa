"""An injected agent is as light and clean as the built-in one (issue 12), on real processes.

Its captures use the compiled walker (the snapshot's metadata says so), leave every object of
the injection out, and show no growth between two attaches to an idle process; it uninstalls
itself when its viewer dies at any point; idle connections never lock a new viewer out.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from inject_targets import InjectTarget

from heaptui.capture import accel
from heaptui.model.load import load_snapshot
from heaptui.model.snapshot import Snapshot
from heaptui.model.summary import type_summary
from heaptui.transport import agent_server, sockdir
from heaptui.transport.attach import viewer, viewer_procfacts
from heaptui.transport.client import AgentClient, AgentError

needs_gdb = pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
needs_walk = pytest.mark.skipif(not accel.available(), reason="the C walk is not built")
PY313 = Path("/root/.pyenv/versions/3.13.0/bin/python3.13")
PYTHONS = [
    pytest.param(sys.executable, id="same-python"),
    pytest.param(
        str(PY313),
        id="python3.13",
        marks=pytest.mark.skipif(
            not PY313.exists() or sys.version_info[:2] == (3, 13), reason="no other Python"
        ),
    ),
]
# What the injection's objects are named (the target's own source mentions "heaptui").
OWN_MARKS = ("heaptui_attach", "heaptui.", "heaptui-agent", "InjectedAgent", "_SourceLoader")
REPO = Path(__file__).resolve().parents[2]
LEASE_MARGIN = 10.0  # the lease is 5 s (15 s before a first viewer); a loaded machine is slow


@pytest.fixture
def socket_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = str(tmp_path / "sockets")
    monkeypatch.setenv(sockdir.ENV_DIR, path)
    return path


@pytest.fixture
def targets() -> Iterator[list[InjectTarget]]:
    started: list[InjectTarget] = []
    yield started
    for target in started:
        target.stop()


def wait_until(condition: object, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def injected_snapshot(target: InjectTarget, path: Path) -> Snapshot:
    socket_path = viewer.inject_agent(target.pid, timeout=20)
    with AgentClient(socket_path, pid=target.pid, timeout=20) as client:
        assert client.info["walker"] == "c"
        with open(path, "wb") as out:
            client.capture_to(out, timeout=60)
        client.stop_agent()
    wait_until(lambda: not os.path.exists(socket_path), "the socket to go")
    wait_until(lambda: target.status()["Threads"] == 1, "the agent's threads to end")
    return load_snapshot(path)


@needs_gdb
@needs_walk
@pytest.mark.slow
@pytest.mark.parametrize("python", PYTHONS)
def test_injected_captures_are_compiled_and_leave_the_injection_out(
    python: str, tmp_path: Path, socket_dir: str, targets: list[InjectTarget]
) -> None:
    target = InjectTarget(tmp_path / "t", "blocked", python=python)
    targets.append(target)
    # The first attach imports the standard-library modules the agent needs (socket, ...),
    # once per process. Some of those imports leave garbage of their own (datetime's pure-Python
    # classes, replaced by _datetime's) to the next collection, and on 3.13 the collector
    # untracks their constant tuples over the next two full collections.
    injected_snapshot(target, tmp_path / "warm-1.heap")
    injected_snapshot(target, tmp_path / "warm-2.heap")
    first = injected_snapshot(target, tmp_path / "1.heap")
    second = injected_snapshot(target, tmp_path / "2.heap")
    for snapshot in (first, second):
        assert snapshot.meta["walker"] == "c"
        nodes = range(snapshot.node_count)
        texts = [snapshot.type_name(n) + " " + snapshot.repr_of(n) for n in nodes]
        own = [t for t in texts if any(mark in t for mark in OWN_MARKS)]
        assert own == []
    counts = [{row.name: row.count for row in type_summary(s)} for s in (first, second)]
    growth = {k: counts[1].get(k, 0) - counts[0].get(k, 0) for k in counts[0].keys() | counts[1]}
    assert {k: v for k, v in growth.items() if v} == {}
    assert counts[1]["__main__.LeakyRecord"] == 3000
    assert target.err.read_text() == ""


VIEWER = """
import sys, time
from heaptui.transport.attach import viewer
from heaptui.transport import protocol
from heaptui.transport.client import AgentClient

pid, point = int(sys.argv[1]), sys.argv[2]
path = viewer.inject_agent(pid, timeout=20)
if point != "before-connect":
    client = AgentClient(path, pid=pid)
    client.connect()
    if point == "capture":  # ask, read the first chunk, then stop reading: the agent is sending
        sock = client._sock
        protocol.send_json(sock, {"op": protocol.OP_CAPTURE})
        protocol.recv_json(sock, protocol.MAX_REPLY_BYTES)
        protocol.recv_frame(sock, protocol.MAX_REPLY_BYTES)
print(path, flush=True)
time.sleep(1000)
"""


def run_viewer(tmp_path: Path, pid: int, point: str) -> tuple[subprocess.Popen[str], str]:
    script = tmp_path / "viewer.py"
    script.write_text(VIEWER)
    viewer = subprocess.Popen(
        [sys.executable, str(script), str(pid), point],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert viewer.stdout is not None
    return viewer, viewer.stdout.readline().strip()


def snapshot_cli_killed_early(pid: int, socket_path: str, tmp_path: Path) -> None:
    """The issue's reproduction: SIGKILL `heaptui snapshot PID` 0.15 s after the socket appears."""
    viewer = subprocess.Popen(
        [sys.executable, "-m", "heaptui", "snapshot", str(pid), "-o", str(tmp_path / "x.heap")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    wait_until(lambda: os.path.exists(socket_path), "the injected agent's socket", 30)
    time.sleep(0.15)
    viewer.kill()
    viewer.wait()


def _has_gdb_child(pid: int) -> bool:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return False
    for child in children:
        try:
            if Path(f"/proc/{child}/comm").read_text().strip() == "gdb":
                return True
        except OSError:
            pass
    return False


@needs_gdb
@pytest.mark.slow
@pytest.mark.parametrize(
    "point", ["injecting", "before-connect", "handshake", "capture", "snapshot-cli"]
)
def test_a_killed_viewer_leaves_no_agent_after_the_lease(
    point: str, tmp_path: Path, socket_dir: str, targets: list[InjectTarget]
) -> None:
    # A big enough heap that a capture does not fit in the socket's buffers.
    target = InjectTarget(tmp_path / "t", "blocked")
    targets.append(target)
    assert target.report()[:2] == ([], ["MainThread"])
    socket_path = sockdir.socket_path(target.pid, socket_dir)
    if point == "snapshot-cli":
        snapshot_cli_killed_early(target.pid, socket_path, tmp_path)
    elif point == "injecting":  # gdb is attached, or about to: it must finish on its own
        viewer = subprocess.Popen(
            [sys.executable, "-c", VIEWER, str(target.pid), point],
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        wait_until(lambda: _has_gdb_child(viewer.pid), "gdb to start", 30)
        viewer.kill()
        viewer.wait()
        # gdb finishes the injection on its own (or had not attached yet), then detaches.
        time.sleep(0.5)
        wait_until(lambda: viewer_procfacts.tracer_pid(target.pid) == 0, "gdb to detach", 30)
    else:
        viewer, path = run_viewer(tmp_path, target.pid, point)
        assert path == socket_path
        viewer.send_signal(signal.SIGKILL)
        viewer.wait()
        assert viewer.stdout is not None
        viewer.stdout.close()
    killed = time.monotonic()
    lease = 15.0 if point in ("before-connect", "injecting") else 5.0
    wait_until(lambda: not os.path.exists(socket_path), "the agent to leave", lease + LEASE_MARGIN)
    assert time.monotonic() - killed > lease - 1.0 or point in ("snapshot-cli", "injecting")
    assert target.proc.poll() is None
    wait_until(lambda: target.status()["Threads"] == 1, "the agent's threads to end")
    assert target.report()[:2] == ([], ["MainThread"])
    assert target.err.read_text() == ""


def test_idle_viewers_do_not_lock_a_new_one_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(agent_server, "IDLE_TIMEOUT", 1.0)
    agent = agent_server.Agent(socket_dir=str(tmp_path / "sockets"), restart_after_fork=False)
    idle = [AgentClient(agent.path) for _ in range(agent_server.MAX_CONNECTIONS)]
    try:
        for client in idle:
            client.connect()
        with pytest.raises(AgentError, match=r"busy: 8 viewers connected"):
            AgentClient(agent.path).connect()
        time.sleep(1.5)  # past IDLE_TIMEOUT: the idle ones were let go
        with AgentClient(agent.path) as client:
            assert client.counters()["threads"] >= 1
            time.sleep(0.6)  # a viewer that keeps asking is never dropped
            assert client.counters()["threads"] >= 1
            time.sleep(0.6)
            assert client.counters()["threads"] >= 1
    finally:
        for client in idle:
            client.close()
        agent.stop()


def test_live_source_outlives_idle_timeouts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from heaptui.transport.sources import LiveSource

    monkeypatch.setattr(agent_server, "IDLE_TIMEOUT", 0.5)
    agent = agent_server.Agent(socket_dir=str(tmp_path / "s"), restart_after_fork=False)
    source = LiveSource(os.getpid(), str(tmp_path / "s"))
    try:
        assert source.counters()["threads"] >= 1
        time.sleep(1.0)  # the counters connection was let go: opened again
        assert source.counters()["threads"] >= 1
        time.sleep(1.0)  # each capture has a connection of its own
        assert source.capture(lambda step: None).node_count > 1000
    finally:
        source.close()
        agent.stop()


@needs_gdb
@pytest.mark.slow
def test_without_a_compiled_walker_the_snapshot_command_says_why_in_one_line(
    tmp_path: Path, socket_dir: str, targets: list[InjectTarget]
) -> None:
    target = InjectTarget(tmp_path / "t", "blocked")
    targets.append(target)
    cache = tmp_path / "cache"
    (cache / "heaptui" / "walk").mkdir(parents=True, mode=0o755)  # not private: refused
    (cache / "heaptui" / "walk").chmod(0o755)
    output = tmp_path / "now.heap"
    done = subprocess.run(
        [sys.executable, "-m", "heaptui", "snapshot", str(target.pid), "-o", str(output)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO), "XDG_CACHE_HOME": str(cache)},
    )
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "pure-Python walker" in line]
    assert notes == [
        f"heaptui: the target gets the pure-Python walker: {cache}/heaptui/walk is not a "
        "private directory of yours"
    ]
    assert load_snapshot(output).meta["walker"] == "python"
