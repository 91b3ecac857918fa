"""Where agents put their sockets, and the checks that keep that place private.

Standard library only (the agent imports it). Each agent listens on ``<dir>/<pid>.sock``,
with ``<dir>`` = ``$XDG_RUNTIME_DIR/heaptui`` when that runtime directory is usable, else
``<tempdir>/heaptui-<uid>``. The directory must be a real directory (not a symlink) owned by
the current user with mode 0700: one owned by anyone else is refused, because whoever owns it
could swap sockets under us. ``heaptui ps`` lists the ``*.sock`` files there.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import struct
import tempfile

SOCKET_SUFFIX = ".sock"
ENV_DIR = "HEAPTUI_SOCKET_DIR"  # overrides the choice (tests, unusual setups)


class UnsafeDirectory(Exception):
    """The socket directory exists but is not private to this user."""


def default_socket_dir() -> str:
    """Return the per-user directory agents listen in (it may not exist yet)."""
    override = os.environ.get(ENV_DIR)
    if override:
        return override
    uid = os.geteuid()
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        try:
            info = os.stat(runtime)
        except OSError:
            info = None
        if info is not None and stat.S_ISDIR(info.st_mode) and info.st_uid == uid:
            return os.path.join(runtime, "heaptui")
    return os.path.join(tempfile.gettempdir(), f"heaptui-{uid}")


def check_private_dir(path: str, owner: int | None = None) -> None:
    """Raise :class:`UnsafeDirectory` unless ``path`` is a private directory (mode 0700).

    It must belong to this user, or to ``owner`` when given (root reaching the agent of
    another user's process, which listens in that user's directory). ``lstat``: a symlink is
    refused, wherever it points.
    """
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafeDirectory(f"{path} is not a directory")
    if info.st_uid not in (os.geteuid(), os.geteuid() if owner is None else owner):
        whose = "this user" if owner is None else f"uid {owner}"
        raise UnsafeDirectory(f"{path} is owned by uid {info.st_uid}, not by {whose}")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise UnsafeDirectory(f"{path} has mode {stat.S_IMODE(info.st_mode):o}, expected 700")


def ensure_socket_dir(path: str | None = None) -> str:
    """Create the socket directory if needed, verify it is private, and return its path.

    A directory we own with a mode that is too open is tightened to 0700 (we own it, so
    nobody else could have put anything in it that we cannot see); one owned by anyone else
    raises :class:`UnsafeDirectory`.
    """
    path = path or default_socket_dir()
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, 0o700)
    info = os.lstat(path)
    ours = stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()
    if ours and stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    check_private_dir(path)
    return path


def socket_path(pid: int, directory: str | None = None) -> str:
    """Return the socket path of the agent in process ``pid``."""
    return os.path.join(directory or default_socket_dir(), f"{pid}{SOCKET_SUFFIX}")


def listed_sockets(directory: str | None = None) -> list[tuple[int, str]]:
    """Return ``(pid, path)`` of every agent socket in the directory, by pid.

    Raises :class:`UnsafeDirectory` when the directory exists but is not private to this user
    (whoever owns it could have put fake agents in it).
    """
    directory = directory or default_socket_dir()
    try:
        check_private_dir(directory)
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for name in names:
        stem, suffix = os.path.splitext(name)
        if suffix == SOCKET_SUFFIX and stem.isdigit():
            found.append((int(stem), os.path.join(directory, name)))
    return sorted(found)


def peer_uid(conn: socket.socket) -> int | None:
    """Return the uid of the process at the other end of ``conn`` (None where the OS cannot
    say: then the private directory is the only protection)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    creds = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    return int(struct.unpack("3i", creds)[1])


def remove_stale_socket(path: str) -> bool:
    """Remove ``path`` if it is a socket (never through a symlink, never another kind of
    file); return whether it was removed."""
    try:
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            return False
        os.unlink(path)
    except OSError:
        return False
    return True


def pid_alive(pid: int) -> bool:
    """Return whether a process with this pid exists (possibly another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
