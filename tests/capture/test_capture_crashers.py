"""Programs that crashed the capture or changed what the program's own code does (issue 19).

Each case is the smallest program found, run in a subprocess (a segfault fails the test
instead of killing pytest) with each way of capturing: the compiled walker streaming a
``dump()`` to a file, the compiled walker's in-memory ``snapshot()``, and the pure-Python
walker. The program prints ``OK`` when it got to its end with its own results intact; a
snapshot file it wrote is read back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from capture_view import View

from heaptui.capture import accel, guard, naming, snapshot
from heaptui.capture.guard import CaptureInProgressError
from heaptui.fileformat.read import read_snapshot_arrays

MODES = ["c-dump", "c-capture", "python-dump"]

# Defines DUMP() for the mode given as argv[1]; the snapshot goes to argv[2].
PRELUDE = """\
import os, sys
MODE, PATH = sys.argv[1], sys.argv[2]
if MODE.startswith("python"):
    os.environ["HEAPTUI_WALKER"] = "python"
import heaptui
from heaptui.capture import accel as _accel
assert _accel.available() == (not MODE.startswith("python"))

def DUMP():
    if MODE == "c-capture":
        heaptui.snapshot()
    else:
        heaptui.dump(PATH)

def COUNT(path=PATH):
    # the number of nodes of a new snapshot (no Python object per node is made)
    if MODE == "c-capture":
        return heaptui.snapshot().node_count
    from heaptui.fileformat.read import read_snapshot_arrays
    heaptui.dump(path)
    return len(read_snapshot_arrays(path).addr)

def NODES(path=PATH):
    # [(address, type name)] of every node of a new snapshot
    if MODE == "c-capture":
        raw = heaptui.snapshot()
        addr, index, names = list(raw.addr), list(raw.type_index), raw.type_names
    else:
        from heaptui.fileformat.read import read_snapshot_arrays
        heaptui.dump(path)
        arrays = read_snapshot_arrays(path)
        addr, index = arrays.addr.tolist(), arrays.type_index.tolist()
        names = arrays.type_names
    return [(a, names[i]) for a, i in zip(addr, index)]
"""

CASES: dict[str, str] = {
    # A static type never made ready (tp_bases NULL): reading __bases__ crashed.
    "testcapi_unready_type": """
        import _testcapi
        DUMP()
    """,
    "testbuffer": """
        import _testbuffer
        DUMP()
    """,
    # 3.10: the memoryview iterator type is not ready either.
    "memoryview_iterator_type": """
        M = type(iter(memoryview(b"x")))
        it = iter(memoryview(b"xy"))
        DUMP()
    """,
    # 3.10/3.11: the co_lines iterator type is not ready; live iterators broke the sizer.
    "co_lines_iterators": """
        code = compile("1", "", "eval")
        L = type(code.co_lines())
        lines = code.co_lines()
        positions = code.co_positions() if hasattr(code, "co_positions") else None
        DUMP()
    """,
    # Another type's C __sizeof__ stored in a class: its C function read an X as a dict.
    "borrowed_c_sizeof": """
        class X:
            __sizeof__ = dict.__sizeof__
        x = X()
        class Y(list):
            __sizeof__ = dict.__sizeof__
        y = Y([1, 2])
        DUMP()
    """,
    # A non-str namespace key equal to "__sizeof__": look-ups called its __eq__.
    "namespace_key_with_user_eq": """
        calls = []
        class Key:
            def __hash__(self):
                return hash("__sizeof__")
            def __eq__(self, other):
                calls.append(other)
                raise RuntimeError("user __eq__ called")
        C = type("C", (), {Key(): 1, "a": 2})
        c = C()
        DUMP()
        assert calls == [], calls
    """,
    # A slot descriptor of another class in a namespace: reading it on B raised.
    "foreign_slot_descriptor": """
        class A:
            __slots__ = ("x",)
        class B:
            x = A.__dict__["x"]
            def __init__(self):
                self.y = [1]
        a = A()
        a.x = 1
        b = B()
        DUMP()
    """,
    # Reading f_locals refreshed the program's own locals() dict mid-iteration.
    "loop_over_locals": """
        def f():
            a, b = 1, 2
            seen = []
            for k in locals():
                seen.append(k)
                DUMP()
            return seen
        assert f() == ["a", "b", "seen"]
    """,
    # A profile function's frame locals were written back from a wiped dict.
    "setprofile_c_call": """
        done = []
        def target():
            x = [1]
            len(x)
            return x
        def prof(frame, event, arg):
            if event == "c_call" and frame.f_code is target.__code__ and not done:
                done.append(1)
                DUMP()
        sys.setprofile(prof)
        result = target()
        sys.setprofile(None)
        assert done and result == [1], (done, result)
    """,
    # The same from another thread while this one sits in its trace function.
    "settrace_other_thread": """
        import threading
        entered, release, result = threading.Event(), threading.Event(), []
        def target():
            y = [2]
            z = 5
            return y, z
        line = target.__code__.co_firstlineno + 2
        def tracer(frame, event, arg):
            if frame.f_code is target.__code__ and event == "line" and frame.f_lineno == line:
                entered.set()
                release.wait(60)
            return tracer
        def run():
            sys.settrace(tracer)
            result.append(target())
            sys.settrace(None)
        t = threading.Thread(target=run)
        t.start()
        assert entered.wait(60)
        DUMP()
        release.set()
        t.join()
        assert result == [([2], 5)], result
    """,
    # A list with empty (NULL) slots (the C accelerator's TreeBuilder keeps one).
    "treebuilder_null_slots": """
        import xml.etree.ElementTree as ET
        tb = ET.TreeBuilder()
        tb.start("a", {})
        DUMP()
        tb.end("a")
        assert tb.close().tag == "a"
    """,
    # A dump inside a generator that tuple(), list() or zip() is consuming.
    "dump_inside_consumed_generator": """
        def g(n):
            for i in range(n):
                if i == 3:
                    DUMP()
                yield [i]
        assert len(tuple(g(10))) == 10
        assert len(list(g(10))) == 10
        assert len(list(zip(g(10), range(10)))) == 10
    """,
    # Another thread builds tuples from a generator: holding one made its resize fail.
    "tuple_being_built_in_another_thread": """
        import threading
        errors, stop = [], []
        def g():
            for i in range(200):
                yield i
        def worker():
            while not stop:
                try:
                    tuple(g())
                except SystemError as exc:
                    errors.append(repr(exc))
        t = threading.Thread(target=worker)
        t.start()
        for _ in range(20):
            DUMP()
        stop.append(1)
        t.join()
        assert errors == [], errors[:3]
    """,
    # A signal handler's exception during a dump must reach the program.
    "keyboard_interrupt_during_dump": """
        import signal, time
        class D(dict):  # labelled by the walker's Python code: the handler runs in there
            pass
        big = [D(k=i) for i in range(300_000)]
        DUMP()
        signal.signal(signal.SIGALRM, signal.default_int_handler)
        caught = []
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        try:
            DUMP()
            time.sleep(10)
        except KeyboardInterrupt:
            caught.append(1)
        assert caught, "the KeyboardInterrupt was lost"
    """,
    # The same with a SIGALRM timeout raising an ordinary Exception.
    "sigalrm_timeout_during_dump": """
        import signal, time
        class Timeout(Exception):
            pass
        def on_alarm(signum, frame):
            raise Timeout()
        class D(dict):
            pass
        big = [D(k=i) for i in range(300_000)]
        DUMP()
        signal.signal(signal.SIGALRM, on_alarm)
        caught = []
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        try:
            DUMP()
            time.sleep(10)
        except Timeout:
            caught.append(1)
        assert caught, "the timeout was lost"
    """,
    # A dump from a signal handler inside a dump fails fast instead of mixing state.
    "nested_dump_from_signal_handler": """
        import signal, time
        from heaptui.capture.guard import CaptureInProgressError
        DUMP()  # imports done: the handler below may only meet the walk itself
        big = [[i] for i in range(600_000)]
        outcome = []
        def handler(signum, frame):
            try:
                DUMP()
                outcome.append("ran")
            except CaptureInProgressError:
                outcome.append("refused")
        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        DUMP()
        deadline = time.monotonic() + 5
        while not outcome and time.monotonic() < deadline:
            time.sleep(0.01)
        # Refused inside the outer dump; or the outer dump had ended and it simply ran.
        assert outcome in (["refused"], ["ran"]), outcome
    """,
    # Concurrent dumps are serialised: each sees the program's heap, not the others' state.
    "concurrent_dumps": """
        import threading
        heap = [{"k": [i]} for i in range(20_000)]
        alone = COUNT()
        counts, errors = [], []
        def one(k):
            try:
                counts.append(COUNT(PATH + str(k)))
            except BaseException as exc:
                errors.append(repr(exc))
        threads = [threading.Thread(target=one, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], errors
        assert len(counts) == 4 and max(counts) < alone * 1.2, (alone, counts)
    """,
    # A child forked while a capture held the lock can capture (the lock is renewed there).
    "fork_mid_capture": """
        from heaptui.capture import guard
        guard.enter()
        pid = os.fork()
        if pid == 0:
            DUMP()
            os._exit(0)
        guard.leave()
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
    """,
    # A dump from __del__ while gc.collect() finalises a cycle: the cycle being collected is
    # not in gc.get_objects(), and the Python walker left its 2,000 lists out.
    "dump_from_del_during_collect": """
        import gc
        class Payload(list):
            pass
        class Node:
            def __init__(self):
                self.peer = None
                self.payload = [Payload([i]) for i in range(1000)]
            def __del__(self):
                if not counts:
                    counts.append(sum(1 for _, t in NODES() if t == "__main__.Payload"))
        counts = []
        a, b = Node(), Node()
        a.peer, b.peer = b, a
        del a, b
        gc.collect()
        assert counts == [2000], counts
    """,
    # Suspended greenlets were counted twice by the Python walker (tp_is_gc says no).
    "suspended_greenlets_counted_once": """
        import greenlet
        def work(i):
            x = [i]
            greenlet.getcurrent().parent.switch()
        gs = [greenlet.greenlet(work) for i in range(200)]
        for g in gs:
            g.switch(0)
        found = [a for a, t in NODES() if t == "greenlet.greenlet"]
        assert len(found) == len(set(found)) == 201, (len(found), len(set(found)))
    """,
}


def _run(name: str, mode: str, tmp_path: Path, timeout: float = 300) -> str:
    if mode.startswith("c") and not accel.available():
        pytest.skip("the compiled walker is not built")
    if "greenlet" in name:
        pytest.importorskip("greenlet")
    path = tmp_path / "x.heap"
    program = PRELUDE + textwrap.dedent(CASES[name]) + "\nprint('OK')\n"
    env = {k: v for k, v in os.environ.items() if k != "HEAPTUI_WALKER"}
    proc = subprocess.run(
        [sys.executable, "-c", program, mode, str(path)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stderr[-3000:]}"
    assert proc.stdout.strip().endswith("OK"), proc.stdout[-2000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    for path in tmp_path.glob("x.heap*"):
        if path.suffix == ".heap" or path.name[len("x.heap") :].isdigit():
            arrays = read_snapshot_arrays(str(path))
            assert len(arrays.addr) > 1000
    return proc.stdout


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_capture_survives_and_leaves_the_program_alone(
    name: str, mode: str, tmp_path: Path
) -> None:
    _run(name, mode, tmp_path)


def _produce() -> Iterator[list[str]]:
    pending = ["job-1"]
    yield pending
    yield pending


def _locals_holder(gen: Iterator[list[str]]) -> object:
    """What holds a suspended generator's locals: its frame object on 3.10, else itself."""
    return gen.gi_frame if sys.version_info < (3, 11) else gen  # type: ignore[attr-defined]


def test_suspended_generator_locals_are_labelled(walker: str) -> None:
    if not hasattr(naming, "_c_frame_locals") or naming._c_frame_locals is None:
        pytest.skip("fast locals are read by the compiled accelerator only")
    gen = _produce()
    job = next(gen)
    view = View(snapshot())
    assert view.labels_to(_locals_holder(gen), job) == ["f_locals['pending']"]


def test_locals_stay_reachable_without_the_accelerator(
    walker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pure-Python fallback never reads ``f_locals``: a suspended generator's locals are
    still its referents, only unnamed."""
    monkeypatch.setattr(naming, "_c_frame_locals", None)
    monkeypatch.setattr(naming, "_c_frame_locals_dict", None)
    gen = _produce()
    job = next(gen)
    view = View(snapshot())
    assert view.has(job)
    assert len(view.labels_to(_locals_holder(gen), job)) == 1


def test_a_nested_capture_fails_fast_and_clearly() -> None:
    guard.enter()  # as a signal handler or __del__ would find it, mid-capture
    try:
        with pytest.raises(CaptureInProgressError, match="captures cannot be nested"):
            snapshot()
    finally:
        guard.leave()
    assert snapshot().node_count > 0  # released
