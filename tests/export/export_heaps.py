"""A small heap for the export tests: ``shop.SESSIONS`` maps keys to Sessions."""

from __future__ import annotations

from heaptui.core.labels import EDGE_ATTR, EDGE_INDEX, EDGE_KEY, ROOT_MODULE
from heaptui.core.raw import RawSnapshot
from heaptui.model.snapshot import Snapshot
from heaptui.testing import SnapshotBuilder

SESSIONS = 0x2000


def session_addr(i: int) -> int:
    return 0x10_0000 + i * 0x100


def shop_heap(users: int) -> Snapshot:
    """The heap of :func:`shop_raw` as a model snapshot."""
    return Snapshot.from_raw(shop_raw(users), source="shop.heap")


def shop_raw(users: int) -> RawSnapshot:
    """``sys.modules['shop'].SESSIONS['user:i'] -> shop.Session`` owning a list with an int.

    One Session (the first) is also held by a second list, ``shop.RECENT``.
    """
    b = SnapshotBuilder()
    b.node(0x1000, "module", size=72, repr="<module 'shop'>")
    b.node(0x1100, "dict", size=640, length=2)
    b.node(SESSIONS, "dict", size=4000, length=users)
    b.node(0x3000, "list", size=64, length=1)
    b.edge(0x1000, 0x1100, EDGE_ATTR, "__dict__")
    b.edge(0x1100, SESSIONS, EDGE_KEY, "'SESSIONS'")
    b.edge(0x1100, 0x3000, EDGE_KEY, "'RECENT'")
    b.root(0x1000, ROOT_MODULE, "sys.modules['shop']")
    for i in range(users):
        s = session_addr(i)
        b.node(s, "shop.Session", size=56)
        b.node(s + 0x10, "list", size=72, length=1)
        b.node(s + 0x20, "int", size=28, repr=str(1000 + i), tracked=False)
        b.node(s + 0x30, "str", size=60, repr=f"'user \"{i}\"'", tracked=False)
        b.edge(SESSIONS, s, EDGE_KEY, f"'user:{i}'")
        b.edge(s, s + 0x10, EDGE_ATTR, "items")
        b.edge(s, s + 0x30, EDGE_ATTR, "name")
        b.edge(s + 0x10, s + 0x20, EDGE_INDEX, 0)
    if users:
        b.edge(0x3000, session_addr(0), EDGE_INDEX, 0)
    return b.build()
