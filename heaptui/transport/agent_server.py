"""The agent's server: one listening socket, its accept loop, and a thread per viewer.

Standard library only (it runs inside the program being debugged, and ships as source into
attached processes). Peers other than the same user (or root) are refused by ``SO_PEERCRED``;
any error is contained and written to stderr once. The captures themselves are
:mod:`.agent_capture`'s; the process-wide wiring (install, fork, exit, signals) is
:mod:`.agent`'s.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from typing import Any

from ..core import procinfo
from ..core.agent_threads import AGENT_THREAD_PREFIX
from ..core.version import VERSION
from . import agent_capture, protocol, sockdir

__all__ = ["Agent", "log_once"]

MAX_CONNECTIONS = 8
HELLO_TIMEOUT = 10.0
# A viewer that sends nothing for this long after its hello is dropped (quietly), so idle
# connections never keep the MAX_CONNECTIONS slots from new viewers. The live UI asks for
# counters every second; the module attribute may be changed before install().
IDLE_TIMEOUT = 120.0
# A capture streams to the viewer during the walk, with the host's gc off and its objects held:
# a viewer that stops reading for this long makes the agent give the capture up.
CAPTURE_SEND_TIMEOUT = 30.0

_logged: set[str] = set()


def log_once(key: str, message: str) -> None:
    """Write one line to stderr the first time ``key`` is seen; never raise."""
    if key in _logged:
        return
    _logged.add(key)
    with contextlib.suppress(Exception):
        print(f"heaptui agent (pid {os.getpid()}): {message}", file=sys.stderr, flush=True)


class Agent:
    """One listening socket, its accept thread, and a thread per connected viewer."""

    def __init__(
        self,
        *,
        socket_dir: str | None = None,
        dump_signal: int | None = None,
        dump_dir: str | None = None,
        restart_after_fork: bool = True,
        dump_at_rss: int | None = None,
        dump_keep: int = 1,
    ) -> None:
        self.options: dict[str, Any] = {
            "socket_dir": socket_dir,
            "dump_signal": dump_signal,
            "dump_dir": dump_dir,
            "restart_after_fork": restart_after_fork,
            "dump_at_rss": dump_at_rss,
            "dump_keep": dump_keep,
        }
        self.pid = os.getpid()
        self.directory = sockdir.ensure_socket_dir(socket_dir)
        self.path = sockdir.socket_path(self.pid, self.directory)
        self.started = time.time()
        self.process_started = procinfo.start_time() or self.started
        self.last_capture_objects: int | None = None
        self._capture_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopped = False
        self._inode: int | None = None
        self._listener = self._listen()
        self._dump_event = threading.Event()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=AGENT_THREAD_PREFIX, daemon=True
        )
        self._accept_thread.start()
        self._dump_thread: threading.Thread | None = None
        if dump_signal is not None:
            self._dump_thread = threading.Thread(
                target=self._dump_loop, name=AGENT_THREAD_PREFIX + "-dump", daemon=True
            )
            self._dump_thread.start()
        self._rss_watch: Any = None
        if dump_at_rss is not None:  # a snapshot before the OOM killer (rsswatch)
            from .rsswatch import RssWatch

            self._rss_watch = RssWatch(dump_at_rss, self.dump_file, keep=dump_keep).start()

    # --- listening --------------------------------------------------------------------------

    def _listen(self) -> socket.socket:
        """Bind under a temporary name, listen, then rename: the final name always answers."""
        temp = os.path.join(self.directory, f".{self.pid}.{threading.get_ident()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            # No umask games (the umask is process-wide): the directory is 0700 already.
            listener.bind(temp)
            os.chmod(temp, 0o600)
            listener.listen(MAX_CONNECTIONS)
            os.replace(temp, self.path)
            self._inode = os.stat(self.path).st_ino
        except BaseException:
            listener.close()
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return listener

    def _accept_loop(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                if self._stopped:
                    return
                log_once("accept", "the agent socket failed; the agent stops listening")
                return
            try:
                self._admit(conn)
            except Exception as exc:
                conn.close()
                log_once("admit:" + type(exc).__name__, f"could not serve a viewer: {exc!r}")

    def _admit(self, conn: socket.socket) -> None:
        uid = sockdir.peer_uid(conn)
        if uid is not None and uid != os.geteuid() and uid != 0:
            log_once(f"refused:{uid}", f"refused a connection from uid {uid}")
            conn.close()
            return
        with self._connections_lock:
            full = len(self._connections) >= MAX_CONNECTIONS
            if not full:
                self._connections.add(conn)
        if full:
            _refuse_busy(conn, MAX_CONNECTIONS)
            return
        threading.Thread(
            target=self._serve, args=(conn,), name=AGENT_THREAD_PREFIX + "-conn", daemon=True
        ).start()

    # --- one viewer -------------------------------------------------------------------------

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(HELLO_TIMEOUT)  # a silent peer must not hold a slot forever
            hello = protocol.recv_json(conn, protocol.MAX_REQUEST_BYTES)
            conn.settimeout(None)
            if protocol.parse_request(hello) != protocol.OP_HELLO:
                raise protocol.ProtocolError("the first request must be hello")
            if not protocol.same_version(hello.get("protocol")):
                protocol.send_json(
                    conn,
                    {
                        "ok": False,
                        "error": f"protocol version {hello.get('protocol')!r} not supported "
                        f"(this agent speaks {protocol.PROTOCOL_VERSION})",
                        "protocol": protocol.PROTOCOL_VERSION,
                    },
                )
                return
            protocol.send_json(conn, {"ok": True, **self.info()})
            conn.settimeout(IDLE_TIMEOUT)
            while self._handle(conn, protocol.recv_json(conn, protocol.MAX_REQUEST_BYTES)):
                pass
        except (protocol.ConnectionClosed, TimeoutError, BrokenPipeError, ConnectionResetError):
            pass  # the viewer left (even mid-capture), or sat idle past IDLE_TIMEOUT
        except (protocol.ProtocolError, OSError) as exc:
            log_once("conn:" + type(exc).__name__, f"dropped a viewer connection: {exc}")
        except Exception as exc:
            log_once("serve:" + type(exc).__name__, f"internal error (contained): {exc!r}")
        finally:
            with self._connections_lock:
                self._connections.discard(conn)
            conn.close()

    def _handle(self, conn: socket.socket, request: dict[str, Any]) -> bool:
        """Answer one request; return False when the connection should end."""
        op = protocol.parse_request(request)
        if op in (protocol.OP_HELLO, protocol.OP_INFO):
            protocol.send_json(conn, {"ok": True, **self.info()})
        elif op == protocol.OP_COUNTERS:
            protocol.send_json(conn, {"ok": True, **self.counters()})
        elif op == protocol.OP_CAPTURE:
            self._stream_capture(conn, bool(request.get("collect", False)))
        elif op == protocol.OP_CENSUS:
            protocol.send_json(conn, agent_capture.census_reply())
        elif op == protocol.OP_BYE:
            return False
        elif op == protocol.OP_STOP:
            protocol.send_json(conn, {"ok": True})
            threading.Thread(
                target=self.stop, name=AGENT_THREAD_PREFIX + "-stop", daemon=True
            ).start()
            return False
        return True

    def _stream_capture(self, conn: socket.socket, collect: bool) -> None:
        """Stream a capture to ``conn`` as data frames (chunk by chunk during the walk)."""
        with self._capture_lock:
            protocol.send_json(conn, {"ok": True, "stream": "snapshot"})
            writer = agent_capture.FrameWriter(conn)
            started = time.perf_counter()
            conn.settimeout(CAPTURE_SEND_TIMEOUT)
            try:
                raw = self._capture_into(writer, collect)
                writer.flush()
            except OSError:
                raise  # the viewer went away or stopped reading: nothing more to tell it
            except Exception as exc:
                protocol.send_json(conn, {"ok": False, "error": f"capture failed: {exc!r}"})
                return
            finally:
                conn.settimeout(IDLE_TIMEOUT)
            objects = int(raw.node_count)
            pause = float(raw.meta.get("capture_seconds", 0.0))
            del raw  # never keep a capture's columns between captures
            self.last_capture_objects = objects
            protocol.send_data(conn, b"")
            protocol.send_json(
                conn,
                {
                    "ok": True,
                    "bytes": writer.bytes_sent,
                    "objects": objects,
                    "pause_seconds": pause,
                    "send_seconds": max(time.perf_counter() - started - pause, 0.0),
                },
            )

    def _capture_into(self, writer: agent_capture.FrameWriter, collect: bool) -> Any:
        """Capture into ``writer``, leaving the agent's objects (and the writer) out."""
        agent_capture.prepare_capture()
        from ..capture.streaming import FileObjectTarget

        target = FileObjectTarget(writer)
        exclude = self._own_ids()
        exclude.add(id(writer))
        return agent_capture.capture_to(target, collect, exclude)

    def _own_ids(self) -> set[int]:
        """ids a capture leaves out: the agent's own objects (an injected agent adds more)."""
        return agent_capture.own_object_ids(self)

    # --- facts --------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Describe the process and the agent (what ``heaptui ps`` shows)."""
        return {
            "protocol": protocol.PROTOCOL_VERSION,
            "pid": self.pid,
            "argv": list(sys.argv),
            "command": list(getattr(sys, "orig_argv", sys.argv)),
            "executable": sys.executable,
            "python": ".".join(str(p) for p in sys.version_info[:3]),
            "implementation": sys.implementation.name,
            "process_started": self.process_started,
            "agent_started": self.started,
            "heaptui": VERSION,
            **self.counters(),
        }

    def counters(self) -> dict[str, Any]:
        """The cheap live figures plus the object count of the last capture."""
        return {**agent_capture.counters(), "last_capture_objects": self.last_capture_objects}

    # --- dump on a signal ---------------------------------------------------------------------

    def request_dump(self) -> None:
        """Ask the dump thread for a snapshot file (safe to call from a signal handler)."""
        self._dump_event.set()

    def _dump_loop(self) -> None:
        while not self._stopped:
            self._dump_event.wait()
            self._dump_event.clear()
            if self._stopped:
                return
            try:
                path = self.dump_file()
                print(f"heaptui: wrote {path}", file=sys.stderr, flush=True)
            except Exception as exc:
                log_once("dump:" + type(exc).__name__, f"snapshot dump failed: {exc!r}")

    def dump_file(self) -> str:
        """Capture to ``<dump_dir>/heaptui-<pid>-<time>.heap`` atomically; return the path."""
        directory = self.options["dump_dir"] or os.getcwd()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = os.path.join(directory, f"heaptui-{self.pid}-{stamp}.heap")
        n = 1
        while os.path.exists(path):
            n += 1
            path = os.path.join(directory, f"heaptui-{self.pid}-{stamp}-{n}.heap")
        with self._capture_lock:
            agent_capture.prepare_capture()
            from ..capture import _run_walker
            from ..capture.roots import caller_frame
            from ..capture.streaming import stream_to_file

            frame = caller_frame(sys._getframe())
            raw = stream_to_file(path, _run_walker, frame, False, self._own_ids())
            self.last_capture_objects = int(raw.node_count)
            del raw
        return path

    # --- stopping -----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop listening, disconnect viewers and remove the socket file; idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._dump_event.set()
        if self._rss_watch is not None:
            self._rss_watch.stop()
            self._rss_watch = None
        if os.getpid() == self.pid:
            self._remove_socket_file()
            _shutdown(self._listener)
        self._listener.close()
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            _shutdown(conn)

    def _abandon_after_fork(self) -> None:
        """In a forked child: close the inherited descriptors, touch nothing the parent uses."""
        self._stopped = True
        self._listener.close()
        for conn in list(self._connections):
            conn.close()
        self._connections.clear()

    def _remove_socket_file(self) -> None:
        try:
            if os.stat(self.path).st_ino == self._inode:
                os.unlink(self.path)
        except OSError:
            pass


def _shutdown(sock: socket.socket) -> None:
    """Wake a thread blocked on ``sock`` (accept/recv) and make it fail."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _refuse_busy(conn: socket.socket, connected: int) -> None:
    """Tell a viewer over the limit why it is refused (it reads this as the answer to its hello)."""
    with contextlib.suppress(OSError):
        conn.settimeout(1.0)
        protocol.send_json(conn, {"ok": False, "error": f"busy: {connected} viewers connected"})
    conn.close()
