"""The live agent's own objects (instance, sockets, threads, locks) are not in its snapshots."""

from __future__ import annotations

import io
import threading

import pytest

from heaptui.capture import accel
from heaptui.fileformat.read import read_snapshot_bytes
from heaptui.model.snapshot import Snapshot
from heaptui.transport.agent import install, uninstall
from heaptui.transport.client import AgentClient

WALKERS = ["python", "c"] if accel.available() else ["python"]


class AppState:
    """An object of the program: it must stay in the snapshot."""


@pytest.mark.parametrize("walker", WALKERS)
def test_snapshot_served_by_the_agent_has_none_of_its_objects(
    walker: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEAPTUI_SOCKET_DIR", str(tmp_path))
    if walker == "python":
        monkeypatch.setenv(accel.WALKER_ENV, "python")
    else:
        monkeypatch.delenv(accel.WALKER_ENV, raising=False)
    app = AppState()
    app_list = [app]
    agent = install()
    agent_objects = {
        "agent": id(agent),
        "listener": id(agent._listener),
        "accept thread": id(agent._accept_thread),
        "dump event": id(agent._dump_event),
        "capture lock": id(agent._capture_lock),
        "connections": id(agent._connections),
    }
    try:
        with AgentClient(agent.path) as client:
            buffer = io.BytesIO()
            client.capture_to(buffer)
            conn_threads = [t for t in threading.enumerate() if t.name.startswith("heaptui-agent")]
            served = {id(conn) for conn in agent._connections}
    finally:
        uninstall()
    snap = Snapshot(read_snapshot_bytes(buffer.getvalue(), "live"), source="live")
    assert snap.meta["walker"] == walker
    types = [snap.type_names[i] for i in snap.type_index.tolist()]
    assert "heaptui.transport.agent_server.Agent" not in types
    for what, address in agent_objects.items():
        assert snap.node_for_addr(address) is None, what
    assert served  # the connection that asked for the capture
    for address in served:
        assert snap.node_for_addr(address) is None
    assert len(conn_threads) >= 2  # the accept thread and the connection's thread
    for thread in conn_threads:
        assert snap.node_for_addr(id(thread)) is None, thread.name
    agent_threads = [
        snap.repr_of(n)
        for n, name in enumerate(types)
        if name == "threading.Thread" and "heaptui-agent" in snap.repr_of(n)
    ]
    assert not agent_threads
    # No reference leads to the agent (the edges to it are dropped on reading).
    assert not (snap.addr[snap.resolved_edges.target] == id(agent)).any()
    # The program's own objects are all there.
    assert snap.node_for_addr(id(app)) is not None
    assert snap.node_for_addr(id(app_list)) is not None
    assert "test_agent_own_objects.AppState" in " ".join(set(types))
