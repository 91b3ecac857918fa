"""The private copy of the C walk for attached processes: cached, private, built on demand,
and a one-line reason whenever the target has to walk in pure Python (issue 12)."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from heaptui.capture import accel
from heaptui.transport.attach import viewer_walker

PY313 = Path("/root/.pyenv/versions/3.13.0/bin/python3.13")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("HEAPTUI_WALKER", raising=False)
    return tmp_path / "cache" / "heaptui" / "walk"


def _private(path: Path) -> bool:
    return stat.S_IMODE(path.stat().st_mode) == 0o700 and path.stat().st_uid == os.geteuid()


@pytest.mark.skipif(not accel.available(), reason="the C walk is not built")
def test_same_python_gets_a_private_copy_named_by_its_content(cache: Path) -> None:
    library, note = viewer_walker.walker_for(
        sys.version_info[:2], sys.executable, target_uid=os.geteuid()
    )
    assert note == "compiled walker"
    assert library is not None
    path = Path(library)
    assert path.parent.parent == cache
    assert path.parent.name.startswith(sys.implementation.cache_tag + "-")
    assert path.read_bytes() == Path(accel._walk.__file__).read_bytes()
    assert _private(cache) and _private(path.parent)
    again, _ = viewer_walker.walker_for(
        sys.version_info[:2], sys.executable, target_uid=os.geteuid()
    )
    assert again == library


@pytest.mark.slow
@pytest.mark.skipif(not PY313.exists() or sys.version_info[:2] == (3, 13), reason="no 3.13")
def test_another_python_gets_a_build_made_with_its_own_interpreter(cache: Path) -> None:
    library, note = viewer_walker.walker_for((3, 13), str(PY313), target_uid=os.geteuid())
    assert library is not None, note
    assert Path(library).name.startswith("_walk.cpython-313")
    # It loads in that interpreter under another name, and leaves no sys.modules entry.
    check = (
        "import sys, _frozen_importlib as b, _frozen_importlib_external as e\n"
        f"p = {library!r}\n"
        "loader = e.ExtensionFileLoader('_p.capture._walk', p)\n"
        "spec = b.ModuleSpec('_p.capture._walk', loader, origin=p)\n"
        "m = loader.create_module(spec); loader.exec_module(m)\n"
        "print(m.__name__, hasattr(m, 'walk'), [k for k in sys.modules if '_walk' in k])\n"
    )
    out = subprocess.run([str(PY313), "-S", "-c", check], capture_output=True, text=True)
    assert out.stdout.split("\n")[0] == "_p.capture._walk True []", out.stderr
    mtime = Path(library).stat().st_mtime_ns
    assert viewer_walker.walker_for((3, 13), str(PY313), target_uid=os.geteuid())[0] == library
    assert Path(library).stat().st_mtime_ns == mtime  # built once


def test_a_build_that_cannot_run_falls_back_with_the_reason(cache: Path) -> None:
    library, note = viewer_walker.walker_for((3, 99), "/nonexistent/python3.99", target_uid=0)
    assert library is None
    assert note.startswith("the target gets the pure-Python walker: ")
    assert "could not run" in note or "another user" in note


def test_another_users_process_falls_back(cache: Path) -> None:
    library, note = viewer_walker.walker_for(
        sys.version_info[:2], sys.executable, target_uid=os.geteuid() + 1
    )
    assert library is None
    assert note == (
        "the target gets the pure-Python walker: "
        "the process belongs to another user (no shared cache)"
    )


def test_a_cache_directory_of_someone_else_is_refused(cache: Path) -> None:
    cache.mkdir(parents=True)
    cache.chmod(0o755)
    library, note = viewer_walker.walker_for((3, 99), sys.executable, target_uid=os.geteuid())
    assert library is None
    assert "is not a private directory of yours" in note


def test_walk_sources_are_everything_the_extension_is_built_from() -> None:
    setup = (Path(__file__).resolve().parents[2] / "setup.py").read_text()
    for name in viewer_walker.WALK_SOURCES:
        assert f"heaptui/capture/{name}" in setup
        assert (Path(viewer_walker.__file__).parents[2] / "capture" / name).is_file()
    # and the converse: every file of the _walk extension is copied into a target's build
    block = setup[setup.index('"heaptui.capture._walk"') :]
    block = block[: block.index("optional=True")]
    built = set(re.findall(r"heaptui/capture/([\w.]+)", block))
    assert built == set(viewer_walker.WALK_SOURCES)
