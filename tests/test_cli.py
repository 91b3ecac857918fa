"""The command line as a user meets it: help, bad arguments, missing files, exit statuses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from heaptui.cli import COMMANDS, main


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"    {name} " in out, name
    assert "heaptui demo" in out


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: heaptui" in capsys.readouterr().out


@pytest.mark.parametrize("args", [["report", "missing.heap"], ["missing.heap"]])
def test_a_missing_file_is_one_line_and_exit_2(
    args: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("heaptui: error: ")
    assert "missing.heap" in err
    assert len(err.splitlines()) == 1


def test_a_file_that_is_not_a_snapshot_is_refused_without_traceback(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.heap"
    bogus.write_text("these are not the bytes you are looking for\n")
    done = subprocess.run(
        [sys.executable, "-m", "heaptui", "report", str(bogus)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("heaptui: error: ")
    assert "not a valid heaptui snapshot" in done.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.startswith("heaptui ")


def test_public_capture_still_callable_after_the_capture_package_is_imported() -> None:
    code = (
        "import heaptui, heaptui.capture.walker\n"
        "raw = heaptui.snapshot()\n"
        "print(type(raw).__name__, raw.node_count > 1000, raw.meta['walker'] in ('c', 'python'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()
    assert out == "RawSnapshot True True"
