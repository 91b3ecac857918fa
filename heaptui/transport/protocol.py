"""The wire protocol between the agent and a viewer: framing, size limits and message shapes.

Standard library only (the agent imports it inside the target). A frame is one kind byte, a
big-endian ``uint32`` payload length, then the payload:

- ``J``: one JSON object (UTF-8), a request or a reply;
- ``D``: a chunk of snapshot bytes (the file format of :mod:`heaptui.fileformat`); an empty
  ``D`` frame ends the stream.

A conversation starts with the client's ``{"op": "hello", "protocol": N}``; the agent answers
with its info, or with an error and a closed connection when the versions differ. Then the
client sends requests from :data:`REQUESTS`, one at a time, and reads each reply. A capture is
answered by ``J {"ok": true, "stream": "snapshot"}``, data frames, an empty data frame, and a
final ``J`` with totals; a ``J`` with ``"ok": false`` in place of a data frame aborts it.
Nothing that arrives is ever unpickled or evaluated: JSON objects and raw bytes only.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

PROTOCOL_VERSION = 1

KIND_JSON = b"J"
KIND_DATA = b"D"
_HEADER = struct.Struct(">cI")
HEADER_SIZE = _HEADER.size

# A request is small; anything bigger is garbage or an attack.
MAX_REQUEST_BYTES = 64 * 1024
# What the agent may send in one frame (the client refuses more).
MAX_REPLY_BYTES = 4 * 1024 * 1024
# Data chunk size the agent writes: big enough for few syscalls, small enough for progress.
CHUNK_BYTES = 1024 * 1024

# The fixed set of requests the agent answers.
OP_HELLO = "hello"
OP_INFO = "info"
OP_COUNTERS = "counters"
OP_CAPTURE = "capture"
OP_BYE = "bye"
OP_STOP = "stop"
# Count and bytes per type (heaptui.capture.census): what `heaptui watch` samples.
OP_CENSUS = "census"
REQUESTS = frozenset({OP_HELLO, OP_INFO, OP_COUNTERS, OP_CAPTURE, OP_BYE, OP_STOP, OP_CENSUS})


class ProtocolError(Exception):
    """The peer sent something that is not a valid frame or message: drop the connection."""


class ConnectionClosed(ProtocolError):
    """The peer closed the connection (possibly in the middle of a frame)."""


def encode_frame(kind: bytes, payload: bytes) -> bytes:
    """Return one frame as bytes (header + payload)."""
    return _HEADER.pack(kind, len(payload)) + payload


def encode_json(message: dict[str, Any]) -> bytes:
    """Return one JSON frame holding ``message``."""
    return encode_frame(KIND_JSON, json.dumps(message, separators=(",", ":")).encode("utf-8"))


# A peer that goes away must give an error, never a SIGPIPE in a host that kept the default.
_SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)


def send_json(sock: socket.socket, message: dict[str, Any]) -> None:
    """Send one JSON frame."""
    sock.sendall(encode_json(message), _SEND_FLAGS)


def send_data(sock: socket.socket, chunk: bytes | bytearray | memoryview) -> None:
    """Send one data frame (an empty chunk ends a stream)."""
    sock.sendall(_HEADER.pack(KIND_DATA, len(chunk)), _SEND_FLAGS)
    if len(chunk):
        sock.sendall(chunk, _SEND_FLAGS)


def recv_exact(sock: socket.socket, n: int) -> bytes:
    """Read exactly ``n`` bytes, or raise :class:`ConnectionClosed` if the peer goes away."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        read = sock.recv_into(view[got:], n - got)
        if read == 0:
            raise ConnectionClosed(
                "connection closed" if got == 0 else f"connection closed after {got} of {n} bytes"
            )
        got += read
    return bytes(buf)


def recv_frame(sock: socket.socket, max_bytes: int) -> tuple[bytes, bytes]:
    """Read one frame and return ``(kind, payload)``; refuse unknown kinds and oversized ones."""
    header = recv_exact(sock, HEADER_SIZE)
    kind, length = _HEADER.unpack(header)
    if kind not in (KIND_JSON, KIND_DATA):
        raise ProtocolError(f"unknown frame kind {kind!r}")
    if length > max_bytes:
        raise ProtocolError(f"frame of {length} bytes exceeds the limit of {max_bytes}")
    return kind, recv_exact(sock, length) if length else b""


def decode_json(payload: bytes) -> dict[str, Any]:
    """Parse a JSON frame's payload; it must be one JSON object."""
    try:
        message = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"invalid JSON message: {exc}") from None
    if not isinstance(message, dict):
        raise ProtocolError("a message must be a JSON object")
    return message


def recv_json(sock: socket.socket, max_bytes: int) -> dict[str, Any]:
    """Read one frame that must be a JSON message and return it."""
    kind, payload = recv_frame(sock, max_bytes)
    if kind != KIND_JSON:
        raise ProtocolError("expected a JSON message, got a data frame")
    return decode_json(payload)


def same_version(value: Any) -> bool:
    """Whether ``value`` is this protocol's version: an int, not ``true`` (``True == 1``)."""
    return type(value) is int and value == PROTOCOL_VERSION


def parse_request(message: dict[str, Any]) -> str:
    """Return the request's op after checking it is one the agent knows."""
    op = message.get("op")
    if not isinstance(op, str) or op not in REQUESTS:
        raise ProtocolError(f"unknown request {op!r}")
    return op
