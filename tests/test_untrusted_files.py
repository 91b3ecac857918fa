"""Files the viewer reads or writes are untrusted or private (issue 13, items 3, 5, 6)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from heaptui.cli import main
from heaptui.fileformat.write import write_snapshot_file
from heaptui.testing import SnapshotBuilder

REPO = Path(__file__).resolve().parents[1]


def _snapshot(path: Path) -> str:
    b = SnapshotBuilder()
    b.node(0x1000, "app.Thing", size=64, repr="'thing'")
    b.node(0x2000, "dict", size=232, length=1)
    return write_snapshot_file(b.build(), path)


def _heaptui(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "heaptui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


# --- 5. anything but a regular file is refused before it is read ----------------------------
@pytest.mark.parametrize(
    "command",
    [
        ["report", "{bad}"],
        ["report", "{good}", "--baseline", "{bad}"],
        ["export", "{bad}", "--format", "csv", "-o", "-"],
        ["export", "{good}", "--baseline", "{bad}", "--format", "csv", "-o", "-"],
        ["open", "{bad}"],
    ],
    ids=["report", "report-baseline", "export", "export-baseline", "open"],
)
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_non_regular_files_are_refused_at_once(tmp_path, command, kind) -> None:
    good = _snapshot(tmp_path / "good.heap")
    if kind == "fifo":
        bad = str(tmp_path / "pipe.heap")
        os.mkfifo(bad)
    else:
        bad = "/dev/zero"
    args = [part.format(good=good, bad=bad) for part in command]
    done = _heaptui(*args, timeout=60)  # before: a FIFO hung, /dev/zero was read for GBs
    assert done.returncode == 2
    assert done.stderr.startswith("heaptui: error: ") and done.stderr.count("\n") == 1
    expected = "a FIFO" if kind == "fifo" else "a character device"
    assert f"{bad} is not a regular file ({expected})" in done.stderr


# --- 6. exports are private, like snapshots ---------------------------------------------------
@pytest.mark.parametrize("fmt", ["csv", "dot", "heapsnapshot", "svg"])
def test_exports_are_written_readable_by_their_owner_only(tmp_path, fmt) -> None:
    if fmt == "svg" and not any(
        os.access(os.path.join(d, "dot"), os.X_OK) for d in os.environ["PATH"].split(os.pathsep)
    ):
        pytest.skip("Graphviz's dot is not installed")
    good = _snapshot(tmp_path / "good.heap")
    out = tmp_path / f"out.{fmt}"
    old = os.umask(0o022)  # the usual umask: a plain open() would make the file 0644
    try:
        assert main(["export", good, "--format", fmt, "-o", str(out)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert out.read_bytes()  # written whole
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["good.heap", out.name])


# --- 3. texts of a snapshot reach the terminal escaped; JSON keeps them exact -----------------
EVIL = "\x1b]0;pwned\x07\x1b[2J"


def _evil_snapshot(path: Path, count: int) -> str:
    from heaptui.core.labels import EDGE_KEY, ROOT_MODULE

    b = SnapshotBuilder({"argv": [f"app.py{EVIL}"], "pid": 4242, "python": "3.12.1"})
    b.node(0x1000, "dict", size=4000, length=count)
    b.root(0x1000, ROOT_MODULE, f"sys.modules['{EVIL}']")
    for i in range(count):
        b.node(0x10000 + i * 0x100, f"app.Evil{EVIL}", size=64, repr=f"'{EVIL}'")
        b.edge(0x1000, 0x10000 + i * 0x100, EDGE_KEY, f"'{EVIL}{i}'")
    return write_snapshot_file(b.build(), path)


def test_report_escapes_texts_of_the_snapshot(tmp_path) -> None:
    base = _evil_snapshot(tmp_path / "base.heap", 2)
    now = _evil_snapshot(tmp_path / f"now{EVIL}.heap", 9)
    done = _heaptui("report", now, "--baseline", base)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout + done.stderr and "\x07" not in done.stdout + done.stderr
    assert "app.Evil\\x1b]0;pwned\\x07\\x1b[2J" in done.stdout  # the suspect, visibly
    assert "app.py\\x1b]0;pwned" in done.stdout  # argv in the header
    assert "sys.modules['\\x1b]0;pwned\\x07\\x1b[2J']" in done.stdout  # the root of its path
    as_json = _heaptui("report", now, "--baseline", base, "--json")
    data = json.loads(as_json.stdout)
    assert data["suspects"][0]["type"] == f"app.Evil{EVIL}"  # exact
    assert data["snapshot"]["argv"] == [f"app.py{EVIL}"]
