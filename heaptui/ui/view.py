"""`SnapshotView`: what is known about the snapshot on screen, as one immutable value.

The app makes a new view as each analysis result lands and hands it to the panes, so a pane
reads one consistent bundle (never fields of the app that may belong to another snapshot).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from heaptui.model.diff import GrowthRow
    from heaptui.model.dominators import Dominators
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot
    from heaptui.model.summary import TypeRow
    from heaptui.model.suspects import Suspect


@dataclass(frozen=True)
class SnapshotView:
    """A snapshot, its baseline, and the analysis results known so far (empty until known)."""

    snapshot: Snapshot
    baseline: Snapshot | None = None
    summary: list[TypeRow] = field(default_factory=list)
    growth_rows: list[GrowthRow] = field(default_factory=list)
    new_mask: np.ndarray | None = None  # with a baseline, once growth is known
    index: GraphIndex | None = None
    suspects: list[Suspect] = field(default_factory=list)
    accumulation_known: bool = False  # the suspects say where their new objects pile up
    dominators: Dominators | None = None

    def with_(self, **changes: Any) -> SnapshotView:
        return replace(self, **changes)

    def type_index_named(self, name: str) -> int | None:
        """The type index of ``name`` (the one with most bytes), None if no object has it."""
        for row in self.summary:
            if row.name == name:
                return row.type_index
        return None

    def net_change(self, name: str) -> int | None:
        """The type's count change since the baseline (None: no baseline)."""
        if self.new_mask is None:
            return None
        return next((row.count_delta for row in self.growth_rows if row.name == name), 0)

    def new_count(self, name: str) -> int | None:
        """How many objects of the type called ``name`` are new since the baseline."""
        if self.new_mask is None:
            return None
        snapshot = self.snapshot
        type_ids = [t for t, n in enumerate(snapshot.type_names) if n == name]
        return int(np.count_nonzero(self.new_mask & np.isin(snapshot.type_index, type_ids)))
