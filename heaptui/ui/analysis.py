"""The analysis run after a snapshot arrives, in a worker thread, one posted result per step.

Cheap results first (type summary, growth) so the first screen appears quickly on a huge
heap; the graph index and the leak suspects (which search paths) follow, then the dominator
tree with every object's retained size (seconds on millions of objects; the UI stays usable),
and the suspects once more with where their new objects accumulate (which needs the tree).

:func:`find_suspects` is the only place the UI asks the model for suspects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.message import Message

from heaptui.ui.messages import (
    DominatorsComputed,
    GrowthComputed,
    IndexBuilt,
    LoadProgressed,
    RetainedByTypeComputed,
    SummaryComputed,
    SuspectsFound,
)

if TYPE_CHECKING:
    import numpy as np

    from heaptui.model.dominators import Dominators
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot
    from heaptui.model.suspects import Suspect

SUSPECTS = 10
# dominators_for's phase names, as the status line says them
PHASES = {
    "start": "reachability",
    "unreachable": "garbage cycles",
    "dominators": "dominator tree",
    "retained": "summing",
    "by type": "per type",
}


def find_suspects(
    baseline: Snapshot,
    snapshot: Snapshot,
    index: GraphIndex,
    *,
    dominators: Dominators | None = None,
    is_new: np.ndarray | None = None,
) -> list[Suspect]:
    """The leak suspects the UI shows, most likely first (with ``dominators``: each with where
    its new objects accumulate)."""
    from heaptui.model.suspects import leak_suspects

    return leak_suspects(
        baseline, snapshot, index, top=SUSPECTS, dominators=dominators, is_new=is_new
    )


def analyse(
    snapshot: Snapshot,
    baseline: Snapshot | None,
    post: Callable[[Message], object],
    cancelled: Callable[[], bool],
) -> None:
    """Compute summary, growth, index, suspects and retained sizes of ``snapshot``, posting
    each as it lands."""
    from heaptui.model.diff import growth, new_objects
    from heaptui.model.dominators import dominators_for, retained_by_type
    from heaptui.model.index import GraphIndex
    from heaptui.model.summary import type_summary

    post(LoadProgressed("summarising types…"))
    post(SummaryComputed(snapshot, type_summary(snapshot)))
    is_new = None
    if baseline is not None and not cancelled():
        post(LoadProgressed("comparing with the baseline…"))
        is_new = new_objects(baseline, snapshot)
        post(GrowthComputed(snapshot, growth(baseline, snapshot), is_new))
    if cancelled():
        return
    post(LoadProgressed("indexing references…"))
    index = GraphIndex(snapshot)
    post(IndexBuilt(snapshot, index))
    if baseline is not None and not cancelled():
        post(LoadProgressed("looking for leak suspects…"))
        post(SuspectsFound(snapshot, find_suspects(baseline, snapshot, index, is_new=is_new)))
    if cancelled():
        return

    def phase(name: str) -> None:
        post(LoadProgressed(f"retained sizes: {PHASES.get(name, name)}…"))

    phase("start")
    try:
        dominators = dominators_for(index, progress=phase)
    except MemoryError:  # the rest of the UI works without retained sizes
        post(LoadProgressed("retained sizes: not enough memory"))
        return
    if cancelled():
        return
    dominators.children_csr()  # built (and cached) here, not in the UI thread
    post(DominatorsComputed(snapshot, dominators))
    phase("by type")
    post(RetainedByTypeComputed(snapshot, retained_by_type(dominators, snapshot)))
    if baseline is not None and not cancelled():
        post(LoadProgressed("where the new objects accumulate…"))
        found = find_suspects(baseline, snapshot, index, dominators=dominators, is_new=is_new)
        post(SuspectsFound(snapshot, found, with_accumulation=True))
    post(LoadProgressed(""))
