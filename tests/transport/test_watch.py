"""`heaptui watch` and `heaptui run --dump-at-rss` on real processes.

A program with heavy churn (a bounded cache that fills and empties, temporaries every tick) and
one slow leak: the watch must flag the leak and none of the churning types. A program that grows
past ``--dump-at-rss`` must leave a snapshot whose report names the growing type.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from heaptui.model.timeline import load_timeline

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHURN = HERE / "churn_app.py"
GROW = HERE / "grow_app.py"
CHURN_TYPES = {"__main__.Entry", "__main__.Request", "__main__.Scratch"}

pytestmark = pytest.mark.slow


def _env(socket_dir: str) -> dict[str, str]:
    return {**os.environ, "HEAPTUI_SOCKET_DIR": socket_dir, "PYTHONPATH": str(REPO)}


def _heaptui(args: list[str], socket_dir: str, cwd: Path, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-m", "heaptui", *args],
        capture_output=True,
        text=True,
        env=_env(socket_dir),
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture
def churn_app(socket_dir, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "heaptui", "run", str(CHURN), "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(socket_dir),
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    yield proc
    proc.kill()
    proc.communicate(timeout=10)  # closes the pipes


def test_watch_flags_the_leak_and_none_of_the_churn(churn_app, socket_dir, tmp_path) -> None:
    timeline = tmp_path / "churn.timeline"
    done = _heaptui(
        [
            "watch",
            str(churn_app.pid),
            "--interval",
            "1",
            "--duration",
            "20",
            "--json",
            "--timeline",
            str(timeline),
            "--snapshot-dir",
            str(tmp_path),
        ],
        socket_dir,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["samples"] >= 15
    flagged = [leak["type"] for leak in result["leaking"]]
    assert flagged == ["__main__.Session"], (flagged, result)
    leak = result["leaking"][0]
    # 10 ticks a second at most, one Session every other tick: a few hundred a minute.
    assert 60 < leak["count_slope_per_min"] < 700
    assert leak["bytes_slope_per_min"] > 0
    assert not CHURN_TYPES & set(flagged)
    # The snapshot taken when it was flagged, against the watch's baseline, names it.
    assert leak["snapshot"] and os.path.exists(leak["snapshot"])
    assert result["baseline"] and os.path.exists(result["baseline"])
    report = _heaptui(
        ["report", leak["snapshot"], "--baseline", result["baseline"]], socket_dir, tmp_path
    )
    assert report.returncode == 0, report.stderr
    assert "_SESSIONS" in report.stdout and "__main__.Session" in report.stdout
    # The timeline on disk holds the same samples and gives the same answer on review.
    loaded = load_timeline(str(timeline))
    assert loaded.samples == result["samples"]
    review = _heaptui(["watch", "--review", str(timeline), "--json"], socket_dir, tmp_path)
    assert review.returncode == 0, review.stderr
    assert [x["type"] for x in json.loads(review.stdout)["leaking"]] == ["__main__.Session"]


def test_watch_resumes_its_timeline(churn_app, socket_dir, tmp_path) -> None:
    timeline = tmp_path / "t.timeline"
    common = [
        "watch",
        str(churn_app.pid),
        "--interval",
        "0.5",
        "--json",
        "--no-snapshots",
        "--timeline",
        str(timeline),
    ]
    first = _heaptui([*common, "--duration", "3"], socket_dir, tmp_path)
    assert first.returncode == 0, first.stderr
    second = _heaptui([*common, "--duration", "3"], socket_dir, tmp_path)
    assert second.returncode == 0, second.stderr
    n1 = json.loads(first.stdout)["samples"]
    assert json.loads(second.stdout)["samples"] > n1
    assert len(load_timeline(str(timeline)).watches) == 2


def test_run_dump_at_rss_leaves_a_snapshot_naming_the_growing_type(socket_dir, tmp_path):
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    done = _heaptui(
        ["run", "--dump-at-rss", "120MB", "--dump-dir", str(dumps), str(GROW), "170000000"],
        socket_dir,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    files = sorted(dumps.glob("*.heap"))
    assert len(files) == 1, (files, done.stderr)  # once, not at every check
    assert "crossed" in done.stderr and str(files[0]) in done.stderr
    report = _heaptui(["report", str(files[0])], socket_dir, tmp_path)
    assert report.returncode == 0, report.stderr
    first_row = report.stdout.split("share")[1].splitlines()[1]
    assert first_row.split()[0] == "__main__.Blob", report.stdout


def test_dump_at_rss_from_the_environment(socket_dir, tmp_path):
    program = tmp_path / "app.py"
    program.write_text(
        "import heaptui, runpy, sys\n"
        "heaptui.install()\n"
        f"sys.argv = ['grow', '170000000']\n"
        f"runpy.run_path({str(GROW)!r}, run_name='__main__')\n"
    )
    env = {**_env(socket_dir), "HEAPTUI_DUMP_AT_RSS": "120MB", "HEAPTUI_DUMP_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(program)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert len(list(tmp_path.glob("heaptui-*.heap"))) == 1, done.stderr


def test_run_refuses_a_bad_size(socket_dir, tmp_path) -> None:
    done = _heaptui(["run", "--dump-at-rss", "lots", str(GROW), "1"], socket_dir, tmp_path)
    assert done.returncode == 2
    assert "--dump-at-rss" in done.stderr and "Traceback" not in done.stderr


def test_run_watch_samples_the_program_from_the_start(socket_dir, tmp_path) -> None:
    timeline = tmp_path / "run.timeline"
    done = _heaptui(
        [
            "run",
            "--watch",
            "--interval",
            "1",
            "--timeline",
            str(timeline),
            "--dump-dir",
            str(tmp_path),
            str(CHURN),
            "14",
        ],
        socket_dir,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert f"watching this program into {timeline}" in done.stderr
    # The watcher ends with the program and says what leaked.
    assert "LEAK __main__.Session" in done.stdout, (done.stdout, done.stderr)
    assert not [t for t in CHURN_TYPES if f"LEAK {t}" in done.stdout]
    assert load_timeline(str(timeline)).samples >= 8
    assert list(tmp_path.glob("heaptui-watch-*-baseline.heap"))


def test_a_long_interval_keeps_the_connection_alive(monkeypatch: pytest.MonkeyPatch) -> None:
    """Between two samples the watch asks for the cheap counters at least every KEEPALIVE
    seconds: an agent drops a connection silent for 120 s, and an injected agent with no
    viewer then uninstalls itself; a gone target ends the wait quietly."""
    from heaptui.commands import watch
    from heaptui.transport.client import AgentError

    class Client:
        calls = 0

        def counters(self) -> dict[str, int]:
            Client.calls += 1
            if Client.calls == 3:
                raise AgentError("target exited")
            return {}

    monkeypatch.setattr(watch, "KEEPALIVE", 0.02)
    looper = watch._Watch.__new__(watch._Watch)
    looper.client = Client()
    looper._wait(10.0)  # returns early: the third request found the target gone
    assert Client.calls == 3
