"""The analysis run after a snapshot arrives, in a worker thread, one posted result per step.

Cheap results first (type summary, growth) so the first screen appears quickly on a huge
heap; the graph index and the leak suspects (which search paths) follow, then the dominator
tree with every object's retained size (seconds on millions of objects; the UI stays usable),
and the suspects once more with where their new objects accumulate (which needs the tree).

The steps are one :class:`heaptui.model.analysis.Analysis`, as in the report and the export;
its progress callback becomes the status line.
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
    from heaptui.model.snapshot import Snapshot

SUSPECTS = 10
# dominators_for's phase names, as the status line says them
PHASES = {
    "start": "reachability",
    "unreachable": "garbage cycles",
    "dominators": "dominator tree",
    "retained": "summing",
    "by type": "per type",
}


# What the status line says as each step of :class:`Analysis` starts.
STEP_TEXT = {
    "summary": "summarising types…",
    "growth": "comparing with the baseline…",
    "index": "indexing references…",
    "suspects": "looking for leak suspects…",
    "dominators": f"retained sizes: {PHASES['start']}…",
    "retained_by_type": f"retained sizes: {PHASES['by type']}…",
}


def analyse(
    snapshot: Snapshot,
    baseline: Snapshot | None,
    post: Callable[[Message], object],
    cancelled: Callable[[], bool],
) -> None:
    """Compute summary, growth, index, suspects and retained sizes of ``snapshot``, posting
    each as it lands."""
    from heaptui.model.analysis import Analysis

    def progress(step: str, _fraction: float | None) -> None:
        if step.startswith("dominators:"):
            name = step.partition(":")[2]
            text = f"retained sizes: {PHASES.get(name, name)}…"
        elif step == "suspects" and analysis.has_dominators:
            text = "where the new objects accumulate…"
        else:
            text = STEP_TEXT.get(step, f"{step}…")
        post(LoadProgressed(text))

    analysis = Analysis(snapshot, baseline, progress=progress)
    post(SummaryComputed(snapshot, analysis.summary))
    if baseline is not None and not cancelled():
        post(GrowthComputed(snapshot, analysis.growth, analysis.is_new))
    if cancelled():
        return
    post(IndexBuilt(snapshot, analysis.index))
    if baseline is not None and not cancelled():
        post(SuspectsFound(snapshot, analysis.suspects(SUSPECTS)))
    if cancelled():
        return
    try:
        dominators = analysis.dominators
    except MemoryError:  # the rest of the UI works without retained sizes
        post(LoadProgressed("retained sizes: not enough memory"))
        return
    if cancelled():
        return
    dominators.children_csr()  # built (and cached) here, not in the UI thread
    post(DominatorsComputed(snapshot, dominators))
    post(RetainedByTypeComputed(snapshot, analysis.retained_by_type))
    if baseline is not None and not cancelled():
        found = analysis.suspects(SUSPECTS, accumulation=True)
        post(SuspectsFound(snapshot, found, with_accumulation=True))
    post(LoadProgressed(""))
