"""The timeline file: written line by line, read back, and refused with a line number when bad."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from heaptui.model.timeline import (
    TimelineError,
    append_line,
    load_timeline,
    sample_record,
    snapshot_record,
    watch_record,
)


def _sample(t: float, types: dict[str, list[int]]) -> dict:
    return {"time": t, "rss": 1000, "heap_bytes": 500, "objects": 10, "types": types}


def _write(path: Path, n: int = 3) -> None:
    append_line(str(path), watch_record(42, ["app.py"], 1.0, 100.0))
    for i in range(n):
        append_line(str(path), sample_record(_sample(100.0 + i, {"A": [i, 8 * i], "B": [1, 8]})))
    append_line(str(path), snapshot_record(103.0, "x.heap", "leak", ["A"]))


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "t.timeline"
    _write(path)
    timeline = load_timeline(str(path))
    assert timeline.samples == 3
    assert timeline.names == ["A", "B"]
    assert timeline.counts[:, 0].tolist() == [0, 1, 2]
    assert timeline.sizes[:, 0].tolist() == [0, 8, 16]
    assert timeline.watches[0]["pid"] == 42
    assert timeline.snapshots[0]["path"] == "x.heap"


def test_a_type_absent_from_a_sample_counts_zero(tmp_path: Path) -> None:
    path = tmp_path / "t.timeline"
    append_line(str(path), watch_record(1, [], 1.0, 0.0))
    append_line(str(path), sample_record(_sample(1.0, {"A": [5, 40]})))
    append_line(str(path), sample_record(_sample(2.0, {"C": [1, 8]})))
    timeline = load_timeline(str(path))
    assert timeline.counts.tolist() == [[5, 0], [0, 1]]


def test_a_line_still_being_written_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "t.timeline"
    _write(path)
    with open(path, "a") as f:
        f.write('{"kind": "sample", "time": 200, "heap')
    assert load_timeline(str(path)).samples == 3


BAD_LINES = {
    "not json": ("{nope", "line 2: not a JSON object"),
    "no kind": ('{"time": 1}', "line 2: not a timeline record"),
    "negative count": (
        json.dumps(
            {"kind": "sample", "time": 101, "heap_bytes": 1, "objects": 1, "types": {"A": [-1, 0]}}
        ),
        "must map to [count, bytes]",
    ),
    "string time": (
        json.dumps({"kind": "sample", "time": "x", "heap_bytes": 1, "objects": 1, "types": {}}),
        "'time' must be a non-negative number",
    ),
    "nan": (
        '{"kind": "sample", "time": NaN, "heap_bytes": 1, "objects": 1, "types": {}}',
        "'time' must be",
    ),
    "types not an object": (
        json.dumps({"kind": "sample", "time": 101, "heap_bytes": 1, "objects": 1, "types": []}),
        "'types' must be an object",
    ),
    "backwards in time": (
        json.dumps({"kind": "sample", "time": 1, "heap_bytes": 1, "objects": 1, "types": {}}),
        "time order",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_LINES))
def test_bad_lines_are_refused_with_their_number(tmp_path: Path, name: str) -> None:
    line, message = BAD_LINES[name]
    path = tmp_path / "t.timeline"
    append_line(str(path), watch_record(1, [], 1.0, 0.0))
    append_line(str(path), sample_record(_sample(100.0, {})))
    with open(path, "a") as f:
        f.write(line + "\n")
    with pytest.raises(TimelineError, match="line 3"):
        load_timeline(str(path))
    with pytest.raises(TimelineError) as info:
        load_timeline(str(path))
    assert message.split(": ", 1)[-1] in str(info.value)


def test_not_a_timeline(tmp_path: Path) -> None:
    path = tmp_path / "t.timeline"
    path.write_text('{"kind": "sample", "time": 1}\n')
    with pytest.raises(TimelineError, match="not a heaptui timeline"):
        load_timeline(str(path))
    path.write_bytes(b"\x00\xff garbage\n")
    with pytest.raises(TimelineError, match="line 1"):
        load_timeline(str(path))
    with pytest.raises(TimelineError, match="No such file"):
        load_timeline(str(tmp_path / "missing"))


def test_another_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.timeline"
    record = watch_record(1, [], 1.0, 0.0)
    record["version"] = 99
    append_line(str(path), record)
    with pytest.raises(TimelineError, match="version 99"):
        load_timeline(str(path))
