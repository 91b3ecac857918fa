"""`load_snapshot(path)`: read and validate a snapshot file into a :class:`Snapshot`.

The reader (:mod:`heaptui.fileformat.read`) does the validation and raises
:class:`heaptui.core.errors.SnapshotError` with a one-line message for anything wrong.
"""

from __future__ import annotations

import os

from heaptui.fileformat.read import read_snapshot_arrays
from heaptui.model.snapshot import Snapshot


def load_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Load the snapshot file at ``path``; a bad or missing file raises SnapshotError."""
    return Snapshot(read_snapshot_arrays(path), source=os.fspath(path))
