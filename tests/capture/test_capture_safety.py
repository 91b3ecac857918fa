"""The capture runs no user code, keeps nothing alive and leaves itself out of the snapshot."""

from __future__ import annotations

import gc
import sys
import threading
import weakref
from array import array
from typing import Any

import pytest
from capture_view import ATTR, View

from heaptui.capture import snapshot
from heaptui.capture.naming import hidden_dict
from heaptui.core.labels import NODE_GC_TRACKED, ROOT_MODULE, ROOT_THREAD, TYPE_BUILTIN, TYPE_USER

CALLS: list[str] = []


class Meta(type):
    def __hash__(cls) -> int:
        CALLS.append("meta.__hash__")
        return 0

    def __eq__(cls, other: object) -> bool:
        CALLS.append("meta.__eq__")
        return False

    def __getattribute__(cls, name: str):  # type: ignore[no-untyped-def]
        if name in ("__module__", "__qualname__", "__name__", "__dict__", "__mro__"):
            CALLS.append("meta.__getattribute__ " + name)
        return type.__getattribute__(cls, name)


class Hostile(metaclass=Meta):
    def __init__(self) -> None:
        self.payload = ["secret"]

    def __repr__(self) -> str:
        CALLS.append("__repr__")
        raise RuntimeError("repr")

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        CALLS.append("__eq__")
        raise RuntimeError("eq")

    def __hash__(self) -> int:
        CALLS.append("__hash__")
        raise RuntimeError("hash")

    def __len__(self) -> int:
        CALLS.append("__len__")
        raise RuntimeError("len")

    def __bool__(self) -> bool:
        CALLS.append("__bool__")
        raise RuntimeError("bool")

    def __sizeof__(self) -> int:
        CALLS.append("__sizeof__")
        raise RuntimeError("sizeof")

    def __getattr__(self, name: str) -> object:
        CALLS.append("__getattr__ " + name)
        raise AttributeError(name)

    @property
    def computed(self) -> int:
        CALLS.append("property")
        raise RuntimeError("property")


class HostileKey:
    def __hash__(self) -> int:
        return 1

    def __eq__(self, other: object) -> bool:
        CALLS.append("key.__eq__")
        return self is other

    def __repr__(self) -> str:
        CALLS.append("key.__repr__")
        return "k"


class Plain:
    def __init__(self) -> None:
        self.items = [1, 2]


# Every test runs with each walker (tests/capture/conftest.py).
pytestmark = pytest.mark.usefixtures("walker")


# The tests that take their own captures come first: the module's shared capture (the fixture
# below) stays alive until the module ends and would make every later capture walk it too.


def test_own_objects_are_left_out_and_two_captures_in_a_row() -> None:
    first = snapshot()
    first_n = first.node_count
    first_ids = {id(first.addr), id(first.edge_target), id(first.type_names)}
    del first
    second = snapshot()
    view = View(second)
    big_arrays = [
        a
        for a, t in zip(second.addr, second.type_index, strict=True)
        if second.type_names[t] == "array.array" and second.size[view.pos[a]] >= 8 * first_n
    ]
    assert big_arrays == []
    assert not first_ids & {a for a in second.addr if second.type_names[0] == "array.array"}
    assert id(second) not in view.pos
    assert type(second.addr) is array


def test_roots_are_modules_and_threads() -> None:
    ready = threading.Event()
    stop = threading.Event()

    def worker() -> None:
        held_only_here = ["thread-local", "list"]
        ready.set()
        stop.wait()  # no timeout: this thread may run during a slow walk
        del held_only_here

    t = threading.Thread(target=worker, name="holder")
    t.start()
    ready.wait(10)
    try:
        raw = snapshot()
    finally:
        stop.set()
        t.join()
    view = View(raw)
    roots = view.roots()
    module_labels = {label for _, kind, label in roots if kind == ROOT_MODULE}
    assert f"sys.modules['{__name__}']" in module_labels
    threads = [(addr, label) for addr, kind, label in roots if kind == ROOT_THREAD]
    labels = [label for _, label in threads]
    mine = "thread MainThread: test_roots_are_modules_and_threads()"
    assert any(label.startswith(mine) for label in labels)
    holder = [addr for addr, label in threads if label.startswith("thread holder: ")]
    assert len(holder) == 1
    # The worker's list is reachable from the holder thread's root (its frame chain).
    frontier = [holder[0]]
    reached = set(frontier)
    while frontier:
        addr = frontier.pop()
        for _label, target in view.edges_by_addr(addr):
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    found = False
    for addr in reached:
        for label, _ in view.edges_by_addr(addr):
            if label == "f_locals['held_only_here']":
                found = True
    assert found


def test_containers_changed_by_another_thread_during_the_walk_still_give_a_valid_snapshot(
    tmp_path: Any, walker: str
) -> None:
    # Other threads keep their turns during a capture: a dict, list or set may change between
    # two passes of the walk. Each snapshot must still be whole and readable. The churn keeps
    # LIVE entries (each new one replaces the oldest), so the heap changes without growing and
    # each capture walks about as much as the first.
    from heaptui.fileformat.read import read_snapshot_arrays
    from heaptui.fileformat.write import write_snapshot_file

    class Churn:
        pass

    live = 2000
    shared: dict[int, Any] = {}
    items: list[Any] = []
    members: set[int] = set()
    done = [0]  # changes made so far
    stop = threading.Event()

    def churn() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            shared[i] = Churn()
            items.append(i)
            members.add(i)
            if i > live:
                shared.pop(i - live, None)
                members.discard(i - live)
                del items[:1]
            done[0] = i

    worker = threading.Thread(target=churn, name="churn")
    worker.start()
    overlapped = 0
    try:
        for n in range(3):
            before = done[0]
            raw = snapshot()
            overlapped += done[0] > before
            path = write_snapshot_file(raw, tmp_path / f"{n}.heap")
            arrays = read_snapshot_arrays(path)  # raises if edge counts do not add up
            assert int(arrays.edge_count.sum()) == len(arrays.edge_target)
    finally:
        stop.set()
        worker.join()
    assert len(shared) <= live and len(items) <= live
    if walker == "python":  # it shares the GIL with the churn all along its walk
        assert overlapped, "the churn never ran during a capture"


@pytest.mark.slow
def test_a_million_long_chain_does_not_crash() -> None:
    head: object = None
    for i in range(1_000_000):
        head = (head, i * 1.0)  # untracked-looking chain of tuples
    raw = snapshot()
    assert raw.node_count > 1_000_000
    del head


@pytest.fixture(scope="module")
def heap(walker: str) -> dict[str, Any]:
    """The objects of the tests below, captured once for the whole module (a capture is slow).

    Whatever a test checks about the state before the capture is recorded here, before it.
    """
    hostile = Hostile()
    key = "".join(["only-a-key-", "123"])
    objs: dict[str, Any] = {
        "hostile": hostile,
        "table": {HostileKey(): hostile, "k": Hostile},
        "p": Plain(),
        "big": 10**5000,
        "long_text": "x" * 10_000,
        "short": "".join(["he", "llo"]),
        "container": [1, 2],
        "samples": [Plain(), [1, 2, 3], {"a": 1}, (1, 2), "text" * 10, 12345678901234, 1.5, Plain],
        "key": key,
        "value": 10**30,
        "managed": [Plain() for _ in range(3)],
        "target": Plain(),
    }
    objs["holder"] = {key: objs["value"], "tracked because of": []}
    objs["key_was_tracked"] = gc.is_tracked(key)
    objs["managed_sizes"] = [sys.getsizeof(o) for o in objs["managed"]]
    objs["ref"] = weakref.ref(objs["target"])
    CALLS.clear()
    raw = snapshot()
    objs["calls"] = list(CALLS)
    objs["view"] = View(raw)
    return objs


def test_no_user_code_runs_and_hostile_objects_are_still_described(heap: dict) -> None:
    hostile, table, view = heap["hostile"], heap["table"], heap["view"]
    assert heap["calls"] == []
    name = f"{__name__}.Hostile"
    assert view.type_name(hostile) == name
    assert view.repr(hostile) == ""
    assert view.repr(Hostile) == name
    assert view.attribute_labels(hostile, hostile.payload) == [ATTR.format("payload")]
    # Sized by the C __sizeof__ plus the header sys.getsizeof would add.
    size = view.raw.size[view.node(hostile)]
    assert size == sys.getsizeof(Plain())
    assert view.labels_to(table, hostile)[0].startswith(f"[<{__name__}.HostileKey at 0x")
    assert view.raw.length[view.node(hostile)] == -1


def test_type_table_names_and_flags(heap: dict) -> None:
    p, view = heap["p"], heap["view"]
    raw = view.raw
    names = raw.type_names
    assert "dict" in names and "int" in names and "builtins.dict" not in names
    ti = raw.type_index[view.node(p)]
    assert names[ti] == f"{__name__}.Plain"
    assert raw.type_flags[ti] & TYPE_USER
    assert raw.type_flags[names.index("dict")] & TYPE_BUILTIN
    od_flags = [raw.type_flags[i] for i, n in enumerate(names) if n == "collections.OrderedDict"]
    assert all(not f & TYPE_USER for f in od_flags)


def test_safe_reprs_of_scalars_are_truncated_values(heap: dict) -> None:
    big, view = heap["big"], heap["view"]
    assert view.repr(heap["short"]) == "'hello'"
    assert view.repr(big) == f"<int of {big.bit_length()} bits>"
    text = view.repr(heap["long_text"])
    assert text.startswith("'xxx") and len(text) <= 80
    assert view.repr(heap["container"]) == ""


def test_sizes_match_sys_getsizeof_for_ordinary_objects(heap: dict) -> None:
    view = heap["view"]
    for obj in heap["samples"]:
        assert view.raw.size[view.node(obj)] == sys.getsizeof(obj), obj


def test_untracked_objects_are_reached(heap: dict) -> None:
    key, view = heap["key"], heap["view"]
    assert not heap["key_was_tracked"]
    assert view.has(key) and view.has(heap["value"])
    assert not view.raw.flags[view.node(key)] & NODE_GC_TRACKED
    assert view.raw.flags[view.node(heap["holder"])] & NODE_GC_TRACKED


@pytest.mark.skipif(sys.version_info < (3, 11), reason="managed dicts exist from 3.11")
def test_managed_instance_dicts_are_not_materialised(heap: dict) -> None:
    objs = heap["managed"]
    for o in objs:
        assert not any(type(r) is dict for r in gc.get_referents(o))
        # 3.13 keeps a made dict out of the referents: ask the compiled helper too.
        assert hidden_dict(o) is None
    assert [sys.getsizeof(o) for o in objs] == heap["managed_sizes"]


def test_no_reference_to_a_target_survives(heap: dict) -> None:
    ref = heap["ref"]
    assert id(heap["target"]) in heap["view"].pos
    del heap["target"]
    assert ref() is None


def test_objects_frozen_by_gc_freeze_are_still_walked() -> None:
    # gc.freeze() moves every tracked object out of gc.get_objects()' reach: the capture
    # must find them as referents (tracked, yet not nodes yet).
    holder = {"frozen": [["inner", "list"]]}
    gc.freeze()
    try:
        view = View(snapshot())
    finally:
        gc.unfreeze()
    inner = holder["frozen"][0]
    assert view.labels_to(holder, holder["frozen"]) == ["['frozen']"]
    assert view.labels_to(holder["frozen"], inner) == ["[0]"]
    assert view.repr(inner[0]) == "'inner'"
