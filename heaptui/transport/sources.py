"""Live snapshot sources for the UI: a process reached through its agent, and a fake for tests.

Both follow :class:`LiveSnapshotSource`, which extends the UI's ``SnapshotSource`` (``label``
and ``fetch``, see :mod:`heaptui.ui.source`) with what live mode needs: take a new snapshot,
read the cheap counters, save a snapshot to a file, close. Files are read by the UI's own
``FileSource``. The UI never sees a socket: everything arrives as a model ``Snapshot``.

Viewer side (imports numpy lazily through the model); never imported by the agent.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from heaptui.core.atomic import write_bytes_atomically
from heaptui.transport.client import AgentClient, AgentError

if TYPE_CHECKING:
    from heaptui.core.raw import RawSnapshot
    from heaptui.model.snapshot import Snapshot

ProgressCallback = Callable[[str], object]


class LiveSnapshotSource(Protocol):
    """A running program the UI can ask for snapshots and counters."""

    @property
    def label(self) -> str: ...

    def fetch(self, progress: ProgressCallback) -> tuple[Snapshot, Snapshot | None]:
        """The first snapshot (no baseline yet); raises ``UserError`` on failure."""
        ...

    def capture(self, progress: ProgressCallback) -> Snapshot:
        """A new snapshot, taken now; raises :class:`AgentError` if the target is gone."""
        ...

    def counters(self) -> dict[str, Any]:
        """Cheap figures measured now (rss, gc_count, allocated_blocks, ...)."""
        ...

    def save(self, snapshot: Snapshot, path: str) -> str:
        """Write ``snapshot`` (one this source produced) to ``path`` atomically."""
        ...

    def close(self) -> None: ...


def default_save_name(snapshot: Snapshot, directory: str = ".") -> str:
    """``heaptui-<pid>-<YYYYmmdd-HHMMSS>.heap`` in ``directory``, not overwriting a file."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join(directory, f"heaptui-{snapshot.meta.get('pid', 'live')}-{stamp}")
    path, n = base + ".heap", 1
    while os.path.exists(path):
        n += 1
        path = f"{base}-{n}.heap"
    return path


class LiveSource:
    """Snapshots and counters of process ``pid`` through its agent.

    Captures and counters use two connections, so the header keeps refreshing while a big
    snapshot is on its way (the agent serves both at once). Each capture has a connection of
    its own: one kept between captures would sit idle for minutes, and the agent lets idle
    connections go (``agent_server.IDLE_TIMEOUT``); the counters connection, asked every second, is
    kept, and opened again once if the agent let it go anyway.
    """

    def __init__(self, pid: int, directory: str | None = None) -> None:
        self.pid = pid
        self._directory = directory
        self._capture_client: AgentClient | None = None
        self._counters_client: AgentClient | None = None
        self._capture_lock = threading.Lock()
        self._counters_lock = threading.Lock()
        self._payloads: weakref.WeakKeyDictionary[Snapshot, bytearray] = weakref.WeakKeyDictionary()
        self.captures = 0
        self.last_totals: dict[str, Any] = {}
        self.info: dict[str, Any] = {}

    @property
    def label(self) -> str:
        program = os.path.basename(str((self.info.get("argv") or ["?"])[0]))
        return f"pid {self.pid} ({program})" if self.info else f"pid {self.pid}"

    def _client(self) -> AgentClient:
        client = AgentClient.for_pid(self.pid, self._directory)
        self.info = client.connect()
        return client

    def fetch(self, progress: ProgressCallback) -> tuple[Snapshot, Snapshot | None]:
        progress(f"connecting to pid {self.pid}")
        return self.capture(progress), None

    def capture(self, progress: ProgressCallback) -> Snapshot:
        from heaptui.fileformat.read import read_snapshot_bytes
        from heaptui.model.snapshot import Snapshot

        with self._capture_lock:
            self._capture_client = self._client()
            try:
                progress(f"capturing the heap of pid {self.pid}")
                data, totals = self._capture_client.capture_bytes(
                    progress=lambda n: progress(f"receiving the snapshot: {n / 1e6:.1f} MB")
                )
            finally:
                client, self._capture_client = self._capture_client, None
                client.close()
            self.captures += 1
            self.last_totals = totals
            progress("checking the snapshot")
            arrays = read_snapshot_bytes(data, f"the snapshot from pid {self.pid}")
            stamp = time.strftime("%H:%M:%S")
            snapshot = Snapshot(arrays, source=f"pid {self.pid} #{self.captures} {stamp}")
            self._payloads[snapshot] = data
            return snapshot

    def counters(self) -> dict[str, Any]:
        with self._counters_lock:
            if self._counters_client is None:
                self._counters_client = self._client()
                return self._counters_client.counters()
            try:
                return self._counters_client.counters()
            except AgentError as lost:  # let go while idle, or the target is gone
                self._counters_client = None
                try:
                    self._counters_client = self._client()
                except AgentError:
                    raise lost from None  # what happened to the connection says more
            return self._counters_client.counters()

    def census(self) -> dict[str, Any]:
        """Count and bytes per type now (on the counters' connection)."""
        with self._counters_lock:
            if self._counters_client is None:
                self._counters_client = self._client()
            return self._counters_client.census()

    def save(self, snapshot: Snapshot, path: str) -> str:
        data = self._payloads.get(snapshot)
        if data is None:
            raise AgentError("this snapshot did not come from this process")
        return write_bytes_atomically(data, path)

    def close(self) -> None:
        for client in (self._capture_client, self._counters_client):
            if client is not None:
                client.close()
        self._capture_client = self._counters_client = None


class FakeLiveSource:
    """A scripted live source for UI tests: no sockets, no threads, no processes.

    ``captures`` are handed out in order (the first by ``fetch``); ``counters`` likewise (the
    last one repeats). After :meth:`disconnect` every call fails as a dead target would.
    """

    def __init__(
        self,
        captures: list[RawSnapshot],
        counters: list[dict[str, Any]] | None = None,
        label: str = "pid 4242 (fake)",
    ) -> None:
        self._captures = list(captures)
        self._counters = list(counters or [{"rss": 10_000_000, "gc_count": [1, 2, 3]}])
        self.censuses: list[dict[str, Any]] = []  # handed out in order (the last repeats)
        self.census_read = 0
        self._label = label
        self._raws: weakref.WeakKeyDictionary[Snapshot, RawSnapshot] = weakref.WeakKeyDictionary()
        self.lost: str | None = None
        self.captures_taken = 0
        self.counters_read = 0
        self.closed = False

    @property
    def label(self) -> str:
        return self._label

    def disconnect(
        self, reason: str = "pid 4242 closed the connection (the target exited)"
    ) -> None:
        """From now on, behave like a target that exited."""
        self.lost = reason

    def _check(self) -> None:
        if self.lost is not None:
            raise AgentError(self.lost)

    def fetch(self, progress: ProgressCallback) -> tuple[Snapshot, Snapshot | None]:
        return self.capture(progress), None

    def capture(self, progress: ProgressCallback) -> Snapshot:
        from heaptui.model.snapshot import Snapshot

        self._check()
        if self.captures_taken >= len(self._captures):
            raise AgentError("the fake target has no more snapshots")
        raw = self._captures[self.captures_taken]
        self.captures_taken += 1
        snapshot = Snapshot.from_raw(raw, source=f"pid 4242 #{self.captures_taken}")
        self._raws[snapshot] = raw
        return snapshot

    def counters(self) -> dict[str, Any]:
        self._check()
        index = min(self.counters_read, len(self._counters) - 1)
        self.counters_read += 1
        return dict(self._counters[index])

    def census(self) -> dict[str, Any]:
        self._check()
        if not self.censuses:
            raise AgentError("the fake target has no census")
        index = min(self.census_read, len(self.censuses) - 1)
        self.census_read += 1
        return dict(self.censuses[index])

    def save(self, snapshot: Snapshot, path: str) -> str:
        from heaptui.fileformat.write import write_snapshot_file

        raw = self._raws.get(snapshot)
        if raw is None:
            raise AgentError("this snapshot did not come from this source")
        return write_snapshot_file(raw, path)

    def close(self) -> None:
        self.closed = True
