"""Leak suspects: user types first, a sample new object each, with its root path."""

from __future__ import annotations

from model_heaps import app_heap

from heaptui.labels import ROOT_THREAD
from heaptui.model.diff import new_objects
from heaptui.model.index import GraphIndex
from heaptui.model.paths import render_path
from heaptui.model.suspects import leak_suspects


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
