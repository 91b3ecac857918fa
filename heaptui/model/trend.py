"""Which types leak: a steady trend over a window, not a difference between two points.

For every type, over the samples of the window (its count, then its bytes):

- a **Mann-Kendall** test: S sums the signs of every later-minus-earlier pair; under "no
  trend" it is about normal with a known variance (corrected for ties), so a one-sided
  p-value says how unlikely that much upward order is by chance. A cache that fills and
  empties, or temporaries that come and go, leave S near 0 however big their swings;
- a **Theil-Sen** slope: the median of the pairwise slopes, the growth rate, robust to the
  spikes churn makes;
- and the growth must go on: the Theil-Sen slope of the window's second half must be positive
  too (a cache that filled once and stays full is not a leak), and the growth over the window
  at least ``min_growth`` objects (or ``min_growth_bytes``).

The two-point diff (:func:`two_point_growth`) is here to compare against: it flags every type
higher at the end than at the start, churn included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from heaptui.model.timeline import Timeline

# At most this many samples of a window go into the pairwise tests (evenly spaced): the
# pairs grow as n^2 and a long window at a short interval adds nothing but cost.
MAX_POINTS = 120
DEFAULT_ALPHA = 0.001
DEFAULT_MIN_SAMPLES = 8
DEFAULT_MIN_GROWTH = 10
DEFAULT_MIN_GROWTH_BYTES = 16 * 1024


@dataclass(frozen=True)
class TrendOptions:
    """``window``: seconds at the end of the timeline to test (0: all of it)."""

    window: float = 0.0
    alpha: float = DEFAULT_ALPHA
    min_samples: int = DEFAULT_MIN_SAMPLES
    min_growth: int = DEFAULT_MIN_GROWTH
    min_growth_bytes: int = DEFAULT_MIN_GROWTH_BYTES


@dataclass(frozen=True)
class Leak:
    """A type whose count or bytes grows steadily; slopes are per minute."""

    type: str
    count_slope_per_min: float
    bytes_slope_per_min: float
    count_p: float
    bytes_p: float
    since: float  # when the growth started (the series' last time at its minimum)
    minutes: float  # how long it has grown (until the last sample)
    count: int  # at the last sample
    bytes: int


def _window_rows(times: np.ndarray, window: float) -> np.ndarray:
    rows = np.arange(len(times))
    if window > 0 and len(times):
        rows = rows[times >= times[-1] - window]
    if len(rows) > MAX_POINTS:
        rows = rows[np.linspace(0, len(rows) - 1, MAX_POINTS).round().astype(np.int64)]
    return rows


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(S, p)`` per column of ``series`` (samples x types): one-sided p of an upward trend."""
    n = series.shape[0]
    i, j = np.triu_indices(n, k=1)
    s = np.sign(series[j] - series[i]).sum(axis=0).astype(np.float64)
    var = np.full(series.shape[1], n * (n - 1) * (2 * n + 5), dtype=np.float64)
    for col in range(series.shape[1]):  # tie correction: only columns with repeated values
        _, ties = np.unique(series[:, col], return_counts=True)
        ties = ties[ties > 1]
        if len(ties):
            var[col] -= float((ties * (ties - 1) * (2 * ties + 5)).sum())
    var /= 18.0
    z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(np.maximum(var, 1e-12)), 0.0)
    p = np.array([0.5 * math.erfc(v / math.sqrt(2.0)) for v in z])
    return s, p


def theil_sen(times: np.ndarray, series: np.ndarray) -> np.ndarray:
    """Median pairwise slope per column (units per second)."""
    n = series.shape[0]
    if n < 2:
        return np.zeros(series.shape[1])
    i, j = np.triu_indices(n, k=1)
    dt = times[j] - times[i]
    keep = dt > 0
    if not keep.any():
        return np.zeros(series.shape[1])
    slopes = (series[j[keep]] - series[i[keep]]) / dt[keep][:, None]
    return np.median(slopes, axis=0)  # type: ignore[no-any-return]


def _growing(
    times: np.ndarray, series: np.ndarray, alpha: float, min_growth: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(flagged, slope per second, p)`` per column."""
    s, p = mann_kendall(series)
    candidates = np.flatnonzero((s > 0) & (p < alpha))
    slope = np.zeros(series.shape[1])
    flagged = np.zeros(series.shape[1], dtype=bool)
    if not len(candidates):
        return flagged, slope, p
    sub = series[:, candidates]
    slope[candidates] = theil_sen(times, sub)
    half = len(times) // 2
    late = theil_sen(times[half:], sub[half:])
    span = times[-1] - times[0]
    flagged[candidates] = (
        (slope[candidates] > 0) & (late > 0) & (slope[candidates] * span >= min_growth)
    )
    return flagged, slope, p


def _since(times: np.ndarray, values: np.ndarray) -> float:
    """The last time the whole series stood at its minimum: when the growth began."""
    low = values.min()
    last = int(np.flatnonzero(values == low)[-1])
    return float(times[last])


def find_leaks(timeline: Timeline, options: TrendOptions | None = None) -> list[Leak]:
    """The types that grow steadily over the window, fastest-growing bytes first."""
    options = options or TrendOptions()
    rows = _window_rows(timeline.times, options.window)
    if len(rows) < max(options.min_samples, 3) or not timeline.names:
        return []
    t = timeline.times[rows]
    counts = timeline.counts[rows].astype(np.float64)
    sizes = timeline.sizes[rows].astype(np.float64)
    by_count, count_slope, count_p = _growing(t, counts, options.alpha, options.min_growth)
    by_bytes, bytes_slope, bytes_p = _growing(t, sizes, options.alpha, options.min_growth_bytes)
    leaks: list[Leak] = []
    for col in np.flatnonzero(by_count | by_bytes):
        # Slopes for both measures even when only one was significant.
        cs = count_slope[col] if by_count[col] else float(theil_sen(t, counts[:, [col]])[0])
        bs = bytes_slope[col] if by_bytes[col] else float(theil_sen(t, sizes[:, [col]])[0])
        key = timeline.counts[:, col] if by_count[col] else timeline.sizes[:, col]
        since = _since(timeline.times, key)
        leaks.append(
            Leak(
                type=timeline.names[col],
                count_slope_per_min=float(cs) * 60.0,
                bytes_slope_per_min=float(bs) * 60.0,
                count_p=float(count_p[col]),
                bytes_p=float(bytes_p[col]),
                since=since,
                minutes=float(timeline.times[-1] - since) / 60.0,
                count=int(timeline.counts[-1, col]),
                bytes=int(timeline.sizes[-1, col]),
            )
        )
    leaks.sort(key=lambda leak: (-leak.bytes_slope_per_min, leak.type))
    return leaks


def two_point_growth(timeline: Timeline, min_growth: int = 1) -> list[str]:
    """Types with at least ``min_growth`` more objects at the last sample than at the first."""
    if timeline.samples < 2:
        return []
    delta = timeline.counts[-1] - timeline.counts[0]
    return [timeline.names[c] for c in np.flatnonzero(delta >= min_growth)]


def memory_verdict(timeline: Timeline) -> str:
    """Whether RSS growth looks like the Python heap's, or native memory / fragmentation."""
    known = timeline.rss >= 0
    if timeline.samples < 3 or known.sum() < 3:
        return "not enough samples"
    t = timeline.times[known]
    rss = float(theil_sen(t, timeline.rss[known][:, None])[0]) * 60.0
    heap = float(theil_sen(t, timeline.heap_bytes[known][:, None])[0]) * 60.0
    if rss <= 64 * 1024:
        return "RSS steady"
    if heap >= 0.25 * rss:
        return "Python-side growth: the Python heap grows with RSS"
    return "native memory or fragmentation: RSS grows, the Python heap does not"


def rate_text(leak: Leak) -> str:
    """``+120 Session/min for 14 min`` (the count rate, or the bytes rate when counts are flat)."""
    short = leak.type.rsplit(".", 1)[-1]
    if abs(leak.count_slope_per_min) >= 0.5:
        rate = f"+{leak.count_slope_per_min:,.0f} {short}/min"
    else:
        rate = f"+{leak.bytes_slope_per_min / 1024:,.1f} KiB of {short}/min"
    return (
        f"{rate} for {leak.minutes:.0f} min"
        if leak.minutes >= 1
        else (f"{rate} for {leak.minutes * 60:.0f} s")
    )
