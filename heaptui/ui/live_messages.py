"""Messages of live mode: counters refreshed, a new capture arrived, the target went away."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class CountersRead(Message):
    """The agent's cheap counters were read (RSS, gc counts, ...)."""

    counters: dict[str, Any]

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, CountersRead)


@dataclass
class CensusRead(Message):
    """One census sample (count and bytes per type) arrived for the Timeline pane."""

    census: dict[str, Any]


@dataclass
class ConnectionLost(Message):
    """The target exited or the connection dropped; ``reason`` is one line for the user."""

    reason: str


@dataclass
class CaptureFailed(Message):
    """A new snapshot could not be taken, but the connection may still be fine."""

    error: str


@dataclass
class SnapshotSaved(Message):
    """The current snapshot was written to ``path``."""

    path: str
