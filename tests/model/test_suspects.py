"""Leak suspects: user types first, a sample new object each, with its root path."""

from __future__ import annotations

from model_heaps import app_heap

from heaptui.core.labels import (
    EDGE_ATTR,
    EDGE_DICT_KEY,
    EDGE_INDEX,
    EDGE_KEY,
    ROOT_MODULE,
    ROOT_THREAD,
    TYPE_BUILTIN,
    TYPE_STDLIB,
)
from heaptui.model.diff import new_objects
from heaptui.model.dominators import dominators_for
from heaptui.model.index import GraphIndex
from heaptui.model.paths import render_path
from heaptui.model.retained import Accumulation
from heaptui.model.snapshot import Snapshot
from heaptui.model.suspects import accumulation_parts, answer_text, leak_suspects
from heaptui.testing import SnapshotBuilder


def test_user_types_rank_above_the_builtins_they_drag_along() -> None:
    base = app_heap(values=2)
    now = app_heap(values=50, pending=30)
    suspects = leak_suspects(base, now, GraphIndex(now))
    names = [s.name for s in suspects]
    # dict and str grew by more bytes than Value or Job, but the user types come first.
    assert names[:2] == ["app.Value", "app.Job"]
    assert set(names[2:]) >= {"dict", "str"}
    assert [s.user_type for s in suspects] == [True, True] + [False] * (len(suspects) - 2)
    by_name = {s.name: s for s in suspects}
    assert by_name["app.Value"].count_delta == 48
    assert by_name["dict"].size_delta > by_name["app.Value"].size_delta


def test_user_types_are_ordered_by_bytes_grown() -> None:
    now = app_heap(values=10, pending=100)
    suspects = leak_suspects(app_heap(values=2), now, GraphIndex(now))
    assert [s.name for s in suspects[:2]] == ["app.Job", "app.Value"]


def test_each_suspect_has_a_new_sample_and_a_path_to_it() -> None:
    base = app_heap(values=1)
    now = app_heap(values=4, pending=5)
    index = GraphIndex(now)
    new = new_objects(base, now)
    suspects = leak_suspects(base, now, index)
    for suspect in suspects:
        assert suspect.sample is not None
        assert new[suspect.sample]
        assert now.type_name(suspect.sample) == suspect.name
        assert suspect.path is not None
        assert suspect.path.steps[-1].node == suspect.sample
    job = next(s for s in suspects if s.name == "app.Job")
    assert job.path is not None and job.path.root_kind == ROOT_THREAD
    assert "f_locals['pending']" in render_path(job.path)


def test_top_limits_and_no_growth_means_no_suspects() -> None:
    now = app_heap(values=5, pending=5)
    assert len(leak_suspects(app_heap(values=1), now, GraphIndex(now), top=1)) == 1
    same = app_heap(values=3)
    assert leak_suspects(app_heap(values=3), same, GraphIndex(same)) == []


def _logger_heap(loggers: int, *, buffers: int = 0, sessions: int = 0) -> Snapshot:
    """``logging.Logger.manager.loggerDict`` maps names to Loggers, each owning a big dict
    and a list; separately, ``app.BUFFERS`` holds ``buffers`` bytearrays and, when
    ``sessions``, ``app.CACHE`` (a dict made after the baseline) that many big Sessions, each
    with a list."""
    b = SnapshotBuilder()
    b.node(0x100, "module", size=72, repr="<module 'logging'>", type_flags=TYPE_BUILTIN)
    b.root(0x100, ROOT_MODULE, "sys.modules['logging']")
    b.node(0x200, "type", size=900, repr="logging.Logger")
    b.node(0x300, "logging.Manager", size=56, type_flags=TYPE_STDLIB)
    b.node(0x400, "dict", size=4000, length=loggers)
    b.edge(0x100, 0x200, EDGE_ATTR, "Logger")
    b.edge(0x200, 0x300, EDGE_ATTR, "manager")
    b.edge(0x300, 0x400, EDGE_ATTR, "loggerDict")
    for i in range(loggers):
        at = 0x10_0000 + i * 0x100
        b.node(at, "logging.Logger", size=56, type_flags=TYPE_STDLIB)
        b.node(at + 0x10, "dict", size=1000, length=8)
        b.node(at + 0x20, "list", size=300, length=0)
        b.node(at + 0x30, "str", size=70, repr=f"'svc.request.{i}'", tracked=False)
        b.edge(0x400, at, EDGE_KEY, f"'svc.request.{i}'")
        b.edge(0x400, at + 0x30, EDGE_DICT_KEY, f"'svc.request.{i}'")
        b.edge(at, at + 0x10, EDGE_ATTR, "__dict__")
        b.edge(at + 0x10, at + 0x20, EDGE_KEY, "'filters'")
        b.edge(at + 0x10, at + 0x30, EDGE_KEY, "'name'")
    b.node(0x500, "module", size=72, repr="<module 'app'>", type_flags=TYPE_BUILTIN)
    b.root(0x500, ROOT_MODULE, "sys.modules['app']")
    b.node(0x600, "list", size=64, length=buffers)
    b.edge(0x500, 0x600, EDGE_ATTR, "BUFFERS")
    for i in range(buffers):
        b.node(0x90_0000 + i * 0x1000, "bytearray", size=2000)
        b.edge(0x600, 0x90_0000 + i * 0x1000, EDGE_INDEX, i)
    if sessions:
        b.node(0x700, "dict", size=2000, length=sessions)
        b.edge(0x500, 0x700, EDGE_ATTR, "CACHE")
    for i in range(sessions):
        at = 0xA0_0000 + i * 0x1000
        b.node(at, "app.Session", size=50_000)
        b.node(at + 0x10, "list", size=300, length=0)
        b.edge(0x700, at, EDGE_KEY, f"'s{i}'")
        b.edge(at, at + 0x10, EDGE_ATTR, "tags")
    return Snapshot.from_raw(b.build(), source="synthetic")


def test_types_that_accumulate_at_one_point_are_one_suspect_named_by_the_outermost() -> None:
    """A logger-per-request leak is one suspect, "logging.Logger", not four (issue 14)."""
    base, now = _logger_heap(2), _logger_heap(40)
    index = GraphIndex(now)
    suspects = leak_suspects(base, now, index, dominators=dominators_for(index))
    assert len(suspects) == 1
    top = suspects[0]
    # dict grew by far more bytes, but the dicts, lists and strings live inside the Loggers.
    assert top.name == "logging.Logger"
    assert top.members == ("logging.Logger", "dict", "list", "str")
    assert top.outermost == "logging.Logger"
    assert top.new_count == 38 and top.retained == 38 * (56 + 1000 + 300 + 70)
    assert top.accumulation is not None and now.addr[top.accumulation.node] == 0x400
    assert answer_text(top) == (
        "38 new logging.Logger (+52.9 KiB retained) held by sys.modules['logging'] → .Logger"
        " → .manager → .loggerDict ['svc.request.2']"
    )
    # Without dominators: one suspect per grown type, as before.
    plain = leak_suspects(base, now, index)
    assert {s.name for s in plain} == {"logging.Logger", "dict", "list", "str"}
    assert all(s.members == () for s in plain)


def test_separate_leaks_stay_separate_and_rank_by_retained_bytes() -> None:
    base, now = _logger_heap(2, buffers=1), _logger_heap(12, buffers=200)
    index = GraphIndex(now)
    dom = dominators_for(index)
    suspects = leak_suspects(base, now, index, dominators=dom)
    assert [s.name for s in suspects] == ["bytearray", "logging.Logger"]
    assert suspects[0].retained == 199 * 2000 > (suspects[1].retained or 0)
    assert answer_text(suspects[0]).startswith(
        "199 new bytearray (+388.7 KiB retained) held by sys.modules['app'] → .BUFFERS ["
    )
    assert len(leak_suspects(base, now, index, top=1, dominators=dom)) == 1
    ungrouped = leak_suspects(base, now, index, dominators=dom, group=False)
    assert len(ungrouped) == 5 and ungrouped[0].retained is not None


def test_a_new_holder_does_not_name_the_group_it_shares_a_type_with() -> None:
    """``app.CACHE`` is a dict made after the baseline: it is new and retains every Session,
    but the new dicts and lists pile up in the loggers; the Logger group stays "Logger"."""
    base, now = _logger_heap(2), _logger_heap(42, sessions=20)
    index = GraphIndex(now)
    suspects = leak_suspects(base, now, index, dominators=dominators_for(index))
    assert [s.name for s in suspects[:2]] == ["app.Session", "logging.Logger"]
    session, logger = suspects[:2]
    assert session.retained == 20 * (50_000 + 300)
    assert answer_text(session) == (
        "20 new app.Session (+982.4 KiB retained) held by sys.modules['app'] → .CACHE ['s0']"
    )
    assert {"dict", "list"} <= set(logger.members)
    # The Loggers' own bytes: the cache and its Sessions belong to the first suspect.
    assert logger.retained == 40 * (56 + 1000 + 300 + 70)
    assert logger.sample is not None and now.type_name(logger.sample) == "logging.Logger"


def test_the_accumulation_sentence_is_one_set_of_pieces_for_the_report_and_the_ui() -> None:
    acc = Accumulation(7, "builtins.dict", "dict len=490", 54_525_952, 490, 500, None)
    parts = accumulation_parts("app.models.Session", acc, "sys.modules['app'] -> .CACHE")
    assert "".join(text for _, text in parts) == (
        "the dict at sys.modules['app'] -> .CACHE retains 98% of the new Session objects "
        "(490 of 500; 52.0 MiB in all)"
    )
    assert [role for role, _ in parts] == ["holder", "", "where", "", "counts"]
    without_path = accumulation_parts("app.models.Session", acc, None)
    assert [role for role, _ in without_path] == ["holder", "", "counts"]
    assert "".join(text for _, text in without_path).startswith("the dict retains 98% ")
