"""Browser-like history of selected objects: visit, back, forward."""

from __future__ import annotations


class SelectionHistory:
    """Positions of the objects a user selected, with a cursor for back and forward.

    Visiting after going back drops the forward entries, as a web browser does.
    """

    def __init__(self) -> None:
        self._entries: list[int] = []
        self._cursor = -1

    @property
    def current(self) -> int | None:
        """The object being looked at, or None before the first visit."""
        return self._entries[self._cursor] if self._cursor >= 0 else None

    @property
    def can_go_back(self) -> bool:
        return self._cursor > 0

    @property
    def can_go_forward(self) -> bool:
        return self._cursor < len(self._entries) - 1

    def visit(self, node: int) -> None:
        """Record ``node`` as the new current object (a repeat of the current one is ignored)."""
        if self.current == node:
            return
        del self._entries[self._cursor + 1 :]
        self._entries.append(node)
        self._cursor = len(self._entries) - 1

    def back(self) -> int | None:
        """Step back and return the object there, or None when already at the oldest."""
        if not self.can_go_back:
            return None
        self._cursor -= 1
        return self.current

    def forward(self) -> int | None:
        """Step forward and return the object there, or None when already at the newest."""
        if not self.can_go_forward:
            return None
        self._cursor += 1
        return self.current

    def clear(self) -> None:
        """Forget everything (node positions mean nothing in another snapshot)."""
        self._entries.clear()
        self._cursor = -1

    def __len__(self) -> int:
        return len(self._entries)
