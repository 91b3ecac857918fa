"""Graphviz referrer graphs (objgraph's look, limits) and CSV tables (csv-module round trip)."""

from __future__ import annotations

import csv
import io

from export_heaps import session_addr, shop_heap

from heaptui.export.dot import referrer_graph, write_dot
from heaptui.export.tables import write_growth_csv, write_types_csv
from heaptui.model.diff import growth
from heaptui.model.dominators import dominators_for, retained_by_type
from heaptui.model.index import GraphIndex
from heaptui.model.summary import type_summary


def _dot(users: int, addr: int, **limits: int) -> str:
    snapshot = shop_heap(users)
    index = GraphIndex(snapshot)
    node = snapshot.node_for_addr(addr)
    assert node is not None
    out = io.StringIO()
    write_dot(index, referrer_graph(index, node, **limits), out)
    return out.getvalue()


def test_dot_draws_referrers_with_labels_highlight_and_root() -> None:
    text = _dot(3, session_addr(0))
    assert text.startswith("digraph ObjectGraph {") and text.rstrip().endswith("}")
    lines = text.splitlines()
    target = next(line for line in lines if "#ff9999" in line)
    assert 'label="Session\\n0x100000"' in target  # short type, then the address
    root = next(line for line in lines if "#99ccff" in line)
    assert "sys.modules['shop']" in root and "<module 'shop'>" in root
    edges = [line.strip() for line in lines if "->" in line]
    assert any(line.endswith("""[label="['user:0']"];""") for line in edges)
    assert any(line.endswith('[label="[0]"];') for line in edges)  # also held by RECENT
    assert any(line.endswith('[label=".__dict__"];') for line in edges)


def test_dot_limits_fan_out_and_size_but_keeps_the_root_path() -> None:
    # 30 referrers of one int: at most 8 drawn, the rest summed up in a "+N more" box.
    from heaptui.core.labels import EDGE_ATTR, ROOT_MODULE
    from heaptui.model.snapshot import Snapshot
    from heaptui.testing import SnapshotBuilder

    b = SnapshotBuilder()
    b.node(0x10, "module", size=72)
    b.root(0x10, ROOT_MODULE, "sys.modules['m']")
    b.node(0x20, "int", size=28, repr="7", tracked=False)
    for i in range(30):
        b.node(0x1000 + i * 0x10, "app.Holder", size=48)
        b.edge(0x10, 0x1000 + i * 0x10, EDGE_ATTR, f"h{i}")
        b.edge(0x1000 + i * 0x10, 0x20, EDGE_ATTR, "n")
    snapshot = Snapshot.from_raw(b.build())
    index = GraphIndex(snapshot)
    graph = referrer_graph(index, snapshot.node_for_addr(0x20), depth=1, fan_out=8)
    assert len(graph.nodes) == 1 + 1 + 8  # the int, the module (root path), 8 holders
    assert graph.more == {snapshot.node_for_addr(0x20): 30 - 8}
    out = io.StringIO()
    write_dot(index, graph, out)
    assert '"+22 more referrers"' in out.getvalue()
    small = referrer_graph(index, snapshot.node_for_addr(0x20), depth=3, max_nodes=4)
    assert len(small.nodes) <= 4
    assert snapshot.node_for_addr(0x10) in small.nodes  # the root is always drawn


def test_dot_escapes_quotes_in_reprs() -> None:
    text = _dot(2, session_addr(1) + 0x30)
    assert "'user \\\"1\\\"'" in text


def test_types_csv_round_trips_through_the_csv_module() -> None:
    snapshot = shop_heap(4)
    dom = dominators_for(GraphIndex(snapshot))
    out = io.StringIO()
    rows = type_summary(snapshot)
    write_types_csv(rows, out, retained_by_type(dom, snapshot))
    read = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["type"] for r in read] == [r.name for r in rows]
    by_type = {r["type"]: r for r in read}
    assert (by_type["shop.Session"]["count"], by_type["shop.Session"]["size"]) == ("4", "224")
    assert by_type["module"]["retained"] == str(snapshot.total_bytes)
    assert abs(sum(float(r["share"]) for r in read) - 1.0) < 1e-4


def test_growth_csv_round_trips_and_quotes_odd_type_names() -> None:
    base, now = shop_heap(1), shop_heap(5)
    rows = growth(base, now)
    rows = [rows[0]._replace(name='odd, "quoted" type'), *rows[1:]]
    out = io.StringIO()
    write_growth_csv(rows, out)
    read = list(csv.reader(io.StringIO(out.getvalue())))
    assert read[0] == [
        "type", "count_base", "count_now", "count_delta", "size_base", "size_now", "size_delta"
    ]  # fmt: skip
    assert read[1][0] == 'odd, "quoted" type'
    assert [[int(x) for x in r[1:]] for r in read[1:]] == [
        [r.count_base, r.count_now, r.count_delta, r.size_base, r.size_now, r.size_delta]
        for r in rows
    ]
