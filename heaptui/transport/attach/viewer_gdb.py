"""Run gdb on a process with :mod:`heaptui.transport.attach.gdb_script` and follow what it reports.

gdb runs in its own session (a Ctrl-C at the terminal must not reach it: interrupting gdb in
the middle of a call into the target could leave the target stuck), non-interactively, with
debug information never read (only the symbol tables are needed), which keeps attaching
around half a second. It is never killed while attached: a gdb that times out is left to
finish and detach on its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

GDB_SCRIPT = Path(__file__).resolve().with_name("gdb_script.py")
MARK = "HEAPTUI:"


def gdb_path() -> str | None:
    """Return the gdb executable to use, or None if there is none."""
    return shutil.which("gdb")


class GdbSession:
    """One gdb process attached to ``pid``, running the injection script with ``payload``."""

    def __init__(self, gdb: str, pid: int, payload: str, *, min_version: str = "3.10") -> None:
        env = dict(os.environ)
        env.update(
            HEAPTUI_INJECT_PAYLOAD=payload,
            HEAPTUI_INJECT_MIN=min_version,
            LC_ALL="C",
        )
        command = [
            gdb,
            "-batch",
            "-nx",
            "-nw",
            "--readnever",
            "-iex=set auto-solib-add off",
            "-iex=set debuginfod enabled off",
            "-iex=set auto-load off",
            "-p",
            str(pid),
            f"-x={GDB_SCRIPT}",
        ]
        self.command = command
        self.lines: list[str] = []
        self.steps: list[tuple[str, str]] = []
        self._changed = threading.Condition()
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            env=env,
            start_new_session=True,
            # Keep SIGPIPE ignored in gdb (Python ignores it; subprocess would restore it): if
            # the viewer dies mid-injection, gdb's next line of output must fail, not kill gdb
            # in the middle of a call into the target. Its own session spares it the SIGHUP.
            restore_signals=False,
        )
        self._reader = threading.Thread(target=self._read, name="heaptui-gdb-output", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            with self._changed:
                self.lines.append(line)
                if line.startswith(MARK):
                    step, _, detail = line[len(MARK) :].strip().partition(" ")
                    self.steps.append((step, detail))
                self._changed.notify_all()
        self.process.stdout.close()
        self.process.wait()
        with self._changed:
            self._changed.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait until gdb has exited (and its output is read); return whether it has."""
        self._reader.join(timeout)
        return not self._reader.is_alive()

    @property
    def finished(self) -> bool:
        return not self._reader.is_alive()

    def last_step(self) -> str:
        with self._changed:
            return self.steps[-1][0] if self.steps else ""

    def step_detail(self, step: str) -> str | None:
        with self._changed:
            for name, detail in self.steps:
                if name == step:
                    return detail
        return None

    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)
