"""Attach by PID with gdb: real targets that never imported heaptui get the agent, keep running,
print nothing new, and are left as they were after the viewer detaches."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from inject_targets import InjectTarget

from heaptui.model.load import load_snapshot
from heaptui.model.summary import type_summary
from heaptui.transport import sockdir
from heaptui.transport.attach import viewer, viewer_procfacts
from heaptui.transport.attach.viewer_errors import (
    GdbMissing,
    NoSuchProcess,
    NotPython,
    PtraceDenied,
    TargetBusy,
    UnsupportedPython,
)
from heaptui.transport.client import AgentClient

needs_gdb = pytest.mark.skipif(shutil.which("gdb") is None, reason="gdb is not installed")
PYENV = Path("/root/.pyenv/versions")


@pytest.fixture
def socket_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Agents injected by this test process listen in a directory of the test's own."""
    path = str(tmp_path / "sockets")
    monkeypatch.setenv(sockdir.ENV_DIR, path)
    return path


@pytest.fixture
def targets(tmp_path: Path) -> Iterator[list[InjectTarget]]:
    started: list[InjectTarget] = []
    yield started
    for target in started:
        target.stop()


def start(targets: list[InjectTarget], tmp_path: Path, mode: str, *extra: str) -> InjectTarget:
    target = InjectTarget(tmp_path / mode, mode, *extra)
    targets.append(target)
    return target


def wait_until(condition: object, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def attach_capture_detach(
    target: InjectTarget, tmp_path: Path, socket_dir: str, *, capture: bool = True
) -> None:
    path, injected = viewer.ensure_agent(target.pid, timeout=20)
    assert injected
    assert path == sockdir.socket_path(target.pid, socket_dir)
    assert viewer.ensure_agent(target.pid) == (path, False)  # the running agent is reused
    snapshot_file = tmp_path / f"{target.pid}.heap"
    with AgentClient(path, pid=target.pid, timeout=20) as client:
        assert client.info["pid"] == target.pid
        assert client.info["injected"] is True
        if capture:
            with open(snapshot_file, "wb") as out:
                totals = client.capture_to(out, timeout=20)
            assert totals["objects"] > 3000
        client.stop_agent()
    if capture:
        rows = {row.name: row for row in type_summary(load_snapshot(snapshot_file))}
        assert rows["__main__.LeakyRecord"].count == 3000
    wait_until(lambda: not os.path.exists(path), "the socket to be removed on detach")


@needs_gdb
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sleeping", "busy", "blocked", "threads"])
def test_attach_captures_and_leaves_the_target_as_it_was(
    mode: str, tmp_path: Path, socket_dir: str, targets: list[InjectTarget]
) -> None:
    target = start(targets, tmp_path, mode)
    modules_before, threads_before, _ = target.report()
    assert modules_before == []
    attach_capture_detach(target, tmp_path, socket_dir)
    # The agent thread is gone and the private modules are forgotten.
    wait_until(lambda: target.report()[1] == threads_before, "the agent thread to end")
    assert target.report()[0] == []
    # The native thread gdb used ends by itself within a second.
    wait_until(lambda: target.status()["Threads"] == len(threads_before), "the OS threads")
    if mode != "blocked":
        target.wait_for_more_ticks()
        assert target.ticks() == list(range(1, len(target.ticks()) + 1))
    assert target.output().splitlines()[0] == "ready"
    assert target.err.read_text() == ""
    assert target.proc.poll() is None


@needs_gdb
@pytest.mark.parametrize("mode", ["threads", "busy"])
def test_capture_in_a_target_with_a_busy_thread(
    mode: str, tmp_path: Path, socket_dir: str, targets: list[InjectTarget]
) -> None:
    # While the walk raised the switch interval, a busy thread that was waiting for the GIL took
    # it once, then kept it: a pure-Python loop ("threads") for the whole raised interval, a
    # loop that prints ("busy", the main thread) by winning the GIL back at every release. A
    # 0.3 s walk took up to 55 s. Ten captures in a row, each with a short deadline.
    target = start(targets, tmp_path, mode)
    path = viewer.inject_agent(target.pid)
    with AgentClient(path, pid=target.pid, timeout=10) as client:
        try:
            for _ in range(10):
                out = io.BytesIO()
                totals = client.capture_to(out, timeout=5)
                assert totals["objects"] > 3000
        finally:
            target.stop()
    snapshot = tmp_path / "last.heap"
    snapshot.write_bytes(out.getvalue())
    rows = {row.name: row for row in type_summary(load_snapshot(snapshot))}
    assert rows["__main__.LeakyRecord"].count == 3000


@needs_gdb
@pytest.mark.slow
def test_twenty_attach_detach_cycles_leave_no_threads_fds_or_memory(
    tmp_path: Path, socket_dir: str, targets: list[InjectTarget]
) -> None:
    target = start(targets, tmp_path, "sleeping")

    def cycle() -> None:
        path = viewer.inject_agent(target.pid)
        with AgentClient(path, pid=target.pid) as client:
            assert client.counters()["threads"] >= 2
            client.stop_agent()
        wait_until(lambda: not os.path.exists(path), "the socket to be removed")
        wait_until(lambda: target.status()["Threads"] == 1, "the agent thread to end")

    # The first cycles import the standard-library modules the agent needs (socket, ...) and
    # warm the allocator: once per process.
    cycle()
    cycle()
    first, first_report = target.status(), target.report()
    for _ in range(20):
        cycle()
    last, last_report = target.status(), target.report()
    assert last["fds"] == first["fds"]
    assert last_report[:2] == first_report[:2] == ([], ["MainThread"])
    assert abs(last_report[2] - first_report[2]) < 50, "objects left in the target"
    # Resident memory moves by a few MB with the allocator's trimming (each payload is parsed
    # in the target, each capture's columns are allocated and freed: +4.3 to +7.8 MB seen over
    # 20 cycles on a loaded machine); one copy of the agent's modules kept per cycle would add
    # 6 MB or more per cycle, 120 MB over 20.
    assert last["VmRSS"] - first["VmRSS"] < 16384, (first, last)  # KiB, over 20 cycles
    assert target.err.read_text() == ""


@needs_gdb
@pytest.mark.slow
def test_gil_held_in_c_times_out_cleanly_then_succeeds_when_waiting(
    tmp_path: Path, socket_dir: str, targets: list[InjectTarget]
) -> None:
    # Calibrate a C call holding the GIL for about 4 s on this machine; both targets start it
    # at once, so the second attempt below waits only for what is left of it.
    started = time.perf_counter()
    sum(range(5_000_000))
    count = str(int(5_000_000 * 4.0 / max(time.perf_counter() - started, 1e-6)))
    gave_up = start(targets, tmp_path / "a", "gil-held", count)
    waited = start(targets, tmp_path / "b", "gil-held", count)

    with pytest.raises(TargetBusy, match="keeps the GIL while running C code"):
        viewer.inject_agent(gave_up.pid, timeout=2.0)

    asked: list[float] = []

    def keep_waiting(seconds: float) -> bool:
        asked.append(seconds)
        return True

    path = viewer.inject_agent(waited.pid, timeout=1.0, keep_waiting=keep_waiting)
    assert asked, "the caller was asked whether to keep waiting"
    with AgentClient(path, pid=waited.pid) as client:
        client.stop_agent()

    gave_up.wait_for_more_ticks()  # its C call ended; the cancelled payload did nothing
    wait_until(lambda: gave_up.status()["Threads"] == 1, "gdb's thread to end")
    assert not os.path.exists(sockdir.socket_path(gave_up.pid, socket_dir))
    assert gave_up.report()[:2] == ([], ["MainThread"])


@needs_gdb
@pytest.mark.slow
@pytest.mark.parametrize("version", ["3.10", "3.12", "3.13"])
def test_attach_other_python_versions(
    version: str, tmp_path: Path, socket_dir: str, targets: list[InjectTarget]
) -> None:
    found = sorted(PYENV.glob(f"{version}.*/bin/python{version}"))
    if not found:
        pytest.skip(f"no Python {version} here")
    target = InjectTarget(tmp_path / version, "sleeping", python=str(found[-1]))
    targets.append(target)
    attach_capture_detach(target, tmp_path, socket_dir)
    assert target.report()[0] == []


@needs_gdb
def test_python_older_than_3_10_is_refused(tmp_path: Path, targets: list[InjectTarget]) -> None:
    found = sorted(PYENV.glob("3.9.*/bin/python3.9"))
    if not found:
        pytest.skip("no Python 3.9 here")
    target = InjectTarget(tmp_path, "sleeping", python=str(found[-1]))
    targets.append(target)
    with pytest.raises(UnsupportedPython, match=r"Python 3\.9; heaptui attaches to Python 3\.10"):
        viewer.inject_agent(target.pid)


def test_a_process_that_is_not_python_is_refused() -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        with pytest.raises(NotPython, match=r"\(.*sleep\) is not a Python process"):
            viewer.inject_agent(sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()


@needs_gdb
def test_a_program_named_python_without_its_symbols_is_refused_by_gdb(tmp_path: Path) -> None:
    impostor = tmp_path / "python3.11"  # looks like Python from outside; gdb looks inside
    shutil.copy("/bin/sleep", impostor)
    sleeper = subprocess.Popen([str(impostor), "30"])
    try:
        with pytest.raises(NotPython, match=r"gdb finds none of CPython's C API in it"):
            viewer.inject_agent(sleeper.pid)
        assert sleeper.poll() is None
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_process_already_being_traced_is_refused(tmp_path: Path) -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    tracer = (
        subprocess.Popen(
            ["gdb", "-batch", "-nx", "-p", str(sleeper.pid), "-ex", "shell sleep 20"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if shutil.which("gdb")
        else None
    )
    try:
        if tracer is None:
            pytest.skip("gdb is not installed")
        wait_until(lambda: viewer_procfacts.tracer_pid(sleeper.pid) != 0, "gdb to attach")
        with pytest.raises(PtraceDenied, match=r"already being traced by process \d+"):
            viewer.inject_agent(sleeper.pid)
    finally:
        if tracer is not None:
            tracer.kill()
            tracer.wait()
        sleeper.kill()
        sleeper.wait()


def test_a_pid_that_does_not_exist_is_refused() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    with pytest.raises(NoSuchProcess, match=f"no process with pid {gone.pid}"):
        viewer.inject_agent(gone.pid)


def test_missing_gdb_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, targets: list[InjectTarget], tmp_path: Path
) -> None:
    target = start(targets, tmp_path, "sleeping")
    monkeypatch.setattr(viewer, "gdb_path", lambda: None)
    with pytest.raises(GdbMissing, match=r"apt-get install gdb"):
        viewer.inject_agent(target.pid)


NOBODY = 65534


def _drop_to(uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start processes as other users")
def test_another_users_process_gets_the_ptrace_message(targets: list[InjectTarget]) -> None:
    shared = Path(tempfile.mkdtemp(prefix="heaptui-test-"))
    shared.chmod(0o777)  # the target, running as nobody, writes its report there
    # /root (where the test's own Python lives) is closed to other users: use the system one.
    python = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    if python is None:
        pytest.skip("no system python3 other users can run")
    target = InjectTarget(shared, "sleeping", python=python, preexec_fn=lambda: _drop_to(NOBODY))
    targets.append(target)
    code = (
        "from heaptui.transport.attach import viewer\n"
        "from heaptui.core.errors import UserError\n"
        f"try:\n    viewer.inject_agent({target.pid})\n"
        "except UserError as exc:\n    print(type(exc).__name__, exc)\n"
    )
    other = NOBODY - 1
    result = subprocess.run(
        [python, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: _drop_to(other),
        cwd="/",
        env={**os.environ, "HOME": "/", "PYTHONPATH": str(Path(viewer.__file__).parents[3])},
    )
    assert result.stdout.startswith("PtraceDenied"), result.stdout + result.stderr
    assert f"belongs to uid {NOBODY}" in result.stdout
    assert "run heaptui as that user, or as root" in result.stdout
    assert target.proc.poll() is None
    target.stop()
    shutil.rmtree(shared)
