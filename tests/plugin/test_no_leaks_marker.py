"""``@pytest.mark.no_leaks`` on real test files run by pytest (``pytester``, in process).

A leaking test must fail with the growing type, its count per run and who holds it; a clean
test, churn, a cache filled once, ignored types and growth under ``allow_bytes`` must pass.
"""

from __future__ import annotations

import re

import pytest

from heaptui.model.load import load_snapshot

pytest_plugins = ["pytester"]
# The inner runs share this process (its warning filters are errors, textual-snapshot keeps
# module-level state): leave those plugins out of them.
QUIET = ("-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:textual-snapshot")

ORDERS = """
import pytest

class Order:
    def __init__(self, n):
        self.n = n
        self.note = "order %d" % n

_AUDIT = []

def record():
    _AUDIT.append(Order(len(_AUDIT) + 1000))
"""


def run(pytester: pytest.Pytester, body: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_sample=ORDERS + body)
    return pytester.runpytest(*QUIET, *args)


def test_a_leaking_test_fails_naming_the_type_and_its_holder(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.no_leaks
def test_leaky():
    record()

@pytest.mark.no_leaks
def test_clean():
    orders = [Order(i) for i in range(50)]
    assert len(orders) == 50
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    out = result.stdout.str()
    assert "test_sample.py::test_leaky leaks" in out
    assert "test_clean" not in out.split("short test summary")[0].split("FAILURES")[1]
    result.stdout.re_match_lines(
        [
            r".*test_sample\.Order: \+1 \+1 \+1 objects per run",
            r".*held by: sys\.modules\['test_sample'\] -> \._AUDIT -> \[\d+\] -> Order$",
            r".*leaked per run: .* \(allowed: 0 B\)$",
        ]
    )
    # The snapshots before and after the measured runs are saved for `heaptui open`.
    saved = re.search(r"heaptui open (\S+) --baseline (\S+)", out)
    assert saved is not None
    after, before = (load_snapshot(path) for path in saved.groups())
    audit = [n for n in range(after.node_count) if after.type_name(n) == "test_sample.Order"]
    base = [n for n in range(before.node_count) if before.type_name(n) == "test_sample.Order"]
    assert len(audit) - len(base) == 3


def test_churn_and_a_cache_filled_once_do_not_fail(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import functools

_CACHE = {}

@functools.lru_cache(maxsize=None)
def parse(text):
    return Order(len(text))

@pytest.mark.no_leaks
def test_churn():
    for _ in range(20):
        batch = {i: Order(i) for i in range(200)}
        batch.clear()

@pytest.mark.no_leaks
def test_cache_filled_in_the_first_run():
    _CACHE.setdefault("orders", [Order(i) for i in range(100)])
    parse("same text every time")

@pytest.mark.no_leaks
def test_replaced_not_accumulated():
    global LAST
    LAST = [Order(i) for i in range(10)]
""",
    )
    result.assert_outcomes(passed=3)


def test_ignored_types_and_what_they_hold_are_not_leaks(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.no_leaks(ignore=[Order])
def test_ignored_by_class():
    record()

@pytest.mark.no_leaks(ignore="test_sample.Order")
def test_ignored_by_name():
    record()

@pytest.mark.no_leaks(ignore=[dict])
def test_other_type_ignored():
    record()
""",
    )
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_other_type_ignored leaks*", "*test_sample.Order: +1*"])


def test_allow_bytes_is_a_threshold_per_run(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
_BLOBS = []

@pytest.mark.no_leaks(allow_bytes=100_000)
def test_small_growth_allowed():
    _BLOBS.append(bytearray(10_000))

@pytest.mark.no_leaks(allow_bytes=1_000)
def test_growth_over_the_limit():
    _BLOBS.append(bytearray(10_000))
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.re_match_lines(
        [
            r".*test_growth_over_the_limit leaks",
            r".*bytearray: \+1 \+1 \+1 objects per run",
            r".*held by: sys\.modules\['test_sample'\] -> \._BLOBS -> \[\d+\] -> bytearray$",
            r".*\(allowed: 1,000 B\)$",
        ]
    )


def test_rounds_and_warmup_are_used(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
CALLS = []

@pytest.mark.no_leaks(rounds=4, warmup=1)
def test_counted():
    CALLS.append(1)
    record()

def test_after():
    assert len(CALLS) == 5
""",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_sample.Order: +1 +1 +1 +1 objects per run*"])


def test_option_checks_every_test_and_no_heaptui_turns_it_off(pytester: pytest.Pytester) -> None:
    body = """
def test_unmarked_leak():
    record()

def test_unmarked_clean():
    assert sum(range(10)) == 45
"""
    checked = run(pytester, body, "--heaptui-leaks")
    checked.assert_outcomes(passed=1, failed=1)
    checked.stdout.fnmatch_lines(["*test_unmarked_leak leaks*"])
    plain = run(pytester, body)
    plain.assert_outcomes(passed=2)
    off = run(pytester, body, "--heaptui-leaks", "-p", "no:heaptui")
    assert off.ret == pytest.ExitCode.USAGE_ERROR  # the option is gone with the plugin


def test_pytest_own_records_are_not_leaks(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
import logging

class Settings:
    level = 1

@pytest.mark.no_leaks
def test_logs_every_run(caplog):
    logging.getLogger("shop").warning("order placed")

@pytest.mark.no_leaks
def test_monkeypatches_every_run(monkeypatch):
    monkeypatch.setattr(Settings, "level", Order(2))
""",
    )
    result.assert_outcomes(passed=2)


def test_a_leak_into_a_fixture_object_is_found(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
class Shop:
    def __init__(self):
        self.orders = []

@pytest.fixture
def shop():
    return Shop()

@pytest.mark.no_leaks
def test_shop_keeps_orders(shop):
    shop.orders.append(Order(5000))
""",
    )
    result.assert_outcomes(failed=1)
    result.stdout.re_match_lines(
        [r".*test_sample\.Order: \+1 \+1 \+1", r".*\.orders -> \[\d+\] -> Order$"]
    )


def test_failures_in_the_body_and_bad_options_are_reported(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
@pytest.mark.no_leaks
def test_fails_on_its_own():
    assert 1 == 2

RUNS = []

@pytest.mark.no_leaks
def test_fails_when_repeated():
    RUNS.append(1)
    assert len(RUNS) < 3

@pytest.mark.no_leaks(rounds=0)
def test_bad_rounds():
    pass

@pytest.mark.no_leaks(round=3)
def test_misspelt_option():
    pass
""",
    )
    result.assert_outcomes(failed=4)
    result.stdout.fnmatch_lines(
        [
            "*assert 1 == 2*",
            "*heaptui: raised in run 3 of 5 (the leak check repeats it)*",
            "*no_leaks: rounds must be an integer >= 1*",
            "*no_leaks: unknown option 'round'*",
        ],
        consecutive=False,
    )


def test_async_tests_run_by_pytest_asyncio_are_checked(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pytest_asyncio")
    pytester.makepyfile(
        test_sample=ORDERS
        + """
import asyncio

@pytest.mark.asyncio
@pytest.mark.no_leaks
async def test_async_leak():
    await asyncio.sleep(0)
    record()

@pytest.mark.asyncio
@pytest.mark.no_leaks
async def test_async_clean():
    await asyncio.sleep(0)
"""
    )
    result = pytester.runpytest(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:textual-snapshot",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.re_match_lines([r".*test_async_leak leaks", r".*test_sample\.Order: \+1 \+1 \+1"])
