"""Attach by PID: start the heaptui agent inside a running Python process that never imported it.

How ``heaptui attach PID`` / ``heaptui snapshot PID`` use it (issue 5)::

    path, injected = viewer.ensure_agent(pid)   # the existing agent, or inject one
    client = AgentClient(path, pid=pid)         # then exactly as with heaptui.install()
    ...
    if injected:
        client.stop_agent()   # on detach/exit: the injected agent stops, removes its socket
                              # and forgets its modules; never stop an agent the host installed

Both raise an :class:`~heaptui.transport.attach.viewer_errors.AttachError` (a ``UserError``) with
what to do. The socket path is ``sockdir.socket_path(pid)`` except when root attaches to
another user's process (that agent must listen in its owner's directory). An injected agent
says ``"injected": True`` in its info.

The agent's source travels with the payload (:mod:`.viewer_payload`), so the target needs no
heaptui. Delivery: ``sys.remote_exec`` (PEP 768) when both sides run the same Python 3.14+,
else gdb (:mod:`.gdb_script`), which runs the payload on a fresh thread of the target holding
the GIL normally: never re-entrantly, never inside malloc. The result comes back as one line in
a private directory (0700) that is removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Callable

from heaptui.transport import sockdir
from heaptui.transport.attach import viewer_procfacts, viewer_walker
from heaptui.transport.attach.viewer_errors import (
    AgentStartFailed,
    AttachError,
    GdbMissing,
    NoSuchProcess,
    NotPython,
    PtraceDenied,
    RemoteDebugDisabled,
    TargetBusy,
    UnsupportedPython,
)
from heaptui.transport.attach.viewer_gdb import GdbSession, gdb_path
from heaptui.transport.attach.viewer_payload import build_payload, write_payload

__all__ = ["MIN_PYTHON", "agent_socket_dir", "ensure_agent", "inject_agent"]

MIN_PYTHON = (3, 10)
RESULT_NAME = "result"
_POLL_SECONDS = 0.02

# Called with the seconds waited so far when the timeout passes; True means wait as long again.
KeepWaiting = Callable[[float], bool]


def agent_socket_dir(target_uid: int) -> str:
    """Return where the injected agent listens: our own directory, or its owner's (as root)."""
    if target_uid == os.geteuid():
        return sockdir.default_socket_dir()
    return os.path.join(tempfile.gettempdir(), f"heaptui-{target_uid}")


def ensure_agent(
    pid: int,
    *,
    timeout: float = 10.0,
    keep_waiting: KeepWaiting | None = None,
    on_note: Callable[[str], object] | None = None,
) -> tuple[str, bool]:
    """Return ``(socket path, injected)``: the agent already in ``pid``, or a fresh one."""
    uid = viewer_procfacts.process_uid(pid)
    if uid is not None:
        existing = sockdir.socket_path(pid, agent_socket_dir(uid))
        if _answers(existing):
            return existing, False
    path = inject_agent(pid, timeout=timeout, keep_waiting=keep_waiting, on_note=on_note)
    return path, True


def inject_agent(
    pid: int,
    *,
    timeout: float = 10.0,
    keep_waiting: KeepWaiting | None = None,
    on_note: Callable[[str], object] | None = None,
) -> str:
    """Start the agent in process ``pid`` and return its socket path once it listens.

    The agent captures with the compiled walker where a private copy of it can be had for the
    target's Python (:mod:`.viewer_walker`); where not, ``on_note`` is called
    with one line saying that the pure-Python walker is used, and why.

    Raises an :class:`~heaptui.transport.attach.viewer_errors.AttachError` subclass that says what
    went wrong and what to do. When the target has not run the code after ``timeout`` seconds
    (its main thread holds the GIL in C code), ``keep_waiting(seconds_so_far)`` decides whether
    to wait as long again; otherwise the attempt is cancelled (the payload, should it still run
    later, does nothing) and :class:`TargetBusy` is raised.
    """
    target_uid = _check_process(pid)
    version = viewer_procfacts.python_version(pid)
    if version is not None and version < MIN_PYTHON:
        raise UnsupportedPython(
            f"process {pid} runs Python {version[0]}.{version[1]}; heaptui attaches to "
            f"Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer"
        )
    socket_dir = agent_socket_dir(target_uid)
    existing = sockdir.socket_path(pid, socket_dir)
    if _answers(existing):
        return existing
    use_remote_exec = _remote_exec_usable(version)
    gdb = None if use_remote_exec else gdb_path()
    if not use_remote_exec and gdb is None:
        raise GdbMissing(
            "attaching to a process without the heaptui agent needs gdb: install it "
            "(apt-get install gdb, dnf install gdb), or start the program with "
            "'heaptui run' or call heaptui.install() in it"
        )
    tracer = viewer_procfacts.tracer_pid(pid)
    if tracer and not use_remote_exec:
        raise PtraceDenied(
            f"process {pid} is already being traced by process {tracer} (a debugger or strace): "
            "detach that one first"
        )
    if viewer_procfacts.looks_like_python(pid) is False:
        raise NotPython(_not_python_message(pid, "it maps no libpython, its program is not python"))
    # Before gdb attaches: a build for another Python version must not hold the target stopped.
    extension, note = viewer_walker.walker_for(
        version, viewer_procfacts.executable(pid), target_uid=target_uid
    )
    directory = _private_dir(target_uid)
    try:
        payload_path = os.path.join(directory, "payload.py")
        session = None
        if not use_remote_exec:  # gdb attaches while the payload is being built
            assert gdb is not None
            session = GdbSession(gdb, pid, payload_path, min_version=".".join(map(str, MIN_PYTHON)))
        payload = build_payload(directory=directory, socket_dir=socket_dir, extension=extension)
        write_payload(payload_path, payload, owner=target_uid)
        if use_remote_exec:
            _remote_exec(pid, payload_path)
        detail = _wait_for_result(pid, directory, session, timeout, keep_waiting)
        path, _, walker = detail.partition("\n")
        if walker.startswith("python") and on_note is not None:
            if extension:  # offered, but it would not load in the target
                note = "the target gets the pure-Python walker: " + walker.partition(":")[2].strip()
            on_note(note)
        return path
    finally:
        # Removing the directory is also the "cancel" signal to a payload that has not run.
        shutil.rmtree(directory, ignore_errors=True)


# --- before injecting --------------------------------------------------------------------------


def _check_process(pid: int) -> int:
    """Return the target's uid after checking it exists and that we may trace it."""
    if pid <= 0:
        raise NoSuchProcess(f"{pid} is not a process id")
    if pid == os.getpid():
        raise AttachError("heaptui cannot attach to itself; use heaptui.install() instead")
    uid = viewer_procfacts.process_uid(pid)
    if uid is None:
        raise NoSuchProcess(f"no process with pid {pid} (it may have exited); see 'ps -ef'")
    if uid != os.geteuid() and os.geteuid() != 0:
        raise PtraceDenied(
            f"process {pid} belongs to uid {uid}, not to you (uid {os.geteuid()}): run heaptui "
            "as that user, or as root"
        )
    return uid


def _not_python_message(pid: int, why: str) -> str:
    exe = viewer_procfacts.executable(pid) or "an unknown program"
    return (
        f"process {pid} ({exe}) is not a Python process: {why}; give the pid of the python "
        "process itself (not of a shell or wrapper that started it)"
    )


def _answers(path: str) -> bool:
    """True if an agent already listens at ``path``."""
    if not os.path.exists(path):
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True


def _private_dir(target_uid: int) -> str:
    """A fresh 0700 directory for the payload and its result, owned by the target's user."""
    directory = tempfile.mkdtemp(prefix="heaptui-attach-")
    if target_uid != os.geteuid():
        os.chown(directory, target_uid, -1)
    return directory


# --- delivery ------------------------------------------------------------------------------------


def _remote_exec_usable(version: tuple[int, int] | None) -> bool:
    """PEP 768 needs Python 3.14+ on both sides, and the same major.minor."""
    return hasattr(sys, "remote_exec") and version == sys.version_info[:2]


def _remote_exec(pid: int, payload_path: str) -> None:
    remote_exec = sys.remote_exec  # type: ignore[attr-defined]  # Python 3.14+
    try:
        remote_exec(pid, payload_path)
    except ProcessLookupError as exc:
        raise NoSuchProcess(f"no process with pid {pid}: {exc}") from None
    except PermissionError as exc:
        raise PtraceDenied(
            f"not allowed to attach to process {pid} ({exc}): run as the process's user or "
            "as root; check /proc/sys/kernel/yama/ptrace_scope"
        ) from None
    except (RuntimeError, OSError) as exc:
        text = str(exc)
        if "disable" in text.lower() or "not enabled" in text.lower():
            raise RemoteDebugDisabled(
                f"process {pid} has remote debugging disabled ({text}): it was started with "
                "-X disable-remote-debug or PYTHON_DISABLE_REMOTE_DEBUG; restart it without, "
                "or under 'heaptui run'"
            ) from None
        raise AttachError(f"sys.remote_exec on process {pid} failed: {text}") from None


# --- waiting for the result --------------------------------------------------------------------


def _read_result(directory: str) -> str | None:
    try:
        with open(os.path.join(directory, RESULT_NAME), encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


def _wait_for_result(
    pid: int,
    directory: str,
    session: GdbSession | None,
    timeout: float,
    keep_waiting: KeepWaiting | None,
) -> str:
    started = time.monotonic()
    deadline = started + timeout
    while True:
        result = _read_result(directory)
        if result is not None:
            status, _, detail = result.partition("\n")
            if status == "ok":
                if session is not None:
                    session.wait(timeout)  # gdb frees its buffer and detaches right after
                return detail
            raise AgentStartFailed(f"the agent could not start in process {pid}: {detail}")
        if session is not None and session.finished:
            result = _read_result(directory)  # written just before gdb ended
            if result is None:
                raise _gdb_failure(pid, session)
            continue
        if viewer_procfacts.process_uid(pid) is None:
            raise NoSuchProcess(f"process {pid} exited while heaptui was attaching")
        if time.monotonic() >= deadline:
            waited = time.monotonic() - started
            if keep_waiting is not None and keep_waiting(waited):
                deadline = time.monotonic() + timeout
                continue
            raise _busy(pid, waited, session)
        time.sleep(_POLL_SECONDS)


def _busy(pid: int, waited: float, session: GdbSession | None) -> TargetBusy:
    if session is None:  # sys.remote_exec: the code runs in the main thread
        where = "its main thread has not reached Python code (blocked in C: sleep, join, I/O)"
    elif session.last_step() == "waiting-gil":
        where = "a thread keeps the GIL while running C code"
    else:
        where = f"gdb is still at step {session.last_step() or 'attaching'!r} (a slow machine?)"
    return TargetBusy(
        f"process {pid} did not run heaptui's code within {waited:.0f} s: {where}. "
        "Nothing was started; try again when it is less busy, or give a longer --timeout"
    )


def _gdb_failure(pid: int, session: GdbSession) -> AttachError:
    output = session.output()
    if "ptrace: Operation not permitted" in output or "Could not attach" in output:
        scope = viewer_procfacts.ptrace_scope()
        hint = (
            f" (kernel.yama.ptrace_scope is {scope}: set it to 0, or run as root)"
            if scope
            else ": run heaptui as the process's user, or as root (in a container, the "
            "CAP_SYS_PTRACE capability is needed)"
        )
        return PtraceDenied(f"the system does not allow tracing process {pid}{hint}")
    if "No such process" in output:
        return NoSuchProcess(f"no process with pid {pid} (it may have exited)")
    if session.step_detail("not-python") is not None:
        return NotPython(_not_python_message(pid, "gdb finds none of CPython's C API in it"))
    found = session.step_detail("unsupported")
    if found is not None:
        return UnsupportedPython(
            f"process {pid} runs Python {found}; heaptui attaches to Python "
            f"{MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer"
        )
    detail = session.step_detail("failed")
    if detail:
        return AttachError(f"gdb could not inject the agent into process {pid}: {detail}")
    if session.step_detail("ran") not in (None, "0"):
        return AgentStartFailed(f"the injected code failed in process {pid} (see its stderr)")
    tail = " | ".join(line for line in output.splitlines()[-3:] if line.strip())
    return AttachError(f"gdb could not inject the agent into process {pid}: {tail}")
