"""`heaptui export`: files written for each format, the default object, one-line errors."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from export_heaps import session_addr, shop_raw

from heaptui.cli import main
from heaptui.fileformat.write import write_snapshot_file


@pytest.fixture
def heaps(tmp_path: Path) -> tuple[str, str]:
    return (
        write_snapshot_file(shop_raw(1), tmp_path / "base.heap"),
        write_snapshot_file(shop_raw(6), tmp_path / "after.heap"),
    )


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("heaptui: error: ") and err.count("\n") == 1, err
    return err


def test_dot_of_the_top_suspects_sample_by_default(heaps: tuple[str, str], tmp_path: Path) -> None:
    base, after = heaps
    out = tmp_path / "g.dot"
    assert main(["export", after, "-b", base, "-o", str(out)]) == 0  # format from extension
    target = next(line for line in out.read_text().splitlines() if "#ff9999" in line)
    assert "Session" in target
    # The sample is a new Session (not user:0, which is in the baseline too).
    assert f"{session_addr(0):#x}" not in target


def test_dot_of_the_biggest_object_without_baseline(
    heaps: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, after = heaps
    assert main(["export", after, "--format", "dot", "-o", "-"]) == 0
    target = next(line for line in capsys.readouterr().out.splitlines() if "#ff9999" in line)
    assert 'label="dict\\nlen=6"' in target  # the 4000-byte SESSIONS dict


def test_dot_of_a_chosen_object(heaps: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    _, after = heaps
    address = session_addr(3) + 0x10
    assert main(["export", after, "-f", "dot", "--object", f"{address:#x}", "-o", "-"]) == 0
    target = next(line for line in capsys.readouterr().out.splitlines() if "#ff9999" in line)
    assert target.startswith("  o") and "list" in target


@pytest.mark.parametrize(
    ("address", "message"),
    [("0x999", "no object at 0x999 in"), ("banana", "--object wants an address")],
)
def test_unknown_or_bad_address_is_one_line_error(
    heaps: tuple[str, str], capsys: pytest.CaptureFixture[str], address: str, message: str
) -> None:
    _, after = heaps
    assert main(["export", after, "-f", "dot", "--object", address, "-o", "-"]) == 2
    assert message in _one_line_error(capsys)


def test_missing_dot_program_is_one_line_error(
    heaps: tuple[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _, after = heaps
    assert main(["export", after, "-f", "svg", "-o", str(tmp_path / "g.svg")]) == 2
    err = _one_line_error(capsys)
    assert "'dot' program" in err and "apt-get install graphviz" in err
    assert not (tmp_path / "g.svg").exists()


def test_format_needed_when_the_extension_does_not_say(
    heaps: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", heaps[1], "-o", "picture.jpg"]) == 2
    assert "--format" in _one_line_error(capsys)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_svg_and_png_with_graphviz(heaps: tuple[str, str], tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"g.{fmt}"
    assert main(["export", heaps[1], "-b", heaps[0], "-o", str(out)]) == 0
    data = out.read_bytes()
    if fmt == "svg":
        assert b"<svg" in data and b"Session" in data
    else:
        assert data.startswith(b"\x89PNG")


def test_heapsnapshot_and_csv_files(heaps: tuple[str, str], tmp_path: Path) -> None:
    base, after = heaps
    snap = tmp_path / "after.heapsnapshot"
    assert main(["export", after, "-f", "heapsnapshot", "-o", str(snap)]) == 0
    data = json.loads(snap.read_text())
    assert data["snapshot"]["node_count"] == 4 + 6 * 4 + 1
    growth = tmp_path / "growth.csv"
    assert main(["export", after, "-b", base, "-o", str(growth)]) == 0
    rows = {r["type"]: r for r in csv.DictReader(growth.read_text().splitlines())}
    assert rows["shop.Session"]["count_delta"] == "5"
    types = tmp_path / "types.csv"
    assert main(["export", after, "-o", str(types), "--retained"]) == 0
    rows = {r["type"]: r for r in csv.DictReader(types.read_text().splitlines())}
    assert rows["shop.Session"]["count"] == "6" and int(rows["module"]["retained"]) > 0
