"""One analysis of a snapshot (against an optional baseline): every step computed once, on demand.

Summary → growth → index → suspects → dominators used to be chained by hand in the UI, the
report and the export; each now asks an :class:`Analysis` for the step it needs, and a step
pulls in the ones before it. Steps are cached, so the UI's two suspect passes (before and
after retained sizes) share one index and one new-object mask.

``progress(step, fraction)`` is called as each step starts (fraction None: no step measures
its own progress yet); the dominator tree's phases arrive as ``"dominators:<phase>"``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from heaptui.model.allocsites import AllocStatus, SiteGrowth
    from heaptui.model.diff import GrowthRow
    from heaptui.model.dominators import Dominators
    from heaptui.model.index import GraphIndex
    from heaptui.model.snapshot import Snapshot
    from heaptui.model.summary import TypeRow
    from heaptui.model.suspects import Suspect

Progress = Callable[[str, "float | None"], object]

# Step names passed to ``progress``, in the order a full analysis starts them.
STEPS = ("summary", "growth", "index", "suspects", "dominators", "retained_by_type")


class Analysis:
    """The answers about ``now`` (and what changed since ``base``), each computed on first use."""

    def __init__(
        self, now: Snapshot, base: Snapshot | None = None, *, progress: Progress | None = None
    ) -> None:
        self.now = now
        self.base = base
        self.progress = progress
        self._suspects: dict[tuple[int, bool], list[Suspect]] = {}

    def _step(self, name: str) -> None:
        if self.progress is not None:
            self.progress(name, None)

    @cached_property
    def summary(self) -> list[TypeRow]:
        """Types of ``now`` by total size."""
        from heaptui.model.summary import type_summary

        self._step("summary")
        return type_summary(self.now)

    @cached_property
    def is_new(self) -> np.ndarray | None:
        """Bool mask over ``now``'s nodes: objects absent from the baseline (None without one)."""
        if self.base is None:
            return None
        from heaptui.model.diff import new_objects

        self._step("growth")
        return new_objects(self.base, self.now)

    @cached_property
    def growth(self) -> list[GrowthRow]:
        """Types whose count or size changed since the baseline (empty without one)."""
        if self.base is None:
            return []
        from heaptui.model.diff import growth

        self.is_new  # noqa: B018 -- the step reported as "growth" includes the mask
        return growth(self.base, self.now)

    @cached_property
    def index(self) -> GraphIndex:
        """Referrers and roots of ``now``."""
        from heaptui.model.index import GraphIndex

        self._step("index")
        return GraphIndex(self.now)

    @cached_property
    def dominators(self) -> Dominators:
        """The dominator tree with every object's retained size (may raise MemoryError)."""
        from heaptui.model.dominators import dominators_for

        index = self.index
        self._step("dominators")
        return dominators_for(index, progress=lambda phase: self._step(f"dominators:{phase}"))

    @property
    def has_dominators(self) -> bool:
        """Whether the dominator tree is already computed (the cheap steps do not need it)."""
        return "dominators" in self.__dict__

    @cached_property
    def retained_by_type(self) -> np.ndarray:
        """Bytes retained by all instances of each type together (uint64, by type index)."""
        from heaptui.model.dominators import retained_by_type

        dominators = self.dominators
        self._step("retained_by_type")
        return retained_by_type(dominators, self.now)

    def suspects(self, top: int, *, accumulation: bool = False) -> list[Suspect]:
        """The ``top`` leak suspects, most likely first (empty without a baseline); with
        ``accumulation``, grouped by where their new objects pile up (needs the dominators)."""
        key = (top, accumulation)
        if key not in self._suspects:
            self._suspects[key] = self._find_suspects(top, accumulation)
        return self._suspects[key]

    def _find_suspects(self, top: int, accumulation: bool) -> list[Suspect]:
        if self.base is None:
            return []
        from heaptui.model.suspects import leak_suspects

        index, is_new = self.index, self.is_new
        dominators = self.dominators if accumulation else None
        self._step("suspects")
        return leak_suspects(
            self.base, self.now, index, top=top, dominators=dominators, is_new=is_new
        )

    def sites(self, top: int, *, accumulation: bool = False) -> list[SiteGrowth | None]:
        """Where the new objects of each suspect were allocated (None: not recorded)."""
        suspects = self.suspects(top, accumulation=accumulation)
        if self.base is None:
            return []
        from heaptui.model.allocsites import growth_by_site

        base, is_new = self.base, self.is_new
        return [growth_by_site(base, self.now, s.name, is_new=is_new) for s in suspects]

    @cached_property
    def alloc(self) -> AllocStatus:
        """Whether ``now`` recorded allocation sites, and why not."""
        from heaptui.model.allocsites import alloc_status

        return alloc_status(self.now)
