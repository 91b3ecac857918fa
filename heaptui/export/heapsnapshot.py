"""A snapshot as Chrome's ``.heapsnapshot`` JSON, to open in DevTools' Memory panel.

The format (V8's ``HeapSnapshotJSONSerializer``): ``snapshot.meta`` names the fields, then
``nodes`` is a flat list of ``len(node_fields)`` numbers per node (``type, name, id,
self_size, edge_count, trace_node_id, detachedness``), ``edges`` a flat list of three numbers
per edge (``type, name_or_index, to_node``) grouped by source node in node order, where
``to_node`` is the *position in the nodes list* (a multiple of the node field count), and
``strings`` the table every ``name`` indexes. DevTools loads nodes into 32-bit arrays, so ids
and sizes must fit in 32 bits, and it takes node 0 as the root.

Mapping: node 0 is a synthetic root with a shortcut edge to every heaptui root (modules,
threads, objects nothing refers to); snapshot node ``i`` is node ``i + 1`` with id ``2i + 3``.
Instances and containers are "object" nodes named by their Python type (DevTools' Summary
groups by it); ``str``/``bytes`` are "string" nodes named by their text, numbers "number",
functions "closure", code "code". Positions are "element" edges (name = the index), attributes
and keys "property", the rest "internal".

Streamed: numbers are formatted 64k nodes or edges at a time from numpy columns, and edge
labels are rendered once per distinct (kind, payload) pair, so a 2M-object heap needs no
Python list per node.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import compress
from operator import not_
from typing import TextIO

import numpy as np

from heaptui.core.labels import EDGE_ATTR, EDGE_INDEX, EDGE_KEY, EDGE_LOCAL, render_edge
from heaptui.model.index import GraphIndex
from heaptui.model.snapshot import Snapshot

NODE_FIELDS = ["type", "name", "id", "self_size", "edge_count", "trace_node_id", "detachedness"]
NODE_TYPES = [
    "hidden",
    "array",
    "string",
    "object",
    "code",
    "closure",
    "regexp",
    "number",
    "native",
    "synthetic",
    "concatenated string",
    "sliced string",
    "symbol",
    "bigint",
    "object shape",
]
EDGE_FIELDS = ["type", "name_or_index", "to_node"]
EDGE_TYPES = ["context", "element", "property", "internal", "hidden", "shortcut", "weak"]
CHUNK = 1 << 16
_U32_MAX = 0xFFFF_FFFF

_NODE_TYPE_OF_NAME = {
    "str": "string",
    "bytes": "string",
    "int": "number",
    "float": "number",
    "complex": "number",
    "bool": "number",
    "function": "closure",
    "builtin_function_or_method": "closure",
    "method": "closure",
    "code": "code",
    "re.Pattern": "regexp",
}
_PROPERTY_KINDS = (EDGE_ATTR, EDGE_KEY, EDGE_LOCAL)


class _Strings:
    """The snapshot's string table, deduplicated, in first-use order."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def __call__(self, text: str) -> int:
        found = self.index.get(text)
        if found is None:
            found = self.index[text] = len(self.index)
        return found

    def many(self, texts: list[str]) -> list[int]:
        """Indexes of many texts at once (new ones added in order), without a call per text."""
        index = self.index
        new = dict.fromkeys(compress(texts, map(not_, map(index.__contains__, texts))))
        index.update(zip(new, range(len(index), len(index) + len(new)), strict=True))
        return list(map(index.__getitem__, texts))


def _write_numbers(out: TextIO, rows: np.ndarray, first: bool) -> None:
    """Append a 2-D block of integers as comma-separated numbers (one join per block)."""
    if not len(rows):
        return
    out.write(("" if first else ",\n") + ",".join(map(str, rows.ravel().tolist())))


def _node_types(snapshot_type_names: list[str]) -> np.ndarray:
    """heapsnapshot node type of each Python type (index into NODE_TYPES)."""
    return np.array(
        [NODE_TYPES.index(_NODE_TYPE_OF_NAME.get(name, "object")) for name in snapshot_type_names],
        dtype=np.int64,
    )


def write_heapsnapshot(
    index: GraphIndex, out: TextIO, *, progress: Callable[[str], None] | None = None
) -> tuple[int, int]:
    """Write ``index``'s snapshot to ``out``; return (nodes, edges) written (root included)."""
    snap = index.snapshot
    n = snap.node_count
    roots = np.unique(np.concatenate([snap.root_node, index.other_roots]).astype(np.int64))
    offsets = snap.edge_offsets
    targets = snap.edge_target
    kinds = snap.edge_kind
    payloads = snap.edge_payload
    n_edges = len(targets) + len(roots)
    strings = _Strings()
    strings("")
    nf = len(NODE_FIELDS)

    out.write('{"snapshot":{"meta":')
    meta = {
        "node_fields": NODE_FIELDS,
        "node_types": [NODE_TYPES, "string", "number", "number", "number", "number", "number"],
        "edge_fields": EDGE_FIELDS,
        "edge_types": [EDGE_TYPES, "string_or_number", "node"],
        "trace_function_info_fields": [],
        "trace_node_fields": [],
        "sample_fields": [],
        "location_fields": [],
    }
    out.write(json.dumps(meta, separators=(",", ":")))
    out.write(f',"node_count":{n + 1},"edge_count":{n_edges},"trace_function_count":0}},\n')

    # --- nodes -------------------------------------------------------------------------------
    if progress:
        progress("nodes")
    type_kind = _node_types(snap.type_names)
    type_name_index = np.array([strings(name) for name in snap.type_names], dtype=np.int64)
    textual = np.isin(type_kind, [NODE_TYPES.index("string"), NODE_TYPES.index("number")])
    out.write('"nodes":[')
    root_row = np.array(
        [[NODE_TYPES.index("synthetic"), strings("(heaptui roots)"), 1, 0, len(roots), 0, 0]]
    )
    _write_numbers(out, root_row, first=True)
    edge_counts = np.diff(offsets)
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        types = snap.type_index[start:stop].astype(np.int64)
        rows = np.empty((stop - start, nf), dtype=np.int64)
        rows[:, 0] = type_kind[types]
        rows[:, 1] = type_name_index[types]
        texts = np.flatnonzero(textual[types])  # strings and numbers are named by their text
        rows[texts, 1] = strings.many(list(map(snap.repr_of, (texts + start).tolist())))
        rows[:, 2] = 2 * np.arange(start, stop, dtype=np.int64) + 3
        rows[:, 3] = np.minimum(snap.size[start:stop], _U32_MAX).astype(np.int64)
        rows[:, 4] = edge_counts[start:stop]
        rows[:, 5] = 0
        rows[:, 6] = 0
        _write_numbers(out, rows, first=False)
    out.write("],\n")

    # --- edges -------------------------------------------------------------------------------
    if progress:
        progress("edges")
    out.write('"edges":[')
    root_edges = np.empty((len(roots), 3), dtype=np.int64)
    root_edges[:, 0] = EDGE_TYPES.index("shortcut")
    root_edges[:, 1] = [strings(index.root_label_of(int(r))) for r in roots.tolist()]
    root_edges[:, 2] = (roots + 1) * nf
    _write_numbers(out, root_edges, first=True)
    first = not len(roots)
    edge_type, edge_name = _edge_names(snap, kinds, payloads, strings)
    for start in range(0, len(targets), CHUNK):
        stop = min(start + CHUNK, len(targets))
        rows = np.empty((stop - start, 3), dtype=np.int64)
        rows[:, 0] = edge_type[start:stop]
        rows[:, 1] = edge_name[start:stop]
        rows[:, 2] = (targets[start:stop] + 1) * nf
        _write_numbers(out, rows, first=first)
        first = False
    out.write("],\n")

    # --- the rest ---------------------------------------------------------------------------
    if progress:
        progress("strings")
    out.write('"trace_function_infos":[],"trace_tree":[],"samples":[],"locations":[],\n')
    out.write('"strings":[')
    table = list(strings.index)
    for start in range(0, len(table), CHUNK):
        if start:
            out.write(",\n")
        out.write(json.dumps(table[start : start + CHUNK])[1:-1])
    out.write("]}\n")
    return n + 1, n_edges


def _edge_names(
    snap: Snapshot, kinds: np.ndarray, payloads: np.ndarray, strings: _Strings
) -> tuple[np.ndarray, np.ndarray]:
    """heapsnapshot edge type and name (string index, or the position for elements) per edge.

    Labels are rendered once per distinct (kind, payload) pair, not once per edge.
    """
    kinds64 = kinds.astype(np.int64)
    key = (kinds64 << 32) | (payloads.astype(np.int64) & _U32_MAX)
    unique, inverse = np.unique(key, return_inverse=True)
    u_kind = (unique >> 32).astype(np.int64)
    u_payload = (unique & _U32_MAX).astype(np.uint32).view(np.int32).astype(np.int64)
    u_type = np.full(len(unique), EDGE_TYPES.index("internal"), dtype=np.int64)
    u_name = np.empty(len(unique), dtype=np.int64)
    for i, (kind, payload) in enumerate(zip(u_kind.tolist(), u_payload.tolist(), strict=True)):
        if kind == EDGE_INDEX:
            u_type[i] = EDGE_TYPES.index("element")
            u_name[i] = max(payload, 0)
            continue
        if kind in _PROPERTY_KINDS:
            u_type[i] = EDGE_TYPES.index("property")
        u_name[i] = strings(render_edge(kind, payload, snap.string))
    return u_type[inverse], u_name[inverse]
