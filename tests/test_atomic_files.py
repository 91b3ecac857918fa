"""Every snapshot file heaptui writes appears whole or not at all (core.atomic.atomic_file)."""

from __future__ import annotations

import errno
import stat
from pathlib import Path
from typing import Any

import pytest

from heaptui.commands.snapshot import save_capture
from heaptui.core.atomic import atomic_file, write_bytes_atomically
from heaptui.core.errors import UserError


def test_a_finished_file_is_private_and_replaces_the_old_one(tmp_path: Path) -> None:
    path = tmp_path / "a.heap"
    path.write_bytes(b"old")
    with atomic_file(path) as out:
        out.write(b"new")
        assert path.read_bytes() == b"old"  # nothing shows before the end
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["a.heap"]


def test_a_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "a.heap"
    write_bytes_atomically(b"old", str(path))
    with pytest.raises(RuntimeError), atomic_file(path) as out:
        out.write(b"half")
        raise RuntimeError("interrupted")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.heap"]


class _Client:
    def __init__(self, error: OSError | None = None) -> None:
        self.error = error

    def capture_to(self, out: Any, **_: Any) -> dict[str, int]:
        out.write(b"snapshot bytes")
        if self.error is not None:
            raise self.error
        return {"bytes": 14}


def test_saving_a_live_capture_where_it_cannot_be_written_is_one_clear_error(
    tmp_path: Path,
) -> None:
    with pytest.raises(UserError, match=r"cannot write .*missing.*No such file"):
        save_capture(_Client(), str(tmp_path / "missing" / "x.heap"))
    full = _Client(OSError(errno.ENOSPC, "No space left on device"))
    with pytest.raises(UserError, match="No space left on device"):
        save_capture(full, str(tmp_path / "x.heap"))
    assert list(tmp_path.iterdir()) == []
    assert save_capture(_Client(), str(tmp_path / "x.heap")) == {"bytes": 14}
    assert (tmp_path / "x.heap").read_bytes() == b"snapshot bytes"
