"""The Timeline pane: RSS against the Python heap over a watch, and the types that leak.

Reads the model only (:mod:`heaptui.model.timeline`, :mod:`heaptui.model.trend`). A Python-side
leak moves both charts; native memory or fragmentation moves only RSS: the verdict line says
which it looks like. Each flagged type has its own small chart of its count. ``TimelineApp``
shows one timeline file (``heaptui open --timeline FILE``) and re-reads it every few seconds,
so a watch being written can be followed over SSH.
"""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Sparkline, Static

from heaptui.core.format import human_bytes
from heaptui.model.timeline import Timeline, TimelineError, load_timeline, timeline_from_samples
from heaptui.model.trend import TrendOptions, find_leaks, memory_verdict, rate_text

RELOAD_SECONDS = 5.0


class TimelineView(Vertical):
    """The charts and the flagged types of one timeline."""

    DEFAULT_CSS = """
    TimelineView { height: 1fr; }
    TimelineView .chart { height: 3; margin: 0 1 1 1; }
    TimelineView .small-chart { height: 2; margin: 0 1 1 1; }
    TimelineView #timeline-summary { margin: 0 1; }
    TimelineView #timeline-leaks { height: 1fr; }
    TimelineView Label { margin: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("no samples yet", id="timeline-summary")
        yield Label("RSS", id="rss-label")
        yield Sparkline([], id="rss-chart", classes="chart")
        yield Label("Python heap", id="heap-label")
        yield Sparkline([], id="heap-chart", classes="chart")
        yield VerticalScroll(id="timeline-leaks")

    def show(self, timeline: Timeline, options: TrendOptions | None = None) -> None:
        """Redraw everything from ``timeline`` (the leak list is rebuilt)."""
        leaks = find_leaks(timeline, options)
        span = float(timeline.times[-1] - timeline.times[0]) if timeline.samples else 0.0
        summary = f"{timeline.samples} samples over {span / 60:.1f} min; {memory_verdict(timeline)}"
        self.query_one("#timeline-summary", Static).update(summary)
        rss = [max(0.0, float(v)) for v in timeline.rss]
        heap = [float(v) for v in timeline.heap_bytes]
        self.query_one("#rss-chart", Sparkline).data = rss
        self.query_one("#heap-chart", Sparkline).data = heap
        if timeline.samples:
            self.query_one("#rss-label", Label).update(
                f"RSS {human_bytes(int(rss[0]))} → {human_bytes(int(rss[-1]))}"
            )
            self.query_one("#heap-label", Label).update(
                f"Python heap {human_bytes(int(heap[0]))} → {human_bytes(int(heap[-1]))}"
            )
        box = self.query_one("#timeline-leaks", VerticalScroll)
        box.remove_children()
        widgets: list[Any] = []
        if not leaks:
            widgets.append(Label("no type grows steadily", classes="no-leak"))
        for leak in leaks:
            col = timeline.column(leak.type)
            widgets.append(Label(f"LEAK {leak.type}: {rate_text(leak)} (now {leak.count:,})"))
            widgets.append(
                Sparkline(
                    [float(v) for v in timeline.counts[:, col]],
                    classes="small-chart leak-chart",
                )
            )
        box.mount_all(widgets)


class TimelineScreen(Screen[None]):
    """The Timeline pane of the attach UI, over the census samples the app collects."""

    BINDINGS = [Binding("escape,T", "app.pop_screen", "Back")]

    def __init__(self, samples: list[dict[str, Any]]) -> None:
        super().__init__()
        self.samples = samples  # the app's list: it grows while shown

    def compose(self) -> ComposeResult:
        yield Static(
            "Timeline: a census every few seconds since T was first pressed", id="tl-title"
        )
        yield TimelineView()
        yield Footer()

    def on_mount(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        if self.samples:
            self.query_one(TimelineView).show(timeline_from_samples(self.samples))


class TimelineApp(App[None]):
    """One timeline file in the terminal, re-read while a watch appends to it."""

    TITLE = "heaptui timeline"
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self, path: str, options: TrendOptions | None = None) -> None:
        super().__init__()
        self.path = path
        self.options = options
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        yield Static(f"timeline {self.path}", id="timeline-title")
        yield TimelineView()
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()
        self.set_interval(RELOAD_SECONDS, self.action_reload)

    def action_reload(self) -> None:
        try:
            timeline = load_timeline(self.path)
        except TimelineError as exc:
            self.error = str(exc)
            self.query_one("#timeline-title", Static).update(f"timeline {self.path}: {exc}")
            return
        self.error = None
        self.query_one(TimelineView).show(timeline, self.options)
