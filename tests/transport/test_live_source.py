"""`LiveSource` against a real target: what `heaptui attach` runs, minus the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from heaptui.model.load import load_snapshot
from heaptui.transport.client import AgentError
from heaptui.transport.sources import LiveSource
from heaptui.ui.live import live_app


def test_live_source_snapshots_counters_save_and_target_exit(start_target, tmp_path) -> None:
    target = start_target()
    source = LiveSource(target.pid, target.socket_dir)
    steps: list[str] = []
    first, baseline = source.fetch(steps.append)
    assert baseline is None and first.meta["pid"] == target.pid
    assert any(s.startswith("capturing") for s in steps)
    assert source.label.endswith("(target_app.py)")
    target.command("leak 5000")
    now = source.capture(steps.append)
    assert now.node_count >= first.node_count + 5000
    counters = source.counters()
    assert counters["last_capture_objects"] == now.node_count
    saved = source.save(now, str(tmp_path / "now.heap"))
    assert load_snapshot(saved).node_count == now.node_count

    target.stop()
    with pytest.raises(AgentError, match="closed the connection"):
        source.counters()
    source.close()
    assert load_snapshot(source.save(now, str(tmp_path / "after.heap"))).node_count > 0


async def test_attach_app_on_a_real_target(start_target, tmp_path: Path) -> None:
    target = start_target()
    app = live_app(LiveSource(target.pid, target.socket_dir), counters_interval=None)
    async with app.run_test(size=(120, 36)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.snapshot is not None and app.live.live_baseline is app.snapshot
        target.command("leak 3000")
        await pilot.press("R")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.baseline is app.live.live_baseline
        leaky = [r for r in app.growth_rows if r.name.endswith("Leaky")]
        assert leaky and leaky[0].count_delta == 3000
        target.stop()
        app.live.poll_counters()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.live.connection_lost is not None
