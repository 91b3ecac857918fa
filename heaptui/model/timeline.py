"""The timeline file of a watch: census samples over time, one JSON object per line.

Appendable (a stopped watch resumes by appending), and safe to read while it is written: each
line goes out in one ``write`` on an ``O_APPEND`` descriptor, and a last line without its
newline (a writer caught mid-line) is ignored. The file is untrusted input: every line is
checked (shape, types, ranges, sizes) and a bad one is refused with its line number. The
format is documented in ``docs/timeline.md``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heaptui.core.errors import UserError

FORMAT = "heaptui-timeline"
VERSION = 1
KIND_WATCH = "watch"
KIND_SAMPLE = "sample"
KIND_SNAPSHOT = "snapshot"
# A census reply holds at most a few thousand types: a line longer than this is not ours.
MAX_LINE_BYTES = 8 * 1024 * 1024
MAX_TYPES_PER_SAMPLE = 10_000
MAX_NAME_CHARS = 1000
MAX_FILE_BYTES = 4 * 1024 * 1024 * 1024


class TimelineError(UserError):
    """The timeline file is not one heaptui wrote (or was damaged)."""


@dataclass
class Timeline:
    """Samples as columns: ``counts[i, j]`` is type ``names[j]`` in sample ``i`` (0 if absent)."""

    watches: list[dict[str, Any]]
    times: np.ndarray
    rss: np.ndarray  # bytes; -1 where unknown
    heap_bytes: np.ndarray
    objects: np.ndarray
    names: list[str]
    counts: np.ndarray
    sizes: np.ndarray
    snapshots: list[dict[str, Any]] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return len(self.times)

    def column(self, name: str) -> int:
        return self.names.index(name)


# --- writing ------------------------------------------------------------------------------


def append_line(path: str, record: dict[str, Any]) -> None:
    """Append one record as one line, in one write (a reader sees all of it or none)."""
    data = (json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def watch_record(pid: int, argv: list[str], interval: float, started: float) -> dict[str, Any]:
    """The line that opens a watch (a resumed watch adds another)."""
    return {
        "kind": KIND_WATCH,
        "format": FORMAT,
        "version": VERSION,
        "pid": pid,
        "argv": [str(a) for a in argv][:100],
        "interval": interval,
        "started": started,
    }


def sample_record(census: dict[str, Any]) -> dict[str, Any]:
    """The line of one census sample (the agent's reply, trimmed to the documented fields)."""
    return {
        "kind": KIND_SAMPLE,
        "time": census["time"],
        "rss": census.get("rss"),
        "heap_bytes": census["heap_bytes"],
        "objects": census["objects"],
        "seconds": census.get("seconds", 0.0),
        "types": census["types"],
    }


def snapshot_record(time: float, path: str, reason: str, types: list[str]) -> dict[str, Any]:
    return {"kind": KIND_SNAPSHOT, "time": time, "path": path, "reason": reason, "types": types}


# --- reading ------------------------------------------------------------------------------


def _number(record: dict[str, Any], key: str, where: str, *, optional: bool = False) -> float:
    value = record.get(key)
    if value is None and optional:
        return -1.0
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        raise TimelineError(f"{where}: {key!r} must be a non-negative number")
    return float(value)


def _check_types(raw: Any, where: str) -> dict[str, tuple[int, int]]:
    if not isinstance(raw, dict) or len(raw) > MAX_TYPES_PER_SAMPLE:
        raise TimelineError(
            f"{where}: 'types' must be an object of at most {MAX_TYPES_PER_SAMPLE} types"
        )
    out: dict[str, tuple[int, int]] = {}
    for name, pair in raw.items():
        if len(name) > MAX_NAME_CHARS:
            raise TimelineError(f"{where}: a type name is longer than {MAX_NAME_CHARS} chars")
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or any(type(v) is not int or v < 0 or v >= 1 << 62 for v in pair)
        ):
            raise TimelineError(f"{where}: type {name[:60]!r} must map to [count, bytes]")
        out[name] = (pair[0], pair[1])
    return out


def _parse_line(line: bytes, lineno: int) -> dict[str, Any]:
    where = f"line {lineno}"
    try:
        record = json.loads(line)
    except (UnicodeDecodeError, ValueError):
        raise TimelineError(f"{where}: not a JSON object") from None
    if not isinstance(record, dict) or not isinstance(record.get("kind"), str):
        raise TimelineError(f"{where}: not a timeline record (no 'kind')")
    return record


def load_timeline(path: str) -> Timeline:
    """Read and check a timeline file; raise :class:`TimelineError` naming the bad line."""
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            raise TimelineError(f"{path}: larger than {MAX_FILE_BYTES >> 30} GiB")
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise TimelineError(f"No such file: {path}") from None
    except IsADirectoryError:
        raise TimelineError(f"{path} is a directory") from None
    except OSError as exc:
        raise TimelineError(f"cannot read {path}: {exc.strerror or exc}") from None
    lines = data.split(b"\n")
    if lines and lines[-1]:
        lines.pop()  # a line still being written
    watches: list[dict[str, Any]] = []
    snapshots: list[dict[str, Any]] = []
    times: list[float] = []
    rss: list[float] = []
    heap: list[float] = []
    objects: list[float] = []
    per_sample: list[dict[str, tuple[int, int]]] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}: line {lineno}"
        if len(line) > MAX_LINE_BYTES:
            raise TimelineError(f"{where}: longer than {MAX_LINE_BYTES} bytes")
        record = _parse_line(line, lineno)
        kind = record["kind"]
        if lineno == 1 and kind != KIND_WATCH:
            raise TimelineError(f"{path} is not a heaptui timeline (no watch line first)")
        if kind == KIND_WATCH:
            if record.get("format") != FORMAT or record.get("version") != VERSION:
                raise TimelineError(
                    f"{where}: format {record.get('format')!r} version "
                    f"{record.get('version')!r} is not {FORMAT} {VERSION}"
                )
            pid = record.get("pid")
            if type(pid) is not int:
                raise TimelineError(f"{where}: 'pid' must be an integer")
            _number(record, "interval", where)
            _number(record, "started", where)
            watches.append(record)
        elif kind == KIND_SAMPLE:
            t = _number(record, "time", where)
            if times and t < times[-1]:
                raise TimelineError(f"{where}: samples must be in time order")
            times.append(t)
            rss.append(_number(record, "rss", where, optional=True))
            heap.append(_number(record, "heap_bytes", where))
            objects.append(_number(record, "objects", where))
            per_sample.append(_check_types(record.get("types"), where))
        elif kind == KIND_SNAPSHOT:
            _number(record, "time", where)
            if not isinstance(record.get("path"), str):
                raise TimelineError(f"{where}: a snapshot line needs its 'path'")
            snapshots.append(record)
        # Other kinds: written by a newer heaptui; skipped.
    return build_timeline(watches, times, rss, heap, objects, per_sample, snapshots)


def build_timeline(
    watches: list[dict[str, Any]],
    times: list[float],
    rss: list[float],
    heap: list[float],
    objects: list[float],
    per_sample: list[dict[str, tuple[int, int]]],
    snapshots: list[dict[str, Any]] | None = None,
) -> Timeline:
    """Columns from samples (a type absent from a sample counts 0 there)."""
    names = sorted({name for sample in per_sample for name in sample})
    index = {name: j for j, name in enumerate(names)}
    counts = np.zeros((len(times), len(names)), dtype=np.int64)
    sizes = np.zeros((len(times), len(names)), dtype=np.int64)
    for i, sample in enumerate(per_sample):
        for name, (count, size) in sample.items():
            counts[i, index[name]] = count
            sizes[i, index[name]] = size
    return Timeline(
        watches=watches,
        times=np.asarray(times, dtype=np.float64),
        rss=np.asarray(rss, dtype=np.float64),
        heap_bytes=np.asarray(heap, dtype=np.float64),
        objects=np.asarray(objects, dtype=np.float64),
        names=names,
        counts=counts,
        sizes=sizes,
        snapshots=list(snapshots or []),
    )


def timeline_from_samples(samples: list[dict[str, Any]]) -> Timeline:
    """A timeline from census replies held in memory (what a running watch has)."""
    return build_timeline(
        [],
        [float(s["time"]) for s in samples],
        [float(s["rss"]) if s.get("rss") is not None else -1.0 for s in samples],
        [float(s["heap_bytes"]) for s in samples],
        [float(s["objects"]) for s in samples],
        [{k: (int(v[0]), int(v[1])) for k, v in s["types"].items()} for s in samples],
    )
