"""Benchmark the snapshot file format: write, read + validate, bytes per node.

Builds synthetic RawSnapshots of 1M and 5M nodes directly as ``array`` columns (about 1.5
edges per node, reprs on 40% of the nodes, a string table of one string per 10 nodes) and
prints, for each: encode time (to a null sink), write time (file + fsync), load + full
validation time (mmap, as the reader does, and a plain read() copy), the cost of read() and of
crc32 over the whole file alone, and file bytes per node. Then the same snapshot streamed as a
capture that hands its node and edge columns over in chunks of 65,536 nodes and 131,072 edges
writes it (format 2: several segments per column), and what loading that file costs.

Run: ``.venv/bin/python bench/bench_fileformat.py [N ...]`` (millions of nodes; default 1 5).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import zlib
from array import array
from dataclasses import replace

import numpy as np

from heaptui.core.labels import (
    EDGE_ATTR,
    EDGE_CLOSURE,
    EDGE_DICT_KEY,
    EDGE_INDEX,
    EDGE_KEY,
    EDGE_LOCAL,
    MAX_EDGE_KIND,
    ROOT_MODULE,
)
from heaptui.core.raw import RawSnapshot
from heaptui.fileformat.read import read_snapshot_arrays, read_snapshot_bytes
from heaptui.fileformat.write import atomic_snapshot_stream, write_snapshot, write_snapshot_file

REPEAT = 3


def _array(code: str, values: np.ndarray) -> array:  # type: ignore[type-arg]
    column = array(code)
    column.frombytes(np.ascontiguousarray(values).tobytes())
    return column


def synthetic_raw(nodes: int, seed: int = 1) -> RawSnapshot:
    """Return a RawSnapshot of ``nodes`` objects shaped like a real capture."""
    rng = np.random.default_rng(seed)
    types = 500
    strings = max(1, nodes // 10)
    addr = np.arange(nodes, dtype=np.uint64) * 48 + 0x7F00_0000_0000
    edge_count = rng.integers(0, 4, nodes, dtype=np.uint32)  # mean 1.5
    edges = int(edge_count.sum())
    has_repr = rng.random(nodes) < 0.4
    repr_len = np.where(has_repr, rng.integers(4, 40, nodes), 0)
    repr_offsets = np.zeros(nodes + 1, dtype=np.uint64)
    np.cumsum(repr_len, out=repr_offsets[1:])
    edge_kind = rng.integers(0, MAX_EDGE_KIND + 1, edges, dtype=np.uint8)
    payload = np.full(edges, -1, dtype=np.int32)
    named = np.isin(edge_kind, [EDGE_ATTR, EDGE_KEY, EDGE_CLOSURE, EDGE_LOCAL, EDGE_DICT_KEY])
    payload[named] = rng.integers(0, strings, int(named.sum()), dtype=np.int32)
    payload[edge_kind == EDGE_INDEX] = 3

    raw = RawSnapshot()
    raw.addr = _array("Q", addr)
    raw.type_index = _array("I", rng.integers(0, types, nodes, dtype=np.uint32))
    raw.size = _array("Q", rng.integers(16, 1000, nodes, dtype=np.uint64))
    raw.length = _array("q", rng.integers(-1, 100, nodes, dtype=np.int64))
    raw.flags = _array("B", np.ones(nodes, dtype=np.uint8))
    raw.edge_count = _array("I", edge_count)
    raw.repr_offsets = _array("Q", repr_offsets)
    raw.repr_blob = bytearray(b"x" * int(repr_offsets[-1]))
    raw.edge_target = _array("Q", addr[rng.integers(0, nodes, edges)])
    raw.edge_kind = _array("B", edge_kind)
    raw.edge_payload = _array("i", payload)
    raw.type_names = [f"pkg.module{i % 7}.Type{i}" for i in range(types)]
    raw.type_addr = _array("Q", np.arange(types, dtype=np.uint64) * 0x400)
    raw.type_flags = _array("B", np.full(types, 4, dtype=np.uint8))
    raw.root_addr = _array("Q", addr[:100])
    raw.root_kind = _array("B", np.full(100, ROOT_MODULE, dtype=np.uint8))
    raw.root_label = _array("I", np.arange(100, dtype=np.uint32) % strings)
    raw.strings = [f"name_{i}" for i in range(strings)]
    raw.meta = {"pid": 1, "argv": ["bench"], "objects": nodes}
    return raw


def _best(fn: object) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def _crc_only(path: str) -> None:
    with open(path, "rb") as handle:
        zlib.crc32(handle.read())


class _NullSink:
    """A non-seekable sink that drops what it gets (the cost of encoding alone)."""

    def write(self, data: bytes) -> int:
        return len(data)


NODE_COLUMNS = ("addr", "type_index", "size", "length", "flags", "edge_count", "repr_offsets")
EDGE_COLUMNS = ("edge_target", "edge_kind", "edge_payload")
# As the C walk streams (heaptui.capture.accel.CHUNK_NODES / CHUNK_EDGES).
CHUNK_NODES = 1 << 16
CHUNK_EDGES = 1 << 17


def write_streamed(raw: RawSnapshot, path: str) -> int:
    """Write ``raw`` as the chunked capture does: node and edge columns in segments."""
    nodes, edges = raw.node_count, raw.edge_total
    rest = replace(raw, **{name: getattr(raw, name)[:0] for name in (*NODE_COLUMNS, *EDGE_COLUMNS)})
    rest.repr_offsets = raw.repr_offsets[nodes:]  # the last offset goes with finish
    with atomic_snapshot_stream(path) as writer:
        for chunk in range(max(-(-nodes // CHUNK_NODES), -(-edges // CHUNK_EDGES))):
            for names, total, size in (
                (NODE_COLUMNS, nodes, CHUNK_NODES),
                (EDGE_COLUMNS, edges, CHUNK_EDGES),
            ):
                start, end = chunk * size, min((chunk + 1) * size, total)
                for name in names if start < end else ():
                    with memoryview(getattr(raw, name)) as view:
                        writer.add_segment(name, view[start:end])
        return writer.finish(rest)


def bench(nodes: int, directory: str) -> None:
    raw = synthetic_raw(nodes)
    path = os.path.join(directory, f"bench-{nodes}.heap")
    stream = _best(lambda: write_snapshot(raw, _NullSink()))  # type: ignore[arg-type]
    write = _best(lambda: write_snapshot_file(raw, path))
    size = os.path.getsize(path)
    read = _best(lambda: read_snapshot_arrays(path))
    read_copy = _best(lambda: read_snapshot_bytes(open(path, "rb").read(), path))  # noqa: SIM115
    crc = _best(lambda: _crc_only(path))
    read_only = _best(lambda: open(path, "rb").read())  # noqa: SIM115
    print(f"{nodes / 1e6:.1f}M nodes, {raw.edge_total / 1e6:.1f}M edges")
    print(f"  file size              {size / 1e6:7.1f} MB  ({size / nodes:.1f} bytes per node)")
    print(f"  encode (null sink)     {stream:7.2f} s")
    print(f"  write file + fsync     {write:7.2f} s")
    print(f"  load + validate (mmap) {read:7.2f} s   <- read_snapshot_arrays")
    print(f"  load + validate (copy) {read_copy:7.2f} s   (read() then read_snapshot_bytes)")
    print(f"  read() alone           {read_only:7.2f} s")
    print(f"  crc32 of whole file    {crc - read_only:7.2f} s")
    os.unlink(path)
    streamed = _best(lambda: write_streamed(raw, path))
    segments = f"{-(-nodes // CHUNK_NODES)} and {-(-raw.edge_total // CHUNK_EDGES)}"
    read_streamed = _best(lambda: read_snapshot_arrays(path))
    print(f"  streamed in {segments} segments per node and edge column:")
    print(f"    write file + fsync   {streamed:7.2f} s")
    print(f"    load + validate      {read_streamed:7.2f} s   (columns concatenated)")
    os.unlink(path)


def main(argv: list[str]) -> None:
    sizes = [float(a) for a in argv] or [1, 5]
    print(f"best of {REPEAT}, numpy {np.__version__}, zlib {zlib.ZLIB_RUNTIME_VERSION}")
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as directory:
        for millions in sizes:
            bench(int(millions * 1_000_000), directory)


if __name__ == "__main__":
    main(sys.argv[1:])
