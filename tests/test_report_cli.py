"""`heaptui report`: text tables, growth and suspects, JSON keys, and one-line errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from heaptui.cli import main
from heaptui.core.labels import EDGE_ATTR, EDGE_KEY, ROOT_MODULE
from heaptui.fileformat.write import write_snapshot_file
from heaptui.testing import SnapshotBuilder


def _write_heap(path: Path, users: int, *, argv0: str = "shop.py") -> str:
    """``shop.SESSIONS`` maps ``'user:i'`` to ``shop.Session`` objects owning a bytes buffer."""
    b = SnapshotBuilder({"argv": [argv0, "--serve"], "pid": 777})
    b.node(0x1000, "module", size=72, repr="<module 'shop'>")
    b.node(0x1100, "dict", size=640, length=1)
    b.node(0x2000, "dict", size=4000, length=users)
    b.edge(0x1000, 0x1100, EDGE_ATTR, "__dict__")
    b.edge(0x1100, 0x2000, EDGE_KEY, "'SESSIONS'")
    b.root(0x1000, ROOT_MODULE, "sys.modules['shop']")
    for i in range(users):
        s = 0x10_0000 + i * 0x100
        b.node(s, "shop.Session", size=56)
        b.node(s + 0x10, "dict", size=104, length=1)
        b.node(s + 0x20, "bytes", size=1033, length=1000, repr=f"b'{i}...'", tracked=False)
        b.edge(0x2000, s, EDGE_KEY, f"'user:{i}'")
        b.edge(s, s + 0x10, EDGE_ATTR, "__dict__")
        b.edge(s + 0x10, s + 0x20, EDGE_KEY, "'buffer'")
    return write_snapshot_file(b.build(), path)


@pytest.fixture
def heaps(tmp_path: Path) -> tuple[str, str]:
    return _write_heap(tmp_path / "base.heap", 2), _write_heap(tmp_path / "after.heap", 40)


def test_text_summary_is_an_aligned_table_with_human_sizes(
    heaps: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, after = heaps
    assert main(["report", after]) == 0
    out = capsys.readouterr().out
    assert "pid 777" in out and "shop.py --serve" in out
    assert f"{3 + 40 * 3:,} objects" in out
    lines = out.splitlines()
    table = lines[lines.index(next(line for line in lines if line.startswith("Types"))) + 1 :]
    assert table[0].split() == ["type", "count", "size", "share"]
    first = table[1].split()
    assert first[0] == "bytes" and first[1] == "40" and first[2:4] == ["40.4", "KiB"]
    # Right-aligned numbers: every row ends its share column at the same place.
    assert len({len(line) for line in table[:4]}) == 1
    assert "Leak suspects" not in out


def test_text_with_baseline_shows_growth_and_suspect_paths(
    heaps: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    base, after = heaps
    assert main(["report", after, "--baseline", base]) == 0
    out = capsys.readouterr().out
    growth = out[out.index("Growth") : out.index("Leak suspects")]
    assert "+38" in growth and "+38.3 KiB" in growth
    suspects = out[out.index("Leak suspects") :].splitlines()
    # The first line is the answer: the outermost new type, what its group retains and
    # the path that holds it. Each new Session keeps its dict and its 1033-byte buffer:
    # 38 * 1193 B = 44.3 KiB.
    assert suspects[1].startswith(
        "  1. 38 new shop.Session (+44.3 KiB retained) held by sys.modules['shop'] → "
        ".SESSIONS ['user:"
    ), suspects[1]
    assert suspects[2].split()[:3] == ["shop.Session", "+38", "objects,"]
    assert "retaining 44.3 KiB" in suspects[2]
    # The dicts and buffers inside the Sessions are the same leak: one suspect.
    assert suspects[3].strip() == "grown with it, inside it or beside it: bytes, dict"
    assert suspects[4].strip() == (
        "the dict at sys.modules['shop'] -> .SESSIONS retains 100% of the new Session "
        "objects (38 of 38; 50.5 KiB in all)"
    )
    assert suspects[5].strip() == "a new one is reached by:"
    assert "sys.modules['shop']" in suspects[6]
    assert suspects[7].strip().startswith("-> .SESSIONS")
    assert suspects[8].strip().startswith("-> ['user:")
    assert not suspects[10].strip().startswith("2.")  # nothing else grew
    assert "PYTHONTRACEMALLOC=25" in out[out.index("Allocation sites:") :]


def test_no_retained_leaves_out_retained_figures(
    heaps: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    base, after = heaps
    assert main(["report", after, "--baseline", base, "--no-retained"]) == 0
    out = capsys.readouterr().out
    assert "retain" not in out.replace(after, "").replace(base, "")  # test dir names aside
    assert main(["report", after, "--baseline", base, "--no-retained", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["retained_computed"] is False
    assert data["types"][0]["retained"] is None
    assert data["suspects"][0]["retained"] is None
    assert data["suspects"][0]["accumulation"] is None


def test_retained_column_without_baseline_only_when_asked(
    heaps: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    _, after = heaps
    assert main(["report", after]) == 0
    assert "retained" not in capsys.readouterr().out.replace(after, "")
    assert main(["report", after, "--retained"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(line for line in lines if line.split()[:1] == ["type"])
    assert header.split() == ["type", "count", "size", "share", "retained"]
    rows = {line.split()[0]: line for line in lines[lines.index(header) + 1 :] if line.strip()}
    # The module retains everything: 72 + 640 + 4000 + 40 * 1193 bytes.
    assert rows["module"].split()[-2:] == ["51.2", "KiB"]


def test_json_has_the_documented_keys_and_orders(
    heaps: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    base, after = heaps
    assert main(["report", after, "--baseline", base, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    snap = data["snapshot"]
    assert {k: snap[k] for k in ("objects", "edges", "pid", "python", "created")} == {
        "objects": 123,
        "edges": 2 + 40 * 3,
        "pid": 777,
        "python": "3.11.7",
        "created": "2026-11-23T10:00:00+00:00",
    }
    assert snap["bytes"] == 72 + 640 + 4000 + 40 * (56 + 104 + 1033)
    sizes = [t["size"] for t in data["types"]]
    assert sizes == sorted(sizes, reverse=True)
    assert set(data["types"][0]) >= {"type", "count", "size"}
    deltas = [g["size_delta"] for g in data["growth"]]
    assert deltas == sorted(deltas, reverse=True)
    assert data["growth"][0] == {"type": "bytes", "count_delta": 38, "size_delta": 38 * 1033}
    top = data["suspects"][0]
    assert (top["type"], top["count_delta"], top["size_delta"]) == ("shop.Session", 38, 38 * 56)
    path = top["path"]
    assert path[0] == {
        "type": "module",
        "edge": None,
        "repr": "<module 'shop'>",
        "address": 0x1000,
    }
    assert [step["edge"] for step in path][1] == ".SESSIONS"
    assert path[-1]["type"] == "shop.Session" and path[-1]["edge"].startswith("['user:")
    # Added by issue 14: the group's answer, its outermost type, members and new objects.
    assert top["text"].startswith("38 new shop.Session (+44.3 KiB retained) held by ")
    assert (top["outermost_type"], top["new_count"]) == ("shop.Session", 38)
    assert top["members"] == ["shop.Session", "bytes", "dict"]
    assert len(data["suspects"]) == 1  # the bytes and dicts are inside the Sessions


def test_json_retained_figures_match_the_known_answer(
    heaps: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    base, after = heaps
    assert main(["report", after, "--baseline", base, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["retained_computed"] is True
    retained = {t["type"]: t["retained"] for t in data["types"]}
    per_session = 56 + 104 + 1033
    assert retained == {
        "module": 72 + 640 + 4000 + 40 * per_session,  # the root retains everything
        # Outermost dicts only: the module's dict (which holds SESSIONS) retains the rest.
        "dict": 640 + 4000 + 40 * per_session,
        "shop.Session": 40 * per_session,
        "bytes": 40 * 1033,
    }
    top = data["suspects"][0]
    assert top["retained"] == 38 * per_session  # the new Sessions only
    acc = top["accumulation"]
    assert {k: acc[k] for k in ("type", "repr", "address", "retained", "share", "held")} == {
        "type": "dict",
        "repr": "dict len=40",
        "address": 0x2000,
        "retained": 4000 + 40 * per_session,
        "share": 1.0,
        "held": 38,
    }
    assert acc["root"] == "sys.modules['shop']"
    assert [step["edge"] for step in acc["path"]] == [None, ".SESSIONS"]
    assert top["alloc_sites"] is None
    assert data["alloc"]["recorded"] is False


def test_top_limits_rows(heaps: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    base, after = heaps
    assert main(["report", after, "-b", base, "--json", "--top", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["types"]) == len(data["growth"]) == len(data["suspects"]) == 1


@pytest.mark.parametrize("top", ["0", "-3", "many"])
def test_bad_top_is_one_line_error(
    heaps: tuple[str, str], top: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", heaps[1], "--top", top]) == 2
    err = capsys.readouterr().err
    assert err.startswith("heaptui: error: --top") and err.count("\n") == 1


def test_missing_and_invalid_files_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path / "nope.heap")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("heaptui: error:") and "nope.heap" in err and err.count("\n") == 1
    bad = tmp_path / "bad.heap"
    bad.write_bytes(b"this is not a heap snapshot at all")
    assert main(["report", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("heaptui: error:") and "bad.heap" in err and err.count("\n") == 1
    good = _write_heap(tmp_path / "good.heap", 1)
    truncated = tmp_path / "cut.heap"
    truncated.write_bytes(Path(good).read_bytes()[:-40])
    assert main(["report", good, "--baseline", str(truncated)]) == 2
    err = capsys.readouterr().err
    assert "cut.heap" in err and "Traceback" not in err and err.count("\n") == 1


def test_baseline_of_another_program_warns_but_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _write_heap(tmp_path / "base.heap", 1, argv0="other.py")
    after = _write_heap(tmp_path / "after.heap", 3)
    assert main(["report", after, "--baseline", base, "--json"]) == 0
    captured = capsys.readouterr()
    assert "warning" in captured.err and "other.py" in captured.err
    assert json.loads(captured.out)["suspects"][0]["type"] == "shop.Session"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_lines_only_on_a_terminal_and_erased(
    heaps: tuple[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from heaptui.commands import report

    base, after = heaps
    monkeypatch.setattr(report, "PROGRESS_BYTES", 0)
    monkeypatch.setattr(report, "PROGRESS_NODES", 0)
    assert main(["report", after, "-b", base, "--json"]) == 0
    assert capsys.readouterr().err == ""  # captured stderr is not a terminal
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert main(["report", after, "-b", base, "--json"]) == 0
    err = terminal.getvalue()
    assert f"heaptui: loading {after}..." in err and "finding suspects" in err
    assert err.endswith("\r\033[K")
