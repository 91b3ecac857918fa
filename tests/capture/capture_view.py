"""Look up live objects in a RawSnapshot: their node, labelled edges, repr and roots."""

from __future__ import annotations

import sys
from itertools import accumulate
from typing import Any

from heaptui.core.labels import render_edge
from heaptui.core.raw import RawSnapshot

# The label path of an instance attribute (see View.attribute_labels), formatted with its name.
ATTR = ".{}" if sys.version_info >= (3, 11) else ".__dict__['{}']"


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

    def attribute_labels(self, obj: Any, value: Any) -> list[str]:
        """Labels of ``obj``'s attribute ``value`` as the heap holds it: ``.name`` from the
        instance where CPython keeps attributes inline (3.11+, ``__dict__`` never asked for),
        else ``.__dict__['name']`` through the dict (3.10 gives every instance a dict)."""
        direct = self.labels_to(obj, value)
        if sys.version_info >= (3, 11) or direct:
            return direct
        return [
            dict_label + label
            for dict_label, target in self.edges(obj)
            if dict_label == ".__dict__"
            for label, item in self.edges_by_addr(target)
            if item == id(value)
        ]

    def roots(self) -> list[tuple[int, int, str]]:
        raw = self.raw
        return [
            (raw.root_addr[i], raw.root_kind[i], raw.strings[raw.root_label[i]])
            for i in range(len(raw.root_addr))
        ]
