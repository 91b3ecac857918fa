"""`heaptui run app.py [args]` / `heaptui run -m pkg.module [args]`: run a program with the agent.

The program runs in this very process (through :mod:`runpy`), so ``heaptui attach``,
``heaptui ps`` and ``heaptui snapshot`` can reach it; it sees the ``sys.argv`` and
``sys.path[0]`` it would see under ``python app.py`` or ``python -m pkg.module``.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys
from typing import Any

from heaptui.errors import UserError


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui run``."""
    parser = subparsers.add_parser(
        "run",
        help="run a Python program with the heaptui agent, ready for 'heaptui attach'",
        description=(
            "Run SCRIPT (or -m MODULE) in this process with the heaptui agent listening on a "
            "private socket; then 'heaptui attach', 'heaptui ps' and 'heaptui snapshot' reach "
            "it from another terminal. Arguments after the script go to the program."
        ),
        usage="heaptui run [--trace] (SCRIPT | -m MODULE) [ARGS ...]",
    )
    parser.add_argument(
        "-m",
        dest="module",
        nargs=argparse.REMAINDER,
        metavar="MODULE",
        help="run a library module as a script (what follows goes to the module)",
    )
    parser.add_argument(
        "--trace",
        action="store_true",
        help="also start tracemalloc (records where objects were allocated; slower)",
    )
    parser.add_argument(
        "--trace-frames",
        type=int,
        default=25,
        metavar="N",
        help="frames tracemalloc keeps per allocation with --trace (default 25: enough to "
        "see which of your lines called into a library)",
    )
    parser.add_argument("program", nargs=argparse.REMAINDER, help="the script and its arguments")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Install the agent, then run the program as ``__main__``; its exit status is ours."""
    if args.module is not None and not args.module:
        raise UserError("-m needs a module name")
    if args.module is None and not args.program:
        raise UserError("give a script to run, or -m MODULE")
    if args.module is None:
        script = args.program[0]
        if not os.path.exists(script):
            raise UserError(f"No such file: {script}")
    if args.trace:
        import tracemalloc

        tracemalloc.start(max(1, args.trace_frames))

    from heaptui.transport.agent import install
    from heaptui.transport.sockdir import UnsafeDirectory

    try:
        install()
    except (UnsafeDirectory, OSError) as exc:
        raise UserError(f"cannot start the agent: {exc}") from None

    if args.module is not None:
        module, *rest = args.module
        sys.argv = [module, *rest]  # runpy replaces argv[0] with the module's file
        sys.path[0] = os.getcwd()
        if not _module_exists(module):
            raise UserError(f"No module named {module}")
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        sys.argv = list(args.program)
        sys.path[0] = os.path.dirname(os.path.abspath(script))
        runpy.run_path(script, run_name="__main__")
    return 0


def _module_exists(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
