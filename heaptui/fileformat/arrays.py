"""Snapshot columns as numpy arrays: what the reader returns and the model is built from.

A loaded file and a live capture end up in the same :class:`SnapshotArrays`, so the model
never knows where a snapshot came from. Field names follow :class:`RawSnapshot`; the string
table is a UTF-8 blob with offsets (decoded lazily: a big heap has millions of dict keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heaptui.core.raw import RawSnapshot


@dataclass
class AllocColumns:
    """Allocation tracebacks (optional columns, see docs/format.md "Allocation sites")."""

    alloc_addr: np.ndarray  # uint64 K: objects with a known traceback
    alloc_trace: np.ndarray  # uint32 K: their traceback (< TB)
    trace_offsets: np.ndarray  # uint64 TB+1: traceback t is trace_frames[off[t]:off[t+1]]
    trace_frames: np.ndarray  # uint32 F: frame indexes (< FR), most recent call first
    frame_file: np.ndarray  # uint32 FR: string index of the file name
    frame_line: np.ndarray  # uint32 FR: line number


@dataclass
class SnapshotArrays:
    """Validated columns of one snapshot (see docs/format.md for each one's meaning)."""

    addr: np.ndarray  # uint64 N
    type_index: np.ndarray  # uint32 N
    size: np.ndarray  # uint64 N
    length: np.ndarray  # int64 N
    flags: np.ndarray  # uint8 N
    edge_count: np.ndarray  # uint32 N
    repr_offsets: np.ndarray  # uint64 N+1
    repr_blob: np.ndarray  # uint8
    edge_target: np.ndarray  # uint64 E (addresses)
    edge_kind: np.ndarray  # uint8 E
    edge_payload: np.ndarray  # int32 E
    type_names: list[str]
    type_addr: np.ndarray  # uint64 T
    type_flags: np.ndarray  # uint8 T
    root_addr: np.ndarray  # uint64 R
    root_kind: np.ndarray  # uint8 R
    root_label: np.ndarray  # uint32 R
    string_offsets: np.ndarray  # uint64 S+1
    string_blob: np.ndarray  # uint8
    meta: dict[str, Any] = field(default_factory=dict)
    alloc: AllocColumns | None = None  # None: the capture recorded no allocation sites


def _blob_and_offsets(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.uint64)
    if encoded:
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return blob, offsets


def _np(column: Any, dtype: Any) -> np.ndarray:
    return np.frombuffer(column, dtype=dtype).copy() if len(column) else np.zeros(0, dtype=dtype)


def arrays_from_raw(raw: RawSnapshot) -> SnapshotArrays:
    """Convert an in-memory capture into numpy columns without a round trip through a file."""
    string_blob, string_offsets = _blob_and_offsets(raw.strings)
    repr_offsets = _np(raw.repr_offsets, np.uint64)
    if len(repr_offsets) == 0:
        repr_offsets = np.zeros(1, dtype=np.uint64)
    return SnapshotArrays(
        addr=_np(raw.addr, np.uint64),
        type_index=_np(raw.type_index, np.uint32),
        size=_np(raw.size, np.uint64),
        length=_np(raw.length, np.int64),
        flags=_np(raw.flags, np.uint8),
        edge_count=_np(raw.edge_count, np.uint32),
        repr_offsets=repr_offsets,
        repr_blob=np.frombuffer(bytes(raw.repr_blob), dtype=np.uint8),
        edge_target=_np(raw.edge_target, np.uint64),
        edge_kind=_np(raw.edge_kind, np.uint8),
        edge_payload=_np(raw.edge_payload, np.int32),
        type_names=list(raw.type_names),
        type_addr=_np(raw.type_addr, np.uint64),
        type_flags=_np(raw.type_flags, np.uint8),
        root_addr=_np(raw.root_addr, np.uint64),
        root_kind=_np(raw.root_kind, np.uint8),
        root_label=_np(raw.root_label, np.uint32),
        string_offsets=string_offsets,
        string_blob=string_blob,
        meta=dict(raw.meta),
        alloc=_alloc_from_raw(raw),
    )


def _alloc_from_raw(raw: RawSnapshot) -> AllocColumns | None:
    if not len(raw.trace_offsets):
        return None
    return AllocColumns(
        alloc_addr=_np(raw.alloc_addr, np.uint64),
        alloc_trace=_np(raw.alloc_trace, np.uint32),
        trace_offsets=_np(raw.trace_offsets, np.uint64),
        trace_frames=_np(raw.trace_frames, np.uint32),
        frame_file=_np(raw.frame_file, np.uint32),
        frame_line=_np(raw.frame_line, np.uint32),
    )
