"""`heaptui snapshot [PID] -o FILE`: capture a running process's heap through its agent.

Non-interactive: the snapshot streams from the agent into a temporary file next to FILE,
which is renamed into place only once complete (never a half-written FILE). Progress goes to
stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from heaptui.commands._agent import add_attach_arguments, agent_session, client_for
from heaptui.core.atomic import atomic_file
from heaptui.core.errors import UserError
from heaptui.core.printable import printable
from heaptui.transport.discovery import describe_command


def add_parser(subparsers: Any) -> None:
    """Register ``heaptui snapshot``."""
    parser = subparsers.add_parser(
        "snapshot",
        help="capture the heap of a process running the agent into a file",
        description=(
            "Capture the heap of process PID into FILE. A process started with 'heaptui run' "
            "or calling heaptui.install() is captured by its agent; any other CPython 3.10+ "
            "process of yours gets the agent injected (through gdb) and removed afterwards. "
            "Without PID: the only process running the agent."
        ),
    )
    parser.add_argument("pid", metavar="PID", nargs="?", type=int, help="the process to capture")
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="where to write the snapshot (default: heaptui-PID-TIME.heap here)",
    )
    parser.add_argument(
        "--collect", action="store_true", help="run the garbage collector in the target first"
    )
    add_attach_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    progress = _Progress(sys.stderr)
    with agent_session(args.pid, args.timeout) as target, client_for(target) as client:
        pid = target.pid
        output = args.output or f"heaptui-{pid}-{time.strftime('%Y%m%d-%H%M%S')}.heap"
        how = " (agent injected)" if target.injected else ""
        progress.say(f"capturing pid {pid} ({describe_command(client.info, width=200)}){how}")
        totals = save_capture(client, output, progress=progress.received, collect=args.collect)
    progress.done(
        f"wrote {output}: {totals.get('objects', '?')} objects, {_mb(totals['bytes'])}, "
        f"host paused {totals.get('pause_seconds', 0):.2f} s, "
        f"total {totals['transfer_seconds']:.2f} s"
    )
    return 0


def save_capture(
    client: Any, output: str, *, progress: Any = None, collect: bool = False
) -> dict[str, Any]:
    """Stream a capture from ``client`` into ``output`` atomically (mode 0600)."""
    try:
        with atomic_file(output) as out:
            totals = client.capture_to(out, collect=collect, progress=progress)
    except OSError as exc:  # the viewer's own file: a directory not writable, a full disk
        raise UserError(f"cannot write {output}: {exc.strerror or exc}") from None
    return totals  # type: ignore[no-any-return]


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


class _Progress:
    """One updating line on a terminal; plain lines otherwise."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self._last = 0.0

    def say(self, text: str) -> None:
        print(f"heaptui: {printable(text)}", file=self.stream, flush=True)

    def received(self, n: int) -> None:
        now = time.monotonic()
        if self.tty and now - self._last > 0.1:
            self._last = now
            print(f"\rheaptui: received {_mb(n)}", end="", file=self.stream, flush=True)

    def done(self, text: str) -> None:
        if self.tty:
            print("\r\033[K", end="", file=self.stream)
        self.say(text)
