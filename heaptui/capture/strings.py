"""The snapshot's string table: attribute names, rendered keys and root labels, deduplicated.

Standard library only. Only exact ``str`` objects are used as dict keys here (hashing an exact
str runs no user code); callers pass names they have checked with ``type(name) is str``.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import compress
from operator import not_

# A streamed capture forgets which strings it has seen once this many are remembered: the
# table then holds a few repeats (one per batch at most), but never grows with the heap.
INDEX_LIMIT = 1 << 16


class StringTable:
    """Append-only list of distinct strings with a reverse index.

    A streamed capture hands the strings over in batches (:meth:`drain`): ``base`` strings went
    out before ``strings[0]``, and positions count from the start of the whole table.
    """

    __slots__ = ("base", "index", "strings")

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.index: dict[str, int] = {}
        self.base = 0

    def intern(self, text: str) -> int:
        """Return the position of ``text``, adding it on first use."""
        pos = self.index.get(text)
        if pos is None:
            pos = self.index[text] = self.base + len(self.strings)
            self.strings.append(text)
        return pos

    def drain(self, sink: Callable[[list[str]], None]) -> int:
        """Hand the strings added since the last drain to ``sink``; return the new ``base``.

        The list and the index are emptied in place (the C walk holds them). The index is
        kept while it is small, so common names are not repeated batch after batch.
        """
        sink(self.strings)
        self.base += len(self.strings)
        del self.strings[:]
        if len(self.index) > INDEX_LIMIT:
            self.index.clear()
        return self.base

    def intern_many(self, texts: list[str]) -> list[int]:
        """Return the position of each text, adding new ones (in first-seen order) in bulk."""
        index = self.index
        new = list(compress(texts, map(not_, map(index.__contains__, texts))))
        if new:
            new = list(dict.fromkeys(new))
            start = self.base + len(self.strings)
            self.strings.extend(new)
            index.update(zip(new, range(start, start + len(new)), strict=True))
        return list(map(index.__getitem__, texts))
