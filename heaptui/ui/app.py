"""`HeapApp`: the heaptui terminal UI over one snapshot (and an optional baseline).

Data flow: a :class:`~heaptui.ui.source.SnapshotSource` is read in a worker, which posts
:class:`~heaptui.ui.messages.SnapshotLoaded`; its handler starts the analysis worker
(:mod:`heaptui.ui.analysis`), whose results arrive as messages too. Each result makes a new
:class:`~heaptui.ui.view.SnapshotView` that the app hands to the panes, which own their state
(:mod:`heaptui.ui.panes`); workers never touch widgets. A live source can post
``SnapshotLoaded`` again at any time; live mode is a :class:`~heaptui.ui.live.LiveSession`
given to the app (:func:`heaptui.ui.live.live_app`).

Layout (:mod:`heaptui.ui.layout`): five panes; below :data:`WIDE` columns one at a time (keys
1-5, tab), from :data:`WIDE` columns Types (or Growth, or Dominators) and Instances stacked on
the left and the Object pane on the right. With a baseline the app lands on the top leak
suspect (:mod:`heaptui.ui.suspect_tour`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, cast

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.events import DescendantFocus, Resize
from textual.filter import LineFilter
from textual.widgets import Footer, Input, Static, Tab, Tabs
from textual.worker import get_current_worker

from heaptui.core.errors import UserError
from heaptui.core.printable import printable
from heaptui.ui.analysis import analyse
from heaptui.ui.commands import HeapCommands
from heaptui.ui.layout import PANE_TITLES, PANES, Pane, PaneArea, PaneTabs
from heaptui.ui.messages import (
    DominatorsComputed,
    GrowthComputed,
    IndexBuilt,
    LoadFailed,
    LoadProgressed,
    RetainedByTypeComputed,
    SitesGrouped,
    SnapshotLoaded,
    SummaryComputed,
    SuspectsFound,
)
from heaptui.ui.panes.dominators import DominatorsPane
from heaptui.ui.panes.growth import GrowthPane
from heaptui.ui.panes.instances import InstancesPane
from heaptui.ui.panes.object import ObjectPane
from heaptui.ui.panes.types import TypesPane
from heaptui.ui.screens.help import HelpScreen
from heaptui.ui.source import SnapshotSource
from heaptui.ui.suspect_tour import SuspectTour
from heaptui.ui.terminal_filter import NoTerminalControls
from heaptui.ui.view import SnapshotView
from heaptui.ui.widgets.dominator_tree import DominatorTree
from heaptui.ui.widgets.growth_table import GrowthTable
from heaptui.ui.widgets.header import HeapHeader
from heaptui.ui.widgets.instance_list import InstanceList
from heaptui.ui.widgets.object_tree import Mode
from heaptui.ui.widgets.sites_table import SitesTable
from heaptui.ui.widgets.type_table import TypeTable

if TYPE_CHECKING:
    from heaptui.model.diff import GrowthRow
    from heaptui.model.dominators import Dominators
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot
    from heaptui.model.summary import TypeRow
    from heaptui.model.suspects import Suspect
    from heaptui.ui.live import LiveSession

_NO_TERMINAL_CONTROLS = NoTerminalControls()
SUSPECT_GROUP = Binding.Group("Suspect", compact=True)


class HeapApp(App[int]):
    """Browse a heap snapshot: types, instances, who holds what, and growth since a baseline."""

    CSS_PATH = "app.tcss"
    TITLE = "heaptui"
    COMMANDS = App.COMMANDS | {HeapCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show_pane('types')", "Types", show=False, priority=True),
        Binding("2", "show_pane('instances')", "Instances", show=False, priority=True),
        Binding("3", "show_pane('object')", "Object", show=False, priority=True),
        Binding("4", "show_pane('growth')", "Growth", show=False, priority=True),
        Binding("5", "show_pane('dominators')", "Dominators", show=False, priority=True),
        Binding("tab", "cycle_pane(1)", "Next pane", show=False, priority=True),
        Binding("shift+tab", "cycle_pane(-1)", "Previous pane", show=False, priority=True),
        # Priority keys (1-4, tab, /) are seen by the app before the focused widget queues the
        # keys typed after them, so "2jj" or "/sess" typed fast go where the user means.
        Binding("slash", "filter_types", "Find type", priority=True),
        Binding("w", "why_alive", "Why alive"),
        Binding("full_stop", "next_suspect(1)", "next", group=SUSPECT_GROUP),
        Binding("comma", "next_suspect(-1)", "previous", group=SUSPECT_GROUP),
        Binding("e", "export_graph", "Export", show=False),
        Binding("left_square_bracket", "go_back", "Back"),
        Binding("backspace", "go_back", "Back", show=False),
        Binding("right_square_bracket", "go_forward", "Fwd"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        source: SnapshotSource,
        *,
        preselect_suspect: bool = True,
        exit_on_error: bool = False,
        export_dir: str = ".",
        live: LiveSession | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.export_dir = export_dir
        self.exit_on_error = exit_on_error
        self.load_error: str | None = None
        self.live = live
        self._view: SnapshotView | None = None
        self.header = HeapHeader(id="header")
        self.pane_area = PaneArea(id="panes")
        self.types_pane = TypesPane(id="types-pane", classes="pane")
        self.growth_pane = GrowthPane(id="growth-pane", classes="pane")
        self.dominators_pane = DominatorsPane(id="dominators-pane", classes="pane")
        self.object_pane = ObjectPane(id="object-pane", classes="pane")
        self.instances_pane = InstancesPane(id="instances-pane", classes="pane")
        self.tour = SuspectTour(self, preselect_suspect)
        if live is not None:  # its keys work wherever the focus is
            for binding in live.BINDINGS:
                assert isinstance(binding, Binding)
                self._bindings.bind(
                    binding.key, f"live('{binding.action}')", binding.description, show=False
                )

    # --- read-only state (for tests and the palette) ---------------------------------------
    @property
    def view(self) -> SnapshotView | None:
        """The snapshot on screen and what is known about it (None before the first)."""
        return self._view

    @property
    def snapshot(self) -> Snapshot | None:
        return self._view.snapshot if self._view is not None else None

    @property
    def baseline(self) -> Snapshot | None:
        return self._view.baseline if self._view is not None else None

    @property
    def index(self) -> GraphIndex | None:
        return self._view.index if self._view is not None else None

    @property
    def summary(self) -> list[TypeRow]:
        return self._view.summary if self._view is not None else []

    @property
    def growth_rows(self) -> list[GrowthRow]:
        return self._view.growth_rows if self._view is not None else []

    @property
    def new_mask(self) -> np.ndarray | None:
        return self._view.new_mask if self._view is not None else None

    @property
    def dominators(self) -> Dominators | None:
        return self._view.dominators if self._view is not None else None

    @property
    def suspects(self) -> list[Suspect]:
        return self._view.suspects if self._view is not None else []

    @property
    def suspect_rank(self) -> int | None:
        """The rank of the suspect whose example is selected."""
        return self.object_pane.suspect_rank

    @property
    def selected(self) -> int | None:
        return self.object_pane.selected

    @property
    def mode(self) -> Mode:
        return self.object_pane.mode

    @property
    def path_shown(self) -> bool:
        """The why-alive path of the selected object is on screen."""
        return self.object_pane.path_shown

    @property
    def notes_shown(self) -> list[str]:
        """The texts of the notifications (toasts) on screen now."""
        return [str(note.message) for note in self._notifications]

    @property
    def active_pane(self) -> Pane:
        return self.pane_area.active

    def type_index_named(self, name: str) -> int | None:
        """The type index of ``name`` in the current snapshot (the one with most bytes)."""
        return self._view.type_index_named(name) if self._view is not None else None

    # --- layout --------------------------------------------------------------------------
    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then one that keeps terminal controls of a target's texts off
        the terminal whatever widget shows them (see :mod:`heaptui.ui.terminal_filter`)."""
        return [*super().get_line_filters(), _NO_TERMINAL_CONTROLS]

    def compose(self) -> ComposeResult:
        yield self.header
        if self.live is not None:
            yield self.live
        yield PaneTabs(
            *(Tab(f"{i} {PANE_TITLES[p]}", id=f"tab-{p}") for i, p in enumerate(PANES, 1))
        )
        with self.pane_area:
            yield self.types_pane
            yield self.growth_pane
            yield self.dominators_pane
            yield self.object_pane
            yield self.instances_pane
        yield Static("", id="error")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p is in the help

    def on_mount(self) -> None:
        self.pane_area.loading = True
        self.header.show_info(Text(printable(f"Loading {self.source.label}…")))
        self._apply_layout()
        self.pane_area.focus_target("types").focus()
        self.load_source()

    def _apply_layout(self, width: int | None = None) -> None:
        """Show the panes for ``width`` columns (default: the current width)."""
        self.pane_area.show_for(self.size.width if width is None else width)
        self.query_one(PaneTabs).active = f"tab-{self.active_pane}"

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size.width)  # self.size may still be the old size here

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        pane = self.pane_area.pane_of(event.widget)
        if pane is not None and pane != self.active_pane:
            self.pane_area.activate(pane)
            self._apply_layout()
            self.refresh_bindings()

    @on(Tabs.TabActivated)
    def _tab_clicked(self, event: Tabs.TabActivated) -> None:
        pane = (event.tab.id or "")[4:]
        if pane in PANES and pane != self.active_pane:
            self.action_show_pane(pane)

    # --- loading -------------------------------------------------------------------------
    @work(thread=True, exclusive=True, group="load")
    def load_source(self) -> None:
        """Read the source in a thread; post the snapshots or the reason it failed."""
        try:
            snapshot, baseline = self.source.fetch(self.report_progress)
        except UserError as exc:
            self.post_message(LoadFailed(str(exc)))
            return
        self.post_message(SnapshotLoaded(snapshot, baseline))

    def report_progress(self, text: str) -> None:
        """Show ``text`` as the step being done (callable from any thread)."""
        self.post_message(LoadProgressed(text))

    @work(thread=True, exclusive=True, group="analysis")
    def _analyse(self, snapshot: Snapshot, baseline: Snapshot | None) -> None:
        worker = get_current_worker()
        analyse(snapshot, baseline, self.post_message, lambda: worker.is_cancelled)

    def on_load_progressed(self, message: LoadProgressed) -> None:
        self.header.show_status(message.text)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.load_error = message.error
        if self.exit_on_error:
            self.exit(return_code=2)
            return
        self.pane_area.loading = False
        self.pane_area.screen.add_class("-failed")  # the error instead of the panes (app.tcss)
        self.query_one("#error", Static).update(
            Text(
                f"Could not open {printable(self.source.label)}:\n\n  {printable(message.error)}"
                "\n\nPress q to quit."
            )
        )
        self.header.show_info(Text(printable(f"heaptui: error loading {self.source.label}")))
        self.header.show_status("")

    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        if self.live is not None:
            self.live.snapshot_loaded(message.snapshot)
        view = SnapshotView(message.snapshot, message.baseline)
        self._view = view
        self.tour.reset()
        self.types_pane.reset()
        self.instances_pane.reset(view)
        self.object_pane.reset(view)
        self.dominators_pane.forget()
        self.pane_area.loading = False
        self.header.show_snapshot(message.snapshot, message.baseline)
        self.growth_pane.reset(message.snapshot, message.baseline)
        self._analyse(message.snapshot, message.baseline)

    def _is_current(self, snapshot: Snapshot) -> bool:
        return self._view is not None and snapshot is self._view.snapshot

    def _update_view(self, **changes: object) -> SnapshotView:
        """A new view of the current snapshot, handed to the panes that read it."""
        assert self._view is not None
        view = self._view = self._view.with_(**changes)
        self.instances_pane.view = view
        self.object_pane.view = view
        return view

    def on_summary_computed(self, message: SummaryComputed) -> None:
        if not self._is_current(message.snapshot):
            return
        view = self._update_view(summary=message.rows)
        self.types_pane.show_summary(view)
        if view.baseline is None:  # with a baseline, wait for the new-object marks
            self._list_shown_type()

    def on_growth_computed(self, message: GrowthComputed) -> None:
        if not self._is_current(message.snapshot):
            return
        self._update_view(growth_rows=message.rows, new_mask=message.new_mask)
        self.growth_pane.table.set_rows(message.rows)
        self._list_shown_type()  # (again, if listed already): new objects first among equals

    def _list_shown_type(self) -> None:
        type_index = self.instances_pane.type_index
        if type_index is None:
            type_index = self.types_pane.table.highlighted_type
        if type_index is not None:
            self.instances_pane.list_type(type_index)

    def on_index_built(self, message: IndexBuilt) -> None:
        if not self._is_current(message.snapshot):
            return
        view = self._update_view(index=message.index)
        self.instances_pane.instance_list.set_index(message.index)
        self.object_pane.index_built(view)

    def on_suspects_found(self, message: SuspectsFound) -> None:
        if not self._is_current(message.snapshot):
            return
        assert self._view is not None
        shown = self.object_pane.shown_suspect()
        known = self._view.accumulation_known or message.with_accumulation
        view = self._update_view(suspects=message.suspects, accumulation_known=known)
        self.object_pane.remember_paths(message.suspects)
        self.growth_pane.mark_suspects(view.growth_rows, message.suspects)
        self.tour.suspects_found(shown)

    # --- retained sizes and the dominator tree --------------------------------------------
    def on_dominators_computed(self, message: DominatorsComputed) -> None:
        if not self._is_current(message.snapshot) or self.index is None:
            return
        view = self._update_view(dominators=message.dominators)
        retained = message.dominators.retained
        self.instances_pane.instance_list.set_retained(retained)
        self.object_pane.set_retained(retained)
        assert view.index is not None
        self.dominators_pane.show(message.snapshot, view.index, message.dominators)
        self.refresh_bindings()

    def on_retained_by_type_computed(self, message: RetainedByTypeComputed) -> None:
        if self._view is None or not self._is_current(message.snapshot):
            return
        self.types_pane.show_retained(self._view, message.by_type.tolist())

    @on(DominatorTree.ObjectPicked, "#dominators")
    def _dominator_picked(self, event: DominatorTree.ObjectPicked) -> None:
        self.select_object(event.node)
        self.action_show_pane("object")

    # --- allocation sites of the growth ---------------------------------------------------
    def action_group_sites(self) -> None:
        """Group the new objects of the growth table's type by where they were allocated."""
        from heaptui.model.allocsites import alloc_status

        pane = self.growth_pane
        name = pane.table.highlighted_name
        view = self._view
        if view is None or view.baseline is None or view.new_mask is None or not name:
            self.notify("Grouping by allocation site needs a baseline.", severity="warning")
            return
        if view.snapshot.alloc is None:
            explanation = alloc_status(view.snapshot).explanation
            self.notify(explanation[:1].upper() + explanation[1:] + ".", timeout=8, markup=False)
            return
        pane.group_sites(
            view.baseline, view.snapshot, name, view.new_mask, view.type_index_named(name)
        )

    def on_sites_grouped(self, message: SitesGrouped) -> None:
        self.action_show_pane("growth")
        self.growth_pane.focus_sites()

    def action_close_sites(self) -> None:
        self.growth_pane.hide_sites()

    @on(SitesTable.SampleChosen)
    def _site_sample_chosen(self, event: SitesTable.SampleChosen) -> None:
        self.select_object(event.node)
        self.action_show_pane("object")

    # --- export ---------------------------------------------------------------------------
    def action_export_graph(self) -> None:
        """Write the referrer graph around the object to a .dot file (and SVG with Graphviz)."""
        self._object_in_focus()
        self.object_pane.export_graph(self.export_dir)

    def _object_in_focus(self) -> int | None:
        """The object a key means: the one under the cursor in Instances or Dominators (made
        the selected object), else the selected object."""
        node: int | None = None
        if self.active_pane == "instances":
            node = self.instances_pane.highlighted_node
        elif self.active_pane == "dominators":
            node = self.dominators_pane.highlighted_node
        if node is not None and node != self.selected:
            self.select_object(node)
        return self.selected

    # --- types and instances -------------------------------------------------------------
    @on(TypeTable.TypeHighlighted)
    def _type_highlighted(self, event: TypeTable.TypeHighlighted) -> None:
        if event.type_index != self.instances_pane.type_index:
            self.instances_pane.list_type(event.type_index)

    @on(TypeTable.TypeSelected)
    def _type_selected(self, event: TypeTable.TypeSelected) -> None:
        if event.type_index != self.instances_pane.type_index:
            self.instances_pane.list_type(event.type_index)
        self.action_show_pane("instances")

    @on(GrowthTable.TypeNameSelected)
    def _growth_type_selected(self, event: GrowthTable.TypeNameSelected) -> None:
        type_index = self.type_index_named(event.name)
        if type_index is None:
            self.notify(
                f"No {event.name} objects are left in this snapshot.",
                severity="warning",
                markup=False,
            )
            return
        self.show_type(type_index)
        self.action_show_pane("instances")

    def show_type(self, type_index: int) -> None:
        """Put the type table's cursor on ``type_index`` and list its instances."""
        self.types_pane.select_type(type_index)
        if type_index != self.instances_pane.type_index:
            self.instances_pane.list_type(type_index)

    def action_toggle_new_only(self) -> None:
        """Instances: only the new objects of the type, or all of them."""
        self.instances_pane.toggle_new_only()

    @on(InstanceList.Chosen)
    def _instance_chosen(self, event: InstanceList.Chosen) -> None:
        self.select_object(event.node)
        self.action_show_pane("object")

    # --- the selected object -------------------------------------------------------------
    def select_object(self, node: int, record: bool = True) -> None:
        """Make ``node`` the selected object and show its tree (``record``: add to history)."""
        self.object_pane.select(node, record)

    def action_go_back(self) -> None:
        if self.object_pane.go(-1):
            self.action_show_pane("object")

    def action_go_forward(self) -> None:
        if self.object_pane.go(1):
            self.action_show_pane("object")

    def action_toggle_mode(self) -> None:
        self.object_pane.toggle_mode()

    def action_why_alive(self) -> None:
        self._object_in_focus()
        if self.object_pane.ready_for_path():
            self.action_show_pane("object")
            self.object_pane.why_alive()

    # --- leak suspects ----------------------------------------------------------------------
    def action_top_suspect(self) -> None:
        """Select the example object of the first suspect and show why it is alive."""
        self.tour.step(0)

    def action_next_suspect(self, step: int) -> None:
        """Go to the next (``step`` 1), previous (-1) or first (0) suspect."""
        self.tour.step(step)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide keys that would do nothing now, so the Footer fits in 80 columns."""
        if action == "go_back":
            return self.object_pane.history.can_go_back
        if action == "go_forward":
            return self.object_pane.history.can_go_forward
        if action == "cycle_pane":  # a priority key: not behind the help screen
            return self.screen is self.screen_stack[0]
        if action in ("filter_types", "show_pane"):  # priority keys: text in an input
            return self.screen is self.screen_stack[0] and not isinstance(self.focused, Input)
        if action == "next_suspect":
            return any(s.sample is not None for s in self.suspects)
        if action == "close_sites":
            return self.growth_pane.sites_shown
        if action in ("why_alive", "export_graph"):
            return self.selected is not None or self.active_pane in ("instances", "dominators")
        return True

    # --- panes, filter, sort, help, live -------------------------------------------------
    def action_show_pane(self, pane: str) -> None:
        if pane not in PANES:
            return
        self.pane_area.activate(cast(Pane, pane))
        self._apply_layout()
        # Focus now (not after a refresh), so keys typed right after go to the new pane.
        self.screen.set_focus(self.pane_area.focus_target(self.active_pane))
        self.refresh_bindings()

    def action_cycle_pane(self, step: int) -> None:
        position = PANES.index(self.active_pane)
        self.action_show_pane(PANES[(position + step) % len(PANES)])

    def action_filter_types(self) -> None:
        self.action_show_pane("types")
        self.types_pane.open_filter()

    def action_sort_types(self, key: str) -> None:
        self.action_show_pane("types")
        self.types_pane.table.action_sort(key)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    async def action_live(self, action: str) -> None:
        """A key of the live session (bound only when there is one): its action."""
        if self.live is not None:
            await self.run_action(action, self.live)
