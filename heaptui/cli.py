"""Command-line entry point: argument parsing and wiring only.

Each subcommand lives in ``heaptui/commands/<name>.py`` and provides
``add_parser(subparsers)`` (registering itself, with ``run(args) -> int`` as its handler via
``set_defaults(handler=run)``). Heavy imports (numpy, textual) happen inside ``run``, so that
``heaptui --help`` and the hook stay fast.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Sequence

from heaptui import __version__
from heaptui.core.errors import UserError
from heaptui.core.printable import printable

# Order is the order shown in --help.
COMMANDS = ["demo", "open", "report", "run", "ps", "attach", "snapshot", "watch", "export"]

DESCRIPTION = """\
heaptui: find memory leaks in Python programs from the terminal.

Capture heap snapshots (every object, its size, and who refers to it through what), then
see the type summary, the growth since a baseline, and the path from a root that keeps any
object alive.
"""

EPILOG = """\
examples:
  heaptui demo                                  see a real leak found in seconds
  python -c "import heaptui; heaptui.dump('now.heap')"
  heaptui report now.heap                       type summary as a table
  heaptui report after.heap --baseline base.heap    growth and leak suspects
  heaptui open after.heap --baseline base.heap  browse in the terminal UI
  heaptui after.heap                            same as 'heaptui open after.heap'
  heaptui run app.py --port 8000                run a program with the agent installed
  heaptui ps                                    processes with a live agent
  heaptui attach [PID]                          live UI on a running process (any CPython
                                                3.10+ of yours: the agent is injected if needed)
  heaptui snapshot PID -o now.heap              capture a running process to a file
  heaptui watch PID --interval 5              flag the types that grow steadily over time
  heaptui export after.heap --format svg -o graph.svg   who refers to the top suspect, as a picture
"""


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="heaptui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"heaptui {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="say more about what heaptui is doing"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"heaptui.commands.{name}").add_parser(subparsers)
    return parser


def _with_implicit_open(argv: list[str]) -> list[str]:
    """``heaptui FILE ...`` means ``heaptui open FILE ...``."""
    first = argv[0] if argv else ""
    is_file = os.path.exists(first) or first.endswith(".heap")
    if first and not first.startswith("-") and first not in COMMANDS and is_file:
        return ["open", *argv]
    return argv


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, turned into an exception so that every ``finally`` and cleanup runs
    as for Ctrl-C (a half-written file is removed) instead of the process just vanishing."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_on_termination(signum: int, frame: object) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def _termination_raises(enabled: bool = True) -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise :class:`Terminated` where they would kill us
    outright (a signal the caller ignores, as under ``nohup``, stays ignored)."""
    replaced = {}
    if enabled and threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            signum = getattr(signal, name, None)
            if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
                replaced[signum] = signal.signal(signum, _raise_on_termination)
    try:
        yield
    finally:
        for signum, previous in replaced.items():
            signal.signal(signum, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run heaptui with ``argv`` (default: ``sys.argv[1:]``) and return the exit status."""
    args_list = _with_implicit_open(list(sys.argv[1:] if argv is None else argv))
    parser = build_parser()
    args = parser.parse_args(args_list)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        # Not for 'heaptui run': the program it runs keeps its own signal behaviour.
        with _termination_raises(args.command != "run"):
            return int(handler(args) or 0)
    except Terminated as exc:
        print(f"heaptui: {signal.Signals(exc.signum).name}: stopped", file=sys.stderr)
        return 128 + exc.signum
    except UserError as exc:
        print(f"heaptui: error: {printable(str(exc))}", file=sys.stderr)  # texts of files/targets
        return exc.exit_status
    except KeyboardInterrupt:
        print("heaptui: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
