"""Find the live agents of this user: what ``heaptui ps`` lists and ``attach`` picks from.

Each socket in the per-user directory is asked for its info. Agents bind under a temporary
name and rename once listening, so a socket nobody answers on belongs to a dead process: it is
removed (a stale socket).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from heaptui.core.errors import UserError
from heaptui.core.printable import printable
from heaptui.transport import sockdir
from heaptui.transport.client import AgentClient, AgentError

PS_TIMEOUT = 2.0


@dataclass
class AgentEntry:
    """One agent found in the socket directory; ``info`` is empty when it did not answer."""

    pid: int
    path: str
    info: dict[str, Any] = field(default_factory=dict)
    problem: str | None = None


def list_agents(directory: str | None = None, *, clean: bool = True) -> list[AgentEntry]:
    """Return the agents that answered (or exist but did not), removing stale sockets.

    A socket directory that is not private to this user is refused with a ``UserError``.
    Only sockets are removed, never through a symlink (:func:`sockdir.remove_stale_socket`).
    """
    try:
        listed = sockdir.listed_sockets(directory)
    except sockdir.UnsafeDirectory as exc:
        raise UserError(
            f"refusing the socket directory: {exc} (remove it; another user could have put "
            "fake agents there)"
        ) from None
    entries = []
    for pid, path in listed:
        client = AgentClient(path, pid=pid, timeout=PS_TIMEOUT)
        try:
            with client:
                entries.append(AgentEntry(pid, path, dict(client.info)))
        except AgentError as exc:
            if not sockdir.pid_alive(pid) or _refused(path):
                if clean:
                    sockdir.remove_stale_socket(path)
                continue
            entries.append(AgentEntry(pid, path, problem=str(exc)))
    return entries


def choose_agent(pid: int | None, directory: str | None = None) -> int:
    """Return the pid to connect to: ``pid`` itself, or the only agent running."""
    if pid is not None:
        return pid
    agents = [a for a in list_agents(directory) if a.problem is None]
    if len(agents) == 1:
        return agents[0].pid
    if not agents:
        raise UserError(
            "no process is running with the heaptui agent; start one with "
            "'heaptui run app.py' or call heaptui.install() in it"
        )
    choices = "; ".join(f"{a.pid} {describe_command(a.info)}" for a in agents)
    raise UserError(f"several processes run the heaptui agent, give a PID: {choices}")


def describe_command(info: dict[str, Any], width: int = 60) -> str:
    """The process's command line, shortened for a table, made printable (it comes from the
    agent: see :mod:`heaptui.core.printable`)."""
    command = info.get("argv") or info.get("command") or []
    text = " ".join(str(part) for part in command) if isinstance(command, list) else str(command)
    text = printable(text)
    return text if len(text) <= width else text[: width - 1] + "…"


def _refused(path: str) -> bool:
    import socket

    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        return True
    except OSError:
        return False
    finally:
        probe.close()
    return False
