"""The snapshot's string table: attribute names, rendered keys and root labels, deduplicated.

Standard library only. Only exact ``str`` objects are used as dict keys here (hashing an exact
str runs no user code); callers pass names they have checked with ``type(name) is str``.
The C walk uses its own table (``heaptui.capture._walk.StringTable``, kept as UTF-8 bytes);
the labelling code shared by both walkers only needs what :class:`Interner` says.
"""

from __future__ import annotations

from itertools import compress
from operator import not_
from typing import Protocol


class Interner(Protocol):
    """What labelling code needs of a string table: positions of strings, added on first use."""

    def intern(self, text: str) -> int: ...

    def intern_many(self, texts: list[str]) -> list[int]: ...


class StringTable:
    """Append-only list of distinct strings with a reverse index (the pure-Python walker's)."""

    __slots__ = ("index", "strings")

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.index: dict[str, int] = {}

    def intern(self, text: str) -> int:
        """Return the position of ``text``, adding it on first use."""
        pos = self.index.get(text)
        if pos is None:
            pos = self.index[text] = len(self.strings)
            self.strings.append(text)
        return pos

    def intern_many(self, texts: list[str]) -> list[int]:
        """Return the position of each text, adding new ones (in first-seen order) in bulk."""
        index = self.index
        new = list(compress(texts, map(not_, map(index.__contains__, texts))))
        if new:
            new = list(dict.fromkeys(new))
            start = len(self.strings)
            self.strings.extend(new)
            index.update(zip(new, range(start, start + len(new)), strict=True))
        return list(map(index.__getitem__, texts))
