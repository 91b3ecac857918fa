"""The trend test flags steady growth and not churn; a two-point diff flags both."""

from __future__ import annotations

import numpy as np

from heaptui.model.timeline import timeline_from_samples
from heaptui.model.trend import (
    TrendOptions,
    find_leaks,
    mann_kendall,
    memory_verdict,
    rate_text,
    theil_sen,
    two_point_growth,
)


def _churn_and_leak(n: int = 40, seed: int = 3) -> list[dict]:
    """One sample every 10 s: a slow leak with noise, a sawtooth cache, random temporaries,
    a cache that filled once and stays full, and a list whose bytes only grow."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(n):
        leak = 100 + 2 * i + int(rng.integers(0, 4))
        cache = (i * 37) % 400
        temp = int(rng.integers(0, 300))
        full = min(i * 50, 500)
        samples.append(
            {
                "time": 1000.0 + 10 * i,
                "rss": 50_000_000 + 60_000 * i,
                "heap_bytes": 20_000_000 + 60_000 * i,
                "objects": 10_000,
                "types": {
                    "app.Session": [leak, leak * 56],
                    "app.CacheEntry": [cache, cache * 56],
                    "app.Request": [temp, temp * 56],
                    "app.Warm": [full, full * 56],
                    "list": [10, 10 * 56 + 5000 * i],
                },
            }
        )
    # Make the churn end higher than it started, as a two-point diff would see it.
    samples[-1]["types"]["app.CacheEntry"] = [390, 390 * 56]
    samples[-1]["types"]["app.Request"] = [299, 299 * 56]
    samples[0]["types"]["app.Request"] = [0, 0]
    return samples


def test_the_leak_is_flagged_and_no_churn() -> None:
    timeline = timeline_from_samples(_churn_and_leak())
    leaks = find_leaks(timeline)
    assert sorted(leak.type for leak in leaks) == ["app.Session", "list"]
    session = next(leak for leak in leaks if leak.type == "app.Session")
    assert 10 < session.count_slope_per_min < 14  # 2 per 10 s
    assert session.bytes_slope_per_min > 0
    assert session.count_p < 1e-6
    assert "Session/min" in rate_text(session)
    growing_list = next(leak for leak in leaks if leak.type == "list")
    assert growing_list.count_slope_per_min == 0  # flagged on its bytes
    assert "KiB of list/min" in rate_text(growing_list)
    # The two-point diff of the same run flags the churn too.
    assert {"app.CacheEntry", "app.Request", "app.Warm", "app.Session"} <= set(
        two_point_growth(timeline)
    )


def test_a_leak_that_starts_late_says_since_when() -> None:
    samples = []
    for i in range(30):
        n = 50 if i < 10 else 50 + 5 * (i - 10)
        samples.append(
            {
                "time": 60.0 * i,
                "rss": None,
                "heap_bytes": 1,
                "objects": 1,
                "types": {"Late": [n, 8 * n]},
            }
        )
    leaks = find_leaks(timeline_from_samples(samples))
    assert [leak.type for leak in leaks] == ["Late"]
    assert leaks[0].since == 60.0 * 10
    assert round(leaks[0].minutes) == 19


def test_too_few_samples_flag_nothing() -> None:
    assert find_leaks(timeline_from_samples(_churn_and_leak(n=6))) == []
    assert find_leaks(timeline_from_samples(_churn_and_leak(n=20))) != []


def test_the_window_looks_at_recent_samples_only() -> None:
    samples = _churn_and_leak(n=60)
    for i, sample in enumerate(samples):  # the leak stopped 110 s ago
        if i >= 48:
            sample["types"]["app.Session"] = samples[47]["types"]["app.Session"]
    timeline = timeline_from_samples(samples)
    assert "app.Session" in [leak.type for leak in find_leaks(timeline)]
    recent = find_leaks(timeline, TrendOptions(window=100))
    assert "app.Session" not in [leak.type for leak in recent]


def test_mann_kendall_and_theil_sen() -> None:
    up = np.arange(20, dtype=float)
    flat = np.ones(20)
    s, p = mann_kendall(np.column_stack([up, flat, up[::-1]]))
    assert s.tolist() == [190, 0, -190]
    assert p[0] < 1e-6 and p[1] == 0.5 and p[2] > 0.99
    t = np.arange(20, dtype=float) * 2
    spiky = up.copy()
    spiky[5] = 1000
    assert theil_sen(t, np.column_stack([up, spiky])).tolist() == [0.5, 0.5]


def test_memory_verdict() -> None:
    samples = _churn_and_leak()
    assert memory_verdict(timeline_from_samples(samples)).startswith("Python-side")
    for sample in samples:
        sample["heap_bytes"] = 20_000_000
    assert memory_verdict(timeline_from_samples(samples)).startswith("native")
