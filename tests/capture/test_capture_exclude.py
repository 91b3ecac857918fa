"""``exclude_ids``: the given objects are not nodes and no reference leads to them."""

from __future__ import annotations

import sys
from typing import Any

import pytest

import heaptui.capture as capture_pkg
from heaptui.capture import accel
from heaptui.capture.walker import take_snapshot
from heaptui.model.snapshot import Snapshot


class Payload:
    """A tracked object held only by the excluded list: it is still a node."""


def _targets_of(snap: Snapshot, node: int) -> set[int]:
    start, end = int(snap.edge_offsets[node]), int(snap.edge_offsets[node + 1])
    return {int(snap.addr[t]) for t in snap.resolved_edges.target[start:end]}


def _check(snap: Snapshot, holder: dict[str, Any], hidden: list[Any], kept: list[Any]) -> None:
    assert snap.node_for_addr(id(hidden)) is None
    holder_node = snap.node_for_addr(id(holder))
    assert holder_node is not None
    targets = _targets_of(snap, holder_node)
    assert id(kept) in targets  # the holder's other references are intact
    assert id(hidden) not in targets
    every_target = snap.addr[snap.resolved_edges.target]
    assert not (every_target == id(hidden)).any()  # no node has a reference to it
    # What only the excluded list held is still in the heap (it is tracked by the collector).
    assert snap.node_for_addr(id(hidden[0])) is not None
    assert snap.node_for_addr(id(kept)) is not None


def test_public_capture_leaves_out_the_excluded_objects(walker: str) -> None:
    hidden = [Payload(), "only-here-string"]
    kept = [Payload()]
    holder = {"hidden": hidden, "kept": kept}
    raw = capture_pkg.snapshot(exclude_ids=[id(hidden)])
    assert raw.meta["walker"] == walker
    snap = Snapshot.from_raw(raw)
    _check(snap, holder, hidden, kept)
    # The snapshot differs by the excluded list only: the same capture without exclusions has it.
    full = Snapshot.from_raw(capture_pkg.snapshot())
    assert full.node_for_addr(id(hidden)) is not None
    assert id(hidden) in _targets_of(full, full.node_for_addr(id(holder)))  # type: ignore[arg-type]


def test_reference_walker_takes_exclude_ids() -> None:
    hidden = [Payload()]
    kept = [Payload()]
    holder = {"hidden": hidden, "kept": kept}
    raw = take_snapshot(sys._getframe(), exclude_ids={id(hidden)})
    assert raw.meta["walker"] == "python"
    _check(Snapshot.from_raw(raw), holder, hidden, kept)


def test_both_walkers_leave_out_the_same_objects() -> None:
    if not accel.available():
        pytest.skip("the C walker is not built")
    hidden = [Payload(), (1, 2, "x")]
    holder = {"hidden": hidden}
    frame = sys._getframe()
    py = take_snapshot(frame, exclude_ids=[id(hidden), id(hidden[1])])
    c = accel.capture_raw(exclude_ids=[id(hidden), id(hidden[1])], root_frame=frame)
    for raw in (py, c):
        addrs = set(raw.addr)
        assert id(hidden) not in addrs
        assert id(hidden[1]) not in addrs
        assert id(holder) in addrs
