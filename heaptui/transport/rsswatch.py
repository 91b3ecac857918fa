"""A snapshot before the OOM killer: dump once when the process's RSS crosses a limit.

Standard library only (it runs in the host, in one daemon thread of the agent). Every few
seconds the thread reads ``/proc/self/statm`` (a few microseconds) and nothing else; when RSS
reaches the limit it asks the agent for a snapshot file (the same streamed capture as the dump
signal's, into ``dump_dir``) and logs one line naming the file. It dumps again only after
``min_gap`` seconds and once RSS has grown another 10 % past the last dump, and never more
than ``keep`` times in all: a host near its limit must not be filled with snapshot files.

The limit is a size (``2GiB``, ``500MB``, ``123456``) or a percentage (``80%``) of the cgroup's
memory limit when the process has one, else of the machine's memory. The environment
variables ``HEAPTUI_DUMP_AT_RSS``, ``HEAPTUI_DUMP_DIR`` and ``HEAPTUI_DUMP_KEEP`` set the same
for programs started by others (read by :func:`options_from_env`).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
from collections.abc import Callable

from ..core import procinfo
from ..core.agent_threads import AGENT_THREAD_PREFIX

ENV_LIMIT = "HEAPTUI_DUMP_AT_RSS"
ENV_DIR = "HEAPTUI_DUMP_DIR"
ENV_KEEP = "HEAPTUI_DUMP_KEEP"
DEFAULT_PERIOD = 2.0
DEFAULT_MIN_GAP = 60.0
REGROW = 1.10
THREAD_NAME = f"{AGENT_THREAD_PREFIX}-rss"  # left out of the snapshot's roots

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1 << 10,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1 << 20,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1 << 30,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1 << 40,
}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def memory_limit() -> int | None:
    """The cgroup's memory limit of this process (v2, then v1), else the machine's memory."""
    limit = _cgroup_limit()
    if limit is not None:
        return limit
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _cgroup_limit() -> int | None:
    try:
        with open("/proc/self/cgroup", encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    candidates = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            candidates.append(f"/sys/fs/cgroup{parts[2]}/memory.max")
            candidates.append("/sys/fs/cgroup/memory.max")
        elif "memory" in parts[1].split(","):
            candidates.append(f"/sys/fs/cgroup/memory{parts[2]}/memory.limit_in_bytes")
            candidates.append("/sys/fs/cgroup/memory/memory.limit_in_bytes")
    for path in candidates:
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except (OSError, UnicodeDecodeError):
            continue
        if text.isdigit() and 0 < int(text) < 1 << 60:  # v1 says "no limit" with a huge value
            return int(text)
    return None


def parse_limit(text: str, total: Callable[[], int | None] = memory_limit) -> int:
    """Bytes for ``2GiB``, ``500MB``, ``123456`` or ``80%`` (of :func:`memory_limit`).

    Raises ValueError with a one-line reason.
    """
    text = str(text).strip()
    if text.endswith("%"):
        try:
            percent = float(text[:-1])
        except ValueError:
            raise ValueError(f"not a percentage: {text!r}") from None
        if not 0 < percent <= 100:
            raise ValueError(f"a percentage must be in (0, 100]: {text!r}")
        whole = total()
        if whole is None:
            raise ValueError("cannot tell this machine's memory size for a percentage")
        return int(whole * percent / 100)
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (try 2GiB, 500MB or 80%)")
    value = int(float(match.group(1)) * _UNITS[unit])
    if value <= 0:
        raise ValueError(f"the size must be positive: {text!r}")
    return value


def options_from_env(environ: dict[str, str] | None = None) -> dict[str, object]:
    """``{"dump_at_rss", "dump_dir", "dump_keep"}`` set in the environment (empty if none)."""
    env = os.environ if environ is None else environ
    out: dict[str, object] = {}
    if env.get(ENV_LIMIT):
        out["dump_at_rss"] = env[ENV_LIMIT]
        if env.get(ENV_DIR):
            out["dump_dir"] = env[ENV_DIR]
        if env.get(ENV_KEEP, "").isdigit():
            out["dump_keep"] = int(env[ENV_KEEP])
    return out


class RssWatch:
    """The watching thread: ``dump()`` writes a snapshot and returns its path."""

    def __init__(
        self,
        limit: int,
        dump: Callable[[], str],
        *,
        keep: int = 1,
        period: float = DEFAULT_PERIOD,
        min_gap: float = DEFAULT_MIN_GAP,
        read_rss: Callable[[], int | None] = procinfo.rss_bytes,
    ) -> None:
        self.limit = limit
        self.keep = keep
        self.period = period
        self.min_gap = min_gap
        self.paths: list[str] = []
        self._dump = dump
        self._read_rss = read_rss
        self._next_at = limit
        self._last = -float("inf")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=THREAD_NAME, daemon=True)

    def start(self) -> RssWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def check(self) -> str | None:
        """One look at RSS; dump if it is time. Returns the path written, if any."""
        if len(self.paths) >= self.keep:
            return None
        rss = self._read_rss()
        if rss is None or rss < self._next_at or time.monotonic() - self._last < self.min_gap:
            return None
        self._last = time.monotonic()
        self._next_at = max(self.limit, int(rss * REGROW))
        path = self._dump()
        self.paths.append(path)
        _log(
            f"RSS {rss / 2**20:,.0f} MiB crossed {self.limit / 2**20:,.0f} MiB: wrote {path}"
            + (" (the last one: --keep reached)" if len(self.paths) >= self.keep else "")
        )
        return path

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self.period):
                try:
                    self.check()
                except Exception as exc:  # contained: the host must not notice
                    _log(f"the snapshot at high RSS failed: {exc!r}")
                    self._last = time.monotonic()
                if len(self.paths) >= self.keep:
                    return
        finally:
            self._dump = _no_dump  # let go of the agent (no cycle left for gc to find)

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


def _no_dump() -> str:
    raise RuntimeError("the RSS watch has stopped")


def _log(message: str) -> None:
    with contextlib.suppress(Exception):
        print(f"heaptui agent (pid {os.getpid()}): {message}", file=sys.stderr, flush=True)
