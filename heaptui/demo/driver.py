"""Run the bundled leaky program in a subprocess and return the two snapshots it wrote."""

from __future__ import annotations

import os
import subprocess
import sys

from heaptui.core.errors import UserError

LEAKY_APP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "leaky_app.py")
DEFAULT_REQUESTS = 2000
TIMEOUT_SECONDS = 120


def run_leaky_app(directory: str, requests: int = DEFAULT_REQUESTS) -> tuple[str, str]:
    """Run the demo program with ``sys.executable``; return ``(base, after)`` snapshot paths.

    The child runs with the same interpreter and environment as heaptui, so it imports the
    same heaptui. Failure (a crash, a timeout) raises UserError with the end of its stderr.
    """
    base = os.path.join(directory, "base.heap")
    after = os.path.join(directory, "after.heap")
    command = [sys.executable, LEAKY_APP, base, after, str(requests)]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise UserError(f"the demo program did not finish within {TIMEOUT_SECONDS} s") from exc
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise UserError(f"the demo program failed (exit status {done.returncode}):\n{tail}")
    for path in (base, after):
        if not os.path.exists(path):
            raise UserError(f"the demo program did not write {path}")
    return base, after
