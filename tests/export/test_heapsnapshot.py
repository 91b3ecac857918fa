"""Chrome .heapsnapshot export: the structure DevTools' loader relies on, checked field by field."""

from __future__ import annotations

import io
import json

import numpy as np
from export_heaps import SESSIONS, session_addr, shop_heap

from heaptui.export.heapsnapshot import EDGE_TYPES, NODE_TYPES, write_heapsnapshot
from heaptui.model.index import GraphIndex


def _export(users: int) -> tuple[dict, GraphIndex]:  # type: ignore[type-arg]
    snapshot = shop_heap(users)
    index = GraphIndex(snapshot)
    out = io.StringIO()
    assert write_heapsnapshot(index, out) == (snapshot.node_count + 1, snapshot.edge_total + 1)
    return json.loads(out.getvalue()), index


def test_fields_counts_and_edge_targets_are_consistent() -> None:
    data, index = _export(5)
    meta = data["snapshot"]["meta"]
    nf, ef = len(meta["node_fields"]), len(meta["edge_fields"])
    assert meta["node_fields"][:5] == ["type", "name", "id", "self_size", "edge_count"]
    assert meta["edge_fields"] == ["type", "name_or_index", "to_node"]
    assert meta["node_types"][0] == NODE_TYPES and meta["edge_types"][0] == EDGE_TYPES
    assert len(meta["node_types"]) == nf and len(meta["edge_types"]) == ef
    nodes = np.array(data["nodes"]).reshape(-1, nf)
    edges = np.array(data["edges"]).reshape(-1, ef)
    assert len(data["nodes"]) % nf == 0 and len(data["edges"]) % ef == 0
    assert len(nodes) == data["snapshot"]["node_count"] == index.snapshot.node_count + 1
    assert len(edges) == data["snapshot"]["edge_count"]
    assert nodes[:, 4].sum() == len(edges)
    assert (edges[:, 2] % nf == 0).all() and (edges[:, 2] < len(data["nodes"])).all()
    assert len(set(nodes[:, 2].tolist())) == len(nodes)  # unique ids
    assert (nodes[:, 0] < len(NODE_TYPES)).all() and (edges[:, 0] < len(EDGE_TYPES)).all()
    assert (nodes[:, 1] < len(data["strings"])).all()
    named = edges[:, 0] != EDGE_TYPES.index("element")
    assert (edges[named, 1] < len(data["strings"])).all()
    assert data["snapshot"]["trace_function_count"] == 0
    for key in ("trace_function_infos", "trace_tree", "samples", "locations"):
        assert data[key] == []


def _node_row(data: dict, position: int) -> list[int]:  # type: ignore[type-arg]
    return data["nodes"][position * 7 : position * 7 + 7]  # type: ignore[no-any-return]


def _edges_of(data: dict, position: int) -> list[tuple[str, object, int]]:  # type: ignore[type-arg]
    """(edge type, name, target position) of the node at ``position``."""
    counts = [data["nodes"][i * 7 + 4] for i in range(len(data["nodes"]) // 7)]
    start = sum(counts[:position]) * 3
    result = []
    for e in range(counts[position]):
        kind, name, to = data["edges"][start + 3 * e : start + 3 * e + 3]
        kind_name = EDGE_TYPES[kind]
        result.append(
            (kind_name, name if kind_name == "element" else data["strings"][name], to // 7)
        )
    return result


def test_the_root_refers_to_every_root_and_objects_keep_names_sizes_and_labels() -> None:
    data, index = _export(3)
    snapshot = index.snapshot
    strings = data["strings"]
    root = _node_row(data, 0)
    assert NODE_TYPES[root[0]] == "synthetic" and root[2] == 1
    module = snapshot.node_for_addr(0x1000)
    assert _edges_of(data, 0) == [("shortcut", "sys.modules['shop']", module + 1)]
    sessions = snapshot.node_for_addr(SESSIONS)
    row = _node_row(data, sessions + 1)
    assert (NODE_TYPES[row[0]], strings[row[1]], row[3], row[4]) == ("object", "dict", 4000, 3)
    assert _edges_of(data, sessions + 1) == [
        ("property", "['user:0']", snapshot.node_for_addr(session_addr(0)) + 1),
        ("property", "['user:1']", snapshot.node_for_addr(session_addr(1)) + 1),
        ("property", "['user:2']", snapshot.node_for_addr(session_addr(2)) + 1),
    ]
    items = snapshot.node_for_addr(session_addr(1) + 0x10)
    number = snapshot.node_for_addr(session_addr(1) + 0x20)
    assert _edges_of(data, items + 1) == [("element", 0, number + 1)]
    number_row = _node_row(data, number + 1)
    assert (NODE_TYPES[number_row[0]], strings[number_row[1]]) == ("number", "1001")
    text_row = _node_row(data, snapshot.node_for_addr(session_addr(1) + 0x30) + 1)
    assert (NODE_TYPES[text_row[0]], strings[text_row[1]]) == ("string", "'user \"1\"'")
    session_row = _node_row(data, snapshot.node_for_addr(session_addr(2)) + 1)
    assert strings[session_row[1]] == "shop.Session"  # the Summary groups by Python type


def test_an_empty_heap_is_still_a_loadable_snapshot() -> None:
    data, _ = _export(0)
    assert data["snapshot"]["node_count"] == len(data["nodes"]) // 7
    assert sum(data["nodes"][4::7]) == len(data["edges"]) // 3
