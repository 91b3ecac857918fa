"""`heaptui attach [PID]`: the terminal UI on a running program, in live mode.

The first snapshot is the baseline; keys in the UI take new snapshots (growth since the
baseline), move the baseline, and save snapshots. Without PID: the only process running the
agent, or an error listing the choices.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from heaptui.errors import UserError


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui attach``."""
    parser = subparsers.add_parser(
        "attach",
        help="open the UI on a running process (started with 'heaptui run' or heaptui.install())",
        description=(
            "Connect to the heaptui agent in process PID, take a first snapshot as the "
            "baseline and open the UI in live mode: a header with RSS and gc counts every "
            "second; R takes a new snapshot (growth since the baseline), B makes the current "
            "snapshot the baseline, ctrl+s saves it."
        ),
    )
    parser.add_argument("pid", metavar="PID", nargs="?", type=int, help="the process to attach to")
    parser.add_argument(
        "--save-dir",
        metavar="DIR",
        default=".",
        help="where ctrl+s writes snapshots (default: the current directory)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from heaptui.transport.client import AgentClient
    from heaptui.transport.discovery import choose_agent

    if not os.path.isdir(args.save_dir):
        raise UserError(f"--save-dir {args.save_dir} is not a directory")
    pid = choose_agent(args.pid)
    with AgentClient.for_pid(pid):  # fail here, in the terminal, if it cannot be reached
        pass

    from heaptui.transport.sources import LiveSource
    from heaptui.ui.live import LiveHeapApp

    app = LiveHeapApp(LiveSource(pid), save_dir=args.save_dir, exit_on_error=True)
    status = app.run()
    if app.load_error is not None:
        raise UserError(app.load_error)
    return int(status or 0)
