"""The in-memory result of a heap walk: flat columns of plain numbers, no live objects.

Standard library only. Both walkers (the pure-Python reference walker and the optional C
accelerator) fill this same structure, and :mod:`heaptui.fileformat.write` serialises it.
Node ``i`` is described by position ``i`` of every node column; its outgoing edges are the
``edge_count[i]`` consecutive entries of the edge columns that follow those of node ``i - 1``.
Edge targets are *addresses* (``id()`` values), not node positions: mapping addresses to
positions is a sort, done cheaply in numpy on the viewer side rather than in the target.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from typing import Any


def _col(code: str) -> array:  # type: ignore[type-arg]
    return array(code)


@dataclass
class RawSnapshot:
    """Columns describing every captured object, its references and the roots."""

    # --- nodes: one entry per object ---
    addr: array = field(default_factory=lambda: _col("Q"))  # id() of the object
    type_index: array = field(default_factory=lambda: _col("I"))  # position in ``types``
    size: array = field(default_factory=lambda: _col("Q"))  # shallow bytes (sys.getsizeof-like)
    length: array = field(default_factory=lambda: _col("q"))  # len() of containers/str, else -1
    flags: array = field(default_factory=lambda: _col("B"))  # labels.NODE_* bits
    edge_count: array = field(default_factory=lambda: _col("I"))  # outgoing edges of each node
    # Safe short repr of node i is repr_blob[repr_offsets[i]:repr_offsets[i+1]] (UTF-8).
    # Empty means "derive it from type, length and address" (containers, plain instances).
    repr_offsets: array = field(default_factory=lambda: _col("Q"))  # N + 1 entries, starts at 0
    repr_blob: bytearray = field(default_factory=bytearray)

    # --- edges: grouped by source node, in node order ---
    edge_target: array = field(default_factory=lambda: _col("Q"))  # address of the referent
    edge_kind: array = field(default_factory=lambda: _col("B"))  # labels.EDGE_*
    edge_payload: array = field(default_factory=lambda: _col("i"))  # string index, position or -1

    # --- types: one entry per distinct type ---
    # Module-qualified names; builtins are bare ("dict", "int"), everything else is
    # "module.QualName" ("collections.OrderedDict", "myapp.models.Value").
    type_names: list[str] = field(default_factory=list)
    type_addr: array = field(default_factory=lambda: _col("Q"))  # id() of the type object
    type_flags: array = field(default_factory=lambda: _col("B"))  # labels.TYPE_* bits

    # --- roots ---
    root_addr: array = field(default_factory=lambda: _col("Q"))
    root_kind: array = field(default_factory=lambda: _col("B"))  # labels.ROOT_MODULE / ROOT_THREAD
    root_label: array = field(default_factory=lambda: _col("I"))  # index into ``strings``

    # --- strings: attribute names, rendered keys, root labels (deduplicated) ---
    strings: list[str] = field(default_factory=list)

    # --- allocation sites (optional; filled only when tracemalloc was tracing) ---
    # Object ``alloc_addr[k]`` was allocated at traceback ``alloc_trace[k]``; traceback t is
    # the frames ``trace_frames[trace_offsets[t]:trace_offsets[t+1]]``, most recent call
    # first; frame f is ``strings[frame_file[f]]`` line ``frame_line[f]``. Empty
    # ``trace_offsets`` means "not recorded" (and nothing of this group is written).
    alloc_addr: array = field(default_factory=lambda: _col("Q"))
    alloc_trace: array = field(default_factory=lambda: _col("I"))
    trace_offsets: array = field(default_factory=lambda: _col("Q"))
    trace_frames: array = field(default_factory=lambda: _col("I"))
    frame_file: array = field(default_factory=lambda: _col("I"))
    frame_line: array = field(default_factory=lambda: _col("I"))

    # --- streamed captures (heaptui.capture.dump with the C walker) ---
    # The first ``streamed_nodes`` nodes and ``streamed_edges`` edges (and the repr bytes before
    # ``repr_offsets[0]``) were handed to a file writer chunk by chunk during the walk and are
    # not held here: the node and edge columns above then hold only the nodes after them, whose
    # ``repr_offsets`` stay absolute. The string table went out in batches too: ``strings`` is
    # its tail, and payloads index the whole table.
    streamed_nodes: int = 0
    streamed_edges: int = 0

    # --- metadata: JSON-compatible values only ---
    # pid, argv, python, platform, created (ISO 8601 UTC), rss, capture_seconds,
    # heaptui_version, walker ("python" or "c"), gc_collected (bool), ...
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def node_count(self) -> int:
        """Nodes of the whole capture, streamed ones included."""
        return self.streamed_nodes + len(self.addr)

    @property
    def edge_total(self) -> int:
        """Edges of the whole capture, streamed ones included."""
        return self.streamed_edges + len(self.edge_target)
