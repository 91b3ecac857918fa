"""A synthetic heap shaped like a leaky service, shared by the benchmarks.

``build_heap(tracked)`` creates about ``tracked`` gc-tracked objects (plus the untracked
strings, ints and tuples they reach, roughly 2.2 objects in all per tracked one): instances with
and without ``__slots__``, dicts, lists, tuples, sets, strings, reference cycles, closures and an
unbounded ``functools.lru_cache``. It is deterministic, so every tool in a benchmark run measures
the same heap. The returned holder must stay referenced for as long as the heap should live.
"""

from __future__ import annotations

import functools
from typing import Any


class Session:
    """A plain instance with a managed dict (what most user objects look like)."""

    def __init__(self, user: str, n: int) -> None:
        self.user = user
        self.n = n
        self.tags = [f"t{n % 13}", n]
        self.parent: Any = None


class Point:
    """A ``__slots__`` instance."""

    __slots__ = ("label", "x", "y")

    def __init__(self, x: int, y: float, label: str) -> None:
        self.x = x
        self.y = y
        self.label = label


class Node:
    """A linked-list node: the deep-chain shape."""

    def __init__(self, value: int, nxt: Any) -> None:
        self.value = value
        self.next = nxt


@functools.lru_cache(maxsize=None)  # noqa: UP033 (the unbounded-cache shape on purpose)
def cached_value(key: int) -> tuple[int, str]:
    return (key, f"value-{key}")


def _make_counter(start: int) -> Any:
    count = [start]

    def bump() -> int:
        count[0] += 1
        return count[0]

    return bump


def build_heap(tracked: int) -> dict[str, Any]:
    """Build about ``tracked`` gc-tracked objects; return the holder keeping them alive."""
    # Each unit below creates about 10 tracked objects.
    units = max(1, tracked // 10)
    cache: dict[str, Session] = {}
    points: list[Point] = []
    rows: list[tuple[Any, ...]] = []
    groups: list[set[int]] = []
    closures: list[Any] = []
    head: Any = None
    for i in range(units):
        s = Session(f"user:{i}", i)  # instance + its tags list
        cache[f"session:{i}"] = s
        if i % 2:
            s.parent = cache.get(f"session:{i - 1}")  # cycles between neighbours
        points.append(Point(i, i * 0.5, f"p{i}"))
        rows.append((i, f"row{i}", [i, i + 1], {"k": i}))  # tuple + list + dict
        if i % 4 == 0:
            groups.append({i, i + 1, i + 2})
            closures.append(_make_counter(i))  # function + cell + list
        if i % 3 == 0:
            cached_value(i)
        head = Node(i, head) if i % 5 == 0 else head
    return {
        "cache": cache,
        "points": points,
        "rows": rows,
        "groups": groups,
        "closures": closures,
        "chain": head,
    }
