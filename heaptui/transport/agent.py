"""The in-process agent: a daemon thread serving heap snapshots over a private Unix socket.

Standard library only: it runs inside the program being debugged, and may be injected as
source into processes without heaptui installed. It needs :mod:`heaptui.transport.protocol`,
:mod:`heaptui.transport.sockdir`, :mod:`heaptui.core.procinfo` and, when a capture is
asked for, :mod:`heaptui.capture` and :mod:`heaptui.fileformat.write`.

The host must not notice it. Idle, its threads are blocked in ``accept``/``recv`` (no timers,
no polling). Peers other than the same user (or root) are refused by ``SO_PEERCRED``. Any error
is contained and written to stderr once. A capture holds no host objects once sent. After a
``fork`` the child closes the parent's sockets (and starts its own agent unless told not to);
at interpreter exit the socket file is removed.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import signal
import socket
import sys
import threading
import time
from collections import deque
from types import BuiltinMethodType, FrameType, MethodType
from typing import Any

from heaptui.core import procinfo
from heaptui.core.agent_threads import AGENT_THREAD_PREFIX
from heaptui.core.version import VERSION
from heaptui.transport import protocol, sockdir

__all__ = ["Agent", "current_agent", "install", "uninstall"]

MAX_CONNECTIONS = 8
HELLO_TIMEOUT = 10.0
# A viewer that sends nothing for this long after its hello is dropped (quietly), so idle
# connections never keep the MAX_CONNECTIONS slots from new viewers. The live UI asks for
# counters every second; the module attribute may be changed before install().
IDLE_TIMEOUT = 120.0
# A capture streams to the viewer during the walk, with the host's gc off and its objects held:
# a viewer that stops reading for this long makes the agent give the capture up.
CAPTURE_SEND_TIMEOUT = 30.0


_lock = threading.Lock()
_agent: Agent | None = None
_logged: set[str] = set()


def _log_once(key: str, message: str) -> None:
    """Write one line to stderr the first time ``key`` is seen; never raise."""
    if key in _logged:
        return
    _logged.add(key)
    with contextlib.suppress(Exception):
        print(f"heaptui agent (pid {os.getpid()}): {message}", file=sys.stderr, flush=True)


# --- the capture, in two steps the tests of the channel may replace -----------------------


def _prepare_capture() -> None:
    """Import the capture and the writer now, so imports never happen while the host waits.

    An import reads files, which releases the GIL: inside the walk, a busy host thread would
    then take it, and the walk would wait its turn with gc off.
    """
    import heaptui.capture
    import heaptui.capture.accel
    import heaptui.capture.allocsites
    import heaptui.capture.roots
    import heaptui.capture.streaming
    import heaptui.capture.walker
    import heaptui.fileformat.write  # noqa: F401


def _capture_to(target: Any, collect: bool, exclude_ids: Any) -> Any:
    """Capture into ``target`` (a heaptui.capture.streaming target) and finish its file.

    Returns the RawSnapshot's remainder and metadata. With the compiled walker the snapshot
    goes out chunk by chunk during the walk; gc is off around the walk only, never around the
    metadata reads (/proc files). The tests of the channel may replace this.
    """
    from heaptui.capture import _run_walker
    from heaptui.capture.roots import caller_frame
    from heaptui.capture.streaming import stream_capture

    return stream_capture(target, _run_walker, caller_frame(sys._getframe()), collect, exclude_ids)


# Objects of these exact types reachable from the agent are its own (and are followed);
# everything else (modules, classes, functions, code, str/int/bytes the program may share,
# sys.stderr held by threads...) is the program's, and the search stops there.
_OWN_TYPES: tuple[type, ...] = (
    socket.socket,
    threading.Thread,
    threading.Event,
    threading.Condition,
    type(threading.Lock()),
    type(threading.RLock()),
    dict,
    list,
    set,
    deque,
    bytearray,
    tuple,
)
# Bound methods are the agent's only if their ``__self__`` is (Thread targets, Condition's
# lock methods); they are not followed.
_METHOD_TYPES: tuple[type, ...] = (MethodType, BuiltinMethodType)


def _own_object_ids(agent: Agent) -> set[int]:
    """ids of the agent's own objects, the set itself included (it exists during the walk).

    From the agent, its threads (``heaptui-agent*``, the connection threads are referenced
    by nobody else) and the current thread's frames, through ``gc.get_referents``, following
    only objects of :data:`_OWN_TYPES` (the empty tuple is a shared singleton: not taken).
    No user code runs; nothing refers to the objects once this returns.
    """
    own_types = set(map(id, _OWN_TYPES))
    own_types.add(id(Agent))
    own_types.add(id(_FrameWriter))
    rss_watch = getattr(agent, "_rss_watch", None)
    if rss_watch is not None:
        own_types.add(id(type(rss_watch)))
    method_types = set(map(id, _METHOD_TYPES))
    ids: set[int] = {id(agent)}
    work: list[Any] = [agent]
    for thread in threading.enumerate():
        # Exact Thread only (its ``name`` property runs no user code); __dict__ is not
        # touched (on 3.11 reading it would create the instance's dict).
        if type(thread) is threading.Thread and thread.name.startswith(AGENT_THREAD_PREFIX):
            ids.add(id(thread))
            work.append(thread)
    methods: list[Any] = []
    while work:
        for ref in gc.get_referents(work.pop()):
            tid = id(type(ref))
            if tid in own_types:
                if id(ref) not in ids and not (type(ref) is tuple and not ref):
                    ids.add(id(ref))
                    work.append(ref)
            elif tid in method_types:
                methods.append(ref)
    for method in methods:
        if id(method.__self__) in ids:
            ids.add(id(method))
    frame: Any = sys._getframe(1)
    if threading.current_thread().name.startswith(AGENT_THREAD_PREFIX):
        while frame is not None:  # the capturing thread is the agent's: so are its frames
            ids.add(id(frame))
            frame = frame.f_back
    ids.add(id(ids))
    return ids


class _FrameWriter:
    """A write-only file object that sends what is written as data frames of a fixed size."""

    __slots__ = ("_buffer", "_sock", "bytes_sent")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()
        self.bytes_sent = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        view = memoryview(data).cast("B")
        n = len(view)
        chunk = protocol.CHUNK_BYTES
        if self._buffer:
            take = min(n, chunk - len(self._buffer))
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) >= chunk:
                self.flush()
        while len(view) >= chunk:  # big columns go out straight from their buffers
            self._send(view[:chunk])
            view = view[chunk:]
        if len(view):
            self._buffer += view
        return n

    def _send(self, chunk: memoryview | bytearray) -> None:
        protocol.send_data(self._sock, chunk)
        self.bytes_sent += len(chunk)

    def tell(self) -> int:
        return self.bytes_sent + len(self._buffer)

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        if self._buffer:
            self._send(self._buffer)
            self._buffer = bytearray()


def counters() -> dict[str, Any]:
    """Return the cheap live figures (no heap walk): RSS, gc counts, allocated blocks."""
    return {
        "time": time.time(),
        "rss": procinfo.rss_bytes(),
        "gc_count": list(gc.get_count()),
        "gc_collections": [s.get("collections", 0) for s in gc.get_stats()],
        "allocated_blocks": sys.getallocatedblocks(),
        "threads": threading.active_count(),
    }


def _census_reply() -> dict[str, Any]:
    """Count and bytes per type (no graph, no file): one watch sample, or the error."""
    try:
        from heaptui.capture.census import take_census

        return {"ok": True, **take_census()}
    except Exception as exc:
        return {"ok": False, "error": f"census failed: {exc!r}"}


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
            target=self._accept_loop, name="heaptui-agent", daemon=True
        )
        self._accept_thread.start()
        self._dump_thread: threading.Thread | None = None
        if dump_signal is not None:
            self._dump_thread = threading.Thread(
                target=self._dump_loop, name="heaptui-agent-dump", daemon=True
            )
            self._dump_thread.start()
        self._rss_watch: Any = None
        if dump_at_rss is not None:  # a snapshot before the OOM killer (rsswatch)
            from heaptui.transport.rsswatch import RssWatch

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
                _log_once("accept", "the agent socket failed; the agent stops listening")
                return
            try:
                self._admit(conn)
            except Exception as exc:
                conn.close()
                _log_once("admit:" + type(exc).__name__, f"could not serve a viewer: {exc!r}")

    def _admit(self, conn: socket.socket) -> None:
        uid = sockdir.peer_uid(conn)
        if uid is not None and uid != os.geteuid() and uid != 0:
            _log_once(f"refused:{uid}", f"refused a connection from uid {uid}")
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
            target=self._serve, args=(conn,), name="heaptui-agent-conn", daemon=True
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
            _log_once("conn:" + type(exc).__name__, f"dropped a viewer connection: {exc}")
        except Exception as exc:
            _log_once("serve:" + type(exc).__name__, f"internal error (contained): {exc!r}")
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
            protocol.send_json(conn, _census_reply())
        elif op == protocol.OP_BYE:
            return False
        elif op == protocol.OP_STOP:
            protocol.send_json(conn, {"ok": True})
            threading.Thread(target=self.stop, name="heaptui-agent-stop", daemon=True).start()
            return False
        return True

    def _stream_capture(self, conn: socket.socket, collect: bool) -> None:
        """Stream a capture to ``conn`` as data frames (chunk by chunk during the walk)."""
        with self._capture_lock:
            protocol.send_json(conn, {"ok": True, "stream": "snapshot"})
            writer = _FrameWriter(conn)
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

    def _capture_into(self, writer: _FrameWriter, collect: bool) -> Any:
        """Capture into ``writer``, leaving the agent's objects (and the writer) out."""
        _prepare_capture()
        from heaptui.capture.streaming import FileObjectTarget

        target = FileObjectTarget(writer)
        exclude = self._own_ids()
        exclude.add(id(writer))
        return _capture_to(target, collect, exclude)

    def _own_ids(self) -> set[int]:
        """ids a capture leaves out: the agent's own objects (an injected agent adds more)."""
        return _own_object_ids(self)

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
        return {**counters(), "last_capture_objects": self.last_capture_objects}

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
                _log_once("dump:" + type(exc).__name__, f"snapshot dump failed: {exc!r}")

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
            _prepare_capture()
            from heaptui.capture import _run_walker
            from heaptui.capture.roots import caller_frame
            from heaptui.capture.streaming import stream_to_file

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


# --- process-wide wiring ----------------------------------------------------------------------

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
        _log_once("signal", "dump_signal needs install() to be called from the main thread")
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
        _log_once("fork", f"could not restart the agent after fork: {exc!r}")


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
    from heaptui.transport import rsswatch

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
        _log_once("dump-at-rss", f"{rsswatch.ENV_LIMIT} ignored: {exc}")
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
