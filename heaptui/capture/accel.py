"""The compiled capture: the C walk (``heaptui.capture._walk``) wrapped into a RawSnapshot.

Standard library only. :func:`available` says whether the extension was built (it is optional:
``pip install`` without a compiler installs pure Python only), :func:`capture_raw` takes a
snapshot with it. The result is the one :func:`heaptui.capture.walker.take_snapshot` gives for
the same heap, with ``meta["walker"] == "c"``: the C loop does the hot shapes (exact containers,
scalars, cells, closures, instances of Python classes) and calls the pure-Python walker's own
type table, text functions and labellers for the rest, so both share one definition of names,
texts and labels. Setting ``HEAPTUI_WALKER=python`` makes :func:`available` false.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ..core.raw import RawSnapshot
from . import roots as _roots
from . import session as _session
from . import typetable as _tt
from .naming import Namer
from .saferepr import key_text
from .typeinfo import type_name
from .typelayout import GenericInfo, InstanceInfo
from .typetable import TypeTable

try:
    from . import _walk  # type: ignore[attr-defined]
except ImportError:  # built without a compiler, or a platform without the extension
    _walk = None

WALKER_ENV = "HEAPTUI_WALKER"
# The columns a streamed walk hands over, in the order the C walk uses (its SINK_* enum).
STREAMED_COLUMNS = (
    "addr",
    "type_index",
    "size",
    "length",
    "flags",
    "edge_count",
    "repr_offsets",
    "repr_blob",
    "edge_target",
    "edge_kind",
    "edge_payload",
)
# A streamed walk buffers at most this many nodes and references between two hand-overs
# (about 2 MB of node columns and 1.7 MB of reference columns) ...
CHUNK_NODES = 1 << 16
CHUNK_EDGES = 1 << 17
# ... and its string table (and its cache of rendered dict keys) forgets what it has seen
# once this many are remembered: the file then holds a few repeats (one per batch at most),
# but neither grows with the heap.
STRING_INDEX_LIMIT = 1 << 16
# A small heap gets smaller chunks (a sixteenth of its tracked objects, at least this many
# nodes), so that the buffers are not as big as the heap itself.
MIN_CHUNK_NODES = 1 << 12


def chunk_limits(tracked: int) -> tuple[int, int, int]:
    """``(nodes, references, strings)`` a streamed walk of ``tracked`` gc-tracked objects
    buffers or remembers at most between two hand-overs (see :data:`CHUNK_NODES`)."""
    nodes = min(CHUNK_NODES, max(MIN_CHUNK_NODES, tracked // 16))
    return nodes, min(CHUNK_EDGES, 2 * nodes), min(STRING_INDEX_LIMIT, nodes)


def available() -> bool:
    """True if the C walk can be used (built, and not disabled by ``HEAPTUI_WALKER=python``)."""
    return _walk is not None and os.environ.get(WALKER_ENV, "").strip().lower() != "python"


class _InstanceLabeler:
    """Labels instances the C loop leaves to Python (C heap types, container subclasses)."""

    __slots__ = ("info", "namer")

    def __init__(self, namer: Namer, info: InstanceInfo) -> None:
        self.namer = namer
        self.info = info

    def __call__(self, obj: Any, refs: list[Any]) -> tuple[list[Any], list[int], list[int]]:
        return self.namer.label_instance(obj, refs, self.info)


class _GenericLabeler:
    """Labels instances of C types by members and safe getsets (the walker's CAT_GENERIC)."""

    __slots__ = ("info", "namer", "tp")

    def __init__(self, namer: Namer, tp: type, info: GenericInfo) -> None:
        self.namer = namer
        self.tp = tp
        self.info = info

    def __call__(self, obj: Any, refs: list[Any]) -> tuple[list[Any], list[int], list[int]]:
        return self.namer.label_generic(obj, refs, self.tp, self.info)


class _TypeAdvisor:
    """Answers the C walk's question for each new type: (index, category, text, labeler,
    generic). ``generic`` lets the C walk label instances of a C type itself (members, safe
    getsets, class: what the labeller would do), given as (member descriptors, their name
    payloads, getset descriptors, their name payloads); the labeller stays the fallback."""

    __slots__ = ("namer", "table")

    def __init__(self, table: Any, namer: Namer) -> None:
        self.table = table
        self.namer = namer

    def __call__(self, tp: type) -> tuple[int, int, Any, Any, Any]:
        # The walker's per-type tuple: (index, category, ..., text, extra).
        info = self.table.classify(tp)
        index, cat, text, extra = info[0], info[1], info[-2], info[-1]
        namer = self.namer
        labeler: Any = None
        generic: Any = None
        if cat == _tt.CAT_INSTANCE:
            labeler = _InstanceLabeler(namer, extra)
            if extra.container is not None or not extra.fast:
                # Items of a dict/list/set subclass, getsets of C bases (an exception's
                # __traceback__), an lru_cache's cache: Python's job.
                cat = _tt.CAT_GENERIC
        elif cat == _tt.CAT_FUNCTION:
            labeler = namer.label_function
        elif cat == _tt.CAT_METHOD:
            labeler = namer.label_method
        elif cat == _tt.CAT_CLASS:
            labeler = namer.label_class
        elif cat == _tt.CAT_MODULE:
            labeler = namer.label_module
        elif cat == _tt.CAT_FRAME:
            labeler = namer.label_frame
        elif cat == _tt.CAT_GENERIC:
            labeler = _GenericLabeler(namer, tp, extra)
            if extra.container is None and not extra.sequence:
                generic = (
                    extra.member_descrs,
                    extra.member_payloads,
                    extra.getset_descrs,
                    extra.getset_payloads,
                )
        return index, cat, text, labeler, generic


def capture_raw(
    *,
    collect: bool = False,
    exclude_ids: Any = (),
    root_frame: Any = None,
    open_sink: Any = None,
) -> RawSnapshot:
    """Capture this process's heap with the C walk; raise RuntimeError if it is unavailable.

    ``exclude_ids``: addresses (``id()``) that must not become nodes, e.g. a caller's own
    state. ``root_frame`` stands for this thread's stack (default: the first frame above the
    capture that is not part of :mod:`heaptui.capture`). ``open_sink()``, when given, is
    called once the heap's objects are listed (so what it creates is never a node) and returns
    a ``SnapshotStreamWriter``, which then receives the node and reference columns and the
    string table chunk by chunk during the walk; the result holds only the rest (see
    ``RawSnapshot.streamed_nodes``), so the whole snapshot is never in memory here.
    """
    if _walk is None:
        raise RuntimeError("heaptui's C capture extension is not built")
    if root_frame is None:
        root_frame = _roots.caller_frame(sys._getframe(1))
    return _session.run_paused(
        _capture, root_frame, exclude_ids, collect=collect, walker="c", open_sink=open_sink
    )


def _capture(root_frame: Any, exclude_ids: Any, open_sink: Any = None) -> RawSnapshot:
    # No closures, comprehensions or lambdas here (see heaptui.capture.walker): their cells
    # would exist before gc.get_objects() and show what is assigned to them later.
    objs, dropped = _roots.listed_objects()
    # Tuples that may be being built are left out; a finished one is found again through its
    # holder, and keeps its "listed by gc" flag through these ids (ints: nothing of the host's).
    listed_tuples = set(dropped) if dropped else None
    del dropped
    writer = None if open_sink is None else open_sink()
    excluded = _session.own_frame_ids(root_frame)
    excluded.add(id(objs))
    excluded.update(exclude_ids)

    raw = RawSnapshot()
    chunk_nodes, chunk_edges, remembered = chunk_limits(len(objs))
    strings = _walk.StringTable(0 if writer is None else remembered)
    namer = Namer(strings, type_name)
    table = TypeTable(raw, strings)
    advisor = _TypeAdvisor(table, namer)
    root_objects = _session.record_roots(raw, strings, root_frame)

    cols = _walk.walk(
        objs,
        excluded,
        root_objects,
        advisor,
        strings,
        key_text,
        sink=None if writer is None else writer.add_segment,
        sink_names=STREAMED_COLUMNS,
        chunk_nodes=chunk_nodes,
        chunk_edges=chunk_edges,
        string_sink=None if writer is None else writer.add_encoded_strings,
        key_cache_limit=remembered,
        listed_tuples=listed_tuples,
    )
    del objs, root_objects, listed_tuples
    raw.addr = cols.pop("addr")
    raw.type_index = cols.pop("type_index")
    raw.size = cols.pop("size")
    raw.length = cols.pop("length")
    raw.flags = cols.pop("flags")
    raw.edge_count = cols.pop("edge_count")
    raw.repr_offsets = cols.pop("repr_offsets")
    raw.repr_blob = cols.pop("repr_blob")
    raw.edge_target = cols.pop("edge_target")
    raw.edge_kind = cols.pop("edge_kind")
    raw.edge_payload = cols.pop("edge_payload")
    raw.streamed_nodes = cols.pop("streamed_nodes")
    raw.streamed_edges = cols.pop("streamed_edges")
    # Drop every reference to target objects before returning.
    table.info.clear()
    namer.key_cache.clear()
    namer.closure_names.clear()
    raw.strings = strings.undrained()
    return raw


__all__ = [
    "CHUNK_EDGES",
    "CHUNK_NODES",
    "MIN_CHUNK_NODES",
    "STREAMED_COLUMNS",
    "STRING_INDEX_LIMIT",
    "WALKER_ENV",
    "available",
    "capture_raw",
    "chunk_limits",
]
