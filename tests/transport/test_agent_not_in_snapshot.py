"""The live agent's threads are not roots of the program's heap in the snapshots it serves."""

from __future__ import annotations

import io
import threading

from heaptui.fileformat.read import read_snapshot_bytes
from heaptui.model.snapshot import Snapshot
from heaptui.transport.agent import install, uninstall
from heaptui.transport.client import AgentClient


def test_snapshot_over_the_socket_has_no_agent_thread_roots(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HEAPTUI_SOCKET_DIR", str(tmp_path))
    release = threading.Event()
    worker = threading.Thread(target=release.wait, name="app-worker", daemon=True)
    worker.start()
    agent = install()
    try:
        with AgentClient(agent.path) as client:
            buffer = io.BytesIO()
            client.capture_to(buffer)
    finally:
        uninstall()
        release.set()
        worker.join()
    snapshot = Snapshot(read_snapshot_bytes(buffer.getvalue(), "live"), source="live")
    labels = [snapshot.string(int(i)) for i in snapshot.root_label]
    threads = [label for label in labels if label.startswith("thread ")]
    assert any(label.startswith("thread app-worker:") for label in threads), threads
    assert not [label for label in threads if "heaptui-agent" in label], threads


def test_the_rss_watch_is_not_in_the_snapshot_either(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HEAPTUI_SOCKET_DIR", str(tmp_path))
    agent = install(dump_at_rss="1000TB", dump_dir=str(tmp_path))
    watch = agent._rss_watch
    try:
        assert watch is not None
        assert watch.limit == 1000 * 1000**4
        with AgentClient(agent.path) as client:
            buffer = io.BytesIO()
            client.capture_to(buffer)
            census = client.census()
    finally:
        uninstall()
    watch.join(5)
    assert agent._rss_watch is None and not watch._thread.is_alive()
    snapshot = Snapshot(read_snapshot_bytes(buffer.getvalue(), "live"), source="live")
    assert not [name for name in snapshot.type_names if "RssWatch" in name]
    assert not list(tmp_path.glob("*.heap"))  # far below the limit: no dump
    assert census["objects"] > 0 and "dict" in census["types"]
