"""Atomic writes: a failed write leaves no file, or the previous file untouched."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from snapshot_files import encode, sample_raw

from heaptui.fileformat import write
from heaptui.fileformat.read import read_snapshot_arrays
from heaptui.fileformat.write import write_snapshot_file
from heaptui.testing import SnapshotBuilder


def _fail_after(calls: int, exc: BaseException):  # type: ignore[no-untyped-def]
    """Return a stand-in for ``_write_all`` that writes ``calls`` pieces, then raises."""
    original = write._write_all
    seen = [0]

    def failing(fileobj, data):  # type: ignore[no-untyped-def]
        seen[0] += 1
        if seen[0] > calls:
            raise exc
        return original(fileobj, data)

    return failing


def test_written_file_is_complete_and_private(tmp_path: Path) -> None:
    path = tmp_path / "now.heap"
    write_snapshot_file(sample_raw(), path)
    assert path.read_bytes() == encode(sample_raw())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["now.heap"]


@pytest.mark.parametrize(
    "exc", [OSError(errno.ENOSPC, "No space left on device"), KeyboardInterrupt()]
)
def test_failure_mid_write_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    monkeypatch.setattr(write, "_write_all", _fail_after(5, exc))
    raw = sample_raw()
    with pytest.raises(type(exc)):
        write_snapshot_file(raw, tmp_path / "now.heap")
    assert os.listdir(tmp_path) == []
    raw.addr.append(0xDEAD)  # the writer let go of the capture's buffers


def test_failure_mid_write_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "now.heap"
    old = SnapshotBuilder()
    old.node(0x1, "int", size=28, repr="1")
    write_snapshot_file(old.build(), path)
    before = path.read_bytes()
    monkeypatch.setattr(write, "_write_all", _fail_after(8, OSError(errno.EIO, "I/O error")))
    with pytest.raises(OSError, match="I/O error"):
        write_snapshot_file(sample_raw(), path)
    assert path.read_bytes() == before
    assert len(read_snapshot_arrays(path).addr) == 1
    assert os.listdir(tmp_path) == ["now.heap"]


def test_failing_fsync_leaves_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "now.heap"
    path.write_bytes(b"previous")

    def no_fsync(fd: int) -> None:
        raise OSError(errno.EIO, "fsync failed")

    monkeypatch.setattr(write.os, "fsync", no_fsync)
    with pytest.raises(OSError, match="fsync failed"):
        write_snapshot_file(sample_raw(), path)
    assert path.read_bytes() == b"previous"
    assert os.listdir(tmp_path) == ["now.heap"]


def test_a_bad_snapshot_is_refused_before_any_file_exists(tmp_path: Path) -> None:
    raw = sample_raw()
    raw.size.pop()
    with pytest.raises(ValueError, match="'size'"):
        write_snapshot_file(raw, tmp_path / "now.heap")
    assert os.listdir(tmp_path) == []


def test_missing_directory_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_snapshot_file(sample_raw(), tmp_path / "nowhere" / "now.heap")
    assert os.listdir(tmp_path) == []
