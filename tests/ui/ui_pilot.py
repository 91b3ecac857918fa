"""Helpers for Pilot tests (imported by name: ``conftest`` is not importable twice)."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.worker import WorkerCancelled


async def settle(pilot: Pilot) -> None:
    """Wait until every worker is done, every message they posted is handled, and the screen
    has stopped changing (a table filled before the layout's last resize refills after it)."""
    app = pilot.app
    for _ in range(10):
        try:
            await app.workers.wait_for_complete()
        except WorkerCancelled:  # an exclusive worker replaced by a newer one, or closing
            if not app.is_running:
                return
        await pilot.pause()
        if not any(w.is_running for w in app.workers):
            await pilot.pause()
            break
    previous = None
    for _ in range(20):
        shot = app.export_screenshot()
        if shot == previous:
            return
        previous = shot
        await pilot.pause(0.02)
