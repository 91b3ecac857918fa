"""Cheap facts about a process (resident memory, start time), read from ``/proc`` on Linux.

Standard library only (the agent reports its own figures with it). Every function returns
``None`` where the platform does not say, instead of raising.
"""

from __future__ import annotations

import os
import time

try:  # imported now, not on first use: an import during a capture shows up as growth
    import resource as _resource
except ImportError:  # pragma: no cover - not on this platform
    _resource = None  # type: ignore[assignment]

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes(pid: int | str = "self") -> int | None:
    """Return the resident set size of ``pid`` in bytes (current, not peak)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        pass
    if (pid == "self" or pid == os.getpid()) and _resource is not None:
        try:
            peak = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss
        except OSError:
            return None
        return peak if os.uname().sysname == "Darwin" else peak * 1024
    return None


def effective_uid(pid: int) -> int | None:
    """Return the effective uid of process ``pid`` (its ``Uid:`` line in ``/proc``), or None.

    Not the owner of ``/proc/<pid>``: that is root for a process that is not dumpable.
    """
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Uid:"):
                    return int(line.split()[2])
    except (OSError, ValueError, IndexError):
        pass
    return None


def memory_bytes(pid: int) -> int | None:
    """Return the most memory process ``pid`` has held: peak resident plus swapped out, in
    bytes (None when ``/proc`` does not say)."""
    found: dict[bytes, int] = {}
    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                key, _, rest = line.partition(b":")
                if key in (b"VmHWM", b"VmRSS", b"VmSwap"):
                    found[key] = int(rest.split()[0]) * 1024  # kB
    except (OSError, ValueError, IndexError):
        return None
    if not found:
        return None
    return max(found.get(b"VmHWM", 0), found.get(b"VmRSS", 0)) + found.get(b"VmSwap", 0)


def _boot_time() -> float | None:
    try:
        with open("/proc/stat", "rb") as f:
            for line in f:
                if line.startswith(b"btime "):
                    return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def start_time(pid: int | str = "self") -> float | None:
    """Return when process ``pid`` started, as a Unix timestamp."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        # The command name (field 2) may contain spaces and parentheses: split after it.
        fields = stat[stat.rindex(b")") + 2 :].split()
        ticks = int(fields[19])  # field 22 of the full line
        boot = _boot_time()
        if boot is None:
            return None
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def uptime_seconds(started: float | None) -> float | None:
    """Return how long ago ``started`` was, or None when unknown."""
    return None if started is None else max(0.0, time.time() - started)
