"""Every edge kind, on a heap built in the test and captured for real."""

from __future__ import annotations

import collections
import gc
import sys

import pytest
from capture_view import ATTR, View

from heaptui.capture import snapshot


class Account:
    def __init__(self) -> None:
        self.owner = ["alice"]
        self.history = {"user:42": [1, 2], 42: ("x",)}

    def deposit(self) -> None:
        pass


class Point:
    __slots__ = ("x", "y")

    def __init__(self) -> None:
        self.x = [1.5]
        self.y = [2.5]


def make_counter():
    pending = [0]

    def bump() -> None:
        pending[0] += 1

    return bump


# Every test runs with each walker (tests/capture/conftest.py).
pytestmark = pytest.mark.usefixtures("walker")


@pytest.fixture(scope="module")
def heap(walker: str) -> dict[str, object]:
    """One heap with every shape, captured once for the whole module (a capture is slow)."""
    key = "".join(["user:", "42"])  # a fresh str key, not interned
    a, b = [1], [2]
    acc2 = Account()
    acc3 = Account()
    ns3 = acc3.__dict__
    for i in range(40):
        setattr(acc3, f"extra_{i}", [i])
    objs: dict[str, object] = {
        "key": key,
        "d": {key: [1], 7: [2]},
        "a": a,
        "b": b,
        "lst": [a, b, a],
        "tup": (b, a),
        "st": {frozenset([1]), frozenset([2])},
        "acc": Account(),
        "p": Point(),
        "acc2": acc2,
        "ns": acc2.__dict__,  # materialised on purpose
        "acc3": acc3,
        "ns3": ns3,
        "bump": make_counter(),
        "od": collections.OrderedDict(a=[1]),
        "dd": collections.defaultdict(list, b=[2]),
    }
    objs["method"] = objs["acc"].deposit  # type: ignore[attr-defined]
    pending = ["job-1", "job-2"]  # a local of the frame that calls snapshot()
    objs["pending"] = pending
    objs["frame"] = sys._getframe()
    objs["view"] = View(snapshot())
    return objs


def test_dict_values_by_key_and_keys_as_nodes(heap: dict) -> None:
    key, d, view = heap["key"], heap["d"], heap["view"]
    assert view.labels_to(d, d[key]) == ["['user:42']"]
    assert view.labels_to(d, d[7]) == ["[7]"]
    # gc.get_referents hides str keys; the walker adds them (and counts their bytes).
    assert view.labels_to(d, key) == ["<key 'user:42'>"]
    assert view.has(key)
    assert view.raw.size[view.node(key)] == sys.getsizeof(key)


def test_list_and_tuple_positions_and_set_members(heap: dict) -> None:
    a, lst, tup, st, view = heap["a"], heap["lst"], heap["tup"], heap["st"], heap["view"]
    assert [label for label, _ in view.edges(lst)] == ["[0]", "[1]", "[2]"]
    assert view.labels_to(lst, a) == ["[0]", "[2]"]
    assert view.labels_to(tup, a) == ["[1]"]
    assert sorted(label for label, _ in view.edges(st)) == ["<member>", "<member>"]
    assert view.raw.length[view.node(lst)] == 3


def test_instance_attributes_by_name_without_touching_dict(heap: dict) -> None:
    acc, view = heap["acc"], heap["view"]
    assert view.attribute_labels(acc, acc.owner) == [ATTR.format("owner")]
    assert view.attribute_labels(acc, acc.history) == [ATTR.format("history")]
    assert view.labels_to(acc, Account) == [".__class__"]
    assert view.type_name(acc) == f"{__name__}.Account"


def test_slots_by_name(heap: dict) -> None:
    p, view = heap["p"], heap["view"]
    assert view.labels_to(p, p.x) == [".x"]
    assert view.labels_to(p, p.y) == [".y"]


def test_materialised_instance_dict_is_labelled(heap: dict) -> None:
    # 3.13 keeps the values inline once the dict exists, and gc.get_referents(acc) reports
    # the values only: the walkers add the .__dict__ edge (once, on every version).
    acc, ns, view = heap["acc2"], heap["ns"], heap["view"]
    assert view.labels_to(acc, ns) == [".__dict__"]
    assert view.labels_to(ns, acc.owner) == ["['owner']"]
    if sys.version_info >= (3, 13):  # the instance holds its values too
        assert view.labels_to(acc, acc.owner) == [".owner"]
    else:
        assert view.labels_to(acc, acc.owner) == []


def test_materialised_dict_grown_out_of_inline_values_is_labelled_once(heap: dict) -> None:
    # Attributes the class's shared keys do not know move the values into the dict (3.13:
    # the instance's traverse visits the dict again): still one .__dict__ edge.
    acc, ns, view = heap["acc3"], heap["ns3"], heap["view"]
    assert view.labels_to(acc, ns) == [".__dict__"]
    assert view.labels_to(ns, ns["extra_7"]) == ["['extra_7']"]


def test_closure_cell_and_function_attributes(heap: dict) -> None:
    bump, view = heap["bump"], heap["view"]
    closure = bump.__closure__
    assert closure is not None
    cell = closure[0]
    assert view.labels_to(bump, closure) == [".__closure__"]
    assert view.labels_to(bump, bump.__code__) == [".__code__"]
    assert view.labels_to(bump, bump.__globals__) == [".__globals__"]
    assert view.labels_to(closure, cell) == ["<closure pending>"]
    assert view.labels_to(cell, cell.cell_contents) == [".cell_contents"]
    assert view.repr(bump) == f"{__name__}.make_counter.<locals>.bump"


def test_bound_method_class_and_module(heap: dict) -> None:
    acc, method, view = heap["acc"], heap["method"], heap["view"]
    assert view.labels_to(method, acc) == [".__self__"]
    assert view.labels_to(method, Account.__dict__["deposit"]) == [".__func__"]
    class_ns = gc.get_referents(Account.__dict__)[0]
    assert view.labels_to(Account, class_ns) == [".__dict__"]
    assert view.labels_to(Account, Account.__mro__) == [".__mro__"]
    assert view.labels_to(class_ns, Account.__dict__["deposit"]) == ["['deposit']"]
    module = sys.modules[__name__]
    assert view.labels_to(module, module.__dict__) == [".__dict__"]
    assert view.repr(module) == __name__
    assert view.repr(Account) == f"{__name__}.Account"


def test_static_types_reach_their_namespace_and_mro(heap: dict) -> None:
    # Static types are not GC objects: gc.get_referents(int) is empty, yet int holds these.
    view = heap["view"]
    assert gc.get_referents(int) == []
    namespace = gc.get_referents(int.__dict__)[0]
    assert type(namespace) is dict
    assert view.labels_to(int, namespace) == [".__dict__"]
    assert view.labels_to(int, int.__mro__) == [".__mro__"]
    assert view.labels_to(int, int.__bases__) == [".__bases__"]
    assert view.labels_to(int, object) == [".__base__"]
    assert view.labels_to(namespace, namespace["bit_length"]) == ["['bit_length']"]


def test_frame_locals_of_the_caller(heap: dict) -> None:
    pending, frame, view = heap["pending"], heap["frame"], heap["view"]
    assert view.labels_to(frame, pending) == ["f_locals['pending']"]
    assert view.labels_to(frame, frame.f_code) == [".f_code"]


def test_subclasses_of_builtins_keep_items_and_attributes(heap: dict) -> None:
    od, dd, view = heap["od"], heap["dd"], heap["view"]
    assert view.labels_to(od, od["a"]) == ["['a']"]
    assert view.labels_to(dd, dd["b"]) == ["['b']"]
    assert view.labels_to(dd, list) == [".default_factory"]


def test_every_referent_has_exactly_one_edge(heap: dict) -> None:
    view = heap["view"]
    acc = heap["acc"]
    objects = [acc, heap["p"], heap["bump"], acc.history, heap["lst"], heap["tup"], heap["st"]]
    for obj in objects:
        targets = sorted(t for _, t in view.edges(obj))
        referents = sorted(id(r) for r in gc.get_referents(obj))
        extra = targets.copy()
        for r in referents:
            extra.remove(r)  # raises if a referent has no edge
        if type(obj) is dict:
            assert sorted(extra) == sorted(id(k) for k in obj if id(k) not in referents)
        else:
            assert extra == []


def test_every_edge_target_is_a_node(heap: dict) -> None:
    raw = heap["view"].raw
    nodes = set(raw.addr)
    assert set(raw.edge_target) <= nodes
    assert set(raw.root_addr) <= nodes
    assert len(nodes) == raw.node_count
    assert len(raw.repr_offsets) == raw.node_count + 1
