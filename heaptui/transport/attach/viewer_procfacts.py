"""Facts about a process we are about to attach to, read from ``/proc`` without tracing it.

Used to fail early with a precise message (no such process, another user's, not Python, too
old a Python) before gdb is even started; gdb makes the final check from the C API symbols.
"""

from __future__ import annotations

import os
import re

_LIBPYTHON = re.compile(r"libpython(\d+)\.(\d+)")
_PYTHON_EXE = re.compile(r"python(\d+)\.(\d+)")


def process_uid(pid: int) -> int | None:
    """Return the uid owning process ``pid``, or None if there is no such (live) process."""
    try:
        uid = os.stat(f"/proc/{pid}").st_uid
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rpartition(b")")[2].split()[:1]
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return uid
    return None if state in ([b"Z"], [b"X"]) else uid  # exited, not yet reaped


def executable(pid: int) -> str | None:
    """Return the path of the process's executable, or None if it cannot be read."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def mapped_files(pid: int) -> list[str] | None:
    """Return the files mapped into the process, or None if its maps cannot be read."""
    try:
        with open(f"/proc/{pid}/maps", encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    paths = {line.split(None, 5)[5] for line in lines if len(line.split(None, 5)) == 6}
    return sorted(p for p in paths if p.startswith("/"))


def python_version(pid: int) -> tuple[int, int] | None:
    """Return the target's (major, minor) from libpython's or the executable's name, if shown."""
    for path in mapped_files(pid) or []:
        match = _LIBPYTHON.search(os.path.basename(path))
        if match:
            return int(match.group(1)), int(match.group(2))
    exe = executable(pid)
    if exe:
        match = _PYTHON_EXE.fullmatch(os.path.basename(exe))
        if match:
            return int(match.group(1)), int(match.group(2))
    return None


def looks_like_python(pid: int) -> bool | None:
    """True if the process maps libpython or runs a python executable; None if unreadable.

    False means "no sign of Python", not proof: an embedding program linked statically would
    show neither, so gdb still gets to look at its symbols.
    """
    files = mapped_files(pid)
    if files is None:
        return None
    if python_version(pid) is not None:
        return True
    exe = os.path.basename(executable(pid) or "")
    return exe.startswith("python") or any("python" in os.path.basename(p) for p in files)


def ptrace_scope() -> int | None:
    """Return Yama's ptrace_scope (0 classic, 1 descendants only, 2 admin, 3 none), if set."""
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def tracer_pid(pid: int) -> int:
    """Return the pid of a debugger already tracing ``pid`` (0 when none, or unknown)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("TracerPid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0
