"""`GraphIndex`: referents, referrers and root kinds of every node, built once per snapshot.

The reverse index is a CSR over edge ids grouped by target, taken from the sort the snapshot
already did to resolve addresses, so building it is a few linear numpy passes. Every question
("who refers to this?") is then a slice, never a scan of the heap.
"""

from __future__ import annotations

import numpy as np

from heaptui.core.labels import ROOT_MODULE, ROOT_OTHER, ROOT_THREAD
from heaptui.model.snapshot import Snapshot

# How an "other" root is named: what is known about who holds it.
HELD_OUTSIDE = "held outside Python objects (interpreter or C extension state; e.g. atexit)"


class GraphIndex:
    """Forward and reverse adjacency of one snapshot, plus which nodes are roots."""

    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        n = snapshot.node_count
        edges = snapshot.resolved_edges
        order = snapshot.addr_order if n else np.zeros(0, dtype=np.int64)
        counts_by_rank = np.bincount(edges.target_rank, minlength=n).astype(np.int64)
        starts_by_rank = np.zeros(n, dtype=np.int64)
        if n > 1:
            np.cumsum(counts_by_rank[:-1], out=starts_by_rank[1:])
        self.in_degree = np.empty(n, dtype=np.int64)
        self.in_degree[order] = counts_by_rank
        self._rev_start = np.empty(n, dtype=np.int64)
        self._rev_start[order] = starts_by_rank
        self._rev_edges = edges.by_target
        out_degree = np.diff(edges.offsets)
        edge_source = np.repeat(np.arange(n, dtype=np.int64), out_degree)
        self._rev_source = edge_source[edges.by_target]
        self._offsets = edges.offsets
        self._target = edges.target
        # Root kind per node: 0 = not a root. Module wins over thread when a node is both.
        kinds = np.zeros(n, dtype=np.uint8)
        kinds[self.in_degree == 0] = ROOT_OTHER
        stored_nodes = snapshot.root_node
        stored_kinds = snapshot.root_kind
        for kind in (ROOT_THREAD, ROOT_MODULE):
            kinds[stored_nodes[stored_kinds == kind]] = kind
        self.root_kinds = kinds
        self.other_roots = np.flatnonzero(kinds == ROOT_OTHER)
        self._root_label_of: dict[int, int] = {}
        for node, kind, label in zip(
            stored_nodes.tolist(), stored_kinds.tolist(), snapshot.root_label.tolist(), strict=True
        ):
            if kinds[node] == kind and node not in self._root_label_of:
                self._root_label_of[node] = label

    @property
    def node_count(self) -> int:
        return self.snapshot.node_count

    def referents(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """Nodes ``node`` refers to and the edge ids (``snapshot.edge_label(e)`` names them)."""
        start = int(self._offsets[node])
        end = int(self._offsets[node + 1])
        return self._target[start:end], np.arange(start, end, dtype=np.int64)

    def referrers(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """Nodes that refer to ``node`` and the edge ids of those references."""
        start = int(self._rev_start[node])
        end = start + int(self.in_degree[node])
        return self._rev_source[start:end], self._rev_edges[start:end]

    def root_kind_of(self, node: int) -> int | None:
        """labels.ROOT_* if ``node`` is a root (stored, or "other": nothing refers to it)."""
        kind = int(self.root_kinds[node])
        return kind or None

    def root_label_of(self, node: int) -> str:
        """How a root is shown: ``sys.modules['app']``, a thread label, or why it is "other"."""
        label = self._root_label_of.get(node)
        if label is not None:
            return self.snapshot.string(label)
        if self.root_kinds[node] == ROOT_OTHER:
            # Alive, yet no object in the snapshot refers to it: something outside Python
            # objects holds it (the interpreter's state, a C extension's registry, atexit).
            return f"{self.snapshot.type_name(node)} {HELD_OUTSIDE}"
        return self.snapshot.repr_of(node)

    # Raw CSR access for graph algorithms (paths, dominators): slices, no Python per edge.
    @property
    def rev_start(self) -> np.ndarray:
        """Start of each node's referrer slice in :attr:`rev_source` / :attr:`rev_edges`."""
        return self._rev_start

    @property
    def rev_source(self) -> np.ndarray:
        """Referrer node of each reverse entry (int64 E)."""
        return self._rev_source

    @property
    def rev_edges(self) -> np.ndarray:
        """Edge id of each reverse entry (int64 E)."""
        return self._rev_edges
