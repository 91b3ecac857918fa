"""The socket directory must be private to the user before an agent listens in it."""

from __future__ import annotations

import os
import stat

import pytest

from heaptui.transport import sockdir


def _mode(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_created_with_mode_0700(tmp_path) -> None:
    path = str(tmp_path / "heaptui")
    assert sockdir.ensure_socket_dir(path) == path
    assert _mode(path) == 0o700


def test_own_directory_that_is_too_open_is_tightened(tmp_path) -> None:
    path = tmp_path / "heaptui"
    path.mkdir()
    os.chmod(path, 0o777)
    sockdir.ensure_socket_dir(str(path))
    assert _mode(str(path)) == 0o700


def test_directory_of_another_user_is_refused(tmp_path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to give a directory away")
    path = tmp_path / "heaptui"
    path.mkdir(mode=0o700)
    os.chown(path, 65534, 65534)
    with pytest.raises(sockdir.UnsafeDirectory, match="owned by uid 65534"):
        sockdir.ensure_socket_dir(str(path))
    assert _mode(str(path)) == 0o700  # and left as it was


def test_symlink_is_refused(tmp_path) -> None:
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    link = tmp_path / "heaptui"
    link.symlink_to(real)
    with pytest.raises(sockdir.UnsafeDirectory, match="not a directory"):
        sockdir.ensure_socket_dir(str(link))


def test_default_dir_prefers_the_runtime_dir(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(sockdir.ENV_DIR, raising=False)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert sockdir.default_socket_dir() == str(tmp_path / "heaptui")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "missing"))
    assert sockdir.default_socket_dir().endswith(f"heaptui-{os.geteuid()}")


def test_listed_sockets_only_names_pid_sockets(tmp_path) -> None:
    for name in ("12.sock", "7.sock", ".9.123.tmp", "notes.txt", "x.sock"):
        (tmp_path / name).touch()
    assert sockdir.listed_sockets(str(tmp_path)) == [
        (7, str(tmp_path / "7.sock")),
        (12, str(tmp_path / "12.sock")),
    ]
