"""Look up live objects in a RawSnapshot: their node, labelled edges, repr and roots."""

from __future__ import annotations

from itertools import accumulate
from typing import Any

from heaptui.capture.raw import RawSnapshot
from heaptui.labels import render_edge


class View:
    """Index a RawSnapshot by address once, then answer questions about objects."""

    def __init__(self, raw: RawSnapshot) -> None:
        self.raw = raw
        self.pos = {addr: i for i, addr in enumerate(raw.addr)}
        self.starts = [0, *accumulate(raw.edge_count)]

    def has(self, obj: Any) -> bool:
        return id(obj) in self.pos

    def node(self, obj: Any) -> int:
        return self.pos[id(obj)]

    def type_name(self, obj: Any) -> str:
        return self.raw.type_names[self.raw.type_index[self.node(obj)]]

    def repr(self, obj: Any) -> str:
        i = self.node(obj)
        offsets = self.raw.repr_offsets
        return self.raw.repr_blob[offsets[i] : offsets[i + 1]].decode("utf-8")

    def edges_by_addr(self, addr: int) -> list[tuple[str, int]]:
        i = self.pos[addr]
        raw = self.raw
        return [
            (
                render_edge(raw.edge_kind[e], raw.edge_payload[e], raw.strings.__getitem__),
                raw.edge_target[e],
            )
            for e in range(self.starts[i], self.starts[i + 1])
        ]

    def edges(self, obj: Any) -> list[tuple[str, int]]:
        """``(label, target address)`` of every outgoing edge of ``obj``'s node."""
        return self.edges_by_addr(id(obj))

    def labels_to(self, src: Any, dst: Any) -> list[str]:
        return [label for label, target in self.edges(src) if target == id(dst)]

    def roots(self) -> list[tuple[int, int, str]]:
        raw = self.raw
        return [
            (raw.root_addr[i], raw.root_kind[i], raw.strings[raw.root_label[i]])
            for i in range(len(raw.root_addr))
        ]
