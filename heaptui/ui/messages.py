"""Messages that carry data into the UI; each names an event that already happened.

Data enters the app through :class:`SnapshotLoaded` only (posted by a snapshot source's
worker); the analysis worker then posts the derived results one by one, each tagged with the
snapshot it belongs to so a result for a replaced snapshot can be dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from textual.message import Message

if TYPE_CHECKING:
    from heaptui.model.allocsites import SiteGrowth
    from heaptui.model.diff import GrowthRow
    from heaptui.model.dominators import Dominators
    from heaptui.model.index import GraphIndex
    from heaptui.model.paths import RootPath
    from heaptui.model.snapshot import Snapshot
    from heaptui.model.summary import TypeRow
    from heaptui.model.suspects import Suspect


@dataclass
class SnapshotLoaded(Message):
    """A snapshot (and optionally its baseline) is ready to be shown."""

    snapshot: Snapshot
    baseline: Snapshot | None


@dataclass
class LoadFailed(Message):
    """The source could not provide a snapshot; ``error`` is one line for the user."""

    error: str


@dataclass
class LoadProgressed(Message):
    """The loader or the analysis moved on to a new step (shown in the status line)."""

    text: str

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LoadProgressed)


@dataclass
class SummaryComputed(Message):
    """The type summary of ``snapshot`` is known."""

    snapshot: Snapshot
    rows: list[TypeRow]


@dataclass
class GrowthComputed(Message):
    """Growth per type and the mask of new objects of ``snapshot`` against its baseline."""

    snapshot: Snapshot
    rows: list[GrowthRow]
    new_mask: np.ndarray


@dataclass
class IndexBuilt(Message):
    """The referrer/referent index of ``snapshot`` is ready: object trees can be shown."""

    snapshot: Snapshot
    index: GraphIndex


@dataclass
class DominatorsComputed(Message):
    """The dominator tree of ``snapshot`` and every object's retained size are known."""

    snapshot: Snapshot
    dominators: Dominators


@dataclass
class RetainedByTypeComputed(Message):
    """Bytes retained by all instances of each type of ``snapshot`` (uint64, by type index)."""

    snapshot: Snapshot
    by_type: np.ndarray


@dataclass
class SitesGrouped(Message):
    """The new objects of type ``name`` grouped by allocation site (None: no sites recorded)."""

    snapshot: Snapshot
    name: str
    sites: SiteGrowth | None


@dataclass
class GraphExported(Message):
    """The referrer graph around an object was written (``paths``) or could not be (``error``)."""

    paths: list[str]
    error: str | None = None


@dataclass
class SuspectsFound(Message):
    """Leak suspects of ``snapshot`` against its baseline, most likely first; posted twice:
    quickly, then ``with_accumulation`` (where their new objects pile up) once the dominator
    tree is known."""

    snapshot: Snapshot
    suspects: list[Suspect]
    with_accumulation: bool = False


@dataclass
class InstancesListed(Message):
    """Objects of one type in ``snapshot``, largest first: all of them, or only the new ones
    (``total`` objects of the type, ``new`` of them new since the baseline)."""

    snapshot: Snapshot
    type_index: int
    nodes: np.ndarray
    total: int
    new: int


@dataclass
class RootPathFound(Message):
    """The shortest path from a root to ``node`` (None: nothing in the snapshot holds it)."""

    snapshot: Snapshot
    node: int
    path: RootPath | None


@dataclass
class ObjectChosen(Message):
    """The user picked an object (Enter on an instance or on a tree node)."""

    node: int


@dataclass
class TypeChosen(Message):
    """The user picked a type (Enter in the type summary or the growth table)."""

    type_index: int
