"""Fixtures for the UI tests: apps over synthetic snapshots, and a helper to let work finish."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerCancelled
from ui_heaps import shop_heap, shop_pair

from heaptui.ui.app import HeapApp
from heaptui.ui.source import MemorySource


async def settle(pilot: Pilot) -> None:
    """Wait until every worker is done and every message they posted is handled."""
    app = pilot.app
    for _ in range(10):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # the app is closing
            return
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            await pilot.pause()
            return


@pytest.fixture
def app_with_baseline() -> HeapApp:
    base, after = shop_pair()
    return HeapApp(MemorySource(after, base, label="after.heap"))


@pytest.fixture
def app_without_baseline() -> HeapApp:
    return HeapApp(MemorySource(shop_heap(12, 5), None, label="after.heap"))
