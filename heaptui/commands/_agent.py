"""Reach the agent of a process for `attach` and `snapshot`, injecting one when it has none.

A process started with ``heaptui run`` or calling ``heaptui.install()`` already listens; any
other CPython 3.10+ process of the same user (any, as root) gets the agent injected by PID
(:mod:`heaptui.transport.attach.viewer`). An injected agent is stopped again when the viewer is
done, so the target is left as it was; an agent the program installed itself is never stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class AgentTarget:
    """Where the agent of ``pid`` listens, and whether heaptui started it."""

    pid: int
    path: str
    injected: bool


def add_attach_arguments(parser: argparse.ArgumentParser) -> None:
    """The options shared by every command that may inject the agent."""
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="how long to wait for a process without the agent to run the injected code "
        f"(default {DEFAULT_TIMEOUT:g}; a main thread busy in C code delays it)",
    )


def _ask_to_keep_waiting(waited: float) -> bool:
    """On a terminal, ask whether to keep waiting for a busy target; elsewhere, give up."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    print(
        f"heaptui: the target has not run the injected code after {waited:.0f} s "
        "(its main thread holds the GIL in C code).",
        file=sys.stderr,
    )
    try:
        answer = input("Keep waiting? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def _say(note: str) -> None:
    print(f"heaptui: {note}", file=sys.stderr, flush=True)


def find_agent(pid: int | None, timeout: float = DEFAULT_TIMEOUT) -> AgentTarget:
    """The agent to talk to: the only one running, or that of ``pid`` (injected if need be)."""
    from heaptui.transport.discovery import choose_agent
    from heaptui.transport.sockdir import socket_path

    if pid is None:
        chosen = choose_agent(None)
        return AgentTarget(chosen, socket_path(chosen), injected=False)
    from heaptui.transport.attach.viewer import ensure_agent

    if sys.stderr.isatty():
        print(f"heaptui: connecting to process {pid}…", file=sys.stderr, flush=True)
    path, injected = ensure_agent(
        pid, timeout=timeout, keep_waiting=_ask_to_keep_waiting, on_note=_say
    )
    return AgentTarget(pid, path, injected)


def release(target: AgentTarget) -> None:
    """Stop an agent heaptui injected (its socket goes too); leave an installed one alone."""
    if not target.injected:
        return
    from heaptui.transport.client import AgentClient

    with contextlib.suppress(Exception):  # the target may have exited meanwhile
        client = AgentClient(target.path, pid=target.pid)
        client.connect()
        client.stop_agent()


@contextlib.contextmanager
def agent_session(pid: int | None, timeout: float = DEFAULT_TIMEOUT) -> Iterator[AgentTarget]:
    """Find (or inject) the agent for the duration of a command, then release it."""
    target = find_agent(pid, timeout)
    try:
        yield target
    finally:
        release(target)


def client_for(target: AgentTarget, **kwargs: Any) -> Any:
    """An unconnected client for ``target``'s socket."""
    from heaptui.transport.client import AgentClient

    return AgentClient(target.path, pid=target.pid, **kwargs)
