"""Type summary and instances of a type."""

from __future__ import annotations

from model_heaps import CACHE, app_heap

from heaptui.model.summary import instances_of, type_summary


def test_type_summary_counts_and_bytes_by_size_descending() -> None:
    snap = app_heap(values=3)
    rows = {row.name: row for row in type_summary(snap)}
    assert rows["app.Value"].count == 3
    assert rows["app.Value"].size == 3 * 56
    assert rows["dict"].count == 2 + 3
    assert rows["dict"].size == 640 + 1200 + 3 * 104
    assert rows["str"].size == 3 * 60
    sizes = [row.size for row in type_summary(snap)]
    assert sizes == sorted(sizes, reverse=True)
    assert sum(row.size for row in rows.values()) == snap.total_bytes
    assert abs(sum(row.share for row in rows.values()) - 1.0) < 1e-9
    assert type_summary(snap)[0].name == "dict"


def test_instances_of_lists_every_object_of_the_type_largest_first() -> None:
    snap = app_heap(values=3)
    dict_type = snap.type_names.index("dict")
    nodes = instances_of(snap, dict_type)
    assert len(nodes) == 5
    assert int(snap.addr[nodes[0]]) == CACHE
    sizes = snap.size[nodes].tolist()
    assert sizes == sorted(sizes, reverse=True)
    assert all(snap.type_name(int(n)) == "dict" for n in nodes)
