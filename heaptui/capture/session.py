"""A capture session around either walk: gc off, one capture at a time, the roots, the metadata.

Both walkers (:mod:`heaptui.capture.walker` and :mod:`heaptui.capture.accel`) go through
:func:`run_paused` and :func:`record_roots`, so they share one definition of both.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from ..core import procinfo
from ..core.raw import RawSnapshot
from ..core.version import VERSION
from . import guard as _guard
from . import roots as _roots

# The capture leaves the program's switch interval as it is: raising it to hold other threads
# off was measured to hang captures beside a busy thread (docs/capture-walker.md).


def python_version() -> str:
    """``3.11.7``: from ``sys.version_info`` (``platform.python_version()`` fills a cache)."""
    major, minor, micro = sys.version_info[:3]
    return f"{major}.{minor}.{micro}"


def run_paused(
    walk: Callable[..., RawSnapshot],
    root_frame: Any,
    exclude_ids: Any,
    *,
    collect: bool,
    walker: str,
    open_sink: Any = None,
) -> RawSnapshot:
    """Run ``walk(root_frame, exclude_ids)`` with gc off, then add the metadata.

    Both walkers (:mod:`heaptui.capture.walker`, :mod:`heaptui.capture.accel`) go through
    here: gc is off around the walk only, and restored in ``finally``. Other threads keep their
    usual turns (the switch interval is left alone, see above): the C walk runs no bytecode except
    in its Python labellers and sinks, so it rarely yields; the pure-Python walk shares the GIL
    with a busy thread. The metadata's ``capture_cpu_seconds`` against ``capture_seconds``
    shows how much others ran. The arguments are passed one by one, never packed: a tuple made
    here would be a snapshot node.
    """
    _guard.enter()  # one capture at a time; a nested one raises CaptureInProgressError
    try:
        if collect:
            gc.collect()
        gc_was_enabled = gc.isenabled()
        started = time.perf_counter()
        cpu_started = time.thread_time()
        gc.disable()
        try:
            if open_sink is None:
                raw = walk(root_frame, exclude_ids)
            else:  # only the C walk streams (heaptui.capture.accel)
                raw = walk(root_frame, exclude_ids, open_sink)
        finally:
            if gc_was_enabled:
                gc.enable()
    finally:
        _guard.leave()
    elapsed = time.perf_counter() - started
    cpu = time.thread_time() - cpu_started
    raw.meta.update(
        {
            "pid": os.getpid(),
            "argv": [a for a in sys.argv if type(a) is str],
            "python": python_version(),
            "implementation": sys.implementation.name,
            "platform": sys.platform,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "rss": procinfo.rss_bytes() or 0,
            "capture_seconds": round(elapsed, 6),
            # Wall time minus this: roughly how long other threads held the GIL mid-walk.
            "capture_cpu_seconds": round(cpu, 6),
            "heaptui_version": VERSION,
            "walker": walker,
            "gc_collected": bool(collect),
            "objects": raw.node_count,
            "edges": raw.edge_total,
        }
    )
    return raw


def own_frame_ids(root_frame: Any) -> set[int]:
    """ids of the frames between this one and ``root_frame`` (the capture's own)."""
    ids = set()
    frame = sys._getframe(1)
    while frame is not None and frame is not root_frame:
        ids.add(id(frame))
        frame = frame.f_back
    return ids


def record_roots(raw: RawSnapshot, strings: Any, root_frame: Any) -> list[Any]:
    """Write the roots (modules, then each thread's stack) into ``raw``; return their objects.

    ``strings`` interns the labels (the Python or the C string table). The returned list is
    the only holder of the root objects: the caller drops it once the walk has taken them.
    """
    root_objects = []
    for obj, kind, label in _roots.module_roots() + _roots.thread_roots(root_frame):
        raw.root_addr.append(id(obj))
        raw.root_kind.append(kind)
        raw.root_label.append(strings.intern(label))
        root_objects.append(obj)
    return root_objects
