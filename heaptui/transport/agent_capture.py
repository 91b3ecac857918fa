"""The agent's capture service: what a capture needs, and what it leaves out.

Standard library only (it ships with the agent into attached processes). The capture itself
is imported ahead of the walk (:func:`prepare_capture`) and run by :func:`capture_to`, which
the tests of the channel may replace; the walk leaves out the agent's own objects
(:func:`own_object_ids`); :class:`FrameWriter` turns the file the capture writes into data
frames on the viewer's socket. Also the cheap answers that need no walk (counters, census).
"""

from __future__ import annotations

import gc
import socket
import sys
import threading
import time
from collections import deque
from types import BuiltinMethodType, MethodType
from typing import Any

from ..core import procinfo
from ..core.agent_threads import AGENT_THREAD_PREFIX
from . import protocol


def prepare_capture() -> None:
    """Import the capture and the writer now, so imports never happen while the host waits.

    An import reads files, which releases the GIL: inside the walk, a busy host thread would
    then take it, and the walk would wait its turn with gc off.
    """
    from .. import capture  # noqa: F401
    from ..capture import accel, allocsites, roots, streaming, walker  # noqa: F401
    from ..fileformat import write  # noqa: F401


def capture_to(target: Any, collect: bool, exclude_ids: Any) -> Any:
    """Capture into ``target`` (a heaptui.capture.streaming target) and finish its file.

    Returns the RawSnapshot's remainder and metadata. With the compiled walker the snapshot
    goes out chunk by chunk during the walk; gc is off around the walk only, never around the
    metadata reads (/proc files). The tests of the channel may replace this.
    """
    from ..capture import _run_walker
    from ..capture.roots import caller_frame
    from ..capture.streaming import stream_capture

    return stream_capture(target, _run_walker, caller_frame(sys._getframe()), collect, exclude_ids)


# Objects of these exact types reachable from the agent are its own (and are followed);
# everything else (modules, classes, functions, code, str/int/bytes the program may share,
# sys.stderr held by threads...) is the program's, and the search stops there.
_OWN_TYPES: tuple[type, ...] = (
    socket.socket,
    threading.Thread,
    threading.Event,
    threading.Condition,
    type(threading.Lock()),
    type(threading.RLock()),
    dict,
    list,
    set,
    deque,
    bytearray,
    tuple,
)
# Bound methods are the agent's only if their ``__self__`` is (Thread targets, Condition's
# lock methods); they are not followed.
_METHOD_TYPES: tuple[type, ...] = (MethodType, BuiltinMethodType)


def own_object_ids(agent: Any) -> set[int]:
    """ids of the agent's own objects, the set itself included (it exists during the walk).

    From the agent, its threads (``heaptui-agent*``, the connection threads are referenced
    by nobody else) and the current thread's frames, through ``gc.get_referents``, following
    only objects of :data:`_OWN_TYPES` (the empty tuple is a shared singleton: not taken).
    No user code runs; nothing refers to the objects once this returns.
    """
    own_types = set(map(id, _OWN_TYPES))
    own_types.update(id(cls) for cls in type(agent).__mro__[:-1])  # Agent and any subclass
    own_types.add(id(FrameWriter))
    rss_watch = getattr(agent, "_rss_watch", None)
    if rss_watch is not None:
        own_types.add(id(type(rss_watch)))
    method_types = set(map(id, _METHOD_TYPES))
    ids: set[int] = {id(agent)}
    work: list[Any] = [agent]
    for thread in threading.enumerate():
        # Exact Thread only (its ``name`` property runs no user code); __dict__ is not
        # touched (on 3.11 reading it would create the instance's dict).
        if type(thread) is threading.Thread and thread.name.startswith(AGENT_THREAD_PREFIX):
            ids.add(id(thread))
            work.append(thread)
    methods: list[Any] = []
    while work:
        for ref in gc.get_referents(work.pop()):
            tid = id(type(ref))
            if tid in own_types:
                if id(ref) not in ids and not (type(ref) is tuple and not ref):
                    ids.add(id(ref))
                    work.append(ref)
            elif tid in method_types:
                methods.append(ref)
    for method in methods:
        if id(method.__self__) in ids:
            ids.add(id(method))
    frame: Any = sys._getframe(1)
    if threading.current_thread().name.startswith(AGENT_THREAD_PREFIX):
        while frame is not None:  # the capturing thread is the agent's: so are its frames
            ids.add(id(frame))
            frame = frame.f_back
    ids.add(id(ids))
    return ids


class FrameWriter:
    """A write-only file object that sends what is written as data frames of a fixed size."""

    __slots__ = ("_buffer", "_sock", "bytes_sent")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self.bytes_sent = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data).cast("B")
        n = len(view)
        chunk = protocol.CHUNK_BYTES
        if self._buffer:
            take = min(n, chunk - len(self._buffer))
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) >= chunk:
                self.flush()
        while len(view) >= chunk:  # big columns go out straight from their buffers
            self._send(view[:chunk])
            view = view[chunk:]
        if len(view):
            self._buffer += view
        return n

    def _send(self, chunk: memoryview | bytearray) -> None:
        protocol.send_data(self._sock, chunk)
        self.bytes_sent += len(chunk)

    def tell(self) -> int:
        return self.bytes_sent + len(self._buffer)

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        if self._buffer:
            self._send(self._buffer)
            self._buffer = bytearray()


def counters() -> dict[str, Any]:
    """Return the cheap live figures (no heap walk): RSS, gc counts, allocated blocks."""
    return {
        "time": time.time(),
        "rss": procinfo.rss_bytes(),
        "gc_count": list(gc.get_count()),
        "gc_collections": [s.get("collections", 0) for s in gc.get_stats()],
        "allocated_blocks": sys.getallocatedblocks(),
        "threads": threading.active_count(),
    }


def census_reply() -> dict[str, Any]:
    """Count and bytes per type (no graph, no file): one watch sample, or the error."""
    try:
        from ..capture.census import take_census

        return {"ok": True, **take_census()}
    except Exception as exc:
        return {"ok": False, "error": f"census failed: {exc!r}"}
