"""The Growth pane: the growth table (or why there is none), and the new objects of one of its
types grouped by allocation site.

It owns the sites state and the worker that groups them. What shows is the CSS classes
``-baseline`` (the table instead of the note) and ``-sites`` / ``-site-groups`` (the sites title
and table), see app.tcss; the app never toggles ``display`` here.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from heaptui.core.printable import printable
from heaptui.ui.messages import SitesGrouped
from heaptui.ui.widgets.alloc_site import cpython_101430_applies
from heaptui.ui.widgets.growth_table import NO_BASELINE, GrowthTable
from heaptui.ui.widgets.object_text import PaneMessage
from heaptui.ui.widgets.sites_table import SitesTable, sites_title

if TYPE_CHECKING:
    from heaptui.model.diff import GrowthRow
    from heaptui.model.snapshot import Snapshot
    from heaptui.model.suspects import Suspect


class GrowthPane(Vertical):
    """Growth since the baseline, and the allocation sites of one type's new objects."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.snapshot: Snapshot | None = None
        self._sites_type: int | None = None  # the type whose sites are being grouped

    def compose(self) -> ComposeResult:
        yield PaneMessage(NO_BASELINE, id="no-baseline")
        yield GrowthTable(id="growth")
        yield Static("", id="sites-title")
        yield SitesTable(id="sites")

    @property
    def table(self) -> GrowthTable:
        return self.query_one(GrowthTable)

    @property
    def focus_target(self) -> Widget:
        """The growth table, or the note saying there is no baseline."""
        if self.has_class("-baseline"):
            return self.table
        return self.query_one("#no-baseline")

    @property
    def sites_shown(self) -> bool:
        return self.has_class("-sites")

    def reset(self, snapshot: Snapshot, baseline: Snapshot | None) -> None:
        """A new snapshot: no sites, and the table only with a baseline."""
        self.snapshot = snapshot
        self.hide_sites()
        self.border_subtitle = (
            f"since {os.path.basename(baseline.source) or 'baseline'}"
            if baseline is not None
            else ""
        )
        self.set_class(baseline is not None, "-baseline")

    def mark_suspects(self, rows: list[GrowthRow], suspects: list[Suspect]) -> None:
        """Mark the suspects' types; a grouped suspect marks the types that grew with it too,
        right after it."""
        table = self.table
        # the cursor stays on its type when the suspects are re-ranked, not when first marked
        highlighted = table.highlighted_name if table.suspect_names else None
        marked = dict.fromkeys(m for s in suspects for m in (s.name, *s.members))
        table.set_rows(rows, list(marked))
        if highlighted is not None:
            table.select_name(highlighted)

    def group_sites(
        self,
        baseline: Snapshot,
        snapshot: Snapshot,
        name: str,
        new_mask: np.ndarray,
        type_index: int | None,
    ) -> None:
        """Group the new objects of the type ``name`` by allocation site, in a worker."""
        self._sites_type = type_index
        title = self.query_one("#sites-title", Static)
        title.update(Text(f"{printable(name)}: grouping new objects by allocation site…", "italic"))
        self.add_class("-sites")
        self._group_sites(baseline, snapshot, name, new_mask)

    @work(thread=True, exclusive=True, group="sites")
    def _group_sites(
        self, baseline: Snapshot, snapshot: Snapshot, name: str, new_mask: np.ndarray
    ) -> None:
        from heaptui.model.allocsites import growth_by_site

        sites = growth_by_site(baseline, snapshot, name, is_new=new_mask)
        self.post_message(SitesGrouped(snapshot, name, sites))

    def on_sites_grouped(self, message: SitesGrouped) -> None:
        """Show the sites; the message goes on to the app, which shows this pane."""
        from heaptui.model.allocsites import CPYTHON_101430

        if message.snapshot is not self.snapshot or message.sites is None:
            message.stop()
            return
        sites = message.sites
        why = None
        type_index = self._sites_type
        if (
            sites.untraced_count
            and type_index is not None
            and cpython_101430_applies(message.snapshot, type_index)
        ):
            why = CPYTHON_101430
        self.query_one("#sites-title", Static).update(sites_title(message.name, sites, why))
        self.query_one(SitesTable).set_sites(sites)
        self.set_class(bool(sites.groups), "-site-groups")

    def focus_sites(self) -> None:
        """Put the focus on the sites table, if it lists any."""
        if self.has_class("-site-groups"):
            self.screen.set_focus(self.query_one(SitesTable))

    def hide_sites(self) -> None:
        table = self.query_one(SitesTable)
        was_focused = table.has_focus
        self.remove_class("-sites", "-site-groups")
        if was_focused:
            self.table.focus()

    def on_sites_table_closed(self, event: SitesTable.Closed) -> None:
        event.stop()
        self.hide_sites()
