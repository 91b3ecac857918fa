"""The C walk writes the text of most floats itself (repr() runs dtoa, a sixteenth of a capture
on a float-heavy heap): where it does, the text must be exactly repr()'s."""

from __future__ import annotations

import math
import random
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from heaptui.capture import accel

pytestmark = pytest.mark.skipif(not accel.available(), reason="the C walk is not built")


def fast_text(x: float) -> str | None:
    from heaptui.capture import _walk  # type: ignore[attr-defined]

    text: str | None = _walk._float_text(x)
    return text


@pytest.mark.parametrize(
    "x",
    [0.0, -0.0, 0.5, 0.1, 0.3, -3.0, 1e-4, 123.456, 1732371234.123456, 1e15, 2.0**51 - 1],
)
def test_common_floats_get_repr_text_without_cpython(x: float) -> None:
    assert fast_text(x) == repr(x)


@pytest.mark.parametrize(
    "x", [math.inf, -math.inf, math.nan, 1 / 3, 9.9999e-05, 5e-324, 1e16, 2.0**51, 1e300]
)
def test_floats_with_exponents_or_many_digits_are_left_to_repr(x: float) -> None:
    assert fast_text(x) is None


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_gets_repr_text_or_none(x: float) -> None:
    assert fast_text(x) in (None, repr(x))


def test_floats_near_short_decimals_never_get_a_wrong_text() -> None:
    """The hard cases: neighbours of short decimals, random bits, many scales."""
    rng = random.Random(7)
    checked = fast = 0
    for _ in range(100_000):
        base = round(rng.uniform(-1e6, 1e6), rng.randrange(0, 9))
        for x in (
            base,
            math.nextafter(base, math.inf),
            math.nextafter(base, -math.inf),
            struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0],
            rng.randrange(-(2**53), 2**53) / 10 ** rng.randrange(0, 18),
        ):
            text = fast_text(x)
            checked += 1
            if text is not None:
                fast += 1
                assert text == repr(x)
    assert fast > checked // 4  # the fast path is really taken
