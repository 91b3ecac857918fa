"""Which types grow with every round: the rule that tells a leak from caches and churn."""

from __future__ import annotations

from heaptui.core.raw import RawSnapshot
from heaptui.model.rounds import census_of, steady_growth
from heaptui.testing import SnapshotBuilder


def test_only_types_that_rose_in_every_round_are_suspects() -> None:
    censuses = [
        {"app.Order": (10, 560), "dict": (100, 9000), "app.Cache": (1, 64), "str": (50, 2500)},
        {"app.Order": (11, 616), "dict": (104, 9400), "app.Cache": (2, 128), "str": (50, 2500)},
        {"app.Order": (12, 672), "dict": (103, 9300), "app.Cache": (2, 128), "str": (52, 2600)},
        {"app.Order": (14, 784), "dict": (110, 9900), "app.Cache": (2, 128), "str": (54, 2700)},
    ]
    grown = steady_growth(censuses)
    assert [g.name for g in grown] == ["app.Order"]  # dict dipped, Cache filled once, str paused
    assert grown[0].counts == (1, 1, 2)
    assert grown[0].sizes == (56, 56, 112)
    assert grown[0].bytes_per_round == 224 / 3


def test_a_type_new_after_the_baseline_and_ignored_types() -> None:
    censuses = [{}, {"app.Job": (1, 48), "list": (1, 56)}, {"app.Job": (2, 96), "list": (2, 112)}]
    assert [g.name for g in steady_growth(censuses)] == ["list", "app.Job"]  # most bytes first
    assert [g.name for g in steady_growth(censuses, ignore={"list"})] == ["app.Job"]
    assert steady_growth(censuses[:1]) == []


def test_census_adds_up_types_of_the_same_name() -> None:
    b = SnapshotBuilder()
    b.node(0x1000, "app.Order", size=56)
    b.node(0x2000, "dict", size=200)
    b.node(0x3000, "app.Order", size=56)
    raw = b.build()
    raw.type_names.append("app.Order")  # a second class with the same qualified name
    raw.type_addr.append(0x20_0000)
    raw.type_flags.append(4)
    raw.addr.append(0x4000)
    raw.type_index.append(2)
    raw.size.append(64)
    assert census_of(raw) == {"app.Order": (3, 176), "dict": (1, 200)}
    assert census_of(RawSnapshot()) == {}
