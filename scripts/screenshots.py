"""Regenerate ``screenshots/*.svg`` (shown in the README) from a run of the demo program.

    .venv/bin/python scripts/screenshots.py [--out screenshots]

Runs the bundled leaky program (as ``heaptui demo`` does), opens the UI headless on its two
snapshots and saves one SVG per state at a small and a wide terminal size.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable

from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from heaptui.demo.driver import run_leaky_app
from heaptui.ui.app import HeapApp
from heaptui.ui.source import FileSource

Steps = Callable[[Pilot], Awaitable[None]]


async def settle(pilot: Pilot) -> None:
    """Let every worker finish and its messages land."""
    for _ in range(10):
        # an exclusive worker replaced by a newer one raises WorkerCancelled: wait again
        with contextlib.suppress(WorkerCancelled):
            await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.is_running for worker in pilot.app.workers):
            return


async def nothing(pilot: Pilot) -> None:
    """The state the demo opens in: top suspect selected, why-alive path open."""


async def types(pilot: Pilot) -> None:
    await pilot.press("1")


async def instances(pilot: Pilot) -> None:
    await pilot.press("2")


async def growth(pilot: Pilot) -> None:
    await pilot.press("4")


async def referents(pilot: Pilot) -> None:
    await pilot.press("3", "r")


async def dominators(pilot: Pilot) -> None:
    """The Dominators pane with its biggest retainer opened two levels."""
    await pilot.press("5", "right", "down", "right")


async def help_screen(pilot: Pilot) -> None:
    await pilot.press("question_mark")


SHOTS: list[tuple[str, tuple[int, int], Steps]] = [
    ("demo-wide", (160, 45), nothing),
    ("demo-80x24", (80, 24), nothing),
    ("types-80x24", (80, 24), types),
    ("instances-80x24", (80, 24), instances),
    ("growth-80x24", (80, 24), growth),
    ("referents-wide", (160, 45), referents),
    ("dominators-80x24", (80, 24), dominators),
    ("dominators-wide", (160, 45), dominators),
    ("help-80x24", (80, 24), help_screen),
]


async def shoot(base: str, after: str, out: str) -> None:
    for name, size, steps in SHOTS:
        app = HeapApp(FileSource(after, base), preselect_suspect=True)
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await steps(pilot)
            await settle(pilot)
            path = app.save_screenshot(filename=f"{name}.svg", path=out)
        print(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="screenshots", help="directory for the SVG files")
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="heaptui-shots-") as directory:
        base, after = run_leaky_app(directory)
        asyncio.run(shoot(base, after, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
