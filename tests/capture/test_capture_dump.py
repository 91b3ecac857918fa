"""``dump`` writes a snapshot file atomically that the reader accepts."""

from __future__ import annotations

from pathlib import Path

from heaptui.capture import dump


def test_dump_writes_a_loadable_snapshot(tmp_path: Path) -> None:
    from heaptui.fileformat.read import read_snapshot_arrays

    target = ["dumped", "list"]
    path = tmp_path / "now.heap"
    assert dump(str(path)) == str(path)
    assert path.stat().st_size > 0
    assert [p.name for p in tmp_path.iterdir()] == ["now.heap"]  # no temporary left behind
    arrays = read_snapshot_arrays(str(path))
    from heaptui.capture import accel

    assert arrays.meta["walker"] == ("c" if accel.available() else "python")
    assert arrays.meta["objects"] == len(arrays.addr)
    assert id(target) in set(arrays.addr.tolist())
