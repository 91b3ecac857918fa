"""The census: counts and bytes per type, compiled and pure-Python passes alike, no user code."""

from __future__ import annotations

import gc
import sys

import pytest

from heaptui.capture import census
from heaptui.capture.typeinfo import type_name


class Tracked:
    def __init__(self, n: int) -> None:
        self.n = n
        self.items = [n]


class Sneaky:
    """Its __sizeof__ and __eq__/__hash__ must never run during a census."""

    calls = 0

    def __sizeof__(self) -> int:
        Sneaky.calls += 1
        return 10**9

    def __eq__(self, other: object) -> bool:
        Sneaky.calls += 1
        return False

    def __hash__(self) -> int:
        Sneaky.calls += 1
        return 1


PASSES = [False, *([True] if census.available() else [])]
NAME = f"{__name__}.Tracked"


@pytest.mark.parametrize("compiled", PASSES)
def test_counts_and_bytes_of_a_type(compiled: bool) -> None:
    held = [Tracked(i) for i in range(500)]
    sample = census.take_census(compiled=compiled)
    count, size = sample["types"][NAME]
    assert count == 500
    assert size == 500 * sys.getsizeof(held[0])
    assert sample["walker"] == ("c" if compiled else "python")
    assert sample["objects"] >= 1000
    assert sample["heap_bytes"] >= size
    assert sample["rss"] is None or sample["rss"] > 0


class Big(list):  # type: ignore[type-arg]
    """A list of our own: its size varies with its length (a C __sizeof__)."""


@pytest.mark.parametrize("compiled", PASSES)
def test_variable_sizes_match_getsizeof(compiled: bool) -> None:
    big = [Big(range(n)) for n in (10, 1000, 5000)]
    count, size = census.take_census(compiled=compiled)["types"][f"{__name__}.Big"]
    assert count == 3
    assert size == sum(map(sys.getsizeof, big))


@pytest.mark.parametrize("compiled", PASSES)
def test_no_user_code_runs(compiled: bool) -> None:
    held = [Sneaky() for _ in range(50)]
    Sneaky.calls = 0
    sample = census.take_census(compiled=compiled)
    assert Sneaky.calls == 0
    count, size = sample["types"][f"{__name__}.Sneaky"]
    assert count == 50 and size < 50 * 1000
    del held


def test_the_type_cap_folds_the_rest() -> None:
    sample = census.take_census(max_types=5)
    assert len(sample["types"]) == 6
    other = sample["types"][census.OTHER]
    assert sum(v[1] for v in sample["types"].values()) == sample["heap_bytes"]
    assert other[0] > 0


@pytest.mark.skipif(not census.available(), reason="compiled census not built")
@pytest.mark.parametrize("untracked", [False, True])
def test_both_passes_agree(untracked: bool) -> None:
    held = [Tracked(i) for i in range(300)]
    gc.collect()  # no garbage for an automatic collection to free between the two passes
    gc.disable()
    try:
        c = census.take_census(compiled=True, untracked=untracked)["types"]
        py = census.take_census(compiled=False, untracked=untracked)["types"]
    finally:
        gc.enable()
    moving = ("list", "dict", "tuple", "frame", "cell", "float", "int", "str")
    stable = [name for name in c if name not in moving]
    assert stable
    # A class's size moves between two passes (its attribute cache, its subclass list, ctypes'
    # layouts filled in on first use): classes are compared by count only.
    metaclasses, todo = set(), [type]
    while todo:  # every metaclass is a subclass of type (static ones too, e.g. ctypes')
        meta = todo.pop()
        metaclasses.add(type_name(meta))
        todo.extend(type.__subclasses__(meta))
    for name in stable:
        if name in py:
            if name in metaclasses:
                assert c[name][0] == py[name][0], name
            else:
                assert c[name] == py[name], name
    del held


@pytest.mark.parametrize("compiled", PASSES)
def test_untracked_objects_are_counted_once(compiled: bool) -> None:
    def count() -> list[int]:
        return census.take_census(compiled=compiled, untracked=True)["types"]["bytes"]

    before = count()
    unique = [b"u%d" % i * 100 for i in range(300)]  # bytes: never tracked by the collector
    shared = b"s" * 5000
    held = [shared] * 1000  # one object, reached a thousand times
    nested = [((bytes(700),),)]  # inside (maybe untracked) tuples: followed
    after = count()
    assert after[0] - before[0] == 300 + 1 + 1
    expected = sum(map(sys.getsizeof, unique)) + sys.getsizeof(shared) + sys.getsizeof(bytes(700))
    assert after[1] - before[1] == expected
    assert "bytes" not in census.take_census(compiled=compiled, untracked=False)["types"]
    del unique, held, nested
