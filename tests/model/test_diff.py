"""Growth by type name and new objects between two snapshots."""

from __future__ import annotations

from model_heaps import app_heap, value_addr

from heaptui.core.labels import EDGE_KEY, ROOT_MODULE
from heaptui.model.diff import growth, new_objects
from heaptui.model.snapshot import Snapshot
from heaptui.testing import SnapshotBuilder


def test_growth_by_type_name_sorted_by_bytes() -> None:
    base = app_heap(values=2)
    now = app_heap(values=7, pending=4)
    rows = {row.name: row for row in growth(base, now)}
    assert rows["app.Value"].count_delta == 5
    assert rows["app.Value"].size_delta == 5 * 56
    assert rows["app.Job"].count_base == 0
    assert rows["app.Job"].count_now == 4
    assert rows["str"].size_delta == 5 * 60
    assert "module" not in rows  # unchanged types are left out
    deltas = [row.size_delta for row in growth(base, now)]
    assert deltas == sorted(deltas, reverse=True)


def test_growth_shows_types_that_shrank_or_vanished_with_negative_deltas() -> None:
    rows = {row.name: row for row in growth(app_heap(values=3, pending=2), app_heap(values=1))}
    assert rows["app.Job"].count_delta == -2
    assert rows["app.Value"].size_delta == -2 * 56
    assert growth(app_heap(), app_heap()) == []


def test_new_objects_are_addresses_with_a_type_not_in_the_baseline() -> None:
    base = app_heap(values=2)
    now = app_heap(values=4)
    new = new_objects(base, now)
    new_addrs = {int(a) for a in now.addr[new]}
    expected = {value_addr(i) + off for i in (2, 3) for off in (0, 0x10, 0x20)}
    assert new_addrs == expected


def test_a_reused_address_with_another_type_counts_as_new() -> None:
    def one(type_name: str) -> Snapshot:
        b = SnapshotBuilder()
        b.node(0x10, "module", repr="m")
        b.node(0x20, type_name)
        b.edge(0x10, 0x20, EDGE_KEY, "'x'")
        b.root(0x10, ROOT_MODULE, "sys.modules['m']")
        return Snapshot.from_raw(b.build())

    assert new_objects(one("app.A"), one("app.B")).tolist() == [False, True]
    assert new_objects(one("app.A"), one("app.A")).tolist() == [False, False]
