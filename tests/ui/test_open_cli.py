"""`heaptui open` and `heaptui demo` from the command line: errors before the UI, and the demo
program run for real with ``--no-tui``."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from heaptui.cli import main


def test_open_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    missing = tmp_path / "nope.heap"
    assert main(["open", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"heaptui: error: {missing}: no such file"


def test_open_not_a_snapshot_fails_before_the_ui(tmp_path, capsys):
    text = tmp_path / "notes.heap"
    text.write_text("hello")
    assert main([str(text)]) == 2  # `heaptui FILE` means `heaptui open FILE`
    assert "is not a heaptui snapshot" in capsys.readouterr().err


def test_open_missing_baseline(tmp_path, capsys):
    from heaptui.fileformat.write import write_snapshot_file
    from heaptui.testing import SnapshotBuilder

    builder = SnapshotBuilder()
    builder.node(0x1000, "dict")
    after = tmp_path / "after.heap"
    write_snapshot_file(builder.build(), after)
    assert main(["open", str(after), "--baseline", str(tmp_path / "base.heap")]) == 2
    assert "base.heap: no such file" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_without_tui_finds_the_session_leak(tmp_path):
    keep = tmp_path / "demo"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "heaptui",
            "demo",
            "--no-tui",
            "--keep",
            str(keep),
            "--requests",
            "300",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert os.path.exists(keep / "base.heap") and os.path.exists(keep / "after.heap")
    suspects = done.stdout.split("Leak suspects", 1)[1]
    # The first line is the answer (issue 14), the next the type's growth.
    first, growth = suspects.strip().splitlines()[1:3]
    assert first.startswith("  1. 300 new shop.Session ") and ".SESSIONS ['user:" in first
    assert "shop.Session" in growth and "+300 objects" in growth
    assert "SESSIONS" in suspects
    assert "heaptui open" in done.stderr  # says how to open the kept files again
