"""Leak checks for tests: run a body several times and fail when objects pile up with the runs.

:func:`check_leaks` runs the body a few times to fill caches (warm-up), captures the heap,
then runs it again ``rounds`` times with a capture after each run. A type whose count rose in
every measured run is a leak suspect (see :mod:`heaptui.model.rounds`); for each one the
report names a new object's labelled path from a root, i.e. who holds it. Objects the test
machinery itself keeps (pytest's log and monkeypatch records) and those held through an
ignored type are dismissed, not reported.

The check runs in the process it measures, so its own state (earlier captures, censuses) is
left out of every capture by address (:func:`own_ids`); otherwise it would grow with the
rounds and be reported as a leak. :class:`HeapSnapshots` does the same for the snapshots a
test takes by hand.
"""

from __future__ import annotations

import gc
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from heaptui.capture import snapshot
from heaptui.capture.typeinfo import module_of, type_name
from heaptui.core.labels import ROOT_OTHER, TYPE_BUILTIN, TYPE_STDLIB, TYPE_USER
from heaptui.core.raw import RawSnapshot
from heaptui.fileformat.write import write_snapshot_file
from heaptui.model.analysis import Analysis
from heaptui.model.diff import GrowthRow, new_objects
from heaptui.model.index import GraphIndex
from heaptui.model.paths import RootPath, render_path, shortest_root_path
from heaptui.model.rounds import Census, SteadyGrowth, census_of, steady_growth
from heaptui.model.snapshot import Snapshot
from heaptui.model.suspects import Suspect, new_of_type

# Objects whose nearest named holder (a class or a frame's module) is one of these belong to
# the test machinery (pytest's log records, monkeypatch's undo list), not to the code tested.
MACHINERY_PREFIXES = (
    "_pytest.",
    "pytest.",
    "pluggy.",
    "hypothesis.",  # its bounded caches fill over many runs of random examples
    "heaptui.pytest_plugin.",
    "heaptui.leakcheck.",
)
# Suspects shown with a path; the rest are listed by name.
SHOWN_SUSPECTS = 5
# Paths are searched for at most this many growing types (each is a BFS over the heap), and
# for this many new objects of each.
PATHS_LIMIT = 20
SAMPLES_PER_TYPE = 5
UNSEARCHED = f"not searched (more than {PATHS_LIMIT} types grew)"
# Containers followed when listing the check's own objects.
_FOLLOWED = (list, tuple, dict, set, frozenset)
_OWN_MODULES = ("heaptui", "numpy", "array")


def own_ids(*roots: Any) -> set[int]:
    """Addresses of ``roots`` and of the containers and heaptui/numpy/array objects in them.

    These are left out of a capture (``exclude_ids``); what only they hold (strings, ints,
    arrays) is then never reached either. Other objects are not followed: they belong to
    the program. The returned set holds its own address too.
    """
    ids: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in ids:
            continue
        kind = type(obj)
        if kind in _FOLLOWED or module_of(kind).split(".")[0] in _OWN_MODULES:
            ids.add(id(obj))
            # Untracked referents (str, int, arrays of numbers) are reached only through
            # a node, so leaving out their holders leaves them out too.
            stack.extend(filter(gc.is_tracked, gc.get_referents(obj)))
    ids.add(id(ids))
    return ids


def _capture_without(*own: Any) -> RawSnapshot:
    """Collect garbage and capture the heap, leaving out ``own`` (see :func:`own_ids`)."""
    return snapshot(collect=True, exclude_ids=own_ids(*own))


def type_names(types: Iterable[type | str]) -> frozenset[str]:
    """Snapshot type names of classes or names (``dict``, ``myapp.models.Value``)."""
    return frozenset(t if isinstance(t, str) else type_name(t) for t in types)


class LeakSuspect(NamedTuple):
    """A type that grew in every measured round, with the path to one of its new objects."""

    name: str
    counts: tuple[int, ...]  # objects added in each measured round
    sizes: tuple[int, ...]  # bytes added in each measured round
    path: str | None  # ``sys.modules['app'] -> .CACHE -> [3] -> Value``
    user_type: bool

    @property
    def bytes_per_round(self) -> float:
        """Mean bytes added per round."""
        return sum(self.sizes) / len(self.sizes)


@dataclass
class LeakResult:
    """What a leak check found; ``leaked`` decides whether the test fails."""

    name: str
    rounds: int
    warmup: int
    allow_bytes: int
    suspects: list[LeakSuspect] = field(default_factory=list)
    dismissed: list[str] = field(default_factory=list)  # held by the machinery or ignored
    unseen: list[LeakSuspect] = field(default_factory=list)  # no visible holder: not counted
    saved: tuple[str, str] | None = None  # (before, after) snapshot files
    save_error: str | None = None
    rounds_run: int = 0  # measured rounds actually run (fewer when no type kept growing)
    seconds: float = 0.0

    @property
    def bytes_per_round(self) -> float:
        """Mean bytes the suspects add per round."""
        return sum(s.bytes_per_round for s in self.suspects)

    @property
    def leaked(self) -> bool:
        """True when some type grew in every round by more than the allowed bytes."""
        return bool(self.suspects) and self.bytes_per_round > self.allow_bytes

    def message(self) -> str:
        """The failure text: suspects, objects per round, holder paths, snapshot files."""
        lines = [
            f"{self.name} leaks: objects accumulate with every run of the test "
            f"({self.warmup} warm-up + {self.rounds} measured runs)"
        ]
        for suspect in self.suspects[:SHOWN_SUSPECTS]:
            counts = " ".join(f"+{c}" for c in suspect.counts)
            lines.append(
                f"  {suspect.name}: {counts} objects per run "
                f"({_bytes(suspect.bytes_per_round)} per run)"
            )
            lines.append(f"    held by: {suspect.path or 'no path from a root found'}")
        rest = [s.name for s in self.suspects[SHOWN_SUSPECTS:]]
        if rest:
            lines.append(f"  and {len(rest)} more types: {', '.join(rest[:10])}")
        for suspect in self.unseen[:SHOWN_SUSPECTS]:
            counts = " ".join(f"+{c}" for c in suspect.counts)
            lines.append(
                f"  not counted: {suspect.name}: {counts} objects per run, held by nothing "
                "the capture sees (a C object's buffer?)"
            )
        lines.append(
            f"  leaked per run: {_bytes(self.bytes_per_round)} "
            f"(allowed: {_bytes(self.allow_bytes)})"
        )
        if self.saved:
            before, after = self.saved
            lines.append(f"  snapshots: heaptui open {after} --baseline {before}")
        elif self.save_error:
            lines.append(f"  snapshots not saved: {self.save_error}")
        return "\n".join(lines)


def _bytes(n: float) -> str:
    return f"{n:,.0f} B"


class _State:
    """Everything the check keeps between captures; left out of each capture."""

    def __init__(self) -> None:
        self.base: RawSnapshot | None = None
        self.last: RawSnapshot | None = None
        self.censuses: list[Census] = []
        self.steady: list[SteadyGrowth] = []


def check_leaks(
    body: Callable[[], Any],
    *,
    name: str = "body",
    rounds: int = 3,
    warmup: int = 2,
    ignore: Iterable[type | str] = (),
    allow_bytes: int = 0,
    save_dir: str | None = None,
) -> tuple[LeakResult, Any]:
    """Run ``body`` ``warmup + rounds`` times; return the result and ``body``'s last value.

    Stops early when after some round no type has grown in every round so far. On a leak,
    the snapshots before and after the measured rounds are written to ``save_dir`` (when
    given) for ``heaptui open``. Exceptions of ``body`` propagate.
    """
    if rounds < 1 or warmup < 0 or allow_bytes < 0:
        raise ValueError("rounds must be at least 1, warmup and allow_bytes at least 0")
    started = time.perf_counter()
    ignored = type_names(ignore)
    result = LeakResult(name, rounds, warmup, allow_bytes)
    state = _State()
    value = None
    for run in range(1, warmup + 1):
        value = _run(body, run, warmup + rounds)
    value = None
    state.base = _capture_without(state, result)
    state.censuses.append(census_of(state.base))
    for measured in range(1, rounds + 1):
        state.last = None
        value = _run(body, warmup + measured, warmup + rounds)
        state.last = _capture_without(state, result)
        state.censuses.append(census_of(state.last))
        state.steady = steady_growth(state.censuses, ignored)
        result.rounds_run = measured
        if not state.steady:
            break
    if state.steady:
        _explain(result, state, ignored)
        if result.leaked and save_dir is not None:
            _save(result, state, save_dir)
    result.seconds = time.perf_counter() - started
    return result, value


def _run(body: Callable[[], Any], run: int, runs: int) -> Any:
    """Call ``body``; an exception after the first run says which run raised it."""
    try:
        return body()
    except BaseException as exc:
        if run > 1 and hasattr(exc, "add_note"):  # Python 3.11+
            exc.add_note(f"heaptui: raised in run {run} of {runs} (the leak check repeats it)")
        raise


def _explain(result: LeakResult, state: _State, ignored: frozenset[str]) -> None:
    """Find who holds the new objects of each steadily growing type; sort it into the result.

    A few new objects of the type are followed to a root (one could be a value replaced every
    run, the others the pile). The type is a suspect when at least half of them are held by
    the code under test; else it is set aside as unseen when nothing the capture can see holds
    most of them (a C object's buffer), or dismissed (the test machinery, an ignored type).
    """
    assert state.base is not None and state.last is not None
    base = Snapshot.from_raw(state.base, source="before")
    now = Snapshot.from_raw(state.last, source="after")
    index = GraphIndex(now)
    is_new = new_objects(base, now)
    flags = dict(zip(now.type_names, now.type_flags.tolist(), strict=True))
    # Builtin and standard-library classes (dict, _thread._local, OrderedDict) are holders
    # of any code's objects: whose an object is shows further up.
    generic = frozenset(name for name, f in flags.items() if f & (TYPE_BUILTIN | TYPE_STDLIB))
    steady = sorted(state.steady, key=lambda g: not flags.get(g.name, 0) & TYPE_USER)
    unsearched: list[LeakSuspect] = []
    for rank, grown in enumerate(steady):
        user_type = bool(flags.get(grown.name, 0) & TYPE_USER)
        if rank >= PATHS_LIMIT:
            unsearched.append(
                LeakSuspect(grown.name, grown.counts, grown.sizes, UNSEARCHED, user_type)
            )
            continue
        verdicts: list[tuple[str, RootPath]] = []
        for sample in _spread_samples(new_of_type(now, is_new, grown.name)):
            path = shortest_root_path(index, sample)
            if path is not None:
                verdicts.append((_holder_kind(now, path, is_new, ignored, generic), path))
        held = [path for kind, path in verdicts if kind == HELD_BY_CODE]
        unseen = [path for kind, path in verdicts if kind == HELD_UNSEEN]
        if 2 * len(held) >= len(verdicts):
            shown: RootPath | None = held[0] if held else None
            target = result.suspects
        elif len(unseen) > len(held) and 2 * len(unseen) >= len(verdicts):
            shown, target = unseen[0], result.unseen
        else:
            result.dismissed.append(grown.name)
            continue
        text = render_path(shown) if shown is not None else None
        target.append(LeakSuspect(grown.name, grown.counts, grown.sizes, text, user_type))
    # Types past the search limit go with a leak found among the others, else are let be.
    if result.suspects:
        result.suspects.extend(unsearched)
    else:
        result.dismissed.extend(s.name for s in unsearched)


def _spread_samples(mask: Any, count: int = SAMPLES_PER_TYPE) -> list[int]:
    """Up to ``count`` nodes of ``mask``, spread evenly over them (the newest last)."""
    nodes = np.flatnonzero(mask)
    if len(nodes) > count:
        nodes = nodes[np.linspace(0, len(nodes) - 1, count).round().astype(np.int64)]
    return [int(node) for node in nodes]


HELD_BY_CODE = "code"  # the code under test holds it: a leak
HELD_BY_MACHINERY = "machinery"  # pytest (log records, monkeypatch's undo list) or heaptui
HELD_THROUGH_IGNORED = "ignored"  # an ignored type is on its path
HELD_UNSEEN = "unseen"  # no object the capture sees holds it (e.g. a StringIO's buffer)


def _holder_kind(
    now: Snapshot, path: RootPath, is_new: Any, ignored: frozenset[str], generic: frozenset[str]
) -> str:
    """Who keeps a new object: decided by the nearest old object's nearest named holder.

    The new objects on the path (the leaked object and the new objects holding it) hang from
    an old one, the anchor; from there towards the root, the first object of a class that is
    neither builtin nor from the standard library, or the first frame, tells whose it is:
    pytest's, hypothesis's and this plugin's are the machinery's. What a new object of an
    ignored type holds is ignored with it.
    """
    nodes = path.steps.nodes.tolist()
    types = [now.type_name(n) for n in nodes]
    anchor = len(nodes) - 1
    while anchor > 0 and is_new[nodes[anchor]]:
        anchor -= 1
    if any(t in ignored for t in types[anchor + 1 : -1]):  # held by a new ignored object
        return HELD_THROUGH_IGNORED
    if anchor == len(nodes) - 1:  # the object is a root itself
        return HELD_UNSEEN if path.root_kind == ROOT_OTHER else HELD_BY_CODE
    for node, kind in zip(
        reversed(nodes[: anchor + 1]), reversed(types[: anchor + 1]), strict=True
    ):
        if kind == "frame":
            module = _frame_module(now, node)
        elif kind not in generic:
            module = kind
        else:
            continue
        if module is not None:
            return HELD_BY_MACHINERY if module.startswith(MACHINERY_PREFIXES) else HELD_BY_CODE
    if path.root_kind == ROOT_OTHER:
        return HELD_UNSEEN
    label = path.root_label
    if label.startswith("sys.modules['"):
        module = label[len("sys.modules['") :].split("'")[0] + "."
        if module.startswith(MACHINERY_PREFIXES):
            return HELD_BY_MACHINERY
    return HELD_BY_CODE


def _frame_module(now: Snapshot, frame: int) -> str | None:
    """``__name__`` of a frame's globals plus a dot (``_pytest.python.``), when captured."""
    offsets = now.edge_offsets
    targets = now.resolved_edges.target
    for edge in range(int(offsets[frame]), int(offsets[frame + 1])):
        if now.edge_label(edge) != ".f_globals":
            continue
        globals_node = int(targets[edge])
        for item in range(int(offsets[globals_node]), int(offsets[globals_node + 1])):
            if now.edge_label(item) == "['__name__']":
                text = now.repr_of(int(targets[item]))
                return text.strip("'\"") + "."
    return None


def _save(result: LeakResult, state: _State, save_dir: str) -> None:
    """Write the snapshots before and after the measured rounds; note failure, never raise."""
    assert state.base is not None and state.last is not None
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", result.name).strip("_")[:120] or "test"
    before = os.path.join(save_dir, f"{stem}.before.heap")
    after = os.path.join(save_dir, f"{stem}.after.heap")
    try:
        os.makedirs(save_dir, exist_ok=True)
        write_snapshot_file(state.base, before)
        write_snapshot_file(state.last, after)
    except (OSError, ValueError) as exc:
        result.save_error = str(exc)
        return
    result.saved = (before, after)


class HeapDiff:
    """Two snapshots of one test compared: growth per type and leak suspects with paths."""

    def __init__(self, base: Snapshot, now: Snapshot) -> None:
        self.base = base
        self.now = now
        self._analysis = Analysis(now, base)  # each step once, however often it is asked

    @property
    def growth(self) -> list[GrowthRow]:
        """Every type whose count or bytes changed, largest byte growth first."""
        return self._analysis.growth

    def _row(self, kind: type | str) -> GrowthRow | None:
        name = kind if isinstance(kind, str) else type_name(kind)
        return next((row for row in self.growth if row.name == name), None)

    def count_delta(self, kind: type | str) -> int:
        """How many more objects of this type (a class or its snapshot name) there are now."""
        row = self._row(kind)
        return row.count_delta if row else 0

    def size_delta(self, kind: type | str) -> int:
        """How many more bytes objects of this type take now."""
        row = self._row(kind)
        return row.size_delta if row else 0

    def suspects(self, top: int = 10) -> list[Suspect]:
        """The types that grew, user-defined first, each with a new object's root path."""
        return self._analysis.suspects(top)

    def report(self, top: int = 5) -> str:
        """Suspects as text, one ``name +count (+bytes): path`` line each (for assert messages)."""
        lines = []
        for s in self.suspects(top):
            held = render_path(s.path) if s.path is not None else "no path from a root found"
            lines.append(f"{s.name} +{s.count_delta} (+{_bytes(s.size_delta)}): {held}")
        return "\n".join(lines) or "no type grew"


class HeapSnapshots:
    """Snapshots taken inside a test; each one leaves the earlier ones (and their diffs) out."""

    def __init__(self) -> None:
        self._kept: list[Any] = []

    def __call__(self) -> Snapshot:
        """Collect garbage and return the heap now as a model :class:`Snapshot`."""
        raw = _capture_without(self)
        snapshot = Snapshot.from_raw(raw, source="test")
        del raw
        self._kept.append(snapshot)
        return snapshot

    def diff(self, base: Snapshot, now: Snapshot | None = None) -> HeapDiff:
        """Compare ``base`` with ``now`` (by default a snapshot taken now)."""
        compared = HeapDiff(base, now if now is not None else self())
        self._kept.append(compared)
        return compared
