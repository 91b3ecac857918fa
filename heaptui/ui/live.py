"""Live mode: :func:`live_app` is :class:`heaptui.ui.app.HeapApp` fed by a live source
(:mod:`heaptui.transport.sources`) with a :class:`LiveSession` under its header.

The session is a widget of its own (the app knows it only to hand it each new snapshot and its
keys), so live mode is composition, not a subclass whose handlers must run in the right order.
It shows live counters refreshed every second, and has keys to take a new snapshot (growth
against the baseline), make the current snapshot the baseline, save the current snapshot, and
show the timeline. The first snapshot is the baseline. When the target exits, the header says
so and the last snapshot stays browsable and savable.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widget import Widget

from heaptui.core.errors import UserError
from heaptui.core.printable import printable
from heaptui.transport.client import AgentError
from heaptui.transport.sources import LiveSnapshotSource, default_save_name
from heaptui.ui.app import HeapApp
from heaptui.ui.live_messages import (
    CaptureFailed,
    CensusRead,
    ConnectionLost,
    CountersRead,
    SnapshotSaved,
)
from heaptui.ui.messages import LoadProgressed, SnapshotLoaded
from heaptui.ui.widgets.live_header import LiveHeader

if TYPE_CHECKING:
    from heaptui.model.snapshot import Snapshot


def live_app(
    source: LiveSnapshotSource,
    *,
    counters_interval: float | None = 1.0,
    save_dir: str = ".",
    exit_on_error: bool = False,
) -> HeapApp:
    """Browse the heap of a running program, taking new snapshots on demand."""
    live = LiveSession(source, counters_interval=counters_interval, save_dir=save_dir)
    return HeapApp(source, live=live, exit_on_error=exit_on_error)


class LiveSession(Widget):
    """The live header and what it needs: counters, captures, the baseline, saves, census."""

    DEFAULT_CSS = "LiveSession { height: auto; }"
    # The app binds these (they work wherever the focus is); they are said in words in the
    # live header (the footer has no room for them at 80 columns).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("R", "new_snapshot", "New snapshot", show=False),
        Binding("B", "set_baseline", "Set baseline", show=False),
        Binding("ctrl+s", "save_snapshot", "Save", show=False),
        Binding("T", "show_timeline", "Timeline", show=False),
    ]
    # The Timeline pane samples a census this often, from the first T on (never before: a
    # viewer that does not look costs the target nothing). At most MAX_CENSUS samples are kept.
    census_interval: float = 10.0
    MAX_CENSUS = 8640

    def __init__(
        self,
        source: LiveSnapshotSource,
        *,
        counters_interval: float | None = 1.0,
        save_dir: str = ".",
    ) -> None:
        super().__init__()
        self.live_source = source
        self.counters_interval = counters_interval
        self.save_dir = save_dir
        self.snapshot: Snapshot | None = None  # the one on screen
        self.live_baseline: Snapshot | None = None
        self.connection_lost: str | None = None
        self.capturing = False
        self.saved_paths: list[str] = []
        self._reading_counters = False
        self._counters_timer: Timer | None = None
        self.census_samples: list[dict] = []  # type: ignore[type-arg]
        self._census_timer: Timer | None = None
        self._reading_census = False

    def compose(self) -> ComposeResult:
        yield LiveHeader(id="live-header")

    def on_mount(self) -> None:
        self.poll_counters()
        if self.counters_interval:
            self._counters_timer = self.set_interval(self.counters_interval, self.poll_counters)

    # --- counters --------------------------------------------------------------------------
    def poll_counters(self) -> None:
        """Read the counters in a worker unless a read is still under way or the target is gone."""
        if self.connection_lost is None and not self._reading_counters:
            self._reading_counters = True
            self._read_counters()

    @work(thread=True, group="live-counters")
    def _read_counters(self) -> None:
        try:
            counters = self.live_source.counters()
        except AgentError as exc:
            self.post_message(ConnectionLost(str(exc)))
        else:
            self.post_message(CountersRead(counters))
        finally:
            self._reading_counters = False

    def on_counters_read(self, message: CountersRead) -> None:
        self.query_one(LiveHeader).show_counters(message.counters)

    # --- timeline ----------------------------------------------------------------------------
    def action_show_timeline(self) -> None:
        """Show the Timeline pane; start sampling the census the first time."""
        from heaptui.ui.timeline import TimelineScreen

        if self._census_timer is None and self.connection_lost is None:
            self.poll_census()
            self._census_timer = self.set_interval(self.census_interval, self.poll_census)
        self.app.push_screen(TimelineScreen(self.census_samples))

    def poll_census(self) -> None:
        if self.connection_lost is None and not self._reading_census:
            self._reading_census = True
            self._read_census()

    @work(thread=True, group="live-census")
    def _read_census(self) -> None:
        try:
            census = self.live_source.census()  # type: ignore[attr-defined]
        except AgentError as exc:
            self.post_message(ConnectionLost(str(exc)))
        else:
            self.post_message(CensusRead(census))
        finally:
            self._reading_census = False

    def on_census_read(self, message: CensusRead) -> None:
        from heaptui.ui.timeline import TimelineScreen

        self.census_samples.append(message.census)
        del self.census_samples[: -self.MAX_CENSUS]
        if isinstance(self.app.screen, TimelineScreen):
            self.app.screen.redraw()

    def on_connection_lost(self, message: ConnectionLost) -> None:
        if self.connection_lost is not None:
            return
        self.connection_lost = message.reason
        if self._counters_timer is not None:
            self._counters_timer.stop()
        if self._census_timer is not None:
            self._census_timer.stop()
        self.query_one(LiveHeader).show_lost(message.reason)
        self.notify(
            f"{printable(message.reason)}\nThe last snapshot stays browsable; ctrl+s saves it.",
            title="Target gone",
            severity="error",
            timeout=10,
            markup=False,
        )

    # --- snapshots -------------------------------------------------------------------------
    def snapshot_loaded(self, snapshot: Snapshot) -> None:
        """The app shows ``snapshot`` now (it calls this first thing)."""
        self.snapshot = snapshot
        if self.live_baseline is None:
            self.live_baseline = snapshot  # attach: the first snapshot is the baseline
        self.capturing = False

    def action_new_snapshot(self) -> None:
        """Capture now and show growth against the baseline."""
        if self.connection_lost is not None:
            self.notify("The target is gone: no new snapshot.", severity="error")
            return
        if self.capturing or self.snapshot is None:
            self.notify("A snapshot is already being taken.", timeout=3)
            return
        self.capturing = True
        self._capture_new()

    @work(thread=True, group="live-capture")
    def _capture_new(self) -> None:
        try:
            snapshot = self.live_source.capture(lambda t: self.app.post_message(LoadProgressed(t)))
        except AgentError as exc:
            self.post_message(ConnectionLost(str(exc)))
            self.post_message(CaptureFailed(str(exc)))
        except UserError as exc:
            self.post_message(CaptureFailed(str(exc)))
        else:
            self.app.post_message(SnapshotLoaded(snapshot, self.live_baseline))

    def on_capture_failed(self, message: CaptureFailed) -> None:
        self.capturing = False
        self.app.post_message(LoadProgressed(""))  # the status line: no capture under way
        if self.connection_lost is None:
            self.notify(
                f"Capture failed: {printable(message.error)}", severity="error", markup=False
            )

    def action_set_baseline(self) -> None:
        """Compare the next snapshots with the current one."""
        if self.snapshot is None:
            self.notify("No snapshot yet.", severity="warning")
            return
        self.live_baseline = self.snapshot
        self.app.post_message(SnapshotLoaded(self.snapshot, self.snapshot))
        self.notify(
            f"Baseline is now {printable(self.snapshot.source)}; press R for growth since then.",
            timeout=4,
            markup=False,
        )

    def action_save_snapshot(self) -> None:
        """Write the current snapshot to a file in the save directory."""
        if self.snapshot is None:
            self.notify("No snapshot to save yet.", severity="warning")
            return
        self._save(self.snapshot, default_save_name(self.snapshot, self.save_dir))

    @work(thread=True, group="live-save")
    def _save(self, snapshot: Snapshot, path: str) -> None:
        try:
            self.post_message(SnapshotSaved(self.live_source.save(snapshot, path)))
        except (OSError, UserError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.post_message(CaptureFailed(f"saving {os.path.basename(path)}: {reason}"))

    def on_snapshot_saved(self, message: SnapshotSaved) -> None:
        self.saved_paths.append(message.path)
        self.notify(f"Saved {printable(message.path)}", timeout=5, markup=False)

    def on_unmount(self) -> None:
        self.live_source.close()
