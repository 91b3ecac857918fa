"""A fake heaptui agent for tests: speaks the protocol, lies as told, optionally as another user.

    python fake_agent.py SOCKET [--uid UID] [--info JSON] [--hello-protocol JSON]
                                [--stream FILE | --garbage BYTES | --snapshot-then BYTES]
                                [--delay SECONDS]

It binds SOCKET, drops to UID (if given; the uid the viewer sees through SO_PEERCRED is the one
at listen time), prints ``ready PID`` and answers viewers one at a time until killed:
``hello``/``info`` with a plausible info (``--info`` merged into it), ``capture`` with the
bytes of FILE, or BYTES of garbage, or a valid snapshot preamble followed by BYTES of garbage.
Everything it needs is imported before it drops privileges.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from heaptui.fileformat.layout import MAGIC
from heaptui.transport import protocol

CHUNK = 1 << 20


def _chunks(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if args.stream_bytes is not None:
        for start in range(0, len(args.stream_bytes), CHUNK):
            yield args.stream_bytes[start : start + CHUNK]
        return
    if args.snapshot_then is not None:
        yield MAGIC + (2).to_bytes(4, "little") + bytes(12)
        left = args.snapshot_then
    else:
        left = args.garbage or 0
    block = bytes(range(256)) * (CHUNK // 256)
    while left > 0:
        yield block[: min(left, CHUNK)]
        left -= CHUNK


def _serve(conn: socket.socket, args: argparse.Namespace, info: dict[str, object]) -> None:
    hello = protocol.recv_json(conn, protocol.MAX_REQUEST_BYTES)
    assert hello.get("op") == "hello"
    protocol.send_json(conn, {"ok": True, **info})
    while True:
        request = protocol.recv_json(conn, protocol.MAX_REQUEST_BYTES)
        op = request.get("op")
        if op in ("bye", "stop"):
            if op == "stop":
                protocol.send_json(conn, {"ok": True})
            return
        if op in ("info", "counters"):
            protocol.send_json(conn, {"ok": True, **info})
        elif op == "capture":
            protocol.send_json(conn, {"ok": True, "stream": "snapshot"})
            sent = 0
            for chunk in _chunks(args):
                protocol.send_data(conn, chunk)
                sent += len(chunk)
                time.sleep(args.delay)
            protocol.send_data(conn, b"")
            protocol.send_json(
                conn, {"ok": True, "bytes": sent, "objects": 3, "pause_seconds": 0.01}
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("--uid", type=int)
    parser.add_argument("--info", default="{}")
    parser.add_argument("--hello-protocol", default="1")
    parser.add_argument("--stream")
    parser.add_argument("--garbage", type=int)
    parser.add_argument("--snapshot-then", type=int)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between chunks")
    args = parser.parse_args()
    args.stream_bytes = None
    if args.stream:  # read now: the file may not be readable after the uid changes
        with open(args.stream, "rb") as f:
            args.stream_bytes = f.read()
    info = {
        "protocol": json.loads(args.hello_protocol),
        "pid": os.getpid(),
        "argv": ["fake_agent.py"],
        "python": "3.12.1",
        "rss": 1 << 20,
        **json.loads(args.info),
    }
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(args.socket)
    os.chmod(args.socket, 0o777)
    if args.uid is not None:
        os.setgroups([])
        os.setgid(args.uid)
        os.setuid(args.uid)
    server.listen(4)
    print(f"ready {os.getpid()}", flush=True)
    while True:
        conn, _ = server.accept()
        try:
            _serve(conn, args, info)
        except (OSError, protocol.ProtocolError, AssertionError):
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    main()
