"""Fixtures for the UI tests: apps over the synthetic shop heaps."""

from __future__ import annotations

import pytest
from ui_heaps import shop_heap, shop_pair

from heaptui.ui.app import HeapApp
from heaptui.ui.source import MemorySource


@pytest.fixture
def app_with_baseline() -> HeapApp:
    """Opened with a baseline but starting on Types (not landing on the top suspect), so a
    test of one pane starts from the same place as without a baseline."""
    base, after = shop_pair()
    return HeapApp(MemorySource(after, base, label="after.heap"), preselect_suspect=False)


@pytest.fixture
def app_without_baseline() -> HeapApp:
    return HeapApp(MemorySource(shop_heap(12, 5), None, label="after.heap"))
