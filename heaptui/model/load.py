"""`load_snapshot(path)`: read and validate a snapshot file into a :class:`Snapshot`.

The reader (:mod:`heaptui.fileformat.read`) does the validation and raises
:class:`heaptui.errors.SnapshotError` with a one-line message for anything wrong.
"""

from __future__ import annotations

import os

from heaptui.errors import SnapshotError
from heaptui.model.snapshot import Snapshot


def load_snapshot(path: str) -> Snapshot:
    """Load the snapshot file at ``path``; bad or missing files raise SnapshotError."""
    if not os.path.exists(path):
        raise SnapshotError(f"{path}: no such file")
    if os.path.isdir(path):
        raise SnapshotError(f"{path} is a directory, not a heaptui snapshot")
    from heaptui.fileformat.read import read_snapshot_arrays

    try:
        arrays = read_snapshot_arrays(path)
    except PermissionError as exc:
        raise SnapshotError(f"{path}: permission denied") from exc
    except OSError as exc:
        raise SnapshotError(f"{path}: {exc.strerror or exc}") from exc
    return Snapshot(arrays, source=path)
