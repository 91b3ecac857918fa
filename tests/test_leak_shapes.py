"""End to end, issue 14: leaks of the shapes users met (a logger per request, kept
exceptions, thread locals, lru_cache, atexit callbacks, generators and asyncio tasks kept in a
list). The report's first suspect must be the leaked type, read as one sentence, and its path
must name every step: no ``<ref>``, no frame without its function, file and line.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from test_leaky_programs import _run_program

from heaptui.cli import main
from heaptui.model.diff import new_objects
from heaptui.model.index import HELD_OUTSIDE, GraphIndex
from heaptui.model.load import load_snapshot
from heaptui.model.paths import render_path, shortest_root_path

LOGGING = """
import logging

def handle(i):
    logging.getLogger(f"svc.request.{i}").debug("handled")

for i in range(5):
    handle(i)
heaptui.dump(BASE)
for i in range(5, 2005):
    handle(i)
heaptui.dump(AFTER)
"""

EXCEPTIONS = """
class RequestError(Exception):
    pass

FAILURES = []

def worker(i):
    payload = {"n": i}
    raise RequestError(i)

def handle(i):
    try:
        worker(i)
    except RequestError as e:
        FAILURES.append(e)

for i in range(5):
    handle(i)
heaptui.dump(BASE)
for i in range(5, 2005):
    handle(i)
heaptui.dump(AFTER)
"""

THREAD_LOCAL = """
import threading

class Conn:
    def __init__(self, i):
        self.i = i
        self.buf = bytearray(64)

LOCAL = threading.local()
LOCAL.conns = []
for i in range(5):
    LOCAL.conns.append(Conn(i))
heaptui.dump(BASE)
for i in range(5, 2005):
    LOCAL.conns.append(Conn(i))
heaptui.dump(AFTER)
"""

LRU_CACHE = """
import functools

class Result:
    def __init__(self, i):
        self.i = i
        self.data = [i] * 5

@functools.lru_cache(maxsize=None)
def compute(i):
    return Result(i)

for i in range(5):
    compute(i)
heaptui.dump(BASE)
for i in range(5, 2005):
    compute(i)
heaptui.dump(AFTER)
"""

ATEXIT = """
import atexit

class Resource:
    def __init__(self, i):
        self.i = i
        self.data = [i] * 5

    def close(self):
        pass

def open_resource(i):
    atexit.register(Resource(i).close)

for i in range(5):
    open_resource(i)
heaptui.dump(BASE)
for i in range(5, 2005):
    open_resource(i)
heaptui.dump(AFTER)
"""

GENERATORS = """
class Chunk:
    def __init__(self, i):
        self.i = i
        self.data = bytearray(64)

def reader(i):
    chunk = Chunk(i)
    yield chunk.i

READERS = []

def start(i):
    g = reader(i)
    next(g)
    READERS.append(g)

for i in range(5):
    start(i)
heaptui.dump(BASE)
for i in range(5, 2005):
    start(i)
heaptui.dump(AFTER)
"""

ASYNCIO = """
import asyncio

class Chunk:
    def __init__(self, i):
        self.i = i
        self.data = bytearray(64)

async def serve(i, done):
    chunk = Chunk(i)
    await done.wait()

TASKS = []

async def main():
    done = asyncio.Event()
    TASKS.extend(asyncio.ensure_future(serve(i, done)) for i in range(5))
    await asyncio.sleep(0)
    heaptui.dump(BASE)
    TASKS.extend(asyncio.ensure_future(serve(i, done)) for i in range(5, 2005))
    await asyncio.sleep(0)
    heaptui.dump(AFTER)
    done.set()
    await asyncio.gather(*TASKS)

asyncio.run(main())
"""

# A frame's text: "worker() app.py:19".
FRAME_TEXT = re.compile(r"^\S+\(\) \S+:\d+$")


def _report(tmp_path: Path, source: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    base, after = _run_program(tmp_path, source)
    assert main(["report", after, "--baseline", base, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _edges(suspect: dict[str, Any]) -> list[str]:
    return [step["edge"] for step in suspect["path"][1:]]


def _assert_fully_named(suspect: dict[str, Any]) -> None:
    """No ``<ref>`` step, and every frame on the path named by function, file and line."""
    assert "<ref>" not in _edges(suspect), suspect["text"]
    assert "<ref>" not in suspect["text"]
    for step in suspect["path"]:
        if step["type"] == "frame":
            assert FRAME_TEXT.match(step["repr"]), step["repr"]


@pytest.mark.slow
def test_a_logger_per_request_is_one_suspect_named_logger(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top, *others = _report(tmp_path, LOGGING, capsys)["suspects"]
    assert top["type"] == top["outermost_type"] == "logging.Logger"
    # The dicts, lists and strings inside the Loggers are the same leak, not suspects of
    # their own.
    assert {"dict", "list", "str"} <= set(top["members"])
    assert not {"dict", "list", "str"} & {s["type"] for s in others}
    assert top["new_count"] == 2000
    assert re.fullmatch(
        r"2,000 new logging\.Logger \(\+\d+\.\d (KiB|MiB) retained\) held by "
        r"sys\.modules\['logging'\] → \.Logger → \.manager → \.loggerDict "
        r"\['svc\.request\.\d+'\]",
        top["text"],
    ), top["text"]
    _assert_fully_named(top)


@pytest.mark.slow
def test_kept_exceptions_name_the_traceback_chain_to_the_frame(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top = _report(tmp_path, EXCEPTIONS, capsys)["suspects"][0]
    assert top["type"] == "__main__.RequestError"
    assert {"traceback", "frame"} <= set(top["members"])
    assert "FAILURES" in top["text"]
    _assert_fully_named(top)
    after = load_snapshot(str(tmp_path / "after.heap"))
    index = GraphIndex(after)
    new = new_objects(load_snapshot(str(tmp_path / "base.heap")), after)
    frame = _new_of(after, new, "frame", lambda n: after.repr_of(n).startswith("worker()"))
    path = shortest_root_path(index, frame)
    assert path is not None
    assert re.fullmatch(
        r"(?:thread MainThread: <module>\(\) leaky\.py:\d+ -> f_locals\['FAILURES'\]"
        r"|sys\.modules\['__main__'\] -> \.FAILURES) -> \[\d+\] "
        r"-> \.__traceback__ -> \.tb_next -> \.tb_frame -> frame",
        render_path(path),
    ), render_path(path)
    assert re.fullmatch(r"worker\(\) leaky\.py:\d+", after.repr_of(frame))


def _new_of(snapshot: Any, new: np.ndarray, type_name: str, accept: Any) -> int:
    ids = [t for t, name in enumerate(snapshot.type_names) if name == type_name]
    for node in np.flatnonzero(new & np.isin(snapshot.type_index, ids)).tolist():
        if accept(node):
            return int(node)
    raise AssertionError(f"no new {type_name}")


@pytest.mark.slow
def test_a_thread_local_and_an_lru_cache_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top = _report(tmp_path / "local", THREAD_LOCAL, capsys)["suspects"][0]
    assert top["type"] == "__main__.Conn"
    # the module's global, or the module frame's local (the same dict) where that is shorter
    assert re.search(r" → (?:f_locals\['LOCAL'\]|\.LOCAL) → <dicts by thread> \[", top["text"])
    assert "] ['conns'] [" in top["text"]
    _assert_fully_named(top)
    top = _report(tmp_path / "lru", LRU_CACHE, capsys)["suspects"][0]
    assert top["type"] == "__main__.Result"
    cache = r" → (?:f_locals\['compute'\]|\.compute) → <cache> \[\d+\]$"
    assert re.search(cache, top["text"]), top["text"]
    _assert_fully_named(top)


@pytest.mark.slow
def test_atexit_callbacks_are_held_outside_python_objects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top = _report(tmp_path, ATEXIT, capsys)["suspects"][0]
    assert top["type"] == "__main__.Resource"
    assert top["root"] == "method " + HELD_OUTSIDE
    assert top["text"] == f"2,000 new __main__.Resource (+{top['text'].split('(+')[1]}"
    assert top["text"].endswith(f"held by method {HELD_OUTSIDE} → .__self__")
    _assert_fully_named(top)


@pytest.mark.slow
def test_generators_kept_in_a_list_are_one_suspect_named_by_the_user_type(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top, *others = _report(tmp_path, GENERATORS, capsys)["suspects"]
    # The list keeps generators; the Chunk the user wrote lives inside each one and names
    # the suspect; the generators are its outermost objects, not a suspect of their own.
    assert top["type"] == "__main__.Chunk"
    assert top["outermost_type"] == "generator" and "generator" in top["members"]
    assert "generator" not in {s["type"] for s in others}
    assert top["new_count"] == 2000
    assert re.search(r" → (?:f_locals\['READERS'\]|\.READERS) \[\d+\]", top["text"]), top["text"]


@pytest.mark.slow
def test_asyncio_tasks_name_their_coroutine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top = _report(tmp_path, ASYNCIO, capsys)["suspects"][0]
    assert top["type"] == "__main__.Chunk"
    edges = _edges(top)
    assert edges[:3] == [".TASKS", edges[1], "._coro"] and edges[1].startswith("["), edges


@pytest.mark.slow
def test_suspended_coroutine_and_generator_locals_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Chunk kept by a suspended coroutine or generator is reached through its local
    ``chunk``, not ``<ref>`` (the frame of a suspended generator is read in place)."""
    top = _report(tmp_path / "asyncio", ASYNCIO, capsys)["suspects"][0]
    _assert_fully_named(top)
    _assert_fully_named(_report(tmp_path / "gen", GENERATORS, capsys)["suspects"][0])
    snap = load_snapshot(str(tmp_path / "gen" / "after.heap"))
    new = new_objects(load_snapshot(str(tmp_path / "gen" / "base.heap")), snap)
    chunk = _new_of(snap, new, "__main__.Chunk", lambda n: True)
    path = shortest_root_path(GraphIndex(snap), chunk)
    assert path is not None and "<ref>" not in render_path(path), render_path(path)


PYTHONS = sorted(Path("/root/.pyenv/versions").glob("3.1[0-9]*/bin/python3.1[0-9]"))


@pytest.mark.slow
@pytest.mark.parametrize("python", PYTHONS, ids=lambda p: p.name)
def test_labels_on_every_python(python: Path, tmp_path: Path) -> None:
    """The exception, lru_cache and thread-local labels rely on each version's C layout."""
    source = "\n".join(
        textwrap.dedent(p).replace("heaptui.dump(BASE)", "").replace("heaptui.dump(AFTER)", "")
        for p in (EXCEPTIONS, LRU_CACHE, THREAD_LOCAL)
    )
    after = tmp_path / "after.heap"
    script = tmp_path / "leaky.py"
    script.write_text(f"import heaptui\n{source}\nheaptui.dump({str(after)!r})\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    result = subprocess.run(
        [str(python), str(script)], capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, result.stderr
    snap = load_snapshot(str(after))
    index = GraphIndex(snap)
    everything = np.ones(snap.node_count, dtype=bool)
    error = _new_of(snap, everything, "__main__.RequestError", lambda n: True)
    labels = _out_labels(snap, index, error)
    assert {".args", ".__traceback__"} <= labels, labels
    wrapper = _new_of(snap, everything, "functools._lru_cache_wrapper", lambda n: True)
    labels = _out_labels(snap, index, wrapper)
    assert {"<cache>", ".__dict__"} <= labels, labels
    local = _new_of(snap, everything, "_thread._local", lambda n: True)
    assert "<dicts by thread>" in _out_labels(snap, index, local)
    frames = [n for n in range(snap.node_count) if snap.type_name(n) == "frame"]
    assert frames and all(FRAME_TEXT.match(snap.repr_of(n)) for n in frames)


def _out_labels(snap: Any, index: GraphIndex, node: int) -> set[str]:
    _, edges = index.referents(node)
    return {snap.edge_label(int(e)) for e in edges}
