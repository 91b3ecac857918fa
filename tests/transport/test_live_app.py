"""Live mode of the TUI driven by a fake live source (no sockets, no processes)."""

from __future__ import annotations

from pathlib import Path

from heaptui.core.labels import EDGE_ATTR, EDGE_INDEX, ROOT_MODULE
from heaptui.core.raw import RawSnapshot
from heaptui.model.load import load_snapshot
from heaptui.testing import SnapshotBuilder
from heaptui.transport.sources import FakeLiveSource
from heaptui.ui.app import HeapApp
from heaptui.ui.live import live_app
from heaptui.ui.widgets.live_header import LiveHeader

SIZE = (120, 36)


def leaky_heap(sessions: int) -> RawSnapshot:
    """A module holding a list of ``sessions`` ``shop.Session`` objects."""
    b = SnapshotBuilder()
    module = b.node(0x1000, "module", repr="shop")
    cache = b.node(0x2000, "list", size=56 + 8 * sessions, length=sessions)
    b.edge(module, cache, EDGE_ATTR, "SESSIONS")
    for i in range(sessions):
        session = b.node(0x10_0000 + i * 0x100, "shop.Session", size=48)
        b.edge(cache, session, EDGE_INDEX, i)
    b.root(module, ROOT_MODULE, "sys.modules['shop']")
    return b.build()


def counters(rss: int, objects: int | None = None) -> dict[str, object]:
    return {
        "rss": rss,
        "gc_count": [700, 3, 1],
        "allocated_blocks": 12345,
        "threads": 2,
        "last_capture_objects": objects,
    }


async def _settle(app: HeapApp, pilot: object) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


async def test_attach_shows_first_snapshot_and_counters_refresh() -> None:
    source = FakeLiveSource(
        [leaky_heap(2)], [counters(50_000_000, 4), counters(52_000_000, 4), counters(60_000_000)]
    )
    app = live_app(source, counters_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        assert app.snapshot is not None and app.snapshot.node_count == 4
        assert app.live.live_baseline is app.snapshot
        header = app.query_one(LiveHeader)
        assert "RSS 47.7 MiB" in str(header.query_one("#live-figures").render())
        app.live.poll_counters()
        await _settle(app, pilot)
        app.live.poll_counters()
        await _settle(app, pilot)
        figures = str(header.query_one("#live-figures").render())
        assert "RSS 57.2 MiB" in figures and "gc 700/3/1" in figures
        assert list(header.rss_history) == [50e6, 52e6, 60e6]


async def test_new_snapshot_shows_growth_against_the_first() -> None:
    source = FakeLiveSource([leaky_heap(2), leaky_heap(7), leaky_heap(9)])
    app = live_app(source, counters_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        first = app.snapshot
        await pilot.press("R")
        await _settle(app, pilot)
        assert app.snapshot is not first and app.baseline is first
        top = app.growth_rows[0]
        assert (top.name, top.count_delta) == ("shop.Session", 5)
        # a snapshot with growth opens on its top suspect, why-alive path shown
        assert app.suspects and app.selected == app.suspects[0].sample
        assert app.snapshot.type_name(app.selected) == "shop.Session"
        assert app.active_pane == "object" and app.path_shown

        await pilot.press("B")  # the current snapshot becomes the baseline
        await _settle(app, pilot)
        second = app.snapshot
        assert app.live.live_baseline is second
        await pilot.press("R")
        await _settle(app, pilot)
        assert app.baseline is second
        top = app.growth_rows[0]
        assert (top.name, top.count_delta) == ("shop.Session", 2)


async def test_save_writes_the_current_snapshot(tmp_path: Path) -> None:
    source = FakeLiveSource([leaky_heap(3)])
    app = live_app(source, counters_interval=None, save_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        [path] = app.live.saved_paths
    saved = load_snapshot(path)
    assert Path(path).parent == tmp_path and path.endswith(".heap")
    assert saved.node_count == 5 and saved.meta["pid"] == 4242


async def test_target_exit_is_announced_and_the_last_snapshot_stays(tmp_path: Path) -> None:
    source = FakeLiveSource([leaky_heap(2), leaky_heap(4)])
    app = live_app(source, counters_interval=None, save_dir=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        await pilot.press("R")
        await _settle(app, pilot)
        last = app.snapshot
        source.disconnect()
        app.live.poll_counters()
        await _settle(app, pilot)
        assert app.live.connection_lost is not None
        figures = str(app.query_one(LiveHeader).query_one("#live-figures").render())
        assert "target exited or connection lost" in figures
        await pilot.press("R")  # refused politely, nothing changes
        await _settle(app, pilot)
        assert app.snapshot is last and source.captures_taken == 2
        await pilot.press("1")  # still browsable
        assert app.summary and app.summary[0].name in ("list", "shop.Session", "module")
        await pilot.press("ctrl+s")  # and savable
        await _settle(app, pilot)
        assert len(app.live.saved_paths) == 1
    assert load_snapshot(app.live.saved_paths[0]).node_count == 6
    assert source.closed


async def test_capture_failing_because_the_target_died_is_reported() -> None:
    source = FakeLiveSource([leaky_heap(2), leaky_heap(3)])
    app = live_app(source, counters_interval=None)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        first = app.snapshot
        source.disconnect("pid 4242 closed the connection during the capture")
        await pilot.press("R")
        await _settle(app, pilot)
        assert app.live.connection_lost == "pid 4242 closed the connection during the capture"
        assert app.snapshot is first and not app.live.capturing


async def test_timeline_key_samples_the_census_and_flags_the_growing_type() -> None:
    from textual.widgets import Label

    from heaptui.ui.timeline import TimelineScreen

    source = FakeLiveSource([leaky_heap(2)])
    source.censuses = [
        {
            "time": 1000.0 + 10 * i,
            "rss": 40_000_000 + 100_000 * i,
            "heap_bytes": 9_000_000 + 100_000 * i,
            "objects": 5000,
            "types": {"shop.Session": [5 + 4 * i, 48 * (5 + 4 * i)], "dict": [900, 90_000]},
        }
        for i in range(12)
    ]
    app = live_app(source, counters_interval=None)
    app.live.census_interval = 3600  # the test polls by hand
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        assert source.census_read == 0  # nothing is sampled before T
        await pilot.press("T")
        await _settle(app, pilot)
        assert isinstance(app.screen, TimelineScreen)
        for _ in range(11):
            app.live.poll_census()
            await _settle(app, pilot)
        assert len(app.live.census_samples) == 12
        labels = [str(label.render()) for label in app.screen.query(Label)]
        assert any("LEAK shop.Session" in text for text in labels), labels
        assert not any("LEAK dict" in text for text in labels)
        await pilot.press("escape")
        await _settle(app, pilot)
        assert not isinstance(app.screen, TimelineScreen)
