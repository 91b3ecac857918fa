"""Import-the-world cases known to crash until the walker fixes of issue 19 land.

One place, so that it can be emptied when they do: ``test_capture_world.py`` marks each case
here ``xfail(strict=False)`` with its reason (a case that passes then shows as XPASS). Keys are
``"CASE-WALKER"`` (WALKER is ``python`` or ``c``); a case listed may fail on some Python
versions only (the reason says which).
"""

from __future__ import annotations

_NOT_READY = "a never-readied static type (_testcapi's test_structmembersType): segfault"
_TESTBUFFER = "_testbuffer's objects: segfault"

PENDING: dict[str, str] = {
    "_testcapi-python": _NOT_READY,
    "_testcapi-c": _NOT_READY,
    "_testbuffer-python": _TESTBUFFER,
    "_testbuffer-c": _TESTBUFFER,
    "pympler-python": "pympler.asizeof imports _testcapi: " + _NOT_READY,
    "pympler-c": "pympler.asizeof imports _testcapi: " + _NOT_READY,
}
