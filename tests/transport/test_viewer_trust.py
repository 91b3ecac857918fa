"""The viewer trusts no agent it cannot vouch for: its directory, its user, its stream (issue 13).

A fake agent (fake_agent.py) plays the attacker, as a real second user ('nobody', 65534) where
the attack needs one: those tests run as root (as in CI) and are skipped otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from heaptui.cli import main
from heaptui.fileformat.write import write_snapshot_file
from heaptui.testing import SnapshotBuilder
from heaptui.transport import protocol, sockdir
from heaptui.transport.client import AgentClient, AgentError
from heaptui.transport.discovery import list_agents

FAKE_AGENT = Path(__file__).with_name("fake_agent.py")
NOBODY = 65534
needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="needs root to run the fake agent as a second user (nobody)"
)


@pytest.fixture
def place() -> Iterator[str]:
    """A short parent directory (socket paths must fit in about 100 bytes)."""
    parent = tempfile.mkdtemp(prefix="httrust")
    yield parent
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _fake_agent(started: list[subprocess.Popen[str]], path: str, *options: str) -> int:
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_AGENT), path, *options], stdout=subprocess.PIPE, text=True
    )
    started.append(proc)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), line
    return proc.pid


def _victim(started: list[subprocess.Popen[str]]) -> int:
    """A process of this user (root) that runs no agent: what the attacker impersonates."""
    proc = subprocess.Popen(["sleep", "60"], text=True)
    started.append(proc)
    return proc.pid


def _snapshot_file(directory: str) -> str:
    """A valid snapshot: what a fake agent sends, so that only the checks can refuse it."""
    b = SnapshotBuilder()
    b.node(0x1000, "attacker.Data", size=64, repr="'planted'")
    return write_snapshot_file(b.build(), os.path.join(directory, "planted.heap"))


def _private_dir(parent: str, owner: int | None = None) -> str:
    path = os.path.join(parent, "s")
    os.mkdir(path, 0o700)
    if owner is not None:
        os.chown(path, owner, owner)
    return path


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.splitlines()
    errors = [line for line in lines if line.startswith("heaptui: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], lines  # one line, the last
    return errors[0]


# --- 1. the socket directory and the peer ------------------------------------------------------
@needs_root
def test_snapshot_refuses_a_socket_directory_owned_by_another_user(
    place, processes, monkeypatch, capsys
) -> None:
    directory = _private_dir(place, owner=NOBODY)  # 'nobody' made our socket directory first
    victim = _victim(processes)
    planted = _snapshot_file(place)
    _fake_agent(
        processes,
        os.path.join(directory, f"{victim}.sock"),
        "--uid",
        str(NOBODY),
        "--stream",
        planted,
    )
    monkeypatch.setenv(sockdir.ENV_DIR, directory)
    out = os.path.join(place, "out.heap")
    assert main(["snapshot", str(victim), "-o", out]) == 2
    err = _one_line_error(capsys)
    assert f"owned by uid {NOBODY}" in err and "refusing" in err
    assert not os.path.exists(out)


@needs_root
def test_ps_refuses_a_socket_directory_owned_by_another_user(
    place, processes, monkeypatch, capsys
) -> None:
    directory = _private_dir(place, owner=NOBODY)
    fake = _fake_agent(processes, os.path.join(directory, "1.sock"), "--uid", str(NOBODY))
    os.rename(os.path.join(directory, "1.sock"), os.path.join(directory, f"{fake}.sock"))
    monkeypatch.setenv(sockdir.ENV_DIR, directory)
    assert main(["ps"]) == 2
    err = _one_line_error(capsys)
    assert f"owned by uid {NOBODY}" in err
    assert str(fake) not in err


def test_a_symlinked_socket_directory_is_refused(place, monkeypatch, capsys) -> None:
    real = _private_dir(place)
    link = os.path.join(place, "link")
    os.symlink(real, link)
    monkeypatch.setenv(sockdir.ENV_DIR, link)
    assert main(["ps"]) == 2
    assert "not a directory" in _one_line_error(capsys)


@needs_root
def test_snapshot_refuses_an_agent_of_another_user_in_our_own_directory(
    place, processes, monkeypatch, capsys
) -> None:
    directory = _private_dir(place)  # ours, mode 0700: only the peer check is left
    victim = _victim(processes)
    planted = _snapshot_file(place)
    _fake_agent(
        processes,
        os.path.join(directory, f"{victim}.sock"),
        "--uid",
        str(NOBODY),
        "--stream",
        planted,
    )
    monkeypatch.setenv(sockdir.ENV_DIR, directory)
    out = os.path.join(place, "out.heap")
    assert main(["snapshot", str(victim), "-o", out]) == 2
    err = _one_line_error(capsys)
    assert f"runs as uid {NOBODY}" in err and "belongs to uid 0" in err
    assert not os.path.exists(out)


@needs_root
def test_root_may_reach_the_agent_of_another_users_process_in_its_directory(
    place, processes
) -> None:
    # The legitimate case the checks must keep: the process and its directory both belong
    # to 'nobody' (the agent listens in its owner's directory when root attaches).
    directory = _private_dir(place, owner=NOBODY)
    path = os.path.join(directory, "1.sock")
    fake = _fake_agent(processes, path, "--uid", str(NOBODY))
    real_path = os.path.join(directory, f"{fake}.sock")
    os.rename(path, real_path)
    with AgentClient(real_path) as client:
        assert client.info["pid"] == fake


# --- 2. ps removes stale sockets only -------------------------------------------------------
def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_ps_removes_only_stale_sockets_and_never_follows_symlinks(place) -> None:
    directory = _private_dir(place)
    elsewhere = os.path.join(place, "elsewhere")
    os.mkdir(elsewhere)
    precious = os.path.join(elsewhere, "precious.txt")
    Path(precious).write_text("keep me")
    dead = _dead_pid()
    stale = os.path.join(directory, f"{dead}.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(stale)
    server.close()  # a socket nobody listens on, of a process that is gone
    regular = os.path.join(directory, f"{dead + 1_000_000}.sock")
    Path(regular).write_text("not a socket")
    link = os.path.join(directory, f"{dead + 2_000_000}.sock")
    os.symlink(precious, link)
    assert list_agents(directory) == []
    assert not os.path.lexists(stale)
    assert os.path.isfile(regular) and os.path.islink(link)
    assert Path(precious).read_text() == "keep me"


def test_ps_does_not_clean_through_a_symlinked_directory(place, monkeypatch, capsys) -> None:
    victim_dir = os.path.join(place, "victim")
    os.mkdir(victim_dir, 0o700)
    planted = os.path.join(victim_dir, f"{_dead_pid()}.sock")
    Path(planted).write_text("a file of the victim's")
    link = os.path.join(place, "s")
    os.symlink(victim_dir, link)
    monkeypatch.setenv(sockdir.ENV_DIR, link)
    assert main(["ps"]) == 2
    _one_line_error(capsys)
    assert Path(planted).read_text() == "a file of the victim's"


# --- 4. the stream is checked as it arrives -------------------------------------------------
def _leftovers(directory: str) -> list[str]:
    return sorted(os.listdir(directory))


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (("--garbage", str(2_000_000_000)), "does not start like a heaptui snapshot"),
        (("--snapshot-then", str(1_500_000_000)), "more than a snapshot of that process"),
    ],
    ids=["garbage", "endless-after-a-valid-preamble"],
)
def test_snapshot_stops_at_the_first_lie_of_the_stream(
    place, processes, monkeypatch, capsys, options, expected
) -> None:
    directory = _private_dir(place)
    fake = _fake_agent(processes, os.path.join(directory, "1.sock"), *options)
    os.rename(os.path.join(directory, "1.sock"), os.path.join(directory, f"{fake}.sock"))
    monkeypatch.setenv(sockdir.ENV_DIR, directory)
    output_dir = os.path.join(place, "out")
    os.mkdir(output_dir)
    started = time.monotonic()
    assert main(["snapshot", str(fake), "-o", os.path.join(output_dir, "x.heap")]) == 2
    elapsed = time.monotonic() - started
    err = _one_line_error(capsys)
    assert "sent no snapshot" in err and expected in err
    assert _leftovers(output_dir) == []  # no partial file, no temporary file
    assert elapsed < 60


def test_a_stream_cut_short_or_without_its_end_is_refused(place, processes) -> None:
    directory = _private_dir(place)
    fake = _fake_agent(processes, os.path.join(directory, "1.sock"), "--snapshot-then", "4096")
    path = os.path.join(directory, f"{fake}.sock")
    os.rename(os.path.join(directory, "1.sock"), path)
    with AgentClient(path) as client, pytest.raises(AgentError, match="end marker"):
        client.capture_bytes()


def test_a_valid_snapshot_still_streams(place, processes) -> None:
    directory = _private_dir(place)
    planted = _snapshot_file(place)
    fake = _fake_agent(processes, os.path.join(directory, "1.sock"), "--stream", planted)
    path = os.path.join(directory, f"{fake}.sock")
    os.rename(os.path.join(directory, "1.sock"), path)
    with AgentClient(path) as client:
        data, totals = client.capture_bytes()
    assert bytes(data) == Path(planted).read_bytes()
    assert totals["bytes"] == len(data) and totals["objects"] == 3


# --- 8. protocol versions compare types -----------------------------------------------------
def test_agent_refuses_a_hello_with_protocol_true(start_target) -> None:
    target = start_target()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(target.socket_path)
    with sock:
        protocol.send_json(sock, {"op": "hello", "protocol": True})
        reply = protocol.recv_json(sock, protocol.MAX_REPLY_BYTES)
    assert reply["ok"] is False and "not supported" in reply["error"]
    assert target.alive()


def test_viewer_refuses_an_agent_speaking_protocol_true(place, processes) -> None:
    directory = _private_dir(place)
    fake = _fake_agent(processes, os.path.join(directory, "1.sock"), "--hello-protocol", "true")
    path = os.path.join(directory, f"{fake}.sock")
    os.rename(os.path.join(directory, "1.sock"), path)
    with pytest.raises(AgentError, match="speaks protocol True"):
        AgentClient(path).connect()


def test_protocol_same_version_compares_types() -> None:
    assert protocol.same_version(protocol.PROTOCOL_VERSION)
    for value in (True, 1.0, "1", None, [1]):
        assert not protocol.same_version(value)


# --- 7. a viewer stopped mid-write leaves no temporary file ---------------------------------
def _default_hangup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _viewer_writing(
    place: str, processes: list[subprocess.Popen[str]]
) -> tuple[subprocess.Popen[str], str]:
    """A real `heaptui snapshot` receiving a slow stream, once its temporary file exists."""
    directory = _private_dir(place)
    fake = _fake_agent(
        processes,
        os.path.join(directory, "1.sock"),
        "--snapshot-then",
        "150000000",
        "--delay",
        "0.05",
    )
    os.rename(os.path.join(directory, "1.sock"), os.path.join(directory, f"{fake}.sock"))
    output_dir = os.path.join(place, "out")
    os.mkdir(output_dir)
    env = {**os.environ, sockdir.ENV_DIR: directory, "PYTHONPATH": str(FAKE_AGENT.parents[2])}
    viewer = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "heaptui",
            "snapshot",
            str(fake),
            "-o",
            os.path.join(output_dir, "x.heap"),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a viewer started under nohup ignores SIGHUP (on purpose); this one must not inherit that
        preexec_fn=_default_hangup,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        temps = [n for n in os.listdir(output_dir) if n.endswith(".tmp")]
        if temps and os.path.getsize(os.path.join(output_dir, temps[0])) > 2_000_000:
            return viewer, output_dir
        assert viewer.poll() is None, viewer.communicate()
        time.sleep(0.05)
    viewer.kill()
    raise AssertionError("the viewer never started writing")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_viewer_terminated_mid_write_removes_its_temporary_file(place, processes, signum) -> None:
    viewer, output_dir = _viewer_writing(place, processes)
    viewer.send_signal(signum)
    _out, err = viewer.communicate(timeout=30)
    assert viewer.returncode == 128 + signum, err
    assert f"{signal.Signals(signum).name}: stopped" in err
    assert os.listdir(output_dir) == []


def test_the_next_writer_removes_the_temporary_file_of_a_killed_viewer(place, processes) -> None:
    viewer, output_dir = _viewer_writing(place, processes)
    viewer.kill()  # SIGKILL: nothing can clean up
    viewer.communicate(timeout=30)
    left = os.listdir(output_dir)
    assert len(left) == 1 and left[0].endswith(".tmp")
    alive = os.path.join(output_dir, ".y.heap.1.0.tmp")  # pid 1 runs: a writer at work
    Path(alive).write_text("in progress")
    _snapshot_file(output_dir)  # any write into the directory
    assert sorted(os.listdir(output_dir)) == [".y.heap.1.0.tmp", "planted.heap"]


# --- 3. texts of an agent reach the terminal escaped ---------------------------------------
EVIL = "\x1b]0;pwned\x07\x1b[2J"


def test_ps_and_snapshot_escape_what_the_agent_says(place, processes, monkeypatch, capsys) -> None:
    directory = _private_dir(place)
    info = json.dumps({"argv": [f"app.py{EVIL}"], "python": f"3.12{EVIL}"})
    planted = _snapshot_file(place)
    fake = _fake_agent(
        processes, os.path.join(directory, "1.sock"), "--info", info, "--stream", planted
    )
    os.rename(os.path.join(directory, "1.sock"), os.path.join(directory, f"{fake}.sock"))
    monkeypatch.setenv(sockdir.ENV_DIR, directory)
    assert main(["ps"]) == 0
    assert main(["snapshot", str(fake), "-o", os.path.join(place, "x.heap")]) == 0
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert "\x1b" not in shown and "\x07" not in shown
    assert "app.py\\x1b]0;pwned\\x07\\x1b[2J" in captured.out  # ps: the command, visibly
    assert "3.12\\x1b]0;pwned" in captured.out
    assert "app.py\\x1b]0;pwned" in captured.err  # snapshot's progress line
    assert main(["ps", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["argv"] == [f"app.py{EVIL}"]  # exact
