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

from heaptui.core.errors import UserError


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
        usage="heaptui run [--trace] [--watch] [--dump-at-rss SIZE] (SCRIPT | -m MODULE) "
        "[ARGS ...]",
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
    parser.add_argument(
        "--dump-at-rss",
        metavar="SIZE",
        help="write a snapshot when the program's RSS crosses SIZE (2GiB, 500MB, or 80%% of "
        "the cgroup's memory limit, else of the machine's): a snapshot before the OOM killer",
    )
    parser.add_argument(
        "--dump-dir", metavar="DIR", help="where --dump-at-rss snapshots go (default: here)"
    )
    parser.add_argument(
        "--keep",
        type=int,
        default=None,
        metavar="N",
        help="write at most N snapshots at high RSS (each after RSS grew 10%% more; default 1)",
    )
    parser.add_argument(
        "--watch",
        action="store_true",
        help="also run 'heaptui watch' on the program: census samples into --timeline, the "
        "types that grow steadily flagged (and snapshotted into --dump-dir)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="with --watch: time between two samples (default 10)",
    )
    parser.add_argument(
        "--timeline",
        metavar="FILE",
        help="with --watch: the timeline file (default heaptui-PID.timeline here)",
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

    if args.keep is not None and args.keep < 1:
        raise UserError("--keep must be at least 1")
    if args.interval <= 0:
        raise UserError("--interval must be > 0")
    try:
        install(dump_at_rss=args.dump_at_rss, dump_dir=args.dump_dir, dump_keep=args.keep)
    except ValueError as exc:
        raise UserError(f"--dump-at-rss: {exc}") from None
    except (UnsafeDirectory, OSError) as exc:
        raise UserError(f"cannot start the agent: {exc}") from None
    if args.watch:
        _start_watcher(args)

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


def _start_watcher(args: argparse.Namespace) -> None:
    """Run ``heaptui watch`` on this very process, in a process of its own.

    The trend test needs numpy, which the program must not be made to import; the watcher
    talks to the agent like any viewer and ends (printing what leaks) when the program does.
    """
    import subprocess

    timeline = args.timeline or f"heaptui-{os.getpid()}.timeline"
    command = [
        sys.executable,
        "-m",
        "heaptui",
        "watch",
        str(os.getpid()),
        "--interval",
        str(args.interval),
        "--timeline",
        timeline,
        "--snapshot-dir",
        args.dump_dir or os.getcwd(),
    ]
    try:
        subprocess.Popen(command, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise UserError(f"cannot start the watch: {exc}") from None
    print(f"heaptui: watching this program into {timeline}", file=sys.stderr, flush=True)


def _module_exists(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
