"""Capture tests known to fail until walker fixes land (issue 19 and what its CI run found).

One place, so that it can be emptied when they do: ``test_capture_world.py`` marks each case
here ``xfail(strict=False)`` with its reason (a case that passes then shows as XPASS). Keys are
``"CASE-WALKER"`` (WALKER is ``python`` or ``c``); a case listed may fail on some Python
versions only (the reason says which).
"""

from __future__ import annotations

import sys

# Empty since the walker fixes of issue 19 landed (never-readied types are named leaves).
PENDING: dict[str, str] = {}


# Capture tests (not import-the-world cases) that fail on one Python version only, found when
# .ci/run began to run tests/capture on 3.10, 3.12 and 3.13: test name -> (version, reason).
# Empty since both walkers add the .__dict__ edge 3.13 keeps out of gc.get_referents.
PENDING_ON_VERSION: dict[str, tuple[tuple[int, int], str]] = {}


def pending_on_this_version(test: str) -> str | None:
    """The reason ``test`` is known to fail on this Python version, or None."""
    version, reason = PENDING_ON_VERSION.get(test, ((0, 0), ""))
    return reason if sys.version_info[:2] == version else None
