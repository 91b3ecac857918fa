"""Files that appear whole or not at all: a temporary file in the same directory, then rename.

Standard library only, and free of global state the writer's process would notice (no
``tempfile``: see :func:`_create_temp_file`): it runs inside the program being measured when an
agent dumps a snapshot, and ships with the agent into attached processes. Temporary files of
writers that died are removed by the next writer in the same directory.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Iterator
from itertools import count
from typing import Any, BinaryIO

__all__ = ["atomic_file", "remove_stale_temp_files", "write_bytes_atomically"]

_TEMP_COUNTER = count()
_TEMP_ATTEMPTS = 10_000
_TEMP_NAME = re.compile(r"\..+\.([0-9]+)\.[0-9]+\.tmp\Z", re.DOTALL)


@contextlib.contextmanager
def atomic_file(
    path: str | os.PathLike[str],
    *,
    mode: int = 0o600,
    owner: int | None = None,
    durable: bool = True,
) -> Iterator[BinaryIO]:
    """Yield a binary file that appears at ``path`` whole, or not at all.

    The file is a temporary one in the same directory, created readable by its owner only
    (mode 0600 by default: a snapshot holds short reprs of the program's strings, which may
    include secrets), then given ``mode`` and, if ``owner`` is another uid, that owner. On a
    normal exit it is flushed to disk (unless not ``durable``: a file that is deleted right
    after use) and renamed over ``path``; on any exception it is removed and an older file at
    ``path`` is left as it was. Every file heaptui writes whole (snapshots, exports, the
    attach payload, the cached compiled walker) goes through here.
    """
    target = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(target))
    fd, temp_path = _create_temp_file(directory, os.path.basename(target))
    try:
        if mode != 0o600:
            os.fchmod(fd, mode)
        if owner is not None and owner != os.geteuid():
            os.fchown(fd, owner, -1)
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.replace(temp_path, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise
    if durable:
        _fsync_directory(directory)


def write_bytes_atomically(data: bytes | bytearray | memoryview, path: str, **options: Any) -> str:
    """Write ``data`` to ``path`` with :func:`atomic_file` (same ``options``); return ``path``."""
    with atomic_file(path, **options) as out:
        out.write(data)
    return path


def _create_temp_file(directory: str, basename: str) -> tuple[int, str]:
    """Create ``.<basename>.<pid>.<n>.tmp`` in ``directory`` exclusively, mode 0600.

    Unlike ``tempfile.mkstemp`` this leaves nothing behind in the process (mkstemp keeps a
    ``random.Random`` for its names from the first call on, which would show up as growth in
    the next snapshot of this process).
    """
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    pid = os.getpid()
    remove_stale_temp_files(directory)
    for _ in range(_TEMP_ATTEMPTS):
        path = os.path.join(directory, f".{basename}.{pid}.{next(_TEMP_COUNTER)}.tmp")
        try:
            return os.open(path, flags, 0o600), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", directory)


def remove_stale_temp_files(directory: str) -> list[str]:
    """Remove the temporary files that writers which died (SIGKILL, a crash) left behind.

    Only names :func:`_create_temp_file` makes (``.<name>.<pid>.<n>.tmp``) whose pid is no
    longer running, that are regular files (never through a symlink) owned by this user.
    Returns the paths removed; any error only leaves a file in place.
    """
    removed: list[str] = []
    if os.name != "posix":  # os.kill(pid, 0) would not just ask there
        return removed
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    for name in names:
        match = _TEMP_NAME.match(name)
        if match is None or _pid_running(int(match.group(1))):
            continue
        path = os.path.join(directory, name)
        try:
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or (uid is not None and info.st_uid != uid):
                continue
            os.unlink(path)
        except OSError:
            continue
        removed.append(path)
    return removed


def _pid_running(pid: int) -> bool:
    if pid <= 0:
        return True  # not a name we made: leave it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's live process; anything else: unsure
        return True
    return True


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); silently skipped where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
