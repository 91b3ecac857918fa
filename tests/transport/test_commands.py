"""`heaptui run`, `heaptui ps` and `heaptui snapshot` as a user types them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from heaptui.cli import main
from heaptui.model.load import load_snapshot

REPO = Path(__file__).resolve().parents[2]

PROGRAM = """\
import sys
from heaptui.transport.agent import current_agent
agent = current_agent()
print(repr(sys.argv), agent is not None and agent.path, sys.path[0], __name__)
sys.exit(int(sys.argv[-1]))
"""


def _heaptui(args: list[str], socket_dir: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HEAPTUI_SOCKET_DIR": socket_dir, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "heaptui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def test_run_script_gets_its_argv_the_agent_and_our_exit_status(socket_dir, tmp_path) -> None:
    (tmp_path / "app.py").write_text(PROGRAM)
    done = _heaptui(["run", "app.py", "--port", "8000", "3"], socket_dir, tmp_path)
    assert done.returncode == 3, done.stderr
    argv, socket_path, path0, name = done.stdout.rsplit(" ", 3)
    assert argv == "['app.py', '--port', '8000', '3']"
    assert socket_path.startswith(socket_dir)
    assert path0 == str(tmp_path)
    assert name.strip() == "__main__"
    assert os.listdir(socket_dir) == []  # removed at exit


def test_run_module_with_options_after_it(socket_dir, tmp_path) -> None:
    (tmp_path / "appmod.py").write_text(PROGRAM)
    done = _heaptui(["run", "-m", "appmod", "-v", "0"], socket_dir, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"[{str(tmp_path / 'appmod.py')!r}, '-v', '0']")


def test_run_reports_a_missing_program(socket_dir, tmp_path) -> None:
    done = _heaptui(["run", "missing.py"], socket_dir, tmp_path)
    assert (done.returncode, done.stderr.strip()) == (2, "heaptui: error: No such file: missing.py")
    done = _heaptui(["run", "-m", "no_such_module_here"], socket_dir, tmp_path)
    assert done.returncode == 2 and "No module named no_such_module_here" in done.stderr


def test_ps_and_snapshot_of_a_running_target(
    start_target, socket_dir, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("HEAPTUI_SOCKET_DIR", socket_dir)
    target = start_target()
    assert main(["ps"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["PID", "PYTHON", "RSS", "UPTIME", "COMMAND"]
    assert out[1].split()[0] == str(target.pid) and "target_app.py" in out[1]

    target.command("leak 1000")
    output = tmp_path / "now.heap"
    assert main(["snapshot", "-o", str(output)]) == 0  # no PID: the only agent
    assert "wrote" in capsys.readouterr().err
    snapshot = load_snapshot(output)
    assert snapshot.meta["pid"] == target.pid
    assert [p.name for p in tmp_path.iterdir()] == ["now.heap"]  # no temporary left behind


def test_snapshot_without_pid_lists_the_choices(start_target, socket_dir, monkeypatch, capsys):
    monkeypatch.setenv("HEAPTUI_SOCKET_DIR", socket_dir)
    first, second = start_target(), start_target()
    assert main(["snapshot", "-o", os.devnull]) == 2
    err = capsys.readouterr().err
    assert "several processes" in err and str(first.pid) in err and str(second.pid) in err


def test_snapshot_of_a_pid_without_agent_that_is_not_python(
    socket_dir, monkeypatch, capsys
) -> None:
    # Without an agent, snapshot tries to inject one; a non-Python process is refused clearly.
    monkeypatch.setenv("HEAPTUI_SOCKET_DIR", socket_dir)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        assert main(["snapshot", str(sleeper.pid), "-o", os.devnull]) == 2
    finally:
        sleeper.kill()
        sleeper.wait()
    err = capsys.readouterr().err
    assert err.startswith("heaptui: error: ")
    assert "is not a Python process" in err


@pytest.mark.parametrize("args", [["ps"], ["snapshot", "-o", "x.heap"]])
def test_no_agents_at_all(socket_dir, monkeypatch, capsys, args) -> None:
    monkeypatch.setenv("HEAPTUI_SOCKET_DIR", socket_dir)
    status = main(args)
    out, err = capsys.readouterr()
    assert "no process is running" in (out + err)
    assert status == (0 if args == ["ps"] else 2)
