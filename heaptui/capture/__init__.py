"""Capture this process's heap: :func:`capture` returns columns, :func:`dump` writes a file.

Standard library only (plus :mod:`heaptui.labels` and, for :func:`dump`, the snapshot writer):
this package runs inside the program being measured. The walk itself is in
:mod:`heaptui.capture.walker`; see there for what "safe" and "not distorting" mean. When
tracemalloc is tracing, :mod:`heaptui.capture.allocsites` then records allocation sites.

Type names: builtins are bare (``dict``, ``int``), everything else is ``module.QualName``
(``collections.OrderedDict``, ``myapp.models.Value``).
"""

from __future__ import annotations

import sys

from heaptui.capture.raw import RawSnapshot

__all__ = ["RawSnapshot", "capture", "dump"]


def capture(*, collect: bool = False) -> RawSnapshot:
    """Walk the heap and return every object, its labelled references and the roots.

    ``collect=True`` runs ``gc.collect()`` first (unreachable cycles are then left out);
    by default the heap is captured as it is, garbage included. The calling thread's root is
    the frame that called this function.
    """
    from heaptui.capture.allocsites import record_alloc_sites
    from heaptui.capture.roots import caller_frame
    from heaptui.capture.walker import take_snapshot

    raw = take_snapshot(caller_frame(sys._getframe(1)), collect=collect)
    record_alloc_sites(raw)
    return raw


def dump(path: str, *, collect: bool = False) -> str:
    """Capture the heap and write it atomically to ``path`` (a heaptui snapshot file).

    Returns ``path``. The file is written to a temporary name and renamed into place, so a
    reader never sees half a snapshot.
    """
    from heaptui.capture.allocsites import record_alloc_sites
    from heaptui.capture.roots import caller_frame
    from heaptui.capture.walker import take_snapshot
    from heaptui.fileformat.write import write_snapshot_file

    raw = take_snapshot(caller_frame(sys._getframe(1)), collect=collect)
    record_alloc_sites(raw)
    write_snapshot_file(raw, path)
    return path
