"""Fixtures that start real target processes (``sys.executable``) with the agent installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

TARGET = Path(__file__).with_name("target_app.py")
REPO = Path(__file__).resolve().parents[2]


class Target:
    """A running target_app.py: send it commands, read its answers, find its socket."""

    def __init__(self, socket_dir: str, env: dict[str, str] | None = None) -> None:
        self.socket_dir = socket_dir
        full_env = {**os.environ, "HEAPTUI_SOCKET_DIR": socket_dir, "PYTHONPATH": str(REPO)}
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [sys.executable, str(TARGET)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
        )
        ready = self.read_line()
        assert ready.startswith("ready"), ready
        self.pid = self.proc.pid

    @property
    def socket_path(self) -> str:
        return os.path.join(self.socket_dir, f"{self.pid}.sock")

    def read_line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError(f"target exited: {self.stderr_text()}")
        return line.strip()

    def command(self, text: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()
        return self.read_line()

    def alive(self) -> bool:
        return self.proc.poll() is None and self.command("ping") == "pong"

    def stderr_text(self) -> str:
        if self.proc.poll() is None:
            self.stop()
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def stop(self) -> int:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write("exit\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def socket_dir() -> Iterator[str]:
    # Short path: a Unix socket path must fit in about 100 bytes.
    parent = tempfile.mkdtemp(prefix="htsock")
    path = os.path.join(parent, "s")
    yield path
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def start_target(socket_dir: str) -> Iterator[object]:
    started: list[Target] = []

    def start(**env: str) -> Target:
        target = Target(socket_dir, env)
        started.append(target)
        return target

    yield start
    for target in started:
        target.stop()
        for stream in (target.proc.stdin, target.proc.stdout, target.proc.stderr):
            if stream is not None:
                stream.close()
