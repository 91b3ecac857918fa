"""A capture leaves nothing behind: two dumps in a row of an idle program show no growth.

Each test runs a small program in a fresh interpreter (so that nothing was captured before
in it): whatever the first capture or dump creates and keeps (a cache filled on first use,
a dict attached to a frame, a module imported on the way) would be counted in the second
snapshot and reported as growth, blamed on the user's program.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from heaptui.model.diff import growth
from heaptui.model.load import load_snapshot

ROOT = Path(__file__).resolve().parents[2]

TWO_DUMPS = """
import sys
from heaptui.capture import dump

def main() -> None:
    pending = ["job-1"]  # a running frame with locals
    dump(sys.argv[1])
    dump(sys.argv[2])
    del pending

main()
"""

THREAD_LABELS = """
import sys
from heaptui.capture import snapshot
from heaptui.core.labels import ROOT_THREAD

raw = snapshot()
assert "threading" not in sys.modules, "the capture imported threading"
for kind, label in zip(raw.root_kind, raw.root_label):
    if kind == ROOT_THREAD:
        print(raw.strings[label])
"""


def run_python(code: str, *args: str, walker: str = "python") -> str:
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), HEAPTUI_WALKER="python" if walker == "python" else ""
    )
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_second_dump_shows_no_growth_caused_by_the_first(tmp_path: Path, walker: str) -> None:
    first, second = tmp_path / "first.heap", tmp_path / "second.heap"
    run_python(TWO_DUMPS, str(first), str(second), walker=walker)
    base, now = load_snapshot(str(first)), load_snapshot(str(second))
    grown = [(row.name, row.count_delta) for row in growth(base, now) if row.count_delta > 0]
    assert grown == []
    major, minor, micro = sys.version_info[:3]
    assert now.meta["python"] == f"{major}.{minor}.{micro}"


def test_main_thread_is_named_without_threading(walker: str) -> None:
    labels = run_python(THREAD_LABELS, walker=walker).splitlines()
    assert len(labels) == 1
    assert labels[0].startswith("thread MainThread: <module>() <string>:")
