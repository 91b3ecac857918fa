"""The in-process agent: a daemon thread serving heap snapshots over a private Unix socket.

Standard library only: it runs inside the program being debugged, and may be injected as
source into processes without heaptui installed. This module is the process-wide wiring
(install/uninstall, fork, exit, the dump signal); the server is :mod:`.agent_server` and the
captures :mod:`.agent_capture`. Together they need :mod:`.protocol`, :mod:`.sockdir`,
:mod:`heaptui.core` and, when a capture is asked for, :mod:`heaptui.capture` and
:mod:`heaptui.fileformat.write`.

The host must not notice it. Idle, its threads are blocked in ``accept``/``recv`` (no timers,
no polling). Peers other than the same user (or root) are refused by ``SO_PEERCRED``. Any error
is contained and written to stderr once. A capture holds no host objects once sent. After a
``fork`` the child closes the parent's sockets (and starts its own agent unless told not to);
at interpreter exit the socket file is removed.
"""

from __future__ import annotations

import atexit
import os
import signal
import threading
from types import FrameType
from typing import Any

from .agent_server import Agent, log_once

__all__ = ["Agent", "current_agent", "install", "uninstall"]

_lock = threading.Lock()
_agent: Agent | None = None
_previous_handlers: dict[int, Any] = {}
_fork_hook_registered = False
_atexit_registered = False


def _on_dump_signal(signum: int, frame: FrameType | None) -> None:
    """Only set an event (the dump thread does the work), then chain the previous handler."""
    agent = _agent
    if agent is not None:
        agent.request_dump()
    previous = _previous_handlers.get(signum)
    if callable(previous):
        previous(signum, frame)


def _install_signal(signum: int) -> None:
    if threading.current_thread() is not threading.main_thread():
        log_once("signal", "dump_signal needs install() to be called from the main thread")
        return
    current = signal.getsignal(signum)
    if current is not _on_dump_signal:
        _previous_handlers[signum] = current
        signal.signal(signum, _on_dump_signal)


def _after_fork_in_child() -> None:
    global _agent, _lock
    _lock = threading.Lock()  # another thread may have held it at the fork
    try:
        agent, _agent = _agent, None
        if agent is None:
            return
        agent._abandon_after_fork()
        if agent.options["restart_after_fork"]:
            _agent = Agent(**agent.options)
    except Exception as exc:
        log_once("fork", f"could not restart the agent after fork: {exc!r}")


def _at_exit() -> None:
    agent = _agent
    if agent is not None and agent.pid == os.getpid():
        agent.stop()


def install(
    *,
    socket_dir: str | None = None,
    dump_signal: int | None = None,
    dump_dir: str | None = None,
    restart_after_fork: bool = True,
    dump_at_rss: int | str | None = None,
    dump_keep: int | None = None,
) -> Agent:
    """Start the agent in this process (once; later calls return the running one).

    ``socket_dir`` overrides the per-user socket directory. ``dump_signal`` (e.g.
    ``signal.SIGUSR2``) makes the agent write a snapshot file into ``dump_dir`` (default: the
    current directory) whenever the process receives that signal. ``restart_after_fork``
    starts a fresh agent in forked children (the parent's socket is always closed there).
    ``dump_at_rss`` (bytes, or text such as ``"2GiB"`` or ``"80%"``; else the environment's
    ``HEAPTUI_DUMP_AT_RSS``) writes a snapshot into ``dump_dir`` when RSS crosses it, at most
    ``dump_keep`` times (default 1): see :mod:`heaptui.transport.rsswatch`.
    """
    global _agent, _fork_hook_registered, _atexit_registered
    with _lock:
        if _agent is not None and _agent.pid == os.getpid() and not _agent._stopped:
            return _agent
        rss_options = _rss_options(dump_at_rss, dump_dir, dump_keep)
        _agent = Agent(
            socket_dir=socket_dir,
            dump_signal=dump_signal,
            dump_dir=rss_options.get("dump_dir", dump_dir),
            restart_after_fork=restart_after_fork,
            **{k: v for k, v in rss_options.items() if k != "dump_dir"},
        )
        if dump_signal is not None:
            _install_signal(dump_signal)
        if not _fork_hook_registered and hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=_after_fork_in_child)
            _fork_hook_registered = True
        if not _atexit_registered:
            atexit.register(_at_exit)
            _atexit_registered = True
        return _agent


def _rss_options(limit: int | str | None, dump_dir: str | None, keep: int | None) -> dict[str, Any]:
    """The dump-at-RSS options, from the arguments or else the environment.

    A bad argument raises ValueError; a bad environment value is logged and ignored (the host
    did not ask for it).
    """
    from . import rsswatch

    from_env = limit is None
    if from_env:
        env = rsswatch.options_from_env()
        limit = env.get("dump_at_rss")  # type: ignore[assignment]
        if limit is None:
            return {}
        dump_dir = dump_dir or env.get("dump_dir")  # type: ignore[assignment]
        keep = keep if keep is not None else env.get("dump_keep")  # type: ignore[assignment]
    try:
        size = limit if isinstance(limit, int) else rsswatch.parse_limit(str(limit))
        if size <= 0:
            raise ValueError(f"the RSS limit must be positive: {limit!r}")
    except ValueError as exc:
        if not from_env:
            raise
        log_once("dump-at-rss", f"{rsswatch.ENV_LIMIT} ignored: {exc}")
        return {}
    out: dict[str, Any] = {"dump_at_rss": size, "dump_keep": max(1, keep or 1)}
    if dump_dir:
        out["dump_dir"] = dump_dir
    return out


def current_agent() -> Agent | None:
    """Return the agent running in this process, if any."""
    agent = _agent
    return agent if agent is not None and agent.pid == os.getpid() else None


def uninstall() -> None:
    """Stop the agent and remove its socket (a dump signal handler stays, doing nothing)."""
    global _agent
    with _lock:
        agent, _agent = _agent, None
    if agent is not None and agent.pid == os.getpid():
        agent.stop()
