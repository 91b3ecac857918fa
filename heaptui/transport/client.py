"""The viewer side of the channel: connect to an agent, ask for counters, receive a snapshot.

Standard library only (nothing here needs numpy). Every failure a user can run into (no such
agent, agent gone, target died during a transfer, another user's process) becomes an
:class:`AgentError` with one line that says what happened.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable
from typing import Any, BinaryIO

from heaptui.core import procinfo
from heaptui.core.errors import UserError
from heaptui.transport import protocol, sockdir
from heaptui.transport.streamcheck import StreamCheck, StreamLie, size_limit

ProgressCallback = Callable[[int], object]  # bytes received so far

CONNECT_TIMEOUT = 5.0
# A capture of a big heap in pure Python takes many seconds before the first byte arrives.
CAPTURE_TIMEOUT = 600.0


class AgentError(UserError):
    """The agent cannot be reached or failed; the message says why in one line."""


class AgentClient:
    """One connection to one agent; requests are answered one at a time."""

    def __init__(self, path: str, *, pid: int | None = None, timeout: float = CONNECT_TIMEOUT):
        self.path = path
        self.pid = pid if pid is not None else _pid_of(path)
        self.timeout = timeout
        self.info: dict[str, Any] = {}
        self._sock: socket.socket | None = None

    @classmethod
    def for_pid(cls, pid: int, directory: str | None = None, **kwargs: Any) -> AgentClient:
        """Return an unconnected client for the agent of process ``pid``."""
        return cls(sockdir.socket_path(pid, directory), pid=pid, **kwargs)

    @property
    def name(self) -> str:
        return f"pid {self.pid}" if self.pid is not None else self.path

    # --- connection ---------------------------------------------------------------------------

    def connect(self) -> dict[str, Any]:
        """Connect, agree on the protocol version, and return the agent's info.

        Nothing is trusted that the agent's user did not make: the socket's directory must be
        private (this user's, or as root the target's user's), and the process answering must
        run as the target's user or as root (``SO_PEERCRED``), else :class:`AgentError`.
        """
        self._check_directory()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.path)
        except FileNotFoundError:
            sock.close()
            raise AgentError(
                f"no heaptui agent in {self.name} (is it running under 'heaptui run' "
                "or calling heaptui.install()?)"
            ) from None
        except ConnectionRefusedError:
            sock.close()
            raise AgentError(f"the agent of {self.name} is gone (the process exited)") from None
        except PermissionError:
            sock.close()
            raise AgentError(
                f"permission denied connecting to {self.name}: it belongs to another user"
            ) from None
        except OSError as exc:
            sock.close()
            raise AgentError(f"cannot connect to {self.name}: {exc.strerror or exc}") from None
        try:
            self._check_peer(sock)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        hello = {"op": protocol.OP_HELLO, "protocol": protocol.PROTOCOL_VERSION}
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            # An agent that refuses (busy) has answered and closed already: read its reason.
            protocol.send_json(sock, hello)
        reply = self._exchange(None)
        if not protocol.same_version(reply.get("protocol")):
            self._drop()
            raise AgentError(
                f"the agent of {self.name} speaks protocol {reply.get('protocol')!r}, "
                f"not {protocol.PROTOCOL_VERSION}"
            )
        self.info = reply
        return reply

    def _size_limit(self) -> int:
        """The most bytes a snapshot of the target may take (see :mod:`streamcheck`)."""
        memory = procinfo.memory_bytes(self.pid) if self.pid is not None else None
        return size_limit(memory)

    def _target_uid(self) -> int | None:
        """The uid the agent must run as: the target process's, or ours when the socket's
        name gives no pid."""
        if self.pid is None:
            return os.geteuid()
        return procinfo.effective_uid(self.pid)

    def _check_directory(self) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        owner = None
        if os.geteuid() == 0:  # root may reach the agent of another user, in its directory
            owner = self._target_uid()
        try:
            sockdir.check_private_dir(directory, owner)
        except FileNotFoundError:
            return  # connect() says there is no agent
        except sockdir.UnsafeDirectory as exc:
            raise AgentError(
                f"refusing to connect to {self.name}: {exc} (remove it; another user could "
                "have put a fake agent there)"
            ) from None
        except OSError as exc:
            raise AgentError(f"cannot check {directory}: {exc.strerror or exc}") from None

    def _check_peer(self, sock: socket.socket) -> None:
        peer = sockdir.peer_uid(sock)
        if peer is None or peer == 0:
            return
        expected = self._target_uid()
        if expected is None:
            raise AgentError(f"no process with {self.name} (it may have exited)")
        if peer != expected:
            raise AgentError(
                f"refusing the agent at {self.path}: it runs as uid {peer}, but {self.name} "
                f"belongs to uid {expected} (a fake agent of another user?)"
            )

    def close(self) -> None:
        """Say goodbye (best effort) and close the connection."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        try:
            sock.settimeout(1.0)
            protocol.send_json(sock, {"op": protocol.OP_BYE})
        except OSError:
            pass
        sock.close()

    def __enter__(self) -> AgentClient:
        if self._sock is None:
            self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- requests -----------------------------------------------------------------------------

    def counters(self) -> dict[str, Any]:
        """RSS, gc counts and other cheap figures, measured now."""
        return self._exchange({"op": protocol.OP_COUNTERS})

    def census(self) -> dict[str, Any]:
        """Count and bytes per type in the target now (see heaptui.capture.census)."""
        reply = self._exchange({"op": protocol.OP_CENSUS})
        reply.pop("ok", None)
        return reply

    def refresh_info(self) -> dict[str, Any]:
        """The agent's info again (argv, Python, start time, counters)."""
        self.info = self._exchange({"op": protocol.OP_INFO})
        return self.info

    def stop_agent(self) -> None:
        """Ask the agent to stop listening and remove its socket (the process keeps running)."""
        self._exchange({"op": protocol.OP_STOP})
        self.close()

    def capture_to(
        self,
        out: BinaryIO,
        *,
        collect: bool = False,
        progress: ProgressCallback | None = None,
        timeout: float = CAPTURE_TIMEOUT,
    ) -> dict[str, Any]:
        """Ask for a snapshot and write its bytes to ``out``; return the agent's totals.

        The totals hold ``bytes``, ``objects``, ``pause_seconds`` (how long the host was held
        for the walk) and ``send_seconds``, plus ``transfer_seconds`` measured here.
        """
        sock = self._require()
        started = time.perf_counter()
        sock.settimeout(timeout)
        try:
            protocol.send_json(sock, {"op": protocol.OP_CAPTURE, "collect": collect})
            first = self._reply(protocol.recv_json(sock, protocol.MAX_REPLY_BYTES))
            if first.get("stream") != "snapshot":
                raise AgentError(f"the agent of {self.name} answered a capture oddly: {first}")
            check = StreamCheck(self._size_limit)
            while True:
                kind, payload = protocol.recv_frame(sock, protocol.MAX_REPLY_BYTES)
                if kind == protocol.KIND_JSON:
                    self._reply(protocol.decode_json(payload))
                    raise AgentError(f"the agent of {self.name} ended the capture early")
                if not payload:
                    break
                check.feed(payload)  # before writing: nothing past a lie reaches the file
                out.write(payload)
                if progress is not None:
                    progress(check.received)
            check.finish()
            received = check.received
            totals = self._reply(protocol.recv_json(sock, protocol.MAX_REPLY_BYTES))
        except StreamLie as exc:
            self._drop()
            raise AgentError(f"the agent of {self.name} sent no snapshot: {exc}") from None
        except (OSError, protocol.ProtocolError) as exc:
            raise self._failure(
                exc,
                closed=f"{self.name} closed the connection during the capture ({exc}); "
                "the target probably exited",
                timed_out=f"the capture in {self.name} took longer than {timeout:.0f} s",
                failed=f"the connection to {self.name} failed during the capture",
            ) from None
        finally:
            if self._sock is not None:
                self._sock.settimeout(self.timeout)
        if totals.get("bytes") != received:
            raise AgentError(
                f"the snapshot from {self.name} is incomplete ({received} of "
                f"{totals.get('bytes')} bytes)"
            )
        totals = {
            key: value
            for key, value in totals.items()
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        }  # the agent's figures, numbers only: they are formatted as numbers
        totals["bytes"] = received
        totals["transfer_seconds"] = time.perf_counter() - started
        return totals

    def capture_bytes(
        self, *, collect: bool = False, progress: ProgressCallback | None = None
    ) -> tuple[bytearray, dict[str, Any]]:
        """Ask for a snapshot and return its bytes (the file format) with the totals."""
        sink = _ByteSink()
        totals = self.capture_to(sink, collect=collect, progress=progress)  # type: ignore[arg-type]
        return sink.data, totals

    # --- plumbing -----------------------------------------------------------------------------

    def _require(self) -> socket.socket:
        if self._sock is None:
            raise AgentError(f"not connected to {self.name} (the connection was lost)")
        return self._sock

    def _drop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()

    def _reply(self, message: dict[str, Any]) -> dict[str, Any]:
        if message.get("ok") is not True:
            self._drop()
            raise AgentError(f"the agent of {self.name} refused: {message.get('error', message)}")
        return message

    def _exchange(self, request: dict[str, Any] | None) -> dict[str, Any]:
        """Send ``request`` (None: already sent) and return the agent's answer."""
        sock = self._require()
        try:
            if request is not None:
                protocol.send_json(sock, request)
            return self._reply(protocol.recv_json(sock, protocol.MAX_REPLY_BYTES))
        except (OSError, protocol.ProtocolError) as exc:
            raise self._failure(
                exc,
                closed=f"{self.name} closed the connection (the target exited, or its agent "
                "refused this user)",
                timed_out=f"the agent of {self.name} did not answer within {self.timeout:.0f} s",
                failed=f"the connection to {self.name} failed",
            ) from None

    def _failure(self, exc: Exception, *, closed: str, timed_out: str, failed: str) -> AgentError:
        """Drop the broken connection and say what went wrong, in the caller's words."""
        self._drop()
        if isinstance(exc, (protocol.ConnectionClosed, BrokenPipeError, ConnectionResetError)):
            return AgentError(closed)
        if isinstance(exc, protocol.ProtocolError):
            return AgentError(f"the agent of {self.name} sent an invalid reply: {exc}")
        if isinstance(exc, TimeoutError):
            return AgentError(timed_out)
        return AgentError(f"{failed}: {getattr(exc, 'strerror', None) or exc}")


class _ByteSink:
    """A write-only file object collecting bytes in memory."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> int:
        self.data += data
        return len(data)


def _pid_of(path: str) -> int | None:
    stem = os.path.splitext(os.path.basename(path))[0]
    return int(stem) if stem.isdigit() else None
