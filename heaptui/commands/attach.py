"""`heaptui attach [PID]`: the terminal UI on a running program, in live mode.

The first snapshot is the baseline; keys in the UI take new snapshots (growth since the
baseline), move the baseline, and save snapshots. Without PID: the only process running the
agent, or an error listing the choices.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from heaptui.commands._agent import add_attach_arguments, agent_session, client_for
from heaptui.core.errors import UserError


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui attach``."""
    parser = subparsers.add_parser(
        "attach",
        help="open the UI on a running Python process (the agent is injected if it has none)",
        description=(
            "Connect to the heaptui agent in process PID (a process started with 'heaptui run' "
            "or calling heaptui.install(); any other CPython 3.10+ process of yours gets the "
            "agent injected through gdb, and removed again when you quit), take a first "
            "snapshot as the "
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
    add_attach_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if not os.path.isdir(args.save_dir):
        raise UserError(f"--save-dir {args.save_dir} is not a directory")
    # The first connection fails here, in the terminal, if the agent cannot be reached; it stays
    # open while the UI starts, so an injected agent's lease (a few seconds without a viewer)
    # never runs out before the UI's own connections are made (the agent lets it go once idle).
    with agent_session(args.pid, args.timeout) as target, client_for(target):
        from heaptui.transport.sources import LiveSource
        from heaptui.ui.live import live_app

        source = LiveSource(target.pid, os.path.dirname(target.path))
        app = live_app(source, save_dir=args.save_dir, exit_on_error=True)
        status = app.run()
    if app.load_error is not None:
        raise UserError(app.load_error)
    return int(status or 0)
