"""The compiled capture gives the pure-Python walker's snapshot, faster, with the same safety.

Both walkers capture one heap built here; every object of that heap must come out with the
same type, size, length, flags and text, and the same labelled references (object for object,
edge for edge). The C walk also reads instance attribute names exactly where the Python
walker's heuristic cannot (an attribute set from outside the class): tested on its own.
"""

from __future__ import annotations

import collections
import functools
import gc
import sys
import weakref
from collections import Counter
from typing import Any

import pytest
from capture_view import View

from heaptui.capture import accel
from heaptui.capture.walker import take_snapshot
from heaptui.core.labels import NODE_GC_TRACKED
from heaptui.core.raw import RawSnapshot

pytestmark = pytest.mark.skipif(not accel.available(), reason="C extension not built")


class Plain:
    def __init__(self, n: int) -> None:
        self.n = n
        self.name = f"plain-{n}"
        self.items = [n, str(n)]
        self.parent: Any = None


class Slotted:
    __slots__ = ("a", "b", "c")

    def __init__(self, a: Any, b: Any) -> None:
        self.a = a
        self.b = b


class SlottedChild(Slotted):
    __slots__ = ("d",)

    def __init__(self) -> None:
        super().__init__(1.5, "bee")
        self.d = {"deep": [1, 2]}


class Registry(dict):  # type: ignore[type-arg]
    def __init__(self) -> None:
        super().__init__(alpha=[1], beta=(2, "b"))
        self.label = "registry"


class Stack(list):  # type: ignore[type-arg]
    pass


class Sized:
    """A user __sizeof__ must not run: the C base's size is used instead."""

    calls = 0

    def __init__(self) -> None:
        self.blob = bytearray(100)

    def __sizeof__(self) -> int:
        Sized.calls += 1
        return 10**6


def make_counter(start: int) -> Any:
    count = [start]
    step = 2

    def bump() -> int:
        count[0] += step
        return count[0]

    return bump


def generator() -> Any:
    pending = ["job-1", "job-2"]
    yield pending
    yield None


def build_heap() -> dict[str, Any]:
    plains = [Plain(i) for i in range(50)]
    for i in range(1, len(plains)):
        plains[i].parent = plains[i - 1]  # chains and cycles
    plains[0].parent = plains[-1]
    materialised = Plain(99)
    materialised.__dict__  # noqa: B018 - the instance now has a real dict
    holds_own_dict = Plain(98)
    if sys.version_info >= (3, 13):
        # An attribute the class sets (so both walkers name it) holding the instance's own
        # dict: 3.13 then holds that dict twice (an inline value and the dict pointer). Not on
        # 3.11-3.12, where the Python walker names the one reference (to the dict) .items.
        holds_own_dict.items = holds_own_dict.__dict__
    gen = generator()
    next(gen)
    texts = [
        "plain",
        "x" * 78,
        "y" * 79,
        "z" * 500,
        "quote's",
        'double "quoted"',
        "back\\slash",
        "tab\there",
        "caf\u00e9 \u2603",
        "\udc80 lone surrogate",
        "",
    ]
    keys: dict[Any, Any] = {
        "short": 1,
        "k" * 100: 2,
        7: "seven",
        2**70: "big",
        -(2**63): "min",
        3.5: "float",
        None: "none",
        True: "bool",
        b"raw": "bytes",
        (1, "a"): "tuple",
        frozenset({1}): "frozenset",
        Plain: "class",
        make_counter: "function",
    }
    return {
        "plains": plains,
        "materialised": materialised,
        "holds_own_dict": holds_own_dict,
        "slotted": [Slotted([1], "two"), SlottedChild()],
        "registry": Registry(),
        "stack": Stack([1, "two", [3]]),
        "keys": keys,
        "texts": texts,
        "numbers": [0, -1, 2**62, 2**64, 10**80, 1.25, float("nan"), 3 + 4j, True],
        "floats": [0.1, -0.0, 1732371234.123456, 1e-5, 1 / 3, 1e300],
        "bytes": [b"abc", b"q" * 200, bytearray(b"xyz")],
        "sets": [{1, 2, "three"}, frozenset({"a", ("t", 1)})],
        "deque": collections.deque(["d1", "d2", ["d3"]]),
        "closures": [make_counter(i) for i in range(3)],
        "lambda": lambda x, y=[1]: x,  # its defaults are part of the heap
        "generator": gen,
        "method": Plain(1).__init__,
        "partial": functools.partial(make_counter, 5),
        "cached": functools.lru_cache(maxsize=None)(make_counter),
        "weak": weakref.ref(Plain),
        # Instances of C types, labelled in C: members (empty ones read as None), getsets.
        "c_types": [
            property(len),
            property(make_counter),  # no docstring: its __doc__ holds None
            property(len, None, None, "doc"),
            classmethod(len),
            staticmethod(make_counter),
            str.join,
            [].append,
            weakref.ref(Plain, make_counter),
            Plain.__dict__["__init__"].__get__,
        ],
        "sized": Sized(),
        "nested": (("a", ("b", ["c"])), {"d": {"e": ("f",)}}),
        "type": Plain,
        "module": functools,
    }


# Reached from the heap but not descended into: they lead to modules and the whole process.
LEAVES = (type, type(sys), type(make_counter), type(len), type(make_counter.__code__))


def reachable(holder: Any) -> list[Any]:
    """The test heap: everything reachable from ``holder`` short of classes, modules and
    functions' globals (plus dict keys and closure cells), kept alive by the list."""
    seen: dict[int, Any] = {id(holder): holder}
    stack = [holder]
    while stack:
        obj = stack.pop()
        if isinstance(obj, LEAVES) and obj is not holder:
            refs = list(obj.__closure__ or ()) if type(obj) is type(make_counter) else []
        elif type(obj).__name__ in ("generator", "method", "frame"):
            refs = []
        else:
            refs = list(gc.get_referents(obj))
        if type(obj) is dict:
            refs.extend(obj.keys())
        for r in refs:
            if id(r) not in seen:
                seen[id(r)] = r
                stack.append(r)
    return list(seen.values())


def refines(c_edges: Counter[Any], py_edges: Counter[Any]) -> bool:
    """The same references, where the C walk may name one the Python walker left ``<ref>``
    (instance attributes its heuristic does not find: set from outside the class)."""
    c_only, py_only = c_edges - py_edges, py_edges - c_edges
    same_targets = Counter(t for _, t in c_only.elements()) == Counter(
        t for _, t in py_only.elements()
    )
    return same_targets and all(label == "<ref>" for label, _ in py_only.elements())


def describe(view: View, obj: Any) -> tuple[Any, ...]:
    raw = view.raw
    i = view.node(obj)
    return (
        view.type_name(obj),
        raw.size[i],
        raw.length[i],
        raw.flags[i],
        view.repr(obj),
        Counter(view.edges(obj)),
    )


@pytest.fixture(scope="module")
def both() -> Any:
    holder = build_heap()
    objects = reachable(holder)
    gc.collect()
    python_raw = take_snapshot(sys._getframe())
    c_raw = accel.capture_raw(root_frame=sys._getframe())
    yield holder, objects, View(python_raw), View(c_raw)


def test_c_capture_says_it_used_the_c_walker(both: Any) -> None:
    _, _, py, c = both
    assert c.raw.meta["walker"] == "c"
    assert py.raw.meta["walker"] == "python"
    assert c.raw.meta["objects"] == c.raw.node_count > 1000


def test_every_object_of_the_heap_is_in_both_snapshots(both: Any) -> None:
    _, objects, py, c = both
    missing_c = [type(o).__name__ for o in objects if not c.has(o)]
    missing_py = [type(o).__name__ for o in objects if not py.has(o)]
    assert missing_c == missing_py == []


def test_nodes_and_edges_agree_object_for_object(both: Any) -> None:
    _, objects, py, c = both
    differences = []
    for obj in objects:
        if describe(c, obj) != describe(py, obj):
            differences.append((type(obj).__name__, describe(c, obj), describe(py, obj)))
    assert differences == []


def test_whole_snapshots_agree_on_shared_objects(both: Any) -> None:
    """Beyond the test heap: the rest of the process, minus what changed between captures."""
    _, _, py, c = both
    shared = py.pos.keys() & c.pos.keys()
    # The C capture ran second: it also holds the first capture's output (a local here).
    assert len(shared) > 0.95 * len(py.pos)
    sample = sorted(shared)[::7]  # every 7th: enough to see a systematic difference
    same_type = same_size = same_text = same_edges = 0
    for addr in sample:
        i, j = py.pos[addr], c.pos[addr]
        same_type += (
            py.raw.type_names[py.raw.type_index[i]] == c.raw.type_names[c.raw.type_index[j]]
        )
        same_size += py.raw.size[i] == c.raw.size[j]
        ro, co = py.raw.repr_offsets, c.raw.repr_offsets
        same_text += py.raw.repr_blob[ro[i] : ro[i + 1]] == c.raw.repr_blob[co[j] : co[j + 1]]
        same_edges += refines(Counter(c.edges_by_addr(addr)), Counter(py.edges_by_addr(addr)))
    # Objects the two captures saw in different states (the first capture's output, this
    # frame's locals, caches filled in between) are a handful among many thousands.
    assert len(sample) - same_type <= 5
    assert len(sample) - same_size <= 10
    assert len(sample) - same_text <= 10
    assert len(sample) - same_edges <= 20


def test_gc_tracked_flag_marks_exactly_the_tracked_objects(both: Any) -> None:
    _, objects, _, c = both
    for obj in objects:
        flagged = bool(c.raw.flags[c.node(obj)] & NODE_GC_TRACKED)
        assert flagged == gc.is_tracked(obj), type(obj).__name__


def test_labels_name_attributes_keys_positions_and_closures(both: Any) -> None:
    holder, _, _, c = both
    plain = holder["plains"][3]
    if sys.version_info >= (3, 11):  # inline attribute values
        assert c.labels_to(plain, plain.items) == [".items"]
    else:
        assert c.labels_to(plain, plain.__dict__) == [".__dict__"]
        assert c.labels_to(plain.__dict__, plain.items) == ["['items']"]
    assert c.labels_to(plain, Plain) == [".__class__"]
    assert c.labels_to(holder["slotted"][1], holder["slotted"][1].d) == [".d"]
    keys = holder["keys"]
    assert c.labels_to(keys, keys["short"]) == ["['short']"]
    long_key = "k" * 100
    assert c.labels_to(keys, long_key) == ["<key '" + "k" * 58 + "\u2026>"]
    assert c.labels_to(holder["stack"], holder["stack"][2]) == ["[2]"]
    bump = holder["closures"][1]
    cells = bump.__closure__
    assert sorted(c.labels_to(cells, cell)[0] for cell in cells) == [
        "<closure count>",
        "<closure step>",
    ]
    assert c.labels_to(cells[0], cells[0].cell_contents) == [".cell_contents"]
    assert c.labels_to(bump, bump.__code__) == [".__code__"]


def test_a_materialised_dict_is_an_edge_of_its_instance(both: Any) -> None:
    holder, _, py, c = both
    for view in (py, c):
        o = holder["materialised"]
        assert view.labels_to(o, o.__dict__) == [".__dict__"]
        o = holder["holds_own_dict"]
        if sys.version_info >= (3, 13):
            assert sorted(view.labels_to(o, o.__dict__)) == [".__dict__", ".items"]


def test_hidden_dict_reads_only_a_dict_that_get_referents_omits() -> None:
    from heaptui.capture import _walk  # type: ignore[attr-defined]

    class Inline:
        def __init__(self) -> None:
            self.a = [1]

    class Slots:
        __slots__ = ("a",)

    fresh, touched = Inline(), Inline()
    d = touched.__dict__
    for other in (fresh, Slots(), 1, [d], Inline, d):
        assert _walk.hidden_dict(other) is None
    if sys.version_info >= (3, 13):
        assert not any(r is d for r in gc.get_referents(touched))
        assert _walk.hidden_dict(touched) is d
    else:  # the dict is a referent (3.11-3.12: the values moved into it; 3.10: always one)
        assert any(r is d for r in gc.get_referents(touched))
        assert _walk.hidden_dict(touched) is None
    if sys.version_info >= (3, 11):  # asking made no dict
        assert not any(type(r) is dict for r in gc.get_referents(fresh))
        assert _walk.hidden_dict(fresh) is None


def test_texts_are_cut_and_escaped_like_the_python_walker(both: Any) -> None:
    holder, _, _, c = both
    texts = holder["texts"]
    assert c.repr(texts[0]) == "'plain'"
    assert c.repr(texts[1]) == "'" + "x" * 78 + "'"
    assert c.repr(texts[2]) == "'" + "y" * 78 + "\u2026"
    assert c.repr(texts[3]) == "'" + "z" * 78 + "\u2026"
    assert c.repr(texts[4]) == '"quote\'s"'
    assert c.repr(texts[9]).startswith("'\\udc80")
    assert c.repr(holder["numbers"][4]) == "<int of 266 bits>"
    assert c.repr(make_counter) == f"{__name__}.make_counter"


def test_a_user_sizeof_never_runs(both: Any) -> None:
    holder, _, _, c = both
    assert Sized.calls == 0
    gc_header = sys.getsizeof([]) - [].__sizeof__()
    managed_dict = 16 if sys.version_info >= (3, 11) else 0
    expected = object.__sizeof__(holder["sized"]) + gc_header + managed_dict
    assert c.raw.size[c.node(holder["sized"])] == expected


class Bare:
    pass


def test_attributes_set_outside_the_class_are_named_exactly() -> None:
    obj = Bare()
    obj.extra_from_outside = ["outside"]  # type: ignore[attr-defined]
    setattr(obj, "computed-name", ("computed",))
    inline = not any(type(r) is dict for r in gc.get_referents(obj))
    assert inline == (sys.version_info >= (3, 11))
    raw = accel.capture_raw(root_frame=sys._getframe())
    view = View(raw)
    holder: Any = obj if inline else obj.__dict__
    names = (
        [".extra_from_outside", ".computed-name"]
        if inline
        else [
            "['extra_from_outside']",
            "['computed-name']",
        ]
    )
    assert view.labels_to(holder, obj.extra_from_outside) == names[:1]
    assert view.labels_to(holder, getattr(obj, "computed-name")) == names[1:]
    # Reading the names did not create the instance dict.
    assert inline == (not any(type(r) is dict for r in gc.get_referents(obj)))


def test_no_reference_to_a_captured_object_survives() -> None:
    untracked = "untracked-" + "s" * 20  # reached only through the holder
    holder = [untracked, (1, 2, "inner")]
    before = (sys.getrefcount(untracked), sys.getrefcount(holder[1]))
    raw = accel.capture_raw(root_frame=sys._getframe())
    assert id(untracked) in set(raw.addr)
    del raw
    assert (sys.getrefcount(untracked), sys.getrefcount(holder[1])) == before


def test_a_second_capture_does_not_contain_the_first() -> None:
    first = accel.capture_raw(root_frame=sys._getframe())
    first_count = first.node_count
    columns = weakref.ref(first.addr)
    strings = first.strings
    del first
    assert columns() is None  # nothing the capture left behind holds its output
    second = accel.capture_raw(root_frame=sys._getframe())
    assert id(strings) in second.addr  # still held by this frame: it is part of the heap
    assert second.node_count < first_count * 1.5


@pytest.mark.slow
def test_a_million_long_chain_is_walked_without_recursion() -> None:
    class Link:
        __slots__ = ("next",)

        def __init__(self, nxt: Any) -> None:
            self.next = nxt

    head = None
    for _ in range(1_000_000):
        head = Link(head)
    raw = accel.capture_raw(root_frame=sys._getframe())
    link_type = raw.type_names.index(f"{__name__}.{Link.__qualname__}")
    assert sum(1 for t in raw.type_index if t == link_type) == 1_000_000
    del head


def test_gc_state_is_restored_and_capture_is_plain_columns() -> None:
    assert gc.isenabled()
    raw = accel.capture_raw()
    assert gc.isenabled()
    assert isinstance(raw, RawSnapshot)
    assert len(raw.repr_offsets) == raw.node_count + 1
    assert sum(raw.edge_count) == raw.edge_total == len(raw.edge_kind) == len(raw.edge_payload)
    assert raw.meta["walker"] == "c" and raw.meta["capture_seconds"] > 0


def test_environment_variable_turns_the_c_walker_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(accel.WALKER_ENV, "python")
    assert not accel.available()
    monkeypatch.setenv(accel.WALKER_ENV, "c")
    assert accel.available()


def test_without_the_extension_capture_raw_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accel, "_walk", None)
    assert not accel.available()
    with pytest.raises(RuntimeError, match="not built"):
        accel.capture_raw()


def test_a_failing_labeller_costs_labels_not_the_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    from heaptui.capture.naming import Namer

    def broken(self: Any, obj: Any, refs: list[Any]) -> Any:
        raise RuntimeError("labeller bug")

    monkeypatch.setattr(Namer, "label_module", broken)
    raw = accel.capture_raw(root_frame=sys._getframe())
    view = View(raw)
    module_dict = functools.__dict__
    assert view.labels_to(functools, module_dict) == ["<ref>"]


def test_columns_are_ordinary_arrays() -> None:
    raw = accel.capture_raw(root_frame=sys._getframe())
    n = raw.node_count
    raw.addr.append(1)
    raw.size.extend(range(1000))
    del raw.flags[:10]
    assert len(raw.addr) == n + 1 and raw.addr[-1] == 1
    assert len(raw.size) == n + 1000 and raw.size[-1] == 999
    assert len(raw.flags) == n - 10
    assert bytes(raw.edge_kind) == raw.edge_kind.tobytes()
