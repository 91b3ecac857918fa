"""A snapshot with a million instances of one type, built straight from numpy columns."""

from __future__ import annotations

import numpy as np

from heaptui.core.labels import EDGE_INDEX, ROOT_MODULE, TYPE_BUILTIN, TYPE_USER
from heaptui.fileformat.arrays import SnapshotArrays
from heaptui.model.snapshot import Snapshot


def million_heap(count: int = 1_000_000) -> Snapshot:
    """A module holding one list that holds ``count`` ``big.Item`` objects of varied sizes."""
    n = count + 2
    addr = np.arange(n, dtype=np.uint64) * np.uint64(64) + np.uint64(0x10000)
    type_index = np.full(n, 2, dtype=np.uint32)
    type_index[0], type_index[1] = 0, 1
    size = (np.arange(n, dtype=np.uint64) * np.uint64(7919)) % np.uint64(4000) + np.uint64(32)
    edge_count = np.zeros(n, dtype=np.uint32)
    edge_count[0], edge_count[1] = 1, count
    edge_target = np.concatenate([addr[1:2], addr[2:]])
    edge_kind = np.full(count + 1, EDGE_INDEX, dtype=np.uint8)
    edge_payload = np.concatenate([[0], np.arange(count)]).astype(np.int32)
    label = b"sys.modules['big']"
    return Snapshot(
        SnapshotArrays(
            addr=addr,
            type_index=type_index,
            size=size,
            length=np.full(n, -1, dtype=np.int64),
            flags=np.ones(n, dtype=np.uint8),
            edge_count=edge_count,
            repr_offsets=np.zeros(n + 1, dtype=np.uint64),
            repr_blob=np.zeros(0, dtype=np.uint8),
            edge_target=edge_target,
            edge_kind=edge_kind,
            edge_payload=edge_payload,
            type_names=["module", "list", "big.Item"],
            type_addr=np.array([1, 2, 3], dtype=np.uint64),
            type_flags=np.array([TYPE_BUILTIN, TYPE_BUILTIN, TYPE_USER], dtype=np.uint8),
            root_addr=addr[:1].copy(),
            root_kind=np.array([ROOT_MODULE], dtype=np.uint8),
            root_label=np.array([0], dtype=np.uint32),
            string_offsets=np.array([0, len(label)], dtype=np.uint64),
            string_blob=np.frombuffer(label, dtype=np.uint8),
            meta={"pid": 1, "argv": ["big.py"], "python": "3.11.7", "created": ""},
        ),
        source="big.heap",
    )
