"""``heaptui_baseline`` and ``heaptui_snapshot``: model snapshots and their diff inside a test."""

from __future__ import annotations

import pytest

from heaptui.leakcheck import HeapSnapshots
from heaptui.model.snapshot import Snapshot

pytest_plugins = ["pytester"]
# The inner runs share this process (its warning filters are errors, textual-snapshot keeps
# module-level state): leave those plugins out of them.
QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:textual-snapshot")


class Ticket:
    """A type of this test module that the tests make and keep."""


def test_diff_counts_what_the_test_kept(
    heaptui_baseline: Snapshot, heaptui_snapshot: HeapSnapshots
) -> None:
    kept = [Ticket() for _ in range(25)]
    diff = heaptui_snapshot.diff(heaptui_baseline)
    assert diff.count_delta(Ticket) == 25
    assert diff.count_delta("test_heap_fixtures.Ticket") == 25
    assert diff.size_delta(Ticket) > 0
    top = diff.suspects(top=1)[0]
    assert top.name == "test_heap_fixtures.Ticket"
    assert top.path is not None
    assert "f_locals['kept']" in diff.report()
    del kept


def test_earlier_snapshots_are_not_growth(heaptui_snapshot: HeapSnapshots) -> None:
    first = heaptui_snapshot()
    second = heaptui_snapshot()
    diff = heaptui_snapshot.diff(first, second)
    # Holding `first` (numpy columns, lists of names) while taking `second` adds nothing.
    grown = [(row.name, row.count_delta) for row in diff.growth if row.count_delta > 2]
    assert grown == []
    assert diff.count_delta("numpy.ndarray") <= 0
    assert diff.count_delta(Ticket) == 0


def test_fixtures_work_in_a_user_test_file(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
class Session:
    pass

SESSIONS = {}

def test_sessions_are_dropped(heaptui_baseline, heaptui_snapshot):
    for user in range(10):
        SESSIONS[user] = Session()
    SESSIONS.clear()
    diff = heaptui_snapshot.diff(heaptui_baseline)
    assert diff.count_delta(Session) == 0, diff.report()

def test_sessions_kept(heaptui_baseline, heaptui_snapshot):
    for user in range(10):
        SESSIONS[user] = Session()
    diff = heaptui_snapshot.diff(heaptui_baseline)
    assert diff.count_delta(Session) == 0, diff.report()
"""
    )
    result = pytester.runpytest(*QUIET)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.re_match_lines(
        [r".*test_user\.Session \+10 .*: sys\.modules\['test_user'\] -> \.SESSIONS -> "]
    )
