"""Build small synthetic snapshots with fixed addresses, for tests and fake live sources.

Real ``id()`` values change on every run, so tests describe a heap by hand instead::

    b = SnapshotBuilder()
    mod = b.node(0x1000, "module", repr="app")
    cache = b.node(0x2000, "dict", size=1200, length=2)
    b.edge(mod, cache, EDGE_ATTR, "cache")
    b.root(mod, ROOT_MODULE, "sys.modules['app']")
    raw = b.build()

Standard library only.
"""

from __future__ import annotations

from heaptui.core.labels import (
    EDGE_INDEX,
    EDGE_OTHER,
    NODE_GC_TRACKED,
    TYPE_BUILTIN,
    TYPE_USER,
)
from heaptui.core.raw import RawSnapshot


class SnapshotBuilder:
    """Accumulate nodes, labelled edges and roots, then emit a :class:`RawSnapshot`."""

    def __init__(self, meta: dict[str, object] | None = None) -> None:
        self._nodes: list[tuple[int, int, int, int, int, str]] = []
        self._edges: dict[int, list[tuple[int, int, int]]] = {}
        self._types: dict[str, int] = {}
        self._type_flags: list[int] = []
        self._strings: dict[str, int] = {}
        self._roots: list[tuple[int, int, int]] = []
        self.meta: dict[str, object] = {
            "pid": 4242,
            "argv": ["app.py"],
            "python": "3.11.7",
            "created": "2026-11-23T10:00:00+00:00",
            "rss": 0,
            "capture_seconds": 0.0,
            "heaptui_version": "0.1.0",
            "walker": "synthetic",
        }
        if meta:
            self.meta.update(meta)

    def string(self, text: str) -> int:
        """Return the string-table index of ``text``, adding it once."""
        index = self._strings.get(text)
        if index is None:
            index = self._strings[text] = len(self._strings)
        return index

    def node(
        self,
        addr: int,
        type_name: str,
        *,
        size: int = 64,
        length: int = -1,
        repr: str = "",
        tracked: bool = True,
        type_flags: int | None = None,
    ) -> int:
        """Add one object and return its address (so calls can be nested)."""
        if type_name not in self._types:
            self._types[type_name] = len(self._types)
            if type_flags is None:
                type_flags = TYPE_USER if "." in type_name else TYPE_BUILTIN
            self._type_flags.append(type_flags)
        flags = NODE_GC_TRACKED if tracked else 0
        self._nodes.append((addr, self._types[type_name], size, length, flags, repr))
        return addr

    def edge(
        self, src: int, dst: int, kind: int = EDGE_OTHER, label: str | int | None = None
    ) -> None:
        """Add a reference ``src -> dst``; ``label`` is a name, a rendered key, or an index."""
        if kind == EDGE_INDEX:
            payload = int(label or 0)
        elif isinstance(label, str):
            payload = self.string(label)
        else:
            payload = -1
        self._edges.setdefault(src, []).append((dst, kind, payload))

    def root(self, addr: int, kind: int, label: str) -> None:
        """Mark ``addr`` as a root of ``kind`` (labels.ROOT_*) described by ``label``."""
        self._roots.append((addr, kind, self.string(label)))

    def build(self) -> RawSnapshot:
        """Return the snapshot; edges are grouped by source in node order."""
        raw = RawSnapshot()
        raw.repr_offsets.append(0)
        for addr, type_index, size, length, flags, text in self._nodes:
            raw.addr.append(addr)
            raw.type_index.append(type_index)
            raw.size.append(size)
            raw.length.append(length)
            raw.flags.append(flags)
            raw.repr_blob += text.encode("utf-8")
            raw.repr_offsets.append(len(raw.repr_blob))
            edges = self._edges.get(addr, [])
            raw.edge_count.append(len(edges))
            for dst, kind, payload in edges:
                raw.edge_target.append(dst)
                raw.edge_kind.append(kind)
                raw.edge_payload.append(payload)
        raw.type_names = list(self._types)
        for i, _name in enumerate(raw.type_names):
            raw.type_addr.append(0x10_0000 + i * 0x100)
            raw.type_flags.append(self._type_flags[i])
        for addr, kind, label in self._roots:
            raw.root_addr.append(addr)
            raw.root_kind.append(kind)
            raw.root_label.append(label)
        raw.strings = list(self._strings)
        raw.meta = dict(self.meta)
        raw.meta["objects"] = len(raw.addr)
        return raw
