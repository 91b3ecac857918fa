"""Small synthetic heaps with fixed addresses shared by the model tests (graphs built from
columns are in ``tests/heaps.py``)."""

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
from heaptui.model.snapshot import Snapshot
from heaptui.testing import SnapshotBuilder

APP = 0x1000
APP_DICT = 0x1100
CACHE = 0x2000
FRAME = 0x5000
PENDING = 0x5100
ORPHAN = 0x6000


def value_addr(i: int) -> int:
    return 0x10_0000 + i * 0x100


def app_heap(
    values: int = 3, *, pending: int = 0, meta: dict[str, object] | None = None
) -> Snapshot:
    """``app.CACHE`` maps ``'user:i'`` to ``app.Value`` objects; a thread holds a list.

    ``sys.modules['app'] -> .__dict__ -> ['CACHE'] -> ['user:i'] -> app.Value``, each Value
    owns an attribute dict holding a str. An unreferenced tuple is an "other" root.
    """
    b = SnapshotBuilder(meta)
    b.node(APP, "module", size=72, repr="<module 'app'>", type_flags=TYPE_BUILTIN)
    b.node(APP_DICT, "dict", size=640, length=2)
    b.node(CACHE, "dict", size=1200, length=values)
    b.edge(APP, APP_DICT, EDGE_ATTR, "__dict__")
    b.edge(APP_DICT, CACHE, EDGE_KEY, "'CACHE'")
    b.root(APP, ROOT_MODULE, "sys.modules['app']")
    for i in range(values):
        v = value_addr(i)
        b.node(v, "app.Value", size=56)
        b.node(v + 0x10, "dict", size=104, length=1)
        b.node(v + 0x20, "str", size=60, length=11, repr=f"'payload {i:03}'", tracked=False)
        b.edge(CACHE, v, EDGE_KEY, f"'user:{i}'")
        b.edge(v, v + 0x10, EDGE_ATTR, "__dict__")
        b.edge(v + 0x10, v + 0x20, EDGE_KEY, "'data'")
    b.node(FRAME, "frame", size=400, repr="worker() app.py:10")
    b.node(PENDING, "list", size=56 + 8 * pending, length=pending)
    b.edge(FRAME, PENDING, EDGE_LOCAL, "pending")
    b.root(FRAME, ROOT_THREAD, "thread Worker: worker() app.py:10")
    for i in range(pending):
        job = 0x20_0000 + i * 0x40
        b.node(job, "app.Job", size=48)
        b.edge(PENDING, job, EDGE_INDEX, i)
    b.node(ORPHAN, "tuple", size=64, length=1)
    b.edge(ORPHAN, CACHE)
    return Snapshot.from_raw(b.build(), source="synthetic")
