"""`Snapshot`: one heap snapshot as numpy columns, with edges resolved to node positions.

Built from :class:`heaptui.fileformat.arrays.SnapshotArrays` (a loaded file or a live
capture), so the rest of the model never knows where a snapshot came from. Edge targets are
stored as addresses; mapping them to node positions costs two sorts, so it happens lazily, the
first time something asks for edges: a type summary of a big file never pays for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from heaptui.core.labels import render_edge
from heaptui.core.raw import RawSnapshot
from heaptui.fileformat.arrays import SnapshotArrays, arrays_from_raw
from heaptui.model.addrsort import address_order, resolve_order

_STRING_CACHE_LIMIT = 4096


@dataclass(frozen=True)
class ResolvedEdges:
    """Edge columns with targets as node positions, plus the edge order by target address.

    ``by_target`` lists edge ids grouped by target node (groups in address order) and
    ``target_rank`` the rank of each of those edges' target in address order; the graph
    index turns them into a reverse CSR without sorting again.
    """

    offsets: np.ndarray  # int64 N+1
    target: np.ndarray  # int64 E
    kind: np.ndarray  # uint8 E
    payload: np.ndarray  # int32 E
    by_target: np.ndarray  # int64 E, edge ids sorted by target address
    target_rank: np.ndarray  # int64 E, address rank of the target of by_target[i]
    dropped: int


class Snapshot:
    """Columns of one snapshot and the lookups every view needs (names, reprs, labels)."""

    def __init__(self, arrays: SnapshotArrays, source: str = "") -> None:
        self._arrays = arrays
        self.source = source
        self.meta: dict[str, Any] = dict(arrays.meta)
        self.addr: np.ndarray = arrays.addr
        self.type_index: np.ndarray = arrays.type_index
        self.size: np.ndarray = arrays.size
        self.length: np.ndarray = arrays.length
        self.flags: np.ndarray = arrays.flags
        self.type_names: list[str] = list(arrays.type_names)
        self.type_flags: np.ndarray = arrays.type_flags
        self.node_count = len(arrays.addr)
        self._strings: dict[int, str] = {}
        self._string_offsets = arrays.string_offsets
        self._string_blob = arrays.string_blob.tobytes()
        self._repr_offsets = arrays.repr_offsets
        self._repr_blob = arrays.repr_blob
        self._addr_order: np.ndarray | None = None
        self._sorted_addr: np.ndarray | None = None
        self._edges: ResolvedEdges | None = None
        self._roots: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self._total_bytes: int | None = None
        # Allocation sites (optional columns; None when the capture recorded none).
        self.alloc = arrays.alloc
        self._node_trace: np.ndarray | None = None

    @classmethod
    def from_raw(cls, raw: RawSnapshot, source: str = "live") -> Snapshot:
        """Build a snapshot from an in-memory capture (tests, live sources)."""
        return cls(arrays_from_raw(raw), source=source)

    # --- sizes -----------------------------------------------------------------------
    @property
    def total_bytes(self) -> int:
        """Sum of every object's shallow size."""
        if self._total_bytes is None:
            self._total_bytes = int(self.size.sum(dtype=np.uint64))
        return self._total_bytes

    @property
    def stored_edge_total(self) -> int:
        """Number of references in the file, before dropping those to unknown addresses."""
        return len(self._arrays.edge_target)

    # --- addresses -------------------------------------------------------------------
    @property
    def addr_order(self) -> np.ndarray:
        """Node positions sorted by address, ties by position (computed once)."""
        if self._addr_order is None:
            order = address_order(self.addr)
            if order is None:
                order = np.argsort(self.addr, kind="stable")
            self._set_addr_order(order)
        assert self._addr_order is not None
        return self._addr_order

    def _set_addr_order(self, order: np.ndarray) -> None:
        self._addr_order = order
        self._sorted_addr = self.addr[order]

    @property
    def sorted_addr(self) -> np.ndarray:
        """Addresses in ascending order (``addr[addr_order]``)."""
        self.addr_order  # noqa: B018  (computes both)
        assert self._sorted_addr is not None
        return self._sorted_addr

    def node_for_addr(self, addr: int) -> int | None:
        """Return the position of the object at ``addr``, or None if it is not in the snapshot."""
        if self.node_count == 0 or addr < 0 or addr >= 1 << 64:
            return None
        sorted_addr = self.sorted_addr
        pos = int(np.searchsorted(sorted_addr, np.uint64(addr)))
        if pos < len(sorted_addr) and int(sorted_addr[pos]) == addr:
            return int(self.addr_order[pos])
        return None

    # --- edges (resolved lazily) -------------------------------------------------------
    @property
    def resolved_edges(self) -> ResolvedEdges:
        """Edge columns with targets as positions; computed on first use."""
        if self._edges is None:
            self._edges = self._resolve_edges()
            self.meta["dropped_edges"] = self._edges.dropped
        return self._edges

    def _resolve_edges(self) -> ResolvedEdges:
        arrays = self._arrays
        raw_target = arrays.edge_target
        n_edges = len(raw_target)
        counts = arrays.edge_count.astype(np.int64)
        if self.node_count == 0 or n_edges == 0:
            empty = np.zeros(0, dtype=np.int64)
            offsets = np.zeros(self.node_count + 1, dtype=np.int64)
            return ResolvedEdges(
                offsets, empty, arrays.edge_kind[:0], arrays.edge_payload[:0], empty, empty, n_edges
            )
        packed = resolve_order(self.addr, raw_target)
        if packed is not None:
            if self._addr_order is None:
                self._set_addr_order(packed.addr_order)
            by_target, rank, dropped = packed.by_target, packed.target_rank, packed.dropped
        else:
            by_target, rank, dropped = self._match_targets_by_search(raw_target)
        kind = arrays.edge_kind
        payload = arrays.edge_payload
        if dropped:
            keep = np.zeros(n_edges, dtype=bool)
            keep[by_target] = True
            new_id = np.cumsum(keep, dtype=np.int64) - 1
            by_target = new_id[by_target]
            source = np.repeat(np.arange(self.node_count, dtype=np.int64), counts)
            counts = np.bincount(source[keep], minlength=self.node_count).astype(np.int64)
            kind = kind[keep]
            payload = payload[keep]
        target = np.empty(len(by_target), dtype=np.int64)
        target[by_target] = self.addr_order[rank]
        offsets = np.zeros(self.node_count + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return ResolvedEdges(offsets, target, kind, payload, by_target, rank, dropped)

    def _match_targets_by_search(
        self, raw_target: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Fallback when addresses do not pack: argsort the targets, then a sorted search.

        Returns the edge ids whose target exists (by target address), their targets' ranks
        in address order, and how many edges point at unknown addresses.
        """
        sorted_addr = self.sorted_addr
        # Sorting the queries first makes searchsorted walk memory in order (several
        # times faster than random lookups).
        by_target = np.argsort(raw_target, kind="stable")
        sorted_target = raw_target[by_target]
        rank = np.searchsorted(sorted_addr, sorted_target)
        np.minimum(rank, len(sorted_addr) - 1, out=rank)
        found = sorted_addr[rank] == sorted_target
        del sorted_target
        dropped = int(len(raw_target) - np.count_nonzero(found))
        if dropped:
            return by_target[found], rank[found], dropped
        return by_target, rank, 0

    @property
    def edge_offsets(self) -> np.ndarray:
        """Edges of node i are ``edge_offsets[i]:edge_offsets[i+1]`` (int64 N+1)."""
        return self.resolved_edges.offsets

    @property
    def edge_target(self) -> np.ndarray:
        """Target node position of each kept edge (int64 E)."""
        return self.resolved_edges.target

    @property
    def edge_kind(self) -> np.ndarray:
        """labels.EDGE_* of each kept edge (uint8 E)."""
        return self.resolved_edges.kind

    @property
    def edge_payload(self) -> np.ndarray:
        """String index, position or -1 of each kept edge (int32 E)."""
        return self.resolved_edges.payload

    @property
    def edge_total(self) -> int:
        """Number of kept edges (references to objects in the snapshot)."""
        return len(self.resolved_edges.target)

    @property
    def dropped_edges(self) -> int:
        """References to addresses that are not in the snapshot (left out of the graph)."""
        return self.resolved_edges.dropped

    def edge_label(self, edge: int) -> str:
        """The label of edge ``edge`` as a person reads it (``.cache``, ``['k']``, ``[3]``)."""
        edges = self.resolved_edges
        return render_edge(int(edges.kind[edge]), int(edges.payload[edge]), self.string)

    # --- roots -------------------------------------------------------------------------
    def _resolve_roots(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        arrays = self._arrays
        if self._roots is None:
            if len(arrays.root_addr) and self.node_count:
                sorted_addr = self.sorted_addr
                pos = np.searchsorted(sorted_addr, arrays.root_addr)
                np.minimum(pos, len(sorted_addr) - 1, out=pos)
                found = sorted_addr[pos] == arrays.root_addr
                nodes = self.addr_order[pos[found]].astype(np.int64)
                self._roots = (nodes, arrays.root_kind[found], arrays.root_label[found])
            else:
                self._roots = (
                    np.zeros(0, dtype=np.int64),
                    arrays.root_kind[:0],
                    arrays.root_label[:0],
                )
        return self._roots

    @property
    def root_node(self) -> np.ndarray:
        """Node positions of the stored roots (modules, thread frames) found in the snapshot."""
        return self._resolve_roots()[0]

    @property
    def root_kind(self) -> np.ndarray:
        """labels.ROOT_* of each stored root (uint8 R)."""
        return self._resolve_roots()[1]

    @property
    def root_label(self) -> np.ndarray:
        """String index of each stored root's label (``sys.modules['app']``)."""
        return self._resolve_roots()[2]

    # --- allocation sites (see heaptui.model.allocsites) ------------------------------
    @property
    def node_trace(self) -> np.ndarray | None:
        """Allocation traceback index of every node (int64 N, -1 if unknown), or None when
        the capture recorded no allocation sites. Computed once (a sorted search)."""
        if self.alloc is None:
            return None
        if self._node_trace is None:
            trace = np.full(self.node_count, -1, dtype=np.int64)
            addrs = self.alloc.alloc_addr
            if self.node_count and len(addrs):
                sorted_addr = self.sorted_addr
                pos = np.searchsorted(sorted_addr, addrs)
                np.minimum(pos, len(sorted_addr) - 1, out=pos)
                found = sorted_addr[pos] == addrs
                trace[self.addr_order[pos[found]]] = self.alloc.alloc_trace[found]
            self._node_trace = trace
        return self._node_trace

    # --- text ----------------------------------------------------------------------------
    def string(self, index: int) -> str:
        """Entry ``index`` of the string table (decoded on demand, small cache)."""
        text = self._strings.get(index)
        if text is None:
            if not 0 <= index < len(self._string_offsets) - 1:
                return f"<string {index}?>"
            start = int(self._string_offsets[index])
            end = int(self._string_offsets[index + 1])
            text = self._string_blob[start:end].decode("utf-8", "surrogatepass")
            if len(self._strings) >= _STRING_CACHE_LIMIT:
                self._strings.clear()
            self._strings[index] = text
        return text

    def type_name(self, node: int) -> str:
        """Module-qualified type name of ``node`` (builtins bare: ``dict``)."""
        return self.type_names[int(self.type_index[node])]

    def repr_of(self, node: int) -> str:
        """Short safe text for ``node``: the stored repr, or one derived from type and length."""
        start = int(self._repr_offsets[node])
        end = int(self._repr_offsets[node + 1])
        if end > start:
            return self._repr_blob[start:end].tobytes().decode("utf-8", "replace")
        name = self.type_name(node)
        length = int(self.length[node])
        if length >= 0:
            return f"{name} len={length}"
        return f"{name} at {int(self.addr[node]):#x}"
