"""Check a snapshot stream from an agent as it arrives, and stop at its first lie.

Standard library only. An agent is another process: a fake or broken one could stream
gigabytes of garbage into ``heaptui snapshot -o`` or into the viewer's memory. What can be
checked before the end is checked at once:

- the preamble (the first 24 bytes): the magic, a format version this heaptui reads, and for
  version 2 the zero fields the writer leaves there;
- the size so far: format 2 puts the column directory (the segment sizes) at the *end* of
  the stream, so nothing announces them up front. Instead the stream may not grow beyond
  :data:`SIZE_FACTOR` times the memory the target process has held (peak resident plus
  swapped out, read from ``/proc`` by the viewer, not asked of the agent) plus
  :data:`SIZE_MARGIN`: a snapshot stores some 40 bytes per object and 13 per reference, which
  the objects themselves outweigh (measured with ``heaptui.dump``: 0.5 to 0.9 times the
  process's peak RSS for 0.3M to 3M small objects, lists of None and dicts). The limit is
  read again before refusing, in case the target grew meanwhile;
- at the end: the tail (footer and end marker) is in place and the directory it announces
  fits in what came.

The reader checks the rest (every segment against the directory, checksums) when the file is
opened.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable

from heaptui.fileformat.layout import (
    END_MARKER,
    FOOTER_FORMAT,
    MAGIC,
    PREAMBLE_FORMAT,
    PREAMBLE_SIZE,
    READABLE_VERSIONS,
    TAIL_SIZE,
)

SIZE_FACTOR = 8
SIZE_MARGIN = 64 * 1024 * 1024
_PREAMBLE = struct.Struct(PREAMBLE_FORMAT)
_FOOTER = struct.Struct(FOOTER_FORMAT)


class StreamLie(Exception):
    """The stream is not a snapshot (the message says how it gave itself away)."""


def size_limit(memory: int | None) -> int:
    """The most bytes a snapshot of a process that held ``memory`` bytes may take.

    Unknown memory (no ``/proc``): the machine's memory and swap stand in for it.
    """
    if memory is None:
        memory = _machine_memory()
    return SIZE_FACTOR * memory + SIZE_MARGIN


def _machine_memory() -> int:
    total = 0
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                key, _, rest = line.partition(b":")
                if key in (b"MemTotal", b"SwapTotal"):
                    total += int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if total:
        return total
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return 1 << 40


class StreamCheck:
    """Feed every chunk of a snapshot stream, then :meth:`finish`; :class:`StreamLie` ends it.

    ``limit`` returns the current size limit (see :func:`size_limit`); it is called once at
    the start and again only when the stream reaches it.
    """

    def __init__(self, limit: Callable[[], int]) -> None:
        self._limit_of = limit
        self.limit = limit()
        self.received = 0
        self._head = bytearray()
        self._tail = b""
        self.version: int | None = None

    def feed(self, chunk: bytes | bytearray | memoryview) -> None:
        """Account for ``chunk``; raise :class:`StreamLie` at the first sign of garbage."""
        size = len(chunk)
        if self.version is None:
            self._head += bytes(chunk[: PREAMBLE_SIZE - len(self._head)])
            self._check_head()
        self.received += size
        if self.received > self.limit:
            self.limit = max(self.limit, self._limit_of())
            if self.received > self.limit:
                raise StreamLie(
                    f"it sent more than {self.limit // 1_000_000:,} MB, more than a snapshot "
                    "of that process can take"
                )
        if size >= TAIL_SIZE:
            self._tail = bytes(chunk[size - TAIL_SIZE :])
        else:
            self._tail = (self._tail + bytes(chunk))[-TAIL_SIZE:]

    def _check_head(self) -> None:
        head = bytes(self._head)
        if head[: len(MAGIC)] != MAGIC[: len(head)]:
            raise StreamLie("it does not start like a heaptui snapshot")
        if len(head) < PREAMBLE_SIZE:
            return
        version, word, length = _PREAMBLE.unpack_from(head, len(MAGIC))
        if version not in READABLE_VERSIONS:
            raise StreamLie(f"it announces snapshot format {version}")
        if version >= 2 and (word or length):
            raise StreamLie("its preamble holds values a format 2 snapshot leaves zero")
        self.version = version

    def finish(self) -> None:
        """Check the end of a complete stream: the end marker and the footer's directory."""
        if self.version is None or self.received < PREAMBLE_SIZE + len(END_MARKER):
            raise StreamLie(f"it ended after {self.received} bytes, before a whole snapshot")
        if self._tail[-len(END_MARKER) :] != END_MARKER:
            raise StreamLie("it does not end with the snapshot end marker")
        if self.version >= 2:
            if self.received < PREAMBLE_SIZE + TAIL_SIZE:
                raise StreamLie(f"it ended after {self.received} bytes, before a whole snapshot")
            _crc, reserved, length = _FOOTER.unpack_from(self._tail, 0)
            if reserved or length > self.received - PREAMBLE_SIZE - TAIL_SIZE:
                raise StreamLie("its footer announces a directory that is not there")
