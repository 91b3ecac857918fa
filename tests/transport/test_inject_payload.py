"""The injected payload on its own (no gdb): it starts the agent in an interpreter that cannot
import heaptui, binds nothing in ``__main__``, does nothing once cancelled, and forgets its
modules when the agent stops."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from heaptui.capture import accel
from heaptui.transport.attach import viewer_payload, viewer_walker
from heaptui.transport.attach.viewer_payload import (
    agent_closure,
    build_payload,
    import_statements,
)

# Runs the payload the way PyRun_SimpleString does (in __main__), then reports.
RUNNER = r"""
import os, sys, threading
with open(sys.argv[1]) as f:
    code = f.read()
before = set(vars(sys.modules["__main__"]))
exec(code, vars(sys.modules["__main__"]))
added = sorted(set(vars(sys.modules["__main__"])) - before - {"before"})
result_file = os.path.join(sys.argv[2], "result")
result = "none"
if os.path.exists(result_file):
    with open(result_file) as f:
        result = f.read()
print(repr(added))
print(repr(result))
print(repr(sorted(m for m in sys.modules if "heaptui" in m and not m.startswith("_heaptui"))))
if result.startswith("ok"):
    import socket, struct, json
    private = [m for m in sys.modules if m.startswith("_heaptui_attach_")]
    print(repr(len(private) > 5))
    sys.modules[[m for m in private if m.endswith(".transport.agent")][0]]._agent.stop()
    print(repr([m for m in sys.modules if m.startswith("_heaptui_attach_")]))
    print(repr(os.path.exists(result.split("\n")[1])))
"""


def run_payload(
    tmp_path: Path, *, cancelled: bool = False, extension: str | None = None
) -> list[object]:
    directory = tmp_path / "private"
    directory.mkdir(mode=0o700)
    payload = tmp_path / "payload.py"
    payload.write_text(
        build_payload(
            directory=str(directory), socket_dir=str(tmp_path / "sockets"), extension=extension
        )
    )
    if cancelled:
        directory.rmdir()
    runner = tmp_path / "runner.py"
    runner.write_text(RUNNER)
    out = subprocess.run(
        [sys.executable, "-S", str(runner), str(payload), str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,  # not the repository: heaptui must not be importable
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    return [ast.literal_eval(line) for line in out.stdout.splitlines()]


def test_payload_starts_the_agent_without_heaptui_and_forgets_it_on_stop(
    tmp_path: Path,
) -> None:
    added, result, public, loaded, left, socket_exists = run_payload(tmp_path)
    assert added == []  # nothing bound in __main__
    assert isinstance(result, str)
    status, path, walker = result.split("\n")
    assert (status, walker) == ("ok", "python: no compiled walker was offered")
    assert path.endswith(".sock")
    assert public == []  # the real heaptui was never imported
    assert loaded is True
    assert left == []  # the private modules are gone once the agent stopped
    assert socket_exists is False


@pytest.mark.skipif(not accel.available(), reason="the C walk is not built")
def test_payload_loads_the_private_copy_of_the_compiled_walker_and_forgets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    library, note = viewer_walker.walker_for(
        sys.version_info[:2], sys.executable, target_uid=os.geteuid()
    )
    assert library is not None and library.startswith(str(tmp_path / "cache")), note
    added, result, public, loaded, left, socket_exists = run_payload(tmp_path, extension=library)
    assert isinstance(result, str) and result.split("\n")[::2] == ["ok", "c"]
    assert (added, public, loaded, left, socket_exists) == ([], [], True, [], False)


def test_a_library_that_does_not_load_gives_the_reason(tmp_path: Path) -> None:
    broken = tmp_path / "_walk.so"
    broken.write_bytes(b"not a shared library")
    _, result, *_ = run_payload(tmp_path, extension=str(broken))
    assert isinstance(result, str)
    status, _, walker = result.split("\n")
    assert status == "ok"
    assert walker.startswith("python: ImportError: ") and "_walk.so" in walker


def test_cancelled_payload_does_nothing(tmp_path: Path) -> None:
    added, result, public = run_payload(tmp_path, cancelled=True)
    assert (added, result, public) == ([], "none", [])


def test_closure_has_the_agent_capture_and_writer_but_nothing_heavy() -> None:
    names = set(agent_closure())
    assert {"heaptui.transport.agent", "heaptui.capture", "heaptui.fileformat.write"} <= names
    assert not any(n.startswith(("heaptui.ui", "heaptui.model")) for n in names)
    assert "heaptui.fileformat.read" not in names  # numpy, viewer side only


def test_shipped_modules_import_heaptui_only_relatively() -> None:
    """The payload ships the files as they are, under a private package name: an absolute
    ``heaptui`` import there would load the target's own heaptui, or fail without one."""
    boot = Path(viewer_payload.__file__).with_name("target_boot.py")
    shipped = {**agent_closure(), "target_boot": boot}
    absolute = []
    for name, path in shipped.items():
        for node in import_statements(ast.parse(path.read_text(encoding="utf-8"))):
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""] * (node.level == 0)
            )
            if any(m.split(".")[0] == "heaptui" for m in modules):
                absolute.append(f"{name}:{node.lineno}")
    assert absolute == []
