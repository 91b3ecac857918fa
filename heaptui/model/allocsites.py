"""Where objects were allocated: per-object tracebacks and growth grouped by allocation site.

A snapshot has allocation sites when its program ran under tracemalloc (``PYTHONTRACEMALLOC=25
python app.py`` or ``heaptui run --trace app.py``); the capture stores them deduplicated
(:mod:`heaptui.capture.allocsites`, columns in docs/format.md). This module reads them:

- :func:`alloc_status` says whether sites were recorded and, if not or only partly, why and
  how to turn them on (:class:`AllocStatus`, ``.explanation`` is text for a person);
- :func:`alloc_site`: one object's traceback, most recent call first, or None;
- :func:`sites_of` / :func:`growth_by_site`: objects (the new objects of a type) grouped by
  allocation site, biggest group first (:class:`SiteGrowth`).

Frames are :class:`Frame` ``(filename, lineno)``: tracemalloc records no function names.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from heaptui.model.diff import new_objects
from heaptui.model.snapshot import Snapshot
from heaptui.model.suspects import new_of_type

HOW_TO_TURN_ON = (
    "run the program with PYTHONTRACEMALLOC=25 in its environment, or as "
    "'heaptui run --trace app.py'"
)
CPYTHON_101430 = (
    "Python 3.11's tracemalloc finds no traceback for instances of classes with a __dict__ "
    "(cpython#101430, fixed in 3.12)"
)


class Frame(NamedTuple):
    """One line of an allocation traceback."""

    filename: str
    lineno: int

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}"


class AllocStatus(NamedTuple):
    """What a snapshot knows about allocation sites."""

    recorded: bool  # the snapshot holds allocation sites
    tracing: bool | None  # tracemalloc was on at capture (None: the capture did not say)
    frames: int | None  # frames tracemalloc kept per traceback
    traced: int  # objects with a traceback
    untraced: int  # objects looked up without one
    python: str

    @property
    def explanation(self) -> str:
        """One or two sentences for a person: what is missing and what to do about it."""
        if not self.recorded:
            if self.tracing is False:
                return f"tracemalloc was off in the program: {HOW_TO_TURN_ON}"
            return f"this snapshot has no allocation sites: to record them, {HOW_TO_TURN_ON}"
        text = f"allocation sites from tracemalloc ({self.frames or '?'} frames)"
        if self.untraced:
            looked_up = self.traced + self.untraced
            text += (
                f"; {self.untraced:,} of {looked_up:,} objects have no traceback (allocated "
                "before tracemalloc started, or reused from a free list)"
            )
            if self.python.startswith("3.11"):
                text += f"; {CPYTHON_101430}"
        if self.frames == 1:
            text += "; one frame per traceback: PYTHONTRACEMALLOC=25 shows who called"
        return text


def alloc_status(snapshot: Snapshot) -> AllocStatus:
    """Whether ``snapshot`` has allocation sites, and how complete they are."""
    meta = snapshot.meta
    tracing = meta.get("tracemalloc")
    frames = meta.get("tracemalloc_frames")
    return AllocStatus(
        recorded=snapshot.alloc is not None,
        tracing=tracing if isinstance(tracing, bool) else None,
        frames=frames if isinstance(frames, int) else None,
        traced=_count(meta.get("alloc_traced")),
        untraced=_count(meta.get("alloc_untraced")),
        python=str(meta.get("python") or ""),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def trace_frames(snapshot: Snapshot, trace: int) -> list[Frame]:
    """The frames of traceback ``trace``, most recent call first."""
    alloc = snapshot.alloc
    if alloc is None:
        return []
    start = int(alloc.trace_offsets[trace])
    end = int(alloc.trace_offsets[trace + 1])
    frames = alloc.trace_frames[start:end]
    return [
        Frame(snapshot.string(int(f)), int(line))
        for f, line in zip(
            alloc.frame_file[frames].tolist(), alloc.frame_line[frames].tolist(), strict=True
        )
    ]


def alloc_site(snapshot: Snapshot, node: int) -> list[Frame] | None:
    """Where ``node`` was allocated (most recent call first), or None if that is not known."""
    traces = snapshot.node_trace
    if traces is None or traces[node] < 0:
        return None
    return trace_frames(snapshot, int(traces[node]))


class SiteGroup(NamedTuple):
    """Objects allocated at the same place (the same first ``depth`` frames)."""

    frames: list[Frame]  # most recent call first; the full traceback of ``sample``
    objects: int
    size: int
    sample: int  # one of the objects (the largest)


class SiteGrowth(NamedTuple):
    """Selected objects grouped by allocation site, largest total size first."""

    groups: list[SiteGroup]
    untraced_count: int  # selected objects with no traceback
    untraced_size: int
    total_count: int


def sites_of(snapshot: Snapshot, selected: np.ndarray, *, depth: int = 1) -> SiteGrowth | None:
    """Group the ``selected`` nodes (bool N) by their first ``depth`` allocation frames.

    None when the snapshot has no allocation sites. Groups are sorted by bytes, then count.
    """
    traces = snapshot.node_trace
    alloc = snapshot.alloc
    if traces is None or alloc is None:
        return None
    nodes = np.flatnonzero(selected)
    node_traces = traces[nodes]
    known = node_traces >= 0
    sizes = snapshot.size[nodes].astype(np.int64)
    untraced_count = int(np.count_nonzero(~known))
    untraced_size = int(sizes[~known].sum())
    nodes, node_traces, sizes = nodes[known], node_traces[known], sizes[known]
    group_of_trace = _group_traces(alloc.trace_offsets, alloc.trace_frames, node_traces, depth)
    groups = group_of_trace[node_traces]
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    counts = np.bincount(groups, minlength=n_groups)
    totals = np.bincount(groups, weights=sizes, minlength=n_groups)
    # The largest object of each group is its sample (sorted by group, then size descending).
    order = np.lexsort((-sizes, groups))
    firsts = order[np.r_[True, groups[order][1:] != groups[order][:-1]]] if len(order) else order
    result = [
        SiteGroup(
            trace_frames(snapshot, int(node_traces[i])),
            int(counts[groups[i]]),
            int(totals[groups[i]]),
            int(nodes[i]),
        )
        for i in firsts.tolist()
    ]
    result.sort(key=lambda g: (-g.size, -g.objects, [str(f) for f in g.frames]))
    return SiteGrowth(result, untraced_count, untraced_size, int(np.count_nonzero(selected)))


def _group_traces(
    offsets: np.ndarray, frames: np.ndarray, node_traces: np.ndarray, depth: int
) -> np.ndarray:
    """Group number per traceback (int64 TB): those sharing their first ``depth`` frames
    share one. Only tracebacks in ``node_traces`` get a number (a Python loop over them)."""
    keys: dict[tuple[int, ...], int] = {}
    group_of = np.full(len(offsets) - 1, -1, dtype=np.int64)
    for t in np.unique(node_traces).tolist():
        start = int(offsets[t])
        end = min(int(offsets[t + 1]), start + max(depth, 1))
        group_of[t] = keys.setdefault(tuple(frames[start:end].tolist()), len(keys))
    return group_of


def growth_by_site(
    base: Snapshot,
    now: Snapshot,
    type_name: str,
    *,
    depth: int = 1,
    is_new: np.ndarray | None = None,
) -> SiteGrowth | None:
    """The new objects of ``type_name`` in ``now`` (not in ``base``), grouped by site.

    None when ``now`` has no allocation sites. ``is_new`` may pass a precomputed
    :func:`heaptui.model.diff.new_objects` mask.
    """
    if now.alloc is None:
        return None
    if is_new is None:
        is_new = new_objects(base, now)
    return sites_of(now, new_of_type(now, is_new, type_name), depth=depth)
