"""Analysis: each step once, in order, with or without a baseline, the same answers as the
model functions it chains."""

from __future__ import annotations

import numpy as np
import pytest
from model_heaps import app_heap

from heaptui.model import allocsites, diff, dominators, index, summary, suspects
from heaptui.model.analysis import Analysis
from heaptui.model.diff import growth, new_objects
from heaptui.model.dominators import dominators_for, retained_by_type
from heaptui.model.index import GraphIndex
from heaptui.model.paths import RootPath
from heaptui.model.summary import type_summary
from heaptui.model.suspects import Suspect, leak_suspects


def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count the calls of each expensive model function an Analysis chains."""
    calls: dict[str, int] = {}
    for module, name in [
        (summary, "type_summary"),
        (diff, "new_objects"),
        (diff, "growth"),
        (index, "GraphIndex"),
        (dominators, "dominators_for"),
        (dominators, "retained_by_type"),
        (suspects, "leak_suspects"),
        (allocsites, "alloc_status"),
    ]:
        original = getattr(module, name)

        def wrapper(*args, _name=name, _original=original, **kwargs):  # type: ignore[no-untyped-def]
            calls[_name] = calls.get(_name, 0) + 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, wrapper)
    return calls


def comparable(suspect: Suspect) -> tuple[object, ...]:
    """A suspect with its paths as lists of steps (paths compare by identity)."""

    def steps(path: RootPath | None) -> object:
        return None if path is None else (path.root_label, list(path.steps))

    acc = suspect.accumulation
    acc_key = None if acc is None else (*acc._replace(path=None), steps(acc.path))
    return (*suspect._replace(path=None, accumulation=None), steps(suspect.path), acc_key)


def test_every_step_is_computed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = counted(monkeypatch)
    analysis = Analysis(app_heap(values=50, pending=30), app_heap(values=2))
    for _ in range(3):
        assert analysis.summary is analysis.summary
        assert analysis.growth is analysis.growth
        assert analysis.index is analysis.index
        assert analysis.suspects(10) is analysis.suspects(10)
        assert analysis.suspects(10, accumulation=True) is analysis.suspects(10, accumulation=True)
        assert analysis.retained_by_type is analysis.retained_by_type
        assert analysis.alloc is analysis.alloc
    assert calls == {
        "type_summary": 1,
        "new_objects": 1,
        "growth": 1,
        "GraphIndex": 1,
        "dominators_for": 1,
        "retained_by_type": 1,
        "leak_suspects": 2,  # once without, once with accumulation points
        "alloc_status": 1,
    }


def test_progress_names_each_step_in_order_as_it_starts() -> None:
    seen: list[tuple[str, float | None]] = []
    analysis = Analysis(
        app_heap(values=50, pending=30),
        app_heap(values=2),
        progress=lambda step, fraction: seen.append((step, fraction)),
    )
    _ = analysis.summary
    _ = analysis.growth
    analysis.suspects(10)
    _ = analysis.retained_by_type
    analysis.suspects(10, accumulation=True)
    analysis.suspects(10, accumulation=True)  # cached: no second report
    steps = [step for step, _ in seen if ":" not in step]
    assert steps == [
        "summary",
        "growth",
        "index",
        "suspects",
        "dominators",
        "retained_by_type",
        "suspects",
    ]
    # the dominator tree's phases, between its start and the next step
    every = [step for step, _ in seen]
    phases = every[every.index("dominators") + 1 : every.index("retained_by_type")]
    assert phases and all(p.startswith("dominators:") for p in phases)
    assert all(fraction is None for _, fraction in seen)


def test_a_step_pulls_in_the_steps_it_needs() -> None:
    seen: list[str] = []
    analysis = Analysis(
        app_heap(values=5), app_heap(values=2), progress=lambda s, _: seen.append(s)
    )
    analysis.suspects(3, accumulation=True)
    assert [s for s in seen if ":" not in s] == ["index", "growth", "dominators", "suspects"]


def test_without_a_baseline_there_is_no_growth_and_no_suspect() -> None:
    now = app_heap(values=5)
    analysis = Analysis(now)
    assert analysis.is_new is None
    assert analysis.growth == []
    assert analysis.suspects(10) == []
    assert analysis.suspects(10, accumulation=True) == []
    assert analysis.sites(10) == []
    assert analysis.summary == type_summary(now)
    expected = retained_by_type(dominators_for(GraphIndex(now)), now)
    assert np.array_equal(analysis.retained_by_type, expected)


@pytest.mark.parametrize("accumulation", [False, True])
def test_answers_match_the_model_functions_chained_by_hand(accumulation: bool) -> None:
    base, now = app_heap(values=2), app_heap(values=50, pending=30)
    analysis = Analysis(now, base)
    index_now = GraphIndex(now)
    dom = dominators_for(index_now)
    assert analysis.summary == type_summary(now)
    assert analysis.growth == growth(base, now)
    assert analysis.is_new is not None
    assert np.array_equal(analysis.is_new, new_objects(base, now))
    assert np.array_equal(analysis.dominators.idom, dom.idom)
    assert np.array_equal(analysis.retained_by_type, retained_by_type(dom, now))
    expected = leak_suspects(base, now, index_now, top=4, dominators=dom if accumulation else None)
    found = analysis.suspects(4, accumulation=accumulation)
    assert found and [comparable(s) for s in found] == [comparable(s) for s in expected]
    assert len(analysis.sites(4, accumulation=accumulation)) == len(found)


def test_a_memory_error_in_the_dominators_is_not_cached(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_memory(*args: object, **kwargs: object) -> None:
        raise MemoryError

    analysis = Analysis(app_heap(values=5))
    monkeypatch.setattr(dominators, "dominators_for", no_memory)
    with pytest.raises(MemoryError):
        _ = analysis.dominators
    assert not analysis.has_dominators
    monkeypatch.undo()
    assert analysis.dominators.idom is not None
    assert analysis.has_dominators
