"""The parts of heaptui that run inside the target program must stay light.

`import heaptui`, the capture, the file writer and the live agent are loaded into the program
being debugged (and injected as source into processes that lack heaptui), so they must not pull
in numpy or textual. Checked in a fresh interpreter, because this test process has both loaded.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from heaptui.transport.attach.viewer_payload import agent_closure

# What `heaptui.install()` and `heaptui.dump()` load, plus every module the attach payload
# ships into a target: most of those are imported lazily (on the first capture), so importing
# the entry points alone would never check them.
TARGET_SIDE_MODULES = sorted(
    {"heaptui", "heaptui.capture", "heaptui.fileformat.write", "heaptui.transport.agent"}
    | set(agent_closure())
)


@pytest.mark.parametrize("module", TARGET_SIDE_MODULES)
def test_target_side_module_imports_neither_numpy_nor_textual(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "heavy = sorted(m for m in ('numpy', 'textual', 'rich') if m in sys.modules); "
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == "", f"importing {module} loaded {out}"


def test_the_shipped_modules_are_the_light_ones() -> None:
    """The list above is the payload's closure: the capture, the writer, the agent's wiring."""
    assert {"heaptui.capture.walker", "heaptui.core.raw", "heaptui.transport.rsswatch"} <= set(
        TARGET_SIDE_MODULES
    )
    assert not any(m.startswith(("heaptui.model", "heaptui.ui")) for m in TARGET_SIDE_MODULES)


def test_cli_help_does_not_load_the_ui() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from heaptui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('textual' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == "False"
