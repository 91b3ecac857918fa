"""A small fixed heap, measured by heaptui and by objgraph / pympler; prints JSON.

Run as ``python oracle_target.py counts|sizes`` (``HEAPTUI_WALKER`` picks the walker). Run in
its own interpreter so that the heap is the same every time and nothing of pytest is in it.

``counts``: objgraph.typestats() and heaptui's capture, taken back to back with the collector
off, as ``{"objgraph": {name: n}, "heaptui": {name: n}}`` (gc-tracked objects only, named the
way objgraph names them: ``module.__name__``).
``sizes``: for each sample kind, ``[heaptui size, sys.getsizeof, pympler flatsize or None]``.
Both also give ``"walker"``, the walker that ran.
"""

from __future__ import annotations

import array
import collections
import decimal
import gc
import json
import sys
from typing import Any

import numpy
import objgraph

from heaptui.capture import snapshot
from heaptui.core.labels import NODE_GC_TRACKED


class Leaf:
    def __init__(self, n: int) -> None:
        self.n = n
        self.tags = [n, str(n)]


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self) -> None:
        self.a = [1]
        self.b = None


def make_heap() -> dict[str, Any]:
    """The objects both tools count: instances, containers, closures, a cycle."""
    leaves = [Leaf(i) for i in range(300)]
    cycle: list[Any] = []
    cycle.append(cycle)

    def closure() -> list[Leaf]:
        return leaves

    return {
        "leaves": leaves,
        "slotted": [Slotted() for _ in range(50)],
        "index": {i: (i, float(i)) for i in range(200)},
        "sets": [set(range(i % 5)) for i in range(40)],
        "cycle": cycle,
        "closure": closure,
        "deque": collections.deque(range(100)),
    }


def objgraph_name(tp: type) -> str:
    """objgraph's long type name (objgraph._long_typename): ``module.__name__``."""
    module = getattr(tp, "__module__", None)
    return f"{module}.{tp.__name__}" if module else tp.__name__


def counts() -> dict[str, dict[str, int]]:
    heap = make_heap()
    snapshot()  # warm up: every module the capture imports is loaded before the counts
    gc.collect()
    gc.disable()  # no collection between the two counts
    stats = objgraph.typestats(shortnames=False)
    skip = {id(stats)}  # objgraph's result is not part of the heap it counted
    skip.add(id(skip))
    raw = snapshot(exclude_ids=skip)
    # Tuples no gc-tracked object refers to (a code object's constants, a C extension's
    # state): the capture lists a tuple held once only through its holder (it may be one
    # still being built), so these may be missing from its count; see docs/oracles.md.
    objs = gc.get_objects()
    referenced = set(map(id, gc.get_referents(*objs)))
    unheld_tuples = sum(1 for o in objs if type(o) is tuple and id(o) not in referenced)
    del objs, referenced
    gc.enable()
    types_by_id = {id(type(o)): type(o) for o in gc.get_objects()}
    mine: dict[str, int] = {}
    for flags, ti in zip(raw.flags, raw.type_index, strict=True):
        if flags & NODE_GC_TRACKED:
            name = objgraph_name(types_by_id[raw.type_addr[ti]])
            mine[name] = mine.get(name, 0) + 1
    del heap
    return {
        "objgraph": stats,
        "heaptui": mine,
        "unheld_tuples": unheld_tuples,
        "walker": raw.meta["walker"],
    }


def samples() -> dict[str, Any]:
    """One object of each kind whose shallow size the tools compare."""

    def function() -> None:
        pass

    def generator() -> Any:
        yield 1

    held = [1]
    return {
        "int": 10**40,
        "small int": 7,
        "float": 1.5,
        "complex": 1j,
        "str": "abc" * 20,
        "non-ascii str": "é" * 30,
        "bytes": b"x" * 50,
        "bytearray": bytearray(100),
        "tuple": (1, 2, 3),
        "empty tuple": (),
        "list": [1, 2, 3, 4, 5],
        "grown list": list(range(17)),
        "dict": {i: i for i in range(10)},
        "set": set(range(10)),
        "frozenset": frozenset(range(3)),
        "instance": Leaf(1),
        "slotted instance": Slotted(),
        "class": Leaf,
        "function": function,
        "cell": (lambda: held).__closure__[0],  # type: ignore[index]
        "generator": generator(),
        "range": range(10),
        "array": array.array("d", [1.0] * 10),
        "deque": collections.deque(range(40)),
        "memoryview": memoryview(b"abc"),
        "decimal": decimal.Decimal("1.5"),
        "module": sys.modules[__name__],
        "numpy array": numpy.zeros(100),  # owns its data: getsizeof counts the buffer
        "numpy view": numpy.zeros(100)[::2],  # a view: getsizeof leaves the buffer out
    }


def sizes() -> dict[str, Any]:
    objs = samples()
    raw = snapshot()
    # Imported after the capture: pympler.asizeof imports _testcapi, whose never-readied type
    # is a crasher of its own (tests/capture/test_capture_world.py); here only sizes matter.
    from pympler import asizeof

    where = {addr: i for i, addr in enumerate(raw.addr)}
    out: dict[str, Any] = {"walker": raw.meta["walker"]}
    for kind, obj in objs.items():
        try:
            flat: int | None = asizeof.flatsize(obj)
        except Exception:  # pympler has no size for some kinds; say so rather than fail
            flat = None
        out[kind] = [raw.size[where[id(obj)]], sys.getsizeof(obj), flat]
    return out


if __name__ == "__main__":
    print(json.dumps(counts() if sys.argv[1] == "counts" else sizes()))
