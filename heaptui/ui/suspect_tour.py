"""Stepping through the leak suspects (``.`` and ``,``), and landing on the top one when the
suspects of a snapshot with a baseline arrive (``preselect_suspect``).

Landing on a suspect touches several panes (Growth, Types, Instances, Object), so this is a
helper of the app rather than a pane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heaptui.model.suspects import Suspect
    from heaptui.ui.app import HeapApp


class SuspectTour:
    """Where the user is among the suspects of the current snapshot."""

    def __init__(self, app: HeapApp, preselect: bool) -> None:
        self.app = app
        self.preselect = preselect
        self._landed: int | None = None  # the example landed on for this snapshot

    @property
    def suspects(self) -> list[Suspect]:
        view = self.app.view
        return view.suspects if view is not None else []

    def reset(self) -> None:
        """A new snapshot: not landed yet."""
        self._landed = None

    def first_with_sample(self, start: int, step: int) -> int | None:
        """The rank of the first suspect from ``start`` (going by ``step``, wrapping) that has
        an example object to show."""
        suspects = self.suspects
        count = len(suspects)
        for offset in range(count):
            rank = (start + offset * step) % count
            if suspects[rank].sample is not None:
                return rank
        return None

    def suspects_found(self, shown: Suspect | None) -> None:
        """New suspects (``shown``: the one whose example was selected before them)."""
        app = self.app
        pane = app.object_pane
        suspects = self.suspects
        # the same example may now rank differently: keep showing it, with its new note
        names = [s.name for s in suspects]
        pane.suspect_rank = names.index(shown.name) if shown and shown.name in names else None
        # land on the top suspect; once more when the ranking with accumulation points (the
        # grouped suspects) puts another one first and the user has not moved meanwhile
        first = self.first_with_sample(0, 1) if suspects else None
        if self.preselect and first is not None and app.snapshot is not app.baseline:
            untouched = self._landed is not None and pane.selected == self._landed
            if self._landed is None or (untouched and pane.selected != suspects[first].sample):
                self.land(first)
                self._landed = pane.selected
        pane.update_note()

    def land(self, rank: int | None) -> None:
        """Show suspect ``rank``: its row in Growth and in Instances, its example selected in
        the object pane with its why-alive path open (Growth beside it when wide)."""
        if rank is None:
            return
        suspect = self.suspects[rank]
        if suspect.sample is None:
            return
        app = self.app
        app.object_pane.suspect_rank = rank
        app.growth_pane.table.select_name(suspect.name)
        view = app.view
        type_index = view.type_index_named(suspect.name) if view is not None else None
        if type_index is not None:
            app.instances_pane.move_after_listing(suspect.sample)
            app.show_type(type_index)
            app.instances_pane.instance_list.move_to_node(suspect.sample)
        app.object_pane.mode = "referrers"
        app.pane_area.left_top = "growth"
        app.select_object(suspect.sample)
        app.action_why_alive()
        app.object_pane.update_note()

    def step(self, step: int) -> None:
        """Go to the next (``step`` 1), previous (-1) or first (0) suspect."""
        suspects = self.suspects
        if not suspects or self.first_with_sample(0, 1) is None:
            hint = "needs a baseline" if self.app.baseline is None else "none found yet"
            self.app.notify(f"No leak suspect ({hint}).", severity="warning")
            return
        pane = self.app.object_pane
        current = pane.suspect_rank if pane.shown_suspect() is not None else None
        if step == 0 or current is None:
            start, step = (0, 1) if step >= 0 else (len(suspects) - 1, -1)
        else:
            start = current + step
        self.land(self.first_with_sample(start, step))
