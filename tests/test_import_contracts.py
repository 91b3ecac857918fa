"""The arrows between heaptui's packages hold (the contracts in pyproject.toml).

docs/architecture.md draws them; import-linter checks every import, direct or through a chain,
including imports inside functions. Run in a fresh interpreter so that the check reads the
source as it is, not whatever this test process has loaded.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = (
    "import sys; from importlinter.cli import lint_imports; "
    "sys.exit(lint_imports(config_filename=sys.argv[1], no_cache=True, no_logo=True))"
)


def _lint(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LINT, str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def test_the_package_arrows_hold() -> None:
    done = _lint(ROOT / "pyproject.toml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout


def test_a_broken_arrow_is_reported(tmp_path: Path) -> None:
    """The check really reads the code: forbidding an import the UI makes fails it."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "heaptui"\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "ui without model"\ntype = "forbidden"\n'
        'source_modules = ["heaptui.ui"]\nforbidden_modules = ["heaptui.model"]\n',
        encoding="utf-8",
    )
    done = _lint(config)
    assert done.returncode != 0
    assert "ui without model BROKEN" in done.stdout
