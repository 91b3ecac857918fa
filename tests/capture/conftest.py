"""The ``walker`` fixture: a test runs once with the pure-Python walker and once with the C one.

The ``c`` case is skipped (not run with the Python walker again) when the compiled walker is
not built. Module-scoped, so a module's shared capture is taken once per walker.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from heaptui.capture import accel


@pytest.fixture(scope="module", params=["python", "c"])
def walker(request: pytest.FixtureRequest) -> Iterator[str]:
    """``"python"`` or ``"c"``: ``HEAPTUI_WALKER`` is set so the public API runs that walker.

    Garbage is collected first: an earlier module's cycles (a fixture's frame holding a
    snapshot's view) would otherwise be walked by this module's captures, and a pure-Python
    walk over that garbage made the first test here take 62 s instead of 2 s.
    """
    gc.collect()
    with pytest.MonkeyPatch.context() as patch:
        if request.param == "python":
            patch.setenv(accel.WALKER_ENV, "python")
        else:
            patch.delenv(accel.WALKER_ENV, raising=False)
            if not accel.available():
                pytest.skip("the compiled walker is not built")
        yield str(request.param)
