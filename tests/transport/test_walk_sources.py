"""The C walk's source list: what setup.py builds ``heaptui.capture._walk`` from, what an
attached process's private build compiles (viewer_walker.WALK_SOURCES) and what is on disk
are the same files, so a file added to the split walk cannot be left out of one build."""

from __future__ import annotations

import ast
import ctypes
import re
from pathlib import Path

import pytest

from heaptui.capture import accel
from heaptui.transport.attach import viewer_walker

ROOT = Path(__file__).resolve().parents[2]
CAPTURE = ROOT / "heaptui" / "capture"
# C files of heaptui/capture that are another extension's (setup.py builds them apart).
OTHER_EXTENSIONS = {"_census.c"}


def _setup_extensions() -> dict[str, list[str]]:
    """Extension name -> its sources and depends, as setup.py lists them (read, not run)."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(ast.parse((ROOT / "setup.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Extension":
            name = ast.literal_eval(node.args[0])
            files = [ast.literal_eval(a) for a in node.args[1:2]]
            files = [f for group in files for f in group]
            for keyword in node.keywords:
                if keyword.arg in ("sources", "depends"):
                    files += ast.literal_eval(keyword.value)
            found[name] = files
    return found


def test_setup_builds_the_walk_from_walk_sources() -> None:
    files = _setup_extensions()["heaptui.capture._walk"]
    assert all(f.startswith("heaptui/capture/") for f in files)
    assert sorted(Path(f).name for f in files) == sorted(viewer_walker.WALK_SOURCES)
    assert len(set(viewer_walker.WALK_SOURCES)) == len(viewer_walker.WALK_SOURCES)


def test_walk_sources_are_the_c_files_on_disk() -> None:
    on_disk = {p.name for p in CAPTURE.glob("*.c")} - OTHER_EXTENSIONS
    listed = {n for n in viewer_walker.WALK_SOURCES if n.endswith(".c")}
    assert listed == on_disk
    assert {p.name for p in CAPTURE.glob("*.h")} == {
        n for n in viewer_walker.WALK_SOURCES if n.endswith(".h")
    }
    # every extension's C file is built by setup.py
    built = {Path(f).name for files in _setup_extensions().values() for f in files}
    assert on_disk | OTHER_EXTENSIONS <= built


def test_every_local_include_is_a_walk_source() -> None:
    for name in viewer_walker.WALK_SOURCES:
        text = (CAPTURE / name).read_text()
        for included in re.findall(r'^#include "([^"]+)"', text, flags=re.M):
            assert included in viewer_walker.WALK_SOURCES, f"{name} includes {included}"


def test_package_data_ships_the_sources() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"capture/*.c"' in pyproject and '"capture/*.h"' in pyproject


@pytest.mark.skipif(not accel.available(), reason="the C walk is not built")
def test_the_built_walk_exports_only_its_init() -> None:
    from heaptui.capture import _walk  # type: ignore[attr-defined]

    library = ctypes.CDLL(_walk.__file__)
    assert hasattr(library, "PyInit__walk")
    internals = ("edges_by_kind", "append_node_text", "type_info_add", "col_grow", "strtab_drain")
    for internal in internals:
        assert not hasattr(library, internal), internal
