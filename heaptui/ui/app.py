"""`HeapApp`: the heaptui terminal UI over one snapshot (and an optional baseline).

Data flow: a :class:`~heaptui.ui.source.SnapshotSource` is read in a worker, which posts
:class:`~heaptui.ui.messages.SnapshotLoaded`; its handler starts the analysis worker
(:mod:`heaptui.ui.analysis`), whose results arrive as messages too. Handlers own all state;
workers never touch widgets. A live source can post ``SnapshotLoaded`` again at any time.

Layout: five panes (Types, Instances, Object, Growth, Dominators). Below :data:`WIDE`
columns one pane is shown at a time (keys 1-5, tab); from :data:`WIDE` columns Types (or
Growth, or Dominators) and Instances are stacked on the left and the Object pane fills the
right.

With a baseline (a file's, or a live snapshot's after ``R``) the app lands on the top leak
suspect once the suspects are known (``preselect_suspect``, on by default): Growth and
Instances on its type, its example selected with the suspect note and its why-alive path;
``.`` and ``,`` go to the next and previous suspects.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar, Literal, cast

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical
from textual.events import DescendantFocus, Resize
from textual.filter import LineFilter
from textual.widget import Widget
from textual.widgets import Footer, Input, Static, Tab, Tabs
from textual.worker import get_current_worker

from heaptui.core.errors import UserError
from heaptui.core.printable import printable
from heaptui.ui.analysis import analyse
from heaptui.ui.commands import HeapCommands
from heaptui.ui.history import SelectionHistory
from heaptui.ui.messages import (
    DominatorsComputed,
    GraphExported,
    GrowthComputed,
    IndexBuilt,
    InstancesListed,
    LoadFailed,
    LoadProgressed,
    RetainedByTypeComputed,
    RootPathFound,
    SitesGrouped,
    SnapshotLoaded,
    SummaryComputed,
    SuspectsFound,
)
from heaptui.ui.panes.dominators import DominatorsPane
from heaptui.ui.panes.growth import GrowthPane
from heaptui.ui.screens.help import HelpScreen
from heaptui.ui.source import SnapshotSource
from heaptui.ui.terminal_filter import NoTerminalControls
from heaptui.ui.widgets.dominator_tree import DominatorTree
from heaptui.ui.widgets.growth_table import GrowthTable
from heaptui.ui.widgets.header import HeapHeader
from heaptui.ui.widgets.instance_list import InstanceList, instances_title
from heaptui.ui.widgets.object_pane import ObjectPane
from heaptui.ui.widgets.object_tree import Mode, ObjectTree
from heaptui.ui.widgets.sites_table import SitesTable
from heaptui.ui.widgets.type_table import TypeTable

if TYPE_CHECKING:
    from heaptui.model.diff import GrowthRow
    from heaptui.model.dominators import Dominators
    from heaptui.model.index import GraphIndex
    from heaptui.model.paths import RootPath
    from heaptui.model.snapshot import Snapshot
    from heaptui.model.summary import TypeRow
    from heaptui.model.suspects import Suspect

Pane = Literal["types", "instances", "object", "growth", "dominators"]
PANES: tuple[Pane, ...] = ("types", "instances", "object", "growth", "dominators")
PANE_TITLES = {
    "types": "Types",
    "instances": "Instances",
    "object": "Object",
    "growth": "Growth",
    "dominators": "Dominators",
}
# Panes that take the top left place in the wide layout (one at a time).
LEFT_TOP: tuple[Pane, ...] = ("types", "growth", "dominators")
_NO_TERMINAL_CONTROLS = NoTerminalControls()
WIDE = 120  # columns from which three panes are shown side by side
SUSPECT_GROUP = Binding.Group("Suspect", compact=True)


class PaneTabs(Tabs, can_focus=False):
    """The pane names; keys 1-5 (and clicks) switch panes. Never takes the focus."""


class FilterInput(Input):
    """The type filter; escape clears it and returns to the table."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "clear_filter", "Clear filter")]

    def action_clear_filter(self) -> None:
        self.value = ""
        self.display = False
        self.app.query_one(TypeTable).focus()


class TypesPane(Vertical):
    """The type table and its filter field."""


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
    ) -> None:
        super().__init__()
        self.source = source
        self.export_dir = export_dir
        self.preselect_suspect = preselect_suspect
        self.exit_on_error = exit_on_error
        self.load_error: str | None = None
        self.snapshot: Snapshot | None = None
        self.baseline: Snapshot | None = None
        self.index: GraphIndex | None = None
        self.summary: list[TypeRow] = []
        self.growth_rows: list[GrowthRow] = []
        self.new_mask: np.ndarray | None = None
        self.suspects: list[Suspect] = []
        self.dominators: Dominators | None = None
        self.selected: int | None = None
        self.mode: Mode = "referrers"
        self.history = SelectionHistory()
        self.active_pane: Pane = "types"
        self._left_top: Pane = "types"
        self._instances_type: int | None = None
        self.new_only = True  # Instances lists only the new objects (when there is a baseline)
        self._cursor_after_listing: int | None = None
        self._paths: dict[int, RootPath | None] = {}
        self._path_wanted: int | None = None
        self._paths_shown: set[int] = set()
        self._landed: int | None = None  # the example landed on for this snapshot
        self.suspect_rank: int | None = None  # the suspect whose example is selected
        self._accumulation_known = False
        self._readdress: int | None = None

    # --- layout --------------------------------------------------------------------------
    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters, then one that keeps terminal controls of a target's texts off
        the terminal whatever widget shows them (see :mod:`heaptui.ui.terminal_filter`)."""
        return [*super().get_line_filters(), _NO_TERMINAL_CONTROLS]

    def compose(self) -> ComposeResult:
        yield HeapHeader(id="header")
        yield PaneTabs(
            *(Tab(f"{i} {PANE_TITLES[p]}", id=f"tab-{p}") for i, p in enumerate(PANES, 1))
        )
        with Container(id="panes"):
            with TypesPane(id="types-pane", classes="pane"):
                yield FilterInput(
                    placeholder="filter types by name (escape clears)", id="type-filter"
                )
                yield TypeTable(id="types")
            yield GrowthPane(id="growth-pane", classes="pane")
            yield DominatorsPane(id="dominators-pane", classes="pane")
            yield ObjectPane(id="object-pane", classes="pane")
            with Vertical(id="instances-pane", classes="pane"):
                yield Static("Pick a type in Types (1) and press Enter.", id="instances-title")
                yield InstanceList(id="instances")
        yield Static("", id="error")
        yield Footer(compact=True, show_command_palette=False)  # ctrl+p is in the help

    def on_mount(self) -> None:
        for number, pane in enumerate(PANES, 1):
            self.query_one(f"#{pane}-pane").border_title = f"{number} {PANE_TITLES[pane]}"
        self.query_one("#type-filter").display = False
        self.query_one("#error").display = False
        self.query_one("#panes").loading = True
        self.query_one(HeapHeader).show_info(Text(printable(f"Loading {self.source.label}…")))
        self._apply_layout()
        self._pane_widget("types").focus()
        self.load_source()

    def _apply_layout(self, width: int | None = None) -> None:
        """Show the panes for ``width`` columns (default: the current width)."""
        wide = (self.size.width if width is None else width) >= WIDE
        self.query_one("#panes").set_class(wide, "-wide")
        for pane in PANES:
            if wide:
                shown = pane not in LEFT_TOP or pane == self._left_top
            else:
                shown = pane == self.active_pane
            self.query_one(f"#{pane}-pane").display = shown
        for pane in PANES:
            self.query_one(f"#{pane}-pane").set_class(pane == self.active_pane, "-active")
        self.query_one(PaneTabs).active = f"tab-{self.active_pane}"

    def on_resize(self, event: Resize) -> None:
        self._apply_layout(event.size.width)  # self.size may still be the old size here

    def _pane_widget(self, pane: Pane) -> Widget:
        """The widget that takes the focus when ``pane`` is shown."""
        if pane == "types":
            return self.query_one(TypeTable)
        if pane == "instances":
            return self.query_one(InstanceList)
        if pane == "object":
            return self.query_one(ObjectPane).focus_target
        if pane == "dominators":
            return self.query_one(DominatorsPane).focus_target
        return self.query_one(GrowthPane).focus_target

    def _pane_of(self, widget: Widget | None) -> Pane | None:
        while widget is not None:
            if widget.id and widget.id.endswith("-pane") and widget.id[:-5] in PANES:
                return cast(Pane, widget.id[:-5])
            widget = widget.parent  # type: ignore[assignment]
        return None

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        pane = self._pane_of(event.widget)
        if pane is not None and pane != self.active_pane:
            self.active_pane = pane
            if pane in LEFT_TOP:
                self._left_top = pane
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
        self.query_one(HeapHeader).show_status(message.text)

    def on_load_failed(self, message: LoadFailed) -> None:
        self.load_error = message.error
        if self.exit_on_error:
            self.exit(return_code=2)
            return
        self.query_one("#panes").loading = False
        self.query_one("#panes").display = False
        error = self.query_one("#error", Static)
        error.update(
            Text(
                f"Could not open {printable(self.source.label)}:\n\n  {printable(message.error)}"
                "\n\nPress q to quit."
            )
        )
        error.display = True
        self.query_one(HeapHeader).show_info(
            Text(printable(f"heaptui: error loading {self.source.label}"))
        )
        self.query_one(HeapHeader).show_status("")

    def on_snapshot_loaded(self, message: SnapshotLoaded) -> None:
        previous = self.snapshot
        old_addr = (
            int(previous.addr[self.selected])
            if previous is not None and self.selected is not None
            else None
        )
        self.snapshot, self.baseline = message.snapshot, message.baseline
        self.index = None
        self.query_one(InstanceList).set_index(None)
        self.summary, self.growth_rows, self.suspects = [], [], []
        self.new_mask = None
        self.suspect_rank = None
        self._landed = None
        self._accumulation_known = False
        self._forget_dominators()
        self.history.clear()
        self._paths.clear()
        self._paths_shown.clear()
        self.selected = None
        self._instances_type = None
        self._readdress = old_addr
        self.query_one("#panes").loading = False
        self.query_one(HeapHeader).show_snapshot(message.snapshot, message.baseline)
        self.query_one(GrowthPane).reset(message.snapshot, message.baseline)
        self.query_one(ObjectPane).show_message(
            "Indexing references…" if old_addr is None else "Indexing the new snapshot…"
        )
        self._analyse(message.snapshot, message.baseline)

    def _is_current(self, snapshot: Snapshot) -> bool:
        return snapshot is self.snapshot

    def on_summary_computed(self, message: SummaryComputed) -> None:
        if not self._is_current(message.snapshot):
            return
        self.summary = message.rows
        table = self.query_one(TypeTable)
        table.set_rows(message.rows)
        if self.baseline is None:  # with a baseline, wait for the new-object marks
            self._list_shown_type()

    def on_growth_computed(self, message: GrowthComputed) -> None:
        if not self._is_current(message.snapshot):
            return
        self.growth_rows, self.new_mask = message.rows, message.new_mask
        self.query_one(GrowthTable).set_rows(message.rows)
        self._list_shown_type()  # (again, if listed already): new objects first among equals

    def _list_shown_type(self) -> None:
        type_index = self._instances_type
        if type_index is None:
            type_index = self.query_one(TypeTable).highlighted_type
        if type_index is not None:
            self.list_instances(type_index)

    def on_index_built(self, message: IndexBuilt) -> None:
        if not self._is_current(message.snapshot):
            return
        self.index = message.index
        self.query_one(InstanceList).set_index(message.index)
        readdress, self._readdress = self._readdress, None
        node = message.snapshot.node_for_addr(readdress) if readdress is not None else None
        if node is not None:
            self.select_object(node)
        else:
            self.query_one(ObjectPane).show_message(
                "No object selected.\n\nPick a type in Types (1), press Enter, then pick an "
                "instance (2) and press Enter to see who holds it."
                + ("\nGrowth (4) lists the leak suspects." if self.baseline is not None else "")
            )

    def on_suspects_found(self, message: SuspectsFound) -> None:
        if not self._is_current(message.snapshot):
            return
        shown = self._shown_suspect()
        self.suspects = message.suspects
        self._accumulation_known = self._accumulation_known or message.with_accumulation
        for suspect in message.suspects:
            if suspect.sample is not None:
                self._paths[suspect.sample] = suspect.path
        growth = self.query_one(GrowthTable)
        # the cursor stays on its type when the suspects are re-ranked, not when first marked
        highlighted = growth.highlighted_name if growth.suspect_names else None
        # a grouped suspect marks the types that grew with it too, right after it
        marked = dict.fromkeys(m for s in message.suspects for m in (s.name, *s.members))
        growth.set_rows(self.growth_rows, list(marked))
        if highlighted is not None:
            growth.select_name(highlighted)
        # the same example may now rank differently: keep showing it, with its new note
        names = [s.name for s in message.suspects]
        self.suspect_rank = names.index(shown.name) if shown and shown.name in names else None
        # land on the top suspect; once more when the ranking with accumulation points (the
        # grouped suspects) puts another one first and the user has not moved meanwhile
        first = self._first_suspect_with_sample(0, 1) if self.suspects else None
        if self.preselect_suspect and first is not None and self.snapshot is not self.baseline:
            untouched = self._landed is not None and self.selected == self._landed
            if self._landed is None or (untouched and self.selected != self.suspects[first].sample):
                self.land_on_suspect(first)
                self._landed = self.selected
        self._update_note()

    # --- retained sizes and the dominator tree --------------------------------------------
    def _forget_dominators(self) -> None:
        """A new snapshot: retained sizes are unknown until its dominator tree is computed."""
        self.dominators = None
        self.query_one(TypeTable).set_retained(None)
        self.query_one(InstanceList).set_retained(None)
        self.query_one(ObjectPane).set_retained(None)
        self.query_one(DominatorsPane).forget()

    def on_dominators_computed(self, message: DominatorsComputed) -> None:
        if not self._is_current(message.snapshot) or self.index is None:
            return
        self.dominators = message.dominators
        retained = message.dominators.retained
        self.query_one(InstanceList).set_retained(retained)
        self.query_one(ObjectPane).set_retained(retained)
        self.query_one(DominatorsPane).show(message.snapshot, self.index, message.dominators)
        self.refresh_bindings()

    def on_retained_by_type_computed(self, message: RetainedByTypeComputed) -> None:
        if not self._is_current(message.snapshot):
            return
        by_type = message.by_type.tolist()
        self.query_one(TypeTable).set_retained(
            {row.type_index: int(by_type[row.type_index]) for row in self.summary}
        )

    @on(DominatorTree.ObjectPicked, "#dominators")
    def _dominator_picked(self, event: DominatorTree.ObjectPicked) -> None:
        self.select_object(event.node)
        self.action_show_pane("object")

    # --- allocation sites of the growth ---------------------------------------------------
    def action_group_sites(self) -> None:
        """Group the new objects of the growth table's type by where they were allocated."""
        from heaptui.model.allocsites import alloc_status

        pane = self.query_one(GrowthPane)
        name = pane.table.highlighted_name
        if self.snapshot is None or self.baseline is None or self.new_mask is None or not name:
            self.notify("Grouping by allocation site needs a baseline.", severity="warning")
            return
        if self.snapshot.alloc is None:
            explanation = alloc_status(self.snapshot).explanation
            self.notify(explanation[:1].upper() + explanation[1:] + ".", timeout=8, markup=False)
            return
        pane.group_sites(
            self.baseline, self.snapshot, name, self.new_mask, self.type_index_named(name)
        )

    def on_sites_grouped(self, message: SitesGrouped) -> None:
        self.action_show_pane("growth")
        self.query_one(GrowthPane).focus_sites()

    def action_close_sites(self) -> None:
        self.query_one(GrowthPane).hide_sites()

    @on(SitesTable.SampleChosen)
    def _site_sample_chosen(self, event: SitesTable.SampleChosen) -> None:
        self.select_object(event.node)
        self.action_show_pane("object")

    # --- export ---------------------------------------------------------------------------
    def action_export_graph(self) -> None:
        """Write the referrer graph around the object to a .dot file (and SVG with Graphviz)."""
        node = self._object_in_focus()
        if node is None or self.snapshot is None:
            self.notify("Select an object first (Enter on an instance).", severity="warning")
            return
        if self.index is None:
            self.notify("Still indexing references; try again in a moment.", timeout=3)
            return
        short = self.snapshot.type_name(node).rsplit(".", 1)[-1]
        stem = "heaptui-" + re.sub(r"[^A-Za-z0-9_-]", "_", short)[:60]  # a name of the target
        stem += f"-{int(self.snapshot.addr[node]):x}"
        self.notify(
            f"Exporting the referrers of {printable(self.snapshot.type_name(node))}…",
            timeout=2,
            markup=False,
        )
        self._export_graph(self.index, node, os.path.join(os.path.abspath(self.export_dir), stem))

    @work(thread=True, group="export")
    def _export_graph(self, index: GraphIndex, node: int, stem: str) -> None:
        import io

        from heaptui.export.dot import dot_program, referrer_graph, render_graphviz, write_dot

        written: list[str] = []
        try:
            text = io.StringIO()
            write_dot(index, referrer_graph(index, node), text)
            from heaptui.fileformat.write import atomic_file

            with atomic_file(stem + ".dot") as handle:  # 0600: it holds the program's strings
                handle.write(text.getvalue().encode("utf-8"))
            written.append(stem + ".dot")
            if dot_program() is not None:
                render_graphviz(text.getvalue(), "svg", stem + ".svg")
                written.append(stem + ".svg")
        except (OSError, UserError) as exc:
            self.post_message(GraphExported(written, str(exc)))
            return
        self.post_message(GraphExported(written))

    def on_graph_exported(self, message: GraphExported) -> None:
        if message.error is not None:
            self.notify(
                f"Export failed: {message.error}", severity="error", timeout=8, markup=False
            )
        if message.paths:
            hint = "" if len(message.paths) > 1 else " (install Graphviz for an SVG)"
            self.notify(
                "Wrote " + ", ".join(message.paths) + hint,
                title="Referrer graph",
                timeout=10,
                markup=False,
            )

    def _object_in_focus(self) -> int | None:
        """The object a key means: the one under the cursor in Instances or Dominators (made
        the selected object), else the selected object."""
        node: int | None = None
        if self.active_pane == "instances":
            node = self.query_one(InstanceList).highlighted_node
        elif self.active_pane == "dominators":
            node = self.query_one(DominatorsPane).highlighted_node
        if node is not None and node != self.selected:
            self.select_object(node)
        return self.selected

    # --- types and instances -------------------------------------------------------------
    @on(TypeTable.TypeHighlighted)
    def _type_highlighted(self, event: TypeTable.TypeHighlighted) -> None:
        if event.type_index != self._instances_type:
            self.list_instances(event.type_index)

    @on(TypeTable.TypeSelected)
    def _type_selected(self, event: TypeTable.TypeSelected) -> None:
        if event.type_index != self._instances_type:
            self.list_instances(event.type_index)
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

    def type_index_named(self, name: str) -> int | None:
        """The type index of ``name`` in the current snapshot (the one with most bytes)."""
        for row in self.summary:
            if row.name == name:
                return row.type_index
        return None

    def show_type(self, type_index: int) -> None:
        """Put the type table's cursor on ``type_index`` (clearing a filter that hides it)."""
        table = self.query_one(TypeTable)
        if not table.select_type(type_index):
            self.query_one(FilterInput).value = ""
            table.set_filter("")
            table.select_type(type_index)
        if type_index != self._instances_type:
            self.list_instances(type_index)

    def list_instances(self, type_index: int) -> None:
        """Ask for the instances of ``type_index`` (listed in a worker: there may be millions)."""
        if self.snapshot is None:
            return
        self._instances_type = type_index
        name = self.snapshot.type_names[type_index]
        self.query_one("#instances-title", Static).update(
            Text(f"{printable(name)}: listing instances…")
        )
        # Empty until listed: keys pressed meanwhile must not move a cursor over another type.
        self.query_one(InstanceList).set_instances(None, np.zeros(0, np.int64), None)
        self._list_instances(self.snapshot, type_index, self.new_mask, self.new_only)

    @work(thread=True, exclusive=True, group="instances")
    def _list_instances(
        self,
        snapshot: Snapshot,
        type_index: int,
        new_mask: np.ndarray | None,
        new_only: bool,
    ) -> None:
        from heaptui.model.summary import instances_of

        nodes = instances_of(snapshot, type_index)
        total = len(nodes)
        new = total
        if new_mask is not None and len(nodes):
            new = int(np.count_nonzero(new_mask[nodes]))
            if new_only and new:
                nodes = nodes[new_mask[nodes]]
            elif len(nodes) > 1:
                # among objects of equal size, the new ones (likely the leak) come first
                order = np.lexsort((~new_mask[nodes], -snapshot.size[nodes].astype(np.int64)))
                nodes = nodes[order]
        self.post_message(InstancesListed(snapshot, type_index, nodes, total, new))

    def on_instances_listed(self, message: InstancesListed) -> None:
        if not self._is_current(message.snapshot) or message.type_index != self._instances_type:
            return
        snapshot, nodes = message.snapshot, message.nodes
        name = snapshot.type_names[message.type_index]
        self.query_one("#instances-title", Static).update(
            instances_title(
                printable(name), message.total, len(nodes), message.new, self._net_change(name)
            )
        )
        instances = self.query_one(InstanceList)
        instances.set_instances(snapshot, nodes, self.new_mask)
        if self._cursor_after_listing is not None:
            instances.move_to_node(self._cursor_after_listing)
            self._cursor_after_listing = None

    def _net_change(self, name: str) -> int | None:
        """The type's count change since the baseline (None: no baseline)."""
        if self.new_mask is None:
            return None
        return next((row.count_delta for row in self.growth_rows if row.name == name), 0)

    def action_toggle_new_only(self) -> None:
        """Instances: only the new objects of the type, or all of them."""
        if self.new_mask is None:
            self.notify("Every object is new without a baseline.", timeout=3)
            return
        self.new_only = not self.new_only
        node = self.query_one(InstanceList).highlighted_node
        if self._instances_type is not None:
            self._cursor_after_listing = node
            self.list_instances(self._instances_type)

    @on(InstanceList.Chosen)
    def _instance_chosen(self, event: InstanceList.Chosen) -> None:
        self.select_object(event.node)
        self.action_show_pane("object")

    # --- the selected object -------------------------------------------------------------
    def select_object(self, node: int, record: bool = True) -> None:
        """Make ``node`` the selected object and show its tree (``record``: add to history)."""
        self.selected = node
        if record:
            self.history.visit(node)
        self._path_wanted = None
        self._show_selected()
        self.refresh_bindings()

    def _show_selected(self) -> None:
        pane = self.query_one(ObjectPane)
        if self.selected is None or self.snapshot is None:
            return
        if self.index is None:
            pane.show_message("Indexing references… (the tree appears when it is done)")
            return
        pane.show_object(self.snapshot, self.index, self.selected, self.mode, self.new_mask)
        if self.mode == "referrers" and self.selected in self._paths_shown:
            pane.show_path(self._paths[self.selected])  # back to an object: its path again
        self._update_note()

    @on(ObjectTree.ObjectPicked, "#object-tree")
    def _tree_object_picked(self, event: ObjectTree.ObjectPicked) -> None:
        if event.node == self.selected:
            tree = self.query_one(ObjectTree)
            if tree.cursor_node is not None:
                tree.cursor_node.toggle()
            return
        self.select_object(event.node)

    def action_go_back(self) -> None:
        node = self.history.back()
        if node is None:
            self.notify("No earlier object in the history.", timeout=2)
            return
        self.select_object(node, record=False)
        self.action_show_pane("object")

    def action_go_forward(self) -> None:
        node = self.history.forward()
        if node is None:
            self.notify("No later object in the history.", timeout=2)
            return
        self.select_object(node, record=False)
        self.action_show_pane("object")

    def action_toggle_mode(self) -> None:
        self.mode = "referents" if self.mode == "referrers" else "referrers"
        self._show_selected()

    def action_why_alive(self) -> None:
        self._object_in_focus()
        if self.selected is None or self.snapshot is None:
            self.notify("Select an object first (Enter on an instance).", severity="warning")
            return
        if self.index is None:
            self.notify("Still indexing references; try again in a moment.", timeout=3)
            return
        if self.mode != "referrers":
            self.mode = "referrers"
            self._show_selected()
        self.action_show_pane("object")
        node = self.selected
        if node in self._paths:
            self._paths_shown.add(node)
            self.query_one(ObjectPane).show_path(self._paths[node])
            return
        self._path_wanted = node
        self.query_one(ObjectPane).show_path(None, searching=True)
        self._find_path(self.snapshot, self.index, node)

    @work(thread=True, exclusive=True, group="path")
    def _find_path(self, snapshot: Snapshot, index: GraphIndex, node: int) -> None:
        from heaptui.model.paths import shortest_root_path

        self.post_message(RootPathFound(snapshot, node, shortest_root_path(index, node)))

    def on_root_path_found(self, message: RootPathFound) -> None:
        if not self._is_current(message.snapshot):
            return
        self._paths[message.node] = message.path
        if message.node == self._path_wanted == self.selected and self.mode == "referrers":
            self._path_wanted = None
            self._paths_shown.add(message.node)
            self.query_one(ObjectPane).show_path(message.path)

    # --- leak suspects ----------------------------------------------------------------------
    def _first_suspect_with_sample(self, start: int, step: int) -> int | None:
        """The rank of the first suspect from ``start`` (going by ``step``, wrapping) that has
        an example object to show."""
        count = len(self.suspects)
        for offset in range(count):
            rank = (start + offset * step) % count
            if self.suspects[rank].sample is not None:
                return rank
        return None

    def _shown_suspect(self) -> Suspect | None:
        """The suspect whose example is the selected object, if any."""
        rank = self.suspect_rank
        if rank is None or rank >= len(self.suspects) or self.selected is None:
            return None
        suspect = self.suspects[rank]
        return suspect if suspect.sample == self.selected else None

    def _update_note(self) -> None:
        from heaptui.ui.widgets.suspect_note import suspect_note

        suspect = self._shown_suspect()
        pane = self.query_one(ObjectPane)
        if suspect is None or self.snapshot is None or self.index is None:
            pane.show_note(None)
            return
        rank = self.suspects.index(suspect)
        new_count = suspect.new_count  # grouped suspects count their type's new objects
        if new_count is None:
            new_count = self.new_count(suspect.name)
        pane.show_note(
            suspect_note(suspect, rank, len(self.suspects), new_count, self._accumulation_known)
        )

    def new_count(self, name: str) -> int | None:
        """How many objects of the type called ``name`` are new since the baseline."""
        if self.new_mask is None or self.snapshot is None:
            return None
        type_ids = [t for t, n in enumerate(self.snapshot.type_names) if n == name]
        return int(np.count_nonzero(self.new_mask & np.isin(self.snapshot.type_index, type_ids)))

    def land_on_suspect(self, rank: int | None) -> None:
        """Show suspect ``rank``: its row in Growth and in Instances, its example selected in
        the object pane with its why-alive path open (Growth beside it when wide)."""
        if rank is None:
            return
        suspect = self.suspects[rank]
        if suspect.sample is None:
            return
        self.suspect_rank = rank
        self.query_one(GrowthTable).select_name(suspect.name)
        type_index = self.type_index_named(suspect.name)
        if type_index is not None:
            self._cursor_after_listing = suspect.sample
            self.show_type(type_index)
            self.query_one(InstanceList).move_to_node(suspect.sample)
        self.mode = "referrers"
        self._left_top = "growth"
        self.select_object(suspect.sample)
        self.action_why_alive()
        self._update_note()

    def action_top_suspect(self) -> None:
        """Select the example object of the first suspect and show why it is alive."""
        self.action_next_suspect(0)

    def action_next_suspect(self, step: int) -> None:
        """Go to the next (``step`` 1), previous (-1) or first (0) suspect."""
        if not self.suspects or self._first_suspect_with_sample(0, 1) is None:
            hint = "needs a baseline" if self.baseline is None else "none found yet"
            self.notify(f"No leak suspect ({hint}).", severity="warning")
            return
        current = self.suspect_rank if self._shown_suspect() is not None else None
        if step == 0 or current is None:
            start, step = (0, 1) if step >= 0 else (len(self.suspects) - 1, -1)
        else:
            start = current + step
        self.land_on_suspect(self._first_suspect_with_sample(start, step))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide keys that would do nothing now, so the Footer fits in 80 columns."""
        if action == "go_back":
            return self.history.can_go_back
        if action == "go_forward":
            return self.history.can_go_forward
        if action == "cycle_pane":  # a priority key: not behind the help screen
            return self.screen is self.screen_stack[0]
        if action in ("filter_types", "show_pane"):  # priority keys: text in an input
            return self.screen is self.screen_stack[0] and not isinstance(self.focused, Input)
        if action == "next_suspect":
            return any(s.sample is not None for s in self.suspects)
        if action == "close_sites":
            return self.query_one(GrowthPane).sites_shown
        if action in ("why_alive", "export_graph"):
            return self.selected is not None or self.active_pane in ("instances", "dominators")
        return True

    # --- panes, filter, sort, help -------------------------------------------------------
    def action_show_pane(self, pane: str) -> None:
        if pane not in PANES:
            return
        self.active_pane = cast(Pane, pane)
        if pane in LEFT_TOP:
            self._left_top = cast(Pane, pane)
        self._apply_layout()
        # Focus now (not after a refresh), so keys typed right after go to the new pane.
        self.screen.set_focus(self._pane_widget(self.active_pane))
        self.refresh_bindings()

    def action_cycle_pane(self, step: int) -> None:
        position = PANES.index(self.active_pane)
        self.action_show_pane(PANES[(position + step) % len(PANES)])

    def action_filter_types(self) -> None:
        self.action_show_pane("types")
        field = self.query_one(FilterInput)
        field.display = True
        self.screen.set_focus(field)

    @on(Input.Changed, "#type-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(TypeTable).set_filter(event.value)
        pane = self.query_one("#types-pane")
        pane.border_subtitle = f"filter: {event.value}" if event.value else ""

    @on(Input.Submitted, "#type-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not event.value:
            self.query_one(FilterInput).display = False
        self.query_one(TypeTable).focus()

    def action_sort_types(self, key: str) -> None:
        self.action_show_pane("types")
        self.query_one(TypeTable).action_sort(key)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
