"""Capture this process's heap: :func:`snapshot` returns columns, :func:`dump` writes a file.

Standard library only (plus :mod:`heaptui.core.labels` and, for :func:`dump`, the snapshot writer):
this package runs inside the program being measured. The walk itself is in
:mod:`heaptui.capture.walker`; see there for what "safe" and "not distorting" mean. When
tracemalloc is tracing, :mod:`heaptui.capture.allocsites` then records allocation sites.

Two walkers produce the same snapshot: the compiled one (:mod:`heaptui.capture.accel`, about
10x faster) when it was built at install time, else the pure-Python reference walker.
``HEAPTUI_WALKER=python`` forces the pure-Python one; ``meta["walker"]`` says which ran.

Type names: builtins are bare (``dict``, ``int``), everything else is ``module.QualName``
(``collections.OrderedDict``, ``myapp.models.Value``).
"""

from __future__ import annotations

import sys
from typing import Any

from ..core.raw import RawSnapshot

__all__ = ["RawSnapshot", "dump", "snapshot"]


def _run_walker(
    root_frame: Any, collect: bool, exclude_ids: Any = (), open_sink: Any = None
) -> RawSnapshot:
    """Run the compiled walker when it is available, else the pure-Python one.

    ``open_sink`` (see :mod:`heaptui.capture.streaming`) is used only by the compiled walker
    and only while tracemalloc is not tracing; otherwise it is never called.
    """
    from . import accel
    from .allocsites import record_alloc_sites, tracemalloc_tracing

    if accel.available():
        if tracemalloc_tracing():  # its pass after the walk needs every address
            open_sink = None
        raw = accel.capture_raw(
            collect=collect, exclude_ids=exclude_ids, root_frame=root_frame, open_sink=open_sink
        )
    else:
        from .walker import take_snapshot

        raw = take_snapshot(root_frame, collect=collect, exclude_ids=exclude_ids)
    record_alloc_sites(raw)
    return raw


def snapshot(*, collect: bool = False, exclude_ids: Any = ()) -> RawSnapshot:
    """Walk the heap and return every object, its labelled references and the roots.

    ``collect=True`` runs ``gc.collect()`` first (unreachable cycles are then left out);
    by default the heap is captured as it is, garbage included. The calling thread's root is
    the frame that called this function. ``exclude_ids`` are addresses (``id()``) of objects
    that must not be nodes (a tool's own state); references to them are written but point at
    no node, so reading the snapshot drops them. A container of ids made before the call is
    itself an object of the heap: put its own id in it to leave it out too.
    """
    from .roots import caller_frame

    return _run_walker(caller_frame(sys._getframe(1)), collect, exclude_ids)


def dump(path: str, *, collect: bool = False) -> str:
    """Capture the heap and write it atomically to ``path`` (a heaptui snapshot file).

    Returns ``path``. The file is written to a temporary name and renamed into place, so a
    reader never sees half a snapshot. With the compiled walker the snapshot is streamed to
    the file during the walk (see :mod:`heaptui.capture.streaming`), so the program never
    holds all of it in memory.
    """
    from .roots import caller_frame
    from .streaming import stream_to_file

    stream_to_file(path, _run_walker, caller_frame(sys._getframe(1)), collect, ())
    return path
