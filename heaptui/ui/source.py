"""Snapshot sources: where the app gets its snapshots from (a file now, a live process later).

The app calls :meth:`SnapshotSource.fetch` in a worker thread and posts the result as one
:class:`heaptui.ui.messages.SnapshotLoaded`; nothing else in the UI knows where snapshots come
from. A live source only has to implement the same two members.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from heaptui.core.errors import SnapshotError

if TYPE_CHECKING:
    from heaptui.model.snapshot import Snapshot

ProgressCallback = Callable[[str], None]


class SnapshotSource(Protocol):
    """Something that can produce a snapshot and an optional baseline to compare it with."""

    @property
    def label(self) -> str:
        """Short text naming the source, shown while loading (``after.heap``)."""
        ...

    def fetch(self, progress: ProgressCallback) -> tuple[Snapshot, Snapshot | None]:
        """Return ``(snapshot, baseline)``; raise :class:`heaptui.core.errors.UserError` on failure.

        Runs in a worker thread; ``progress`` reports the step being done.
        """
        ...


def baseline_mismatch(baseline: Snapshot, snapshot: Snapshot) -> str | None:
    """Why ``baseline`` cannot be compared with ``snapshot`` (another program), or None.

    Programs are told apart by ``argv[0]``, as ``heaptui report`` does (it only warns; the UI
    refuses, since every growth figure would be meaningless).
    """
    from heaptui.model.diff import program_of

    before, after = program_of(baseline), program_of(snapshot)
    if before is None or after is None or before == after:
        return None
    return (
        f"the baseline {baseline.source} comes from another program "
        f"({os.path.basename(before) or before}, pid {baseline.meta.get('pid', '?')}) than "
        f"{snapshot.source} ({os.path.basename(after) or after}, "
        f"pid {snapshot.meta.get('pid', '?')})"
    )


class FileSource:
    """Snapshots read from files written by ``heaptui.dump`` or ``heaptui snapshot``."""

    def __init__(self, path: str, baseline_path: str | None = None) -> None:
        self.path = path
        self.baseline_path = baseline_path

    @property
    def label(self) -> str:
        return os.path.basename(self.path)

    def fetch(self, progress: ProgressCallback) -> tuple[Snapshot, Snapshot | None]:
        from heaptui.model.load import load_snapshot

        progress(f"reading {os.path.basename(self.path)}")
        snapshot = load_snapshot(self.path)
        baseline = None
        if self.baseline_path is not None:
            progress(f"reading baseline {os.path.basename(self.baseline_path)}")
            baseline = load_snapshot(self.baseline_path)
            problem = baseline_mismatch(baseline, snapshot)
            if problem:
                raise SnapshotError(problem)
        return snapshot, baseline


class MemorySource:
    """Snapshots already in memory (tests, a demo, a live capture handed over whole)."""

    def __init__(
        self, snapshot: Snapshot, baseline: Snapshot | None = None, label: str = "memory"
    ) -> None:
        self._snapshot = snapshot
        self._baseline = baseline
        self._label = label

    @property
    def label(self) -> str:
        return self._label

    def fetch(self, progress: ProgressCallback) -> tuple[Snapshot, Snapshot | None]:
        if self._baseline is not None:
            problem = baseline_mismatch(self._baseline, self._snapshot)
            if problem:
                raise SnapshotError(problem)
        return self._snapshot, self._baseline
