"""Import the world, dump with each walker, read the file back: the capture must not crash.

Each case runs in its own interpreter (``world_target.py``), because a crash of the capture is
the process dying by a signal: the whole standard library, each of CPython's C test helpers
(their odd types are what crash a careless walker), every installed package with a C
extension, pympler (which imports ``_testcapi``) and a set of live objects caught mid-way
(views on buffers, an mmap, suspended generators and coroutines, a running asyncio loop).
Cases that crash until the fixes of issue 19 land are listed in ``pending_fixes.py``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pending_fixes import PENDING
from world_target import c_test_helpers

from heaptui.capture import accel
from heaptui.core.labels import ROOT_MODULE
from heaptui.model.load import load_snapshot

TARGET = Path(__file__).with_name("world_target.py")
WALKERS = ["python", "c"] if accel.available() else ["python"]
CASES = ["stdlib", *c_test_helpers(), "packages", "pympler", "live"]


def _params() -> list[object]:
    params = []
    for case in CASES:
        for walker in WALKERS:
            key = f"{case}-{walker}"
            marks = [pytest.mark.xfail(reason=PENDING[key], strict=False)] if key in PENDING else []
            params.append(pytest.param(case, walker, id=key, marks=marks))
    return params


def _died(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exit status {returncode}"


@pytest.mark.parametrize(("case", "walker"), _params())
def test_a_dump_after_importing_the_world_reads_back(
    case: str, walker: str, tmp_path: Path
) -> None:
    path = tmp_path / "world.heap"
    env = dict(os.environ, HEAPTUI_WALKER="python" if walker == "python" else "")
    done = subprocess.run(
        [sys.executable, str(TARGET), case, str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, f"{_died(done.returncode)}: {done.stderr[-1500:]}"
    imported = done.stdout.split()
    snap = load_snapshot(path)
    assert snap.meta["walker"] == walker
    assert snap.node_count > 1000
    modules = {
        snap.string(int(label))
        for kind, label in zip(snap.root_kind, snap.root_label, strict=True)
        if kind == ROOT_MODULE
    }
    missing = [n for n in imported if f"sys.modules['{n}']" not in modules]
    assert missing == [], "imported but not in the snapshot's roots"
    if case == "stdlib":
        assert len(imported) > 150
    if case == "live":
        names = {snap.type_name(i) for i in range(snap.node_count)}
        for kind in ("numpy.ndarray", "mmap.mmap", "memoryview", "coroutine", "async_generator"):
            assert kind in names
