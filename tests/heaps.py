"""Snapshots built straight from numpy columns, for tests that need big or odd-shaped graphs.

One builder for every test directory (``tests/conftest.py`` puts this folder on the path):
:func:`arrays_graph` for graphs given by edge targets (1M-long chains, hand-made dominator
cases) and :func:`million_heap` for a million instances of one type. Small heaps with names and
reprs are made with :class:`heaptui.testing.SnapshotBuilder` instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from heaptui.core.labels import EDGE_INDEX, ROOT_MODULE, TYPE_BUILTIN, TYPE_USER
from heaptui.fileformat.arrays import SnapshotArrays
from heaptui.model.snapshot import Snapshot


def arrays_graph(
    targets: Any,
    counts: Any,
    *,
    type_names: list[str] | None = None,
    type_index: Any = None,
    type_flags: Any = None,
    roots: list[tuple[int, int]] | None = None,
    root_labels: list[str] | None = None,
    addr_start: int = 0x1000,
    addr_step: int = 16,
    size: Any = None,
    edge_kind: Any = None,
    edge_payload: Any = None,
    meta: dict[str, Any] | None = None,
    source: str = "arrays",
) -> Snapshot:
    """A snapshot from columns: node i has address ``addr_start + addr_step * i``.

    ``counts[i]`` edges leave node i; ``targets`` are node positions. ``roots`` are
    ``(node, ROOT_*)`` pairs, labelled ``root <node>`` unless ``root_labels`` says otherwise.
    Unset columns default to one type ``object``, 32 bytes a node and unnamed edges.
    """
    counts_a = np.asarray(counts, dtype=np.uint32)
    n = len(counts_a)
    addr = np.arange(n, dtype=np.uint64) * np.uint64(addr_step) + np.uint64(addr_start)
    target_pos = np.asarray(targets, dtype=np.int64)
    roots = roots or []
    labels = root_labels if root_labels is not None else [f"root {node}" for node, _ in roots]
    encoded = [t.encode() for t in labels]
    string_offsets = np.zeros(len(encoded) + 1, dtype=np.uint64)
    np.cumsum([len(e) for e in encoded], out=string_offsets[1:])
    names = type_names or ["object"]
    arrays = SnapshotArrays(
        addr=addr,
        type_index=(
            np.zeros(n, dtype=np.uint32)
            if type_index is None
            else np.asarray(type_index, dtype=np.uint32)
        ),
        size=np.full(n, 32, dtype=np.uint64) if size is None else np.asarray(size, np.uint64),
        length=np.full(n, -1, dtype=np.int64),
        flags=np.ones(n, dtype=np.uint8),
        edge_count=counts_a,
        repr_offsets=np.zeros(n + 1, dtype=np.uint64),
        repr_blob=np.zeros(0, dtype=np.uint8),
        edge_target=addr[target_pos] if n else np.zeros(0, dtype=np.uint64),
        edge_kind=(
            np.full(len(target_pos), 3, dtype=np.uint8)
            if edge_kind is None
            else np.asarray(edge_kind, dtype=np.uint8)
        ),
        edge_payload=(
            np.zeros(len(target_pos), dtype=np.int32)
            if edge_payload is None
            else np.asarray(edge_payload, dtype=np.int32)
        ),
        type_names=names,
        type_addr=np.arange(1, len(names) + 1, dtype=np.uint64),
        type_flags=(
            np.ones(len(names), dtype=np.uint8)
            if type_flags is None
            else np.asarray(type_flags, dtype=np.uint8)
        ),
        root_addr=np.array([addr[node] for node, _ in roots], dtype=np.uint64),
        root_kind=np.array([kind for _, kind in roots], dtype=np.uint8),
        root_label=np.arange(len(roots), dtype=np.uint32),
        string_offsets=string_offsets,
        string_blob=np.frombuffer(b"".join(encoded), dtype=np.uint8),
        meta=meta or {},
    )
    return Snapshot(arrays, source=source)


def million_heap(count: int = 1_000_000) -> Snapshot:
    """A module holding one list that holds ``count`` ``big.Item`` objects of varied sizes."""
    n = count + 2
    type_index = np.full(n, 2, dtype=np.uint32)
    type_index[0], type_index[1] = 0, 1
    counts = np.zeros(n, dtype=np.uint32)
    counts[0], counts[1] = 1, count
    return arrays_graph(
        np.arange(1, n),  # the module holds the list, the list every item
        counts,
        type_names=["module", "list", "big.Item"],
        type_index=type_index,
        type_flags=[TYPE_BUILTIN, TYPE_BUILTIN, TYPE_USER],
        roots=[(0, ROOT_MODULE)],
        root_labels=["sys.modules['big']"],
        addr_start=0x10000,
        addr_step=64,
        size=(np.arange(n, dtype=np.uint64) * np.uint64(7919)) % np.uint64(4000) + np.uint64(32),
        edge_kind=np.full(count + 1, EDGE_INDEX, dtype=np.uint8),
        edge_payload=np.concatenate([[0], np.arange(count)]),
        meta={"pid": 1, "argv": ["big.py"], "python": "3.11.7", "created": ""},
        source="big.heap",
    )
