"""The plugin is found through its entry point and is light: every pytest run loads it."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points


def test_the_plugin_is_registered_in_the_pytest11_group() -> None:
    found = [ep for ep in entry_points(group="pytest11") if ep.name == "heaptui"]
    assert [ep.value for ep in found] == ["heaptui.pytest_plugin"], (
        "reinstall heaptui (pip install -e .) to register its pytest plugin"
    )


def test_loading_the_plugin_imports_neither_numpy_nor_the_model() -> None:
    code = (
        "import sys, heaptui.pytest_plugin; "
        "heavy = sorted(m for m in ('numpy', 'textual', 'heaptui.model', 'heaptui.leakcheck') "
        "if m in sys.modules); print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == ""
