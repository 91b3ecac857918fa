"""`heaptui watch [PID]`: sample a process's census over time and flag the types that leak.

Every ``--interval`` seconds the agent counts objects and bytes per type (no graph: see
:mod:`heaptui.capture.census`); the samples go to a timeline file (``--timeline``, resumable)
and a trend test (:mod:`heaptui.model.trend`) flags the types that grow steadily, ignoring the
ones that only churn. When a type is first flagged the watch takes a full snapshot (at most
``--keep`` of them, the oldest removed, at most one per ``--snapshot-gap``); the baseline for
them is the snapshot the watch takes when it starts. ``--review FILE`` reads a timeline
written earlier (or being written) and says what leaks, without a process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from typing import Any

from heaptui.commands._agent import add_attach_arguments, agent_session, client_for
from heaptui.core.errors import UserError

DEFAULT_INTERVAL = 10.0
KEEPALIVE = 60.0  # seconds between two requests at most (the agent's IDLE_TIMEOUT is 120 s)


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui watch``."""
    parser = subparsers.add_parser(
        "watch",
        help="sample a process's objects per type over time and flag the types that leak",
        description=(
            "Count objects and bytes per type in process PID every --interval seconds and "
            "flag the types that grow steadily (a Mann-Kendall trend test with a Theil-Sen "
            "slope over --window), not those that only come and go. A full snapshot is taken "
            "when a type is first flagged. Stop with Ctrl-C (or --duration)."
        ),
    )
    parser.add_argument("pid", metavar="PID", nargs="?", type=int, help="the process to watch")
    parser.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help=f"time between two samples (default {DEFAULT_INTERVAL:g})",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="stop after this long (default: until Ctrl-C or the process exits)",
    )
    parser.add_argument(
        "--timeline",
        metavar="FILE",
        help="append the samples to FILE (JSON lines; an existing FILE of the same process is "
        "resumed); 'heaptui watch --review FILE' or 'heaptui open --timeline FILE' read it",
    )
    parser.add_argument(
        "--review", metavar="FILE", help="say what leaks in a timeline FILE written earlier"
    )
    add_trend_arguments(parser)
    parser.add_argument(
        "--snapshot-dir",
        metavar="DIR",
        default=None,
        help="where snapshots go (default: the current directory)",
    )
    parser.add_argument(
        "--keep",
        type=int,
        default=3,
        metavar="N",
        help="keep at most N snapshots of flagged types, besides the baseline (default 3)",
    )
    parser.add_argument(
        "--snapshot-gap",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="at most one snapshot per this many seconds (default 60)",
    )
    parser.add_argument(
        "--no-snapshots", action="store_true", help="take no snapshot (census samples only)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON on stdout at the end"
    )
    add_attach_arguments(parser)
    parser.set_defaults(handler=run)


def add_trend_arguments(parser: argparse.ArgumentParser) -> None:
    """The trend test's options (shared with ``open --timeline``)."""
    from heaptui.model.trend import (
        DEFAULT_ALPHA,
        DEFAULT_MIN_GROWTH,
        DEFAULT_MIN_SAMPLES,
    )

    parser.add_argument(
        "--window",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="test the trend over the last SECONDS of samples (default 600; 0: all)",
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=DEFAULT_ALPHA,
        metavar="P",
        help=f"significance of the trend test (default {DEFAULT_ALPHA:g}: smaller flags less)",
    )
    parser.add_argument(
        "--min-growth",
        type=int,
        default=DEFAULT_MIN_GROWTH,
        metavar="N",
        help=f"flag a type only if it grew by N objects over the window "
        f"(default {DEFAULT_MIN_GROWTH})",
    )
    parser.add_argument(
        "--min-samples",
        type=int,
        default=DEFAULT_MIN_SAMPLES,
        metavar="N",
        help=f"samples needed before anything is flagged (default {DEFAULT_MIN_SAMPLES})",
    )


def trend_options(args: argparse.Namespace) -> Any:
    from heaptui.model.trend import TrendOptions

    if not 0 < args.alpha < 1:
        raise UserError("--alpha must be between 0 and 1")
    if args.window < 0 or args.min_growth < 0 or args.min_samples < 3:
        raise UserError("--window and --min-growth must be >= 0, --min-samples >= 3")
    return TrendOptions(
        window=args.window,
        alpha=args.alpha,
        min_samples=args.min_samples,
        min_growth=args.min_growth,
    )


def run(args: argparse.Namespace) -> int:
    options = trend_options(args)
    if args.review:
        from heaptui.model.timeline import load_timeline

        timeline = load_timeline(args.review)
        _finish(args, _summary(timeline, options, None, [], None), stopped="review")
        return 0
    if args.interval <= 0 or args.duration < 0 or args.keep < 0:
        raise UserError("--interval must be > 0, --duration and --keep >= 0")
    with agent_session(args.pid, args.timeout) as target, client_for(target) as client:
        watch = _Watch(args, options, client, target.pid)
        summary = watch.run()
    _finish(args, summary, stopped=watch.stopped)
    return 0


class _Watch:
    """The sampling loop and its state: samples, flagged types, snapshots taken."""

    def __init__(self, args: argparse.Namespace, options: Any, client: Any, pid: int) -> None:
        self.args = args
        self.options = options
        self.client = client
        self.pid = pid
        self.samples: list[dict[str, Any]] = []
        self.flagged: dict[str, str | None] = {}  # type -> snapshot path (or None)
        self.waiting: list[str] = []  # flagged, their snapshot not taken yet
        self.snapshots: list[str] = []
        self.baseline: str | None = None
        self.last_snapshot = -float("inf")
        self.stopped = "duration"
        self.directory = args.snapshot_dir or os.getcwd()

    def run(self) -> dict[str, Any]:
        from heaptui.core.errors import UserError as _UserError
        from heaptui.model.timeline import append_line, watch_record

        self._resume()
        if self.args.timeline:
            info = self.client.info
            append_line(
                self.args.timeline,
                watch_record(self.pid, info.get("argv", []), self.args.interval, time.time()),
            )
        if not self.args.no_snapshots:
            self.baseline = self._snapshot("baseline", [])
        started = time.monotonic()
        tick = 0
        try:
            while True:
                try:
                    self._sample()
                except _UserError as exc:
                    self.stopped = "target gone"
                    _say(f"the watch ends: {exc}")
                    break
                tick += 1
                if self.args.duration and time.monotonic() - started >= self.args.duration:
                    break
                wait = started + tick * self.args.interval - time.monotonic()
                if self.args.duration:
                    wait = min(wait, started + self.args.duration - time.monotonic())
                self._wait(wait)
        except KeyboardInterrupt:
            self.stopped = "interrupted"
        return _summary(self._timeline(), self.options, self.baseline, self.snapshots, self.flagged)

    def _wait(self, seconds: float) -> None:
        """Sleep until the next sample, asking for the cheap counters now and then: an agent
        drops a connection silent for IDLE_TIMEOUT (120 s), and an injected one then leaves."""
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            time.sleep(min(left, KEEPALIVE))
            if end - time.monotonic() > 0:
                try:
                    self.client.counters()
                except (OSError, UserError):
                    return  # the next sample says what happened to the target

    def _resume(self) -> None:
        """Take up the samples of an earlier watch of this same process from the timeline."""
        path = self.args.timeline
        if not path or not os.path.exists(path):
            return
        from heaptui.model.timeline import load_timeline

        old = load_timeline(path)
        if not old.watches or old.watches[-1].get("pid") != self.pid:
            raise UserError(f"{path} holds the timeline of another process; choose a new file")
        for i in range(old.samples):
            nonzero = old.counts[i].nonzero()[0]
            self.samples.append(
                {
                    "time": float(old.times[i]),
                    "rss": None if old.rss[i] < 0 else int(old.rss[i]),
                    "heap_bytes": int(old.heap_bytes[i]),
                    "objects": int(old.objects[i]),
                    "types": {
                        old.names[j]: [int(old.counts[i, j]), int(old.sizes[i, j])] for j in nonzero
                    },
                }
            )
        _say(f"resuming {path}: {old.samples} earlier samples")

    def _timeline(self) -> Any:
        from heaptui.model.timeline import timeline_from_samples

        return timeline_from_samples(self.samples)

    def _sample(self) -> None:
        from heaptui.model.timeline import append_line, sample_record
        from heaptui.model.trend import find_leaks, rate_text

        census = self.client.census()
        self.samples.append(census)
        if self.args.timeline:
            append_line(self.args.timeline, sample_record(census))
        leaks = find_leaks(self._timeline(), self.options)
        new = [leak for leak in leaks if leak.type not in self.flagged]
        rss = census.get("rss") or 0
        _say(
            f"sample {len(self.samples)}: rss {rss / 1e6:.1f} MB, python heap "
            f"{census['heap_bytes'] / 1e6:.1f} MB, {census['objects']} objects, census "
            f"{census.get('seconds', 0) * 1000:.0f} ms"
            + (f"; leaking: {', '.join(rate_text(leak) for leak in leaks[:3])}" if leaks else "")
        )
        for leak in new:
            self.flagged[leak.type] = None
            self.waiting.append(leak.type)
            _say(f"flagged {leak.type}: {rate_text(leak)}")
        # Types flagged while snapshots were rate-limited get theirs at the next chance.
        if self.waiting and not self.args.no_snapshots and self._may_snapshot():
            types, self.waiting = self.waiting, []
            path = self._snapshot("leak", types)
            for name in types:
                self.flagged[name] = path
            if path:
                _say(f"snapshot of {', '.join(types)}: {path}")

    def _may_snapshot(self) -> bool:
        return self.args.keep > 0 and time.monotonic() - self.last_snapshot >= (
            self.args.snapshot_gap
        )

    def _snapshot(self, reason: str, types: list[str]) -> str | None:
        from heaptui.commands.snapshot import save_capture
        from heaptui.model.timeline import append_line, snapshot_record

        stamp = time.strftime("%Y%m%d-%H%M%S")
        label = "baseline" if reason == "baseline" else _file_safe(types[0])
        path = os.path.join(self.directory, f"heaptui-watch-{self.pid}-{stamp}-{label}.heap")
        try:
            save_capture(self.client, path)
        except UserError as exc:
            _say(f"could not take the {reason} snapshot: {exc}")
            return None
        if reason != "baseline":  # (the baseline does not delay the first leak's snapshot)
            self.last_snapshot = time.monotonic()
            self.snapshots.append(path)
            while len(self.snapshots) > self.args.keep:
                old = self.snapshots.pop(0)
                with contextlib.suppress(OSError):
                    os.unlink(old)
                for name, where in self.flagged.items():  # --keep removed it
                    if where == old:
                        self.flagged[name] = None
        if self.args.timeline:
            append_line(self.args.timeline, snapshot_record(time.time(), path, reason, types))
        return path


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]


def _summary(
    timeline: Any,
    options: Any,
    baseline: str | None,
    snapshots: list[str],
    flagged: dict[str, str | None] | None,
) -> dict[str, Any]:
    """The result: what leaks now (and the snapshot of each), and what a two-point diff says."""
    from heaptui.model.trend import find_leaks, memory_verdict, rate_text, two_point_growth

    leaks = find_leaks(timeline, options)
    flagged = flagged or {}
    if timeline.snapshots:  # a reviewed timeline: the snapshot lines name the types
        for record in timeline.snapshots:
            if record.get("reason") == "baseline":
                baseline = baseline or str(record["path"])
            elif str(record["path"]) not in snapshots:
                snapshots = [*snapshots, str(record["path"])]
            for name in record.get("types", []) if isinstance(record.get("types"), list) else []:
                flagged.setdefault(str(name), str(record["path"]))
    span = float(timeline.times[-1] - timeline.times[0]) if timeline.samples else 0.0
    return {
        "samples": timeline.samples,
        "seconds": span,
        "leaking": [
            {
                "type": leak.type,
                "count_slope_per_min": round(leak.count_slope_per_min, 3),
                "bytes_slope_per_min": round(leak.bytes_slope_per_min, 1),
                "since": leak.since,
                "minutes": round(leak.minutes, 2),
                "count": leak.count,
                "bytes": leak.bytes,
                "p_value": min(leak.count_p, leak.bytes_p),
                "rate": rate_text(leak),
                "snapshot": flagged.get(leak.type),
            }
            for leak in leaks
        ],
        "two_point_growth": two_point_growth(timeline),
        "memory": memory_verdict(timeline),
        "baseline": baseline,
        "snapshots": snapshots,
    }


def _finish(args: argparse.Namespace, summary: dict[str, Any], *, stopped: str) -> None:
    summary["stopped"] = stopped
    if getattr(args, "timeline", None):
        summary["timeline"] = args.timeline
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    print(f"{summary['samples']} samples over {summary['seconds']:.0f} s; {summary['memory']}")
    if not summary["leaking"]:
        print("no type grows steadily")
    for leak in summary["leaking"]:
        where = f"  snapshot: {leak['snapshot']}" if leak["snapshot"] else ""
        print(f"LEAK {leak['type']}: {leak['rate']} (now {leak['count']} objects){where}")
    if summary.get("baseline") and summary["snapshots"]:
        print(
            f"compare: heaptui report {summary['snapshots'][-1]} --baseline {summary['baseline']}"
        )


def _say(text: str) -> None:
    print(f"heaptui: {text}", file=sys.stderr, flush=True)
