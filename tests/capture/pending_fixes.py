"""Import-the-world cases known to crash until the walker fixes of issue 19 land.

One place, so that it can be emptied when they do: ``test_capture_world.py`` marks each case
here ``xfail(strict=False)`` with its reason (a case that passes then shows as XPASS). Keys are
``"CASE-WALKER"`` (WALKER is ``python`` or ``c``); a case listed may fail on some Python
versions only (the reason says which).
"""

from __future__ import annotations

# Measured before the fixes: both crash on 3.10 and 3.11 only (3.12 and 3.13 pass).
_NOT_READY = "3.10/3.11 segfault: a never-readied static type (_testcapi.test_structmembersType)"
_TESTBUFFER = "3.10/3.11 segfault in naming.label_class (__mro__/__bases__), as for _testcapi"

PENDING: dict[str, str] = {
    "_testcapi-python": _NOT_READY,
    "_testcapi-c": _NOT_READY,
    "_testbuffer-python": _TESTBUFFER,
    "_testbuffer-c": _TESTBUFFER,
    "pympler-python": "pympler.asizeof imports _testcapi: " + _NOT_READY,
    "pympler-c": "pympler.asizeof imports _testcapi: " + _NOT_READY,
}
