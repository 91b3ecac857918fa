"""`heaptui demo`: run a small leaky program, snapshot it twice, and open the UI on the leak.

The UI opens on the later snapshot with the earlier one as baseline and the top leak suspect
already selected, its path from a root on screen. ``--no-tui`` prints the report instead
(for CI, or a terminal without a UI); ``--keep DIR`` keeps the two snapshot files.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Any

from heaptui.core.errors import UserError


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui demo``."""
    from heaptui.demo.driver import DEFAULT_REQUESTS

    parser = subparsers.add_parser(
        "demo",
        help="see a leak found in seconds: run a leaky demo program and open the UI on it",
        description=(
            "Run a small leaky web-shop program bundled with heaptui (in a subprocess). It "
            "writes a baseline snapshot, serves requests that leak Session objects into a "
            "module-level cache and Listener objects into a class-level list, and writes a "
            "second snapshot. The UI then opens on the growth, with the top suspect and the "
            "chain of references that keeps it alive on screen."
        ),
    )
    parser.add_argument(
        "--keep", metavar="DIR", help="write base.heap and after.heap to DIR and keep them"
    )
    parser.add_argument(
        "--no-tui", action="store_true", help="print the report instead of opening the UI"
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=DEFAULT_REQUESTS,
        metavar="N",
        help=f"requests the demo program serves between the snapshots (default {DEFAULT_REQUESTS})",
    )
    parser.set_defaults(handler=run)


def _show(base: str, after: str, no_tui: bool) -> int:
    if no_tui:
        from heaptui.commands.report import build_report, print_report
        from heaptui.model.load import load_snapshot

        report = build_report(load_snapshot(after), load_snapshot(base), top=10)
        print_report(report, sys.stdout)
        return 0
    from heaptui.commands.open import open_ui

    return open_ui(after, base, preselect_suspect=True)


def run(args: argparse.Namespace) -> int:
    from heaptui.demo.driver import run_leaky_app

    if args.requests < 1:
        raise UserError("--requests must be at least 1")
    print("heaptui demo: running the leaky demo program…", file=sys.stderr, flush=True)
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        base, after = run_leaky_app(args.keep, args.requests)
        status = _show(base, after, args.no_tui)
        print(
            f"heaptui demo: kept {base} and {after}\n"
            f"  open them again with: heaptui open {after} --baseline {base}",
            file=sys.stderr,
        )
        return status
    with tempfile.TemporaryDirectory(prefix="heaptui-demo-") as directory:
        base, after = run_leaky_app(directory, args.requests)
        return _show(base, after, args.no_tui)
