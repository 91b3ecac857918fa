"""The live channel end to end, against real target processes running the agent."""

from __future__ import annotations

import os
import signal
import socket
import struct
import threading
import time

import pytest

from heaptui.fileformat.read import read_snapshot_bytes
from heaptui.model.diff import growth
from heaptui.model.snapshot import Snapshot
from heaptui.transport import protocol
from heaptui.transport.client import AgentClient, AgentError
from heaptui.transport.discovery import list_agents


def _snapshot(client: AgentClient) -> Snapshot:
    data, _totals = client.capture_bytes()
    return Snapshot(read_snapshot_bytes(data, "the live snapshot"), source="live")


def _raw_connection(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(10)
    sock.connect(path)
    return sock


def _hello(sock: socket.socket) -> dict[str, object]:
    protocol.send_json(sock, {"op": "hello", "protocol": protocol.PROTOCOL_VERSION})
    return protocol.recv_json(sock, protocol.MAX_REPLY_BYTES)


def _closed_by_peer(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_capture_over_the_socket_and_growth_names_the_leaked_type(start_target) -> None:
    target = start_target()
    assert oct(os.stat(target.socket_path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(target.socket_dir).st_mode & 0o777) == "0o700"
    with AgentClient(target.socket_path) as client:
        assert client.info["pid"] == target.pid
        assert client.info["argv"][0].endswith("target_app.py")
        _snapshot(client)  # the first capture imports the capture code into the target
        steady = _snapshot(client)
        base = _snapshot(client)
        assert target.command("leak 20000") == "leaked"
        now = _snapshot(client)
        counters = client.counters()
    assert base.meta["pid"] == target.pid
    # Nothing of a capture stays behind in the target to show up in the next one.
    assert abs(base.node_count - steady.node_count) < 50
    assert now.node_count >= base.node_count + 20000
    top = growth(base, now)[0]
    assert top.name.endswith("Leaky")
    assert top.count_delta == 20000
    assert counters["rss"] > 0 and len(counters["gc_count"]) == 3
    assert counters["last_capture_objects"] == now.node_count


def test_socket_is_removed_when_the_target_exits(start_target) -> None:
    target = start_target()
    assert os.path.exists(target.socket_path)
    assert target.stop() == 0
    assert not os.path.exists(target.socket_path)


def test_another_user_is_refused_even_if_the_file_modes_let_it_in(start_target) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to act as another user")
    target = start_target()
    # Normal modes: 'nobody' cannot even reach the socket.
    assert _as_nobody_connect(target.socket_path) == "permission denied"
    # Open the modes up: the SO_PEERCRED check still turns 'nobody' away.
    parent = os.path.dirname(target.socket_dir)
    os.chmod(parent, 0o755)
    os.chmod(target.socket_dir, 0o755)
    os.chmod(target.socket_path, 0o666)
    try:
        assert _as_nobody_connect(target.socket_path) == "dropped"
    finally:
        os.chmod(parent, 0o700)
        os.chmod(target.socket_dir, 0o700)
        os.chmod(target.socket_path, 0o600)
    assert target.alive()
    with AgentClient(target.socket_path) as client:  # root still gets in
        assert client.info["pid"] == target.pid
    assert "refused a connection from uid 65534" in target.stderr_text()


def _as_nobody_connect(path: str) -> str:
    """Fork a child that becomes 'nobody' and says how a hello to the agent went."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: no pytest machinery from here on
        code = 1
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            try:
                sock = _raw_connection(path)
            except PermissionError:
                result = b"permission denied"
            else:
                try:
                    reply = _hello(sock)
                    result = b"answered " + repr(reply).encode()
                except (protocol.ConnectionClosed, ConnectionResetError, BrokenPipeError):
                    result = b"dropped"
            os.write(write_end, result)
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        result = f.read().decode()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return result


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(b"GET / HTTP/1.1\r\n\r\n", id="garbage"),
        pytest.param(struct.pack(">cI", b"J", 1 << 30), id="oversized"),
        pytest.param(struct.pack(">cI", b"J", 100) + b'{"op":', id="truncated"),
        pytest.param(protocol.encode_json({"op": "capture"}), id="no-hello"),
        pytest.param(protocol.encode_frame(b"J", b"[1, 2]"), id="not-an-object"),
        pytest.param(protocol.encode_frame(b"D", b"xx"), id="data-from-client"),
    ],
)
def test_bad_frames_drop_the_connection_and_the_host_keeps_running(
    start_target, payload: bytes
) -> None:
    target = start_target()
    sock = _raw_connection(target.socket_path)
    sock.sendall(payload)
    if payload.startswith(struct.pack(">cI", b"J", 100)):
        sock.shutdown(socket.SHUT_WR)  # truncated: the rest never comes
    assert _closed_by_peer(sock)
    sock.close()
    assert target.alive()
    with AgentClient(target.socket_path) as client:
        assert client.counters()["rss"] > 0


def test_unknown_request_and_wrong_version(start_target) -> None:
    target = start_target()
    sock = _raw_connection(target.socket_path)
    protocol.send_json(sock, {"op": "hello", "protocol": 99})
    reply = protocol.recv_json(sock, protocol.MAX_REPLY_BYTES)
    assert reply["ok"] is False and "protocol version 99" in str(reply["error"])
    assert _closed_by_peer(sock)
    sock.close()
    sock = _raw_connection(target.socket_path)
    assert _hello(sock)["ok"] is True
    protocol.send_json(sock, {"op": "exec", "code": "import os"})
    assert _closed_by_peer(sock)
    sock.close()
    assert target.alive()


def test_client_leaving_mid_transfer_leaves_the_agent_usable(start_target) -> None:
    target = start_target()  # its heap alone is a few megabytes: several data frames
    sock = _raw_connection(target.socket_path)
    _hello(sock)
    protocol.send_json(sock, {"op": "capture"})
    assert protocol.recv_json(sock, protocol.MAX_REPLY_BYTES)["stream"] == "snapshot"
    kind, chunk = protocol.recv_frame(sock, protocol.MAX_REPLY_BYTES)
    assert kind == protocol.KIND_DATA and len(chunk) == protocol.CHUNK_BYTES
    sock.close()  # gone, with megabytes still to come
    assert target.alive()
    with AgentClient(target.socket_path) as client:
        assert _snapshot(client).meta["pid"] == target.pid


def test_a_viewer_that_stops_reading_mid_capture_is_given_up(start_target) -> None:
    # The capture streams during the walk, with the host's gc off and its objects held: a
    # viewer that stops reading must not keep the host that way.
    target = start_target(TARGET_SEND_TIMEOUT="0.5")
    assert target.command("leak 100000") == "leaked"  # more than one chunk of the C walk
    assert target.command("state") == "True 0.005"
    sock = _raw_connection(target.socket_path)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    _hello(sock)
    protocol.send_json(sock, {"op": "capture"})
    assert protocol.recv_json(sock, protocol.MAX_REPLY_BYTES)["stream"] == "snapshot"
    time.sleep(2.0)  # not reading: the agent's sends time out after 0.5 s
    assert target.command("state") == "True 0.005"  # gc back on, switch interval restored
    _read_until_closed(sock)  # what was sent before it gave up, then the end (or a timeout)
    sock.close()
    with AgentClient(target.socket_path) as client:
        assert _snapshot(client).meta["pid"] == target.pid


def _read_until_closed(sock: socket.socket) -> None:
    """Drain ``sock`` until the peer closes it; socket.timeout (a failure) if it never does."""
    try:
        while sock.recv(1 << 16):
            pass
    except ConnectionResetError:
        pass


def test_two_viewers_at_once(start_target) -> None:
    target = start_target()
    target.command("leak 3000")
    results: dict[int, int] = {}
    errors: list[BaseException] = []

    def view(n: int) -> None:
        try:
            with AgentClient(target.socket_path) as client:
                client.counters()
                results[n] = _snapshot(client).node_count
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=view, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(results) == 2 and min(results.values()) > 3000


def test_target_dying_mid_capture_gives_a_clear_error(start_target) -> None:
    target = start_target(TARGET_DIE_MID_CAPTURE="1")
    client = AgentClient(target.socket_path)
    client.connect()
    with pytest.raises(AgentError, match="closed the connection during the capture"):
        client.capture_bytes()
    target.proc.wait(10)
    assert target.proc.returncode == 3
    client.close()


def test_fork_child_gets_its_own_agent_and_parent_keeps_its_socket(start_target) -> None:
    target = start_target()
    assert target.command("fork").startswith("forked")
    child_pid = int(target.read_line().split()[1])
    child_socket = os.path.join(target.socket_dir, f"{child_pid}.sock")
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(child_socket) and time.monotonic() < deadline:
            time.sleep(0.02)
        with AgentClient(child_socket) as client:
            assert client.info["pid"] == child_pid
    finally:
        os.kill(child_pid, 15)
    deadline = time.monotonic() + 10
    while os.path.exists(child_socket) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not os.path.exists(child_socket)  # the child cleaned up its own socket only
    with AgentClient(target.socket_path) as client:
        assert client.info["pid"] == target.pid
        assert _snapshot(client).meta["pid"] == target.pid


def test_ps_lists_live_agents_and_removes_stale_sockets(start_target, socket_dir) -> None:
    target = start_target()
    stale = os.path.join(socket_dir, "999999999.sock")
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(stale)
    dead.close()  # the file stays, nobody listens: what a killed process leaves
    entries = list_agents(socket_dir)
    assert [e.pid for e in entries] == [target.pid]
    assert entries[0].info["python"].count(".") == 2
    assert not os.path.exists(stale)


def test_idle_agent_uses_no_cpu(start_target) -> None:
    target = start_target()
    with AgentClient(target.socket_path) as client:  # a connected, silent viewer too
        client.counters()
        before = _cpu_ticks(target.pid)
        time.sleep(1.5)
        after = _cpu_ticks(target.pid)
    assert after - before <= 1


def _cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_dump_signal_writes_a_snapshot_file_and_chains_the_old_handler(
    start_target, tmp_path
) -> None:
    target = start_target(TARGET_DUMP_DIR=str(tmp_path))
    os.kill(target.pid, signal.SIGUSR2)
    assert target.read_line() == "previous handler ran"
    deadline = time.monotonic() + 30
    while not list(tmp_path.glob("*.heap")) and time.monotonic() < deadline:
        time.sleep(0.05)
    [path] = list(tmp_path.glob("*.heap"))
    assert path.name.startswith(f"heaptui-{target.pid}-")
    with open(path, "rb") as f:
        snapshot = Snapshot(read_snapshot_bytes(f.read(), str(path)), source=str(path))
    assert snapshot.meta["pid"] == target.pid
    assert target.alive()
