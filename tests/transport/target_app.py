"""A program run under the agent by the channel tests (started with ``sys.executable``).

It reads one command per line on stdin and answers on stdout, so tests can drive it:
``leak N`` keeps N more ``Leaky`` objects alive, ``ping`` answers ``pong``, ``state`` answers
whether gc is enabled and the switch interval, ``fork`` forks a child that reports
``child PID`` and lives until SIGTERM, ``exit`` exits normally.
Environment: ``TARGET_DIE_MID_CAPTURE=1`` makes the process exit abruptly halfway through
sending a snapshot; ``TARGET_DUMP_DIR`` installs the agent with ``dump_signal=SIGUSR2``;
``TARGET_SEND_TIMEOUT`` sets how long the agent waits for a viewer that stopped reading.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time

import heaptui
import heaptui.transport.agent as agent
import heaptui.transport.agent_capture as agent_capture
import heaptui.transport.agent_server as agent_server


class Leaky:
    """The type the growth test expects to see named."""

    def __init__(self, n: int) -> None:
        self.n = n


KEPT: list[Leaky] = []


def _write_then_die(target: object, collect: bool, exclude_ids: object) -> None:
    # A snapshot's preamble (a viewer refuses anything else at once), then data, then death.
    preamble = b"HEAPTUI\0" + (2).to_bytes(4, "little") + bytes(12)
    target.fileobj.write(preamble + b"\0" * (3 * 1024 * 1024))  # type: ignore[attr-defined]
    os._exit(3)


def _previous_usr2(signum: int, frame: object) -> None:
    print("previous handler ran", flush=True)


def main() -> None:
    if os.environ.get("TARGET_SEND_TIMEOUT"):
        agent_server.CAPTURE_SEND_TIMEOUT = float(os.environ["TARGET_SEND_TIMEOUT"])
    if os.environ.get("TARGET_DIE_MID_CAPTURE"):
        agent_capture.capture_to = _write_then_die
    dump_dir = os.environ.get("TARGET_DUMP_DIR")
    if dump_dir:
        signal.signal(signal.SIGUSR2, _previous_usr2)
        heaptui.install(dump_signal=signal.SIGUSR2, dump_dir=dump_dir)  # the public API
    else:
        agent.install()
    print(f"ready {os.getpid()}", flush=True)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "leak":
            KEPT.extend(Leaky(i) for i in range(int(args[0])))
            print("leaked", flush=True)
        elif command == "ping":
            print("pong", flush=True)
        elif command == "state":
            print(f"{gc.isenabled()} {sys.getswitchinterval()}", flush=True)
        elif command == "fork":
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
                print(f"child {os.getpid()}", flush=True)
                while True:
                    time.sleep(3600)
            print(f"forked {pid}", flush=True)
        elif command == "exit":
            sys.exit(0)


if __name__ == "__main__":
    main()
