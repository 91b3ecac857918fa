"""Benchmark and precision of grouped leak suspects (issue 14).

    python bench/bench_report.py [--tracked 1000000] [--repeats 3] [--no-precision]

Cost: a child process builds the heap of bench/heap_shapes.py (``--tracked`` gc-tracked
objects, about 2.2 objects in all per tracked one), dumps a baseline, leaks 20,000 loggers
(``logging.getLogger(f"svc.request.{i}")``) and 20,000 ``Session`` objects into a cache, and
dumps again. Then ``heaptui report AFTER --baseline BASE`` is computed in this process
(``build_report`` with retained sizes, as the command does, plus loading both files) with
suspects one per type (``group=False``: before issue 14) and grouped (now). Each variant runs
``--repeats`` times; the best wall time counts ("cpu s" is this process's CPU time for it).

Precision: the leak programs of tests/test_leaky_programs.py and tests/test_leak_shapes.py,
each reported ungrouped and grouped: the first suspect's type, whether it is the leaked type,
how many suspects the leak's accumulation point produced (one leak should be one suspect) and
how many ``<ref>`` steps its path has.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any
from unittest import mock

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests"))

LEAK = """
import logging
import sys
sys.path.insert(0, {bench!r})
import heaptui
from heap_shapes import Session, build_heap

holder = build_heap({tracked})
heaptui.dump({base!r})
CACHE = {{}}
for i in range(20000):
    logging.getLogger(f"svc.request.{{i}}")
    CACHE[f"session:{{i}}"] = Session(f"user:{{i}}", i)
heaptui.dump({after!r})
"""


def _capture(tracked: int, tmp: Path) -> tuple[str, str, float]:
    base, after = str(tmp / "base.heap"), str(tmp / "after.heap")
    script = tmp / "leak.py"
    script.write_text(LEAK.format(bench=str(HERE), tracked=tracked, base=base, after=after))
    start = time.perf_counter()
    subprocess.run([sys.executable, str(script)], check=True, cwd=ROOT)
    return base, after, time.perf_counter() - start


def _report_once(base_path: str, after_path: str, group: bool) -> tuple[float, float, Any]:
    """Wall and CPU seconds of loading both files and building the report."""
    import heaptui.model.suspects as suspects
    from heaptui.commands.report import build_report
    from heaptui.model.load import load_snapshot

    original = suspects.leak_suspects

    def leak_suspects(*args: Any, **kwargs: Any) -> Any:
        return original(*args, **kwargs, group=group)

    wall, cpu = time.perf_counter(), time.process_time()
    with mock.patch.object(suspects, "leak_suspects", leak_suspects):
        now = load_snapshot(after_path)
        base = load_snapshot(base_path)
        report = build_report(now, base, 15, retained=True)
    return time.perf_counter() - wall, time.process_time() - cpu, report


def cost(tracked: int, repeats: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base, after, seconds = _capture(tracked, Path(tmp))
        from heaptui.model.load import load_snapshot

        objects = load_snapshot(after).node_count
        print(f"heap: {objects:,} objects after the leak (captured both in {seconds:.1f} s)")
        best: dict[bool, tuple[float, float]] = {}
        first: dict[bool, Any] = {}
        for _ in range(repeats):
            for group in (False, True):
                wall, cpu, report = _report_once(base, after, group)
                if group not in best or wall < best[group][0]:
                    best[group] = (wall, cpu)
                first[group] = report.suspects
        print(f"{'report --baseline':<28}{'seconds':>9}{'cpu s':>9}  first suspects")
        for group, label in ((False, "one suspect per type"), (True, "grouped (issue 14)")):
            wall, cpu = best[group]
            names = ", ".join(s.name for s in first[group][:4])
            print(f"{label:<28}{wall:>9.2f}{cpu:>9.2f}  {names}")
        from heaptui.model.suspects import answer_text

        for s in first[True][:3]:
            print(f"  {answer_text(s)[:150]}  [{', '.join(s.members)}]")
        ratio = best[True][0] / best[False][0]
        print(f"grouped / per type: {ratio:.3f} (wall, best of {repeats})")


def _programs() -> dict[str, tuple[str, str]]:
    """name -> (program, leaked type)."""
    import test_leak_shapes as shapes
    from test_leaky_programs import PROGRAMS

    found = {name: (source, leaked) for name, (source, leaked, _) in PROGRAMS.items()}
    found.update(
        {
            "logger_per_request": (shapes.LOGGING, "logging.Logger"),
            "kept_exceptions": (shapes.EXCEPTIONS, "__main__.RequestError"),
            "thread_local": (shapes.THREAD_LOCAL, "__main__.Conn"),
            "lru_cache": (shapes.LRU_CACHE, "__main__.Result"),
            "atexit": (shapes.ATEXIT, "__main__.Resource"),
            "generators": (shapes.GENERATORS, "__main__.Chunk"),
            "asyncio_tasks": (shapes.ASYNCIO, "__main__.Chunk"),
        }
    )
    return found


def precision() -> None:
    from heaptui.commands.report import build_report
    from heaptui.model.load import load_snapshot

    print()
    print(
        f"{'program':<20}{'variant':<10}{'first suspect':<24}{'ok':<4}{'same-leak':>10}{'<ref>':>7}"
    )
    totals = {False: [0, 0], True: [0, 0]}
    for name, (source, leaked) in _programs().items():
        with tempfile.TemporaryDirectory() as tmp:
            base, after = Path(tmp) / "base.heap", Path(tmp) / "after.heap"
            script = Path(tmp) / "leaky.py"
            header = f"import heaptui\nBASE = {str(base)!r}\nAFTER = {str(after)!r}\n"
            script.write_text(header + textwrap.dedent(source))
            subprocess.run([sys.executable, str(script)], check=True, timeout=300)
            now, old = load_snapshot(str(after)), load_snapshot(str(base))
            for group in (False, True):
                import heaptui.model.suspects as suspects

                original = suspects.leak_suspects

                def patched(*a: Any, _o: Any = original, _g: bool = group, **k: Any) -> Any:
                    return _o(*a, **k, group=_g)

                with mock.patch.object(suspects, "leak_suspects", patched):
                    report = build_report(now, old, 15, retained=True)
                top = report.suspects[0]
                point = top.accumulation.node if top.accumulation else None
                same = (
                    sum(
                        1
                        for s in report.suspects
                        if point is not None and s.accumulation and s.accumulation.node == point
                    )
                    or 1
                )
                refs = sum(1 for step in top.path.steps if step.edge == "<ref>") if top.path else 0
                ok = top.name == leaked
                totals[group][0] += ok
                totals[group][1] += same == 1
                variant = "grouped" if group else "per type"
                print(
                    f"{name:<20}{variant:<10}{top.name[:23]:<24}{'yes' if ok else 'NO':<4}"
                    f"{same:>10}{refs:>7}"
                )
    count = len(_programs())
    for group in (False, True):
        ok, single = totals[group]
        variant = "grouped" if group else "per type"
        first = f"leaked type first in {ok}/{count}"
        print(f"{variant}: {first}; one suspect per leak in {single}/{count}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tracked", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-precision", action="store_true")
    parser.add_argument("--no-cost", action="store_true")
    args = parser.parse_args()
    if not args.no_cost:
        cost(args.tracked, args.repeats)
    if not args.no_precision:
        precision()


if __name__ == "__main__":
    main()
