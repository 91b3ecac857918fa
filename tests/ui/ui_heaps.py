"""Synthetic leaky heaps with fixed addresses for the UI tests (and the screenshot tests).

``shop`` module: ``SESSIONS`` maps ``'user:i'`` to ``shop.Session`` objects whose attribute
dict holds the shared str ``'GET'`` and a reference back to the session (a cycle);
``shop.Handler.listeners`` is a list of ``shop.Listener`` objects. The "after" heap has more
sessions and listeners than the baseline.
"""

from __future__ import annotations

from heaptui.core.labels import (
    EDGE_ATTR,
    EDGE_INDEX,
    EDGE_KEY,
    EDGE_LOCAL,
    ROOT_MODULE,
    ROOT_THREAD,
    TYPE_BUILTIN,
)
from heaptui.core.raw import RawSnapshot
from heaptui.model.snapshot import Snapshot
from heaptui.testing import SnapshotBuilder

MODULE = 0x1000
MODULE_DICT = 0x1100
SESSIONS = 0x2000
HANDLER = 0x3000
HANDLER_DICT = 0x3100
LISTENERS = 0x3200
GET = 0x4000
FRAME = 0x5000
ORPHAN = 0x6000


def session_addr(i: int) -> int:
    return 0x10_0000 + i * 0x100


def listener_addr(i: int) -> int:
    return 0x80_0000 + i * 0x40


def shop_heap(sessions: int, listeners: int, source: str = "after.heap") -> Snapshot:
    """A heap of the ``shop`` program with ``sessions`` sessions and ``listeners`` listeners."""
    return Snapshot.from_raw(shop_raw(sessions, listeners), source=source)


def shop_raw(sessions: int, listeners: int) -> RawSnapshot:
    """The capture behind :func:`shop_heap`."""
    b = SnapshotBuilder({"argv": ["shop.py"], "pid": 4242})
    b.node(MODULE, "module", size=72, repr="<module 'shop'>", type_flags=TYPE_BUILTIN)
    b.node(MODULE_DICT, "dict", size=640, length=3)
    b.node(SESSIONS, "dict", size=36_000 + 40 * sessions, length=sessions)
    b.node(HANDLER, "type", size=1_064, repr="<class 'shop.Handler'>")
    b.node(HANDLER_DICT, "mappingproxy", size=48, length=2)
    b.node(LISTENERS, "list", size=56 + 8 * listeners, length=listeners)
    b.node(GET, "str", size=52, length=3, repr="'GET'", tracked=False)
    b.node(FRAME, "frame", size=432, repr="<frame serve() shop.py:42>")
    b.node(ORPHAN, "tuple", size=40, length=0, repr="()")
    b.edge(MODULE, MODULE_DICT, EDGE_ATTR, "__dict__")
    b.edge(MODULE_DICT, SESSIONS, EDGE_KEY, "'SESSIONS'")
    b.edge(MODULE_DICT, HANDLER, EDGE_KEY, "'Handler'")
    b.edge(HANDLER, HANDLER_DICT, EDGE_ATTR, "__dict__")
    b.edge(HANDLER_DICT, LISTENERS, EDGE_KEY, "'listeners'")
    b.edge(FRAME, SESSIONS, EDGE_LOCAL, "cache")
    b.root(MODULE, ROOT_MODULE, "sys.modules['shop']")
    b.root(FRAME, ROOT_THREAD, "thread MainThread: serve() shop.py:42")
    for i in range(sessions):
        s = session_addr(i)
        b.node(s, "shop.Session", size=56 + (i % 7) * 8, repr=f"<Session user:{i}>")
        b.node(s + 0x10, "dict", size=232, length=3)
        b.node(s + 0x20, "bytes", size=1_000 + (i % 5) * 100, length=1_000, tracked=False)
        b.edge(SESSIONS, s, EDGE_KEY, f"'user:{i}'")
        b.edge(s, s + 0x10, EDGE_ATTR, "__dict__")
        b.edge(s + 0x10, GET, EDGE_KEY, "'method'")
        b.edge(s + 0x10, s, EDGE_KEY, "'me'")
        b.edge(s + 0x10, s + 0x20, EDGE_KEY, "'body'")
    for i in range(listeners):
        listener = listener_addr(i)
        b.node(listener, "shop.Listener", size=48, repr=f"<Listener {i}>")
        b.edge(LISTENERS, listener, EDGE_INDEX, i)
    return b.build()


def shop_pair(
    base_sessions: int = 3, after_sessions: int = 12, listeners: tuple[int, int] = (2, 5)
) -> tuple[Snapshot, Snapshot]:
    """``(baseline, after)``: the after heap has more sessions and listeners."""
    base = shop_heap(base_sessions, listeners[0], source="base.heap")
    after = shop_heap(after_sessions, listeners[1], source="after.heap")
    return base, after


# Allocation sites of the traced shop heaps: sessions come from app.py:42 (called from
# server.py:10), except every fourth; no listener has a traceback (as instances of classes
# with a __dict__ on Python 3.11, cpython#101430); bodies come from handler.py:7.
SESSION_SITE = [("/srv/shop/app.py", 42), ("/srv/shop/server.py", 10)]
BODY_SITE = [("/srv/shop/handler.py", 7)]


def untraced_session(i: int) -> bool:
    return i % 4 == 3


def traced_shop_heap(sessions: int, listeners: int, source: str = "after.heap") -> Snapshot:
    """:func:`shop_heap` captured under tracemalloc (25 frames), with allocation sites."""
    raw = shop_raw(sessions, listeners)
    for frames in (SESSION_SITE, BODY_SITE):  # tracebacks 0 and 1
        raw.trace_offsets.append(len(raw.trace_frames))
        for filename, line in frames:
            raw.trace_frames.append(len(raw.frame_file))
            raw.frame_file.append(len(raw.strings))
            raw.strings.append(filename)
            raw.frame_line.append(line)
    raw.trace_offsets.append(len(raw.trace_frames))
    traced = [(session_addr(i), 0) for i in range(sessions) if not untraced_session(i)]
    traced += [(session_addr(i) + 0x20, 1) for i in range(sessions)]
    for addr, trace in traced:
        raw.alloc_addr.append(addr)
        raw.alloc_trace.append(trace)
    raw.meta.update(
        tracemalloc=True,
        tracemalloc_frames=25,
        alloc_traced=len(traced),
        alloc_untraced=sum(untraced_session(i) for i in range(sessions)) + listeners,
    )
    return Snapshot.from_raw(raw, source=source)
