"""End to end: real leaky programs dump two snapshots; `heaptui report` must name the leak.

Each program runs in a subprocess with this interpreter, calls ``heaptui.dump`` before and
after leaking, and the report on the pair must put the leaked type first among the suspects,
with the name of whatever holds it (``CACHE``, ``_registry``, ``pending``...) on its path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from heaptui.cli import main

# name: (program, leaked type, holder name that must appear in an edge label of the path)
PROGRAMS: dict[str, tuple[str, str, str]] = {
    "module_cache_dict": (
        """
        class Value:
            def __init__(self, n):
                self.n = n
                self.payload = "x" * 200 + str(n)

        CACHE = {}

        def handle(i):
            CACHE[f"user:{i}"] = Value(i)

        for i in range(50):
            handle(i)
        heaptui.dump(BASE)
        for i in range(50, 3050):
            handle(i)
        heaptui.dump(AFTER)
        """,
        "__main__.Value",
        "CACHE",
    ),
    "class_registry": (
        """
        class Plugin:
            _registry = []

            def __init__(self, name):
                self.name = name
                Plugin._registry.append(self)

        for i in range(20):
            Plugin(f"p{i}")
        heaptui.dump(BASE)
        for i in range(20, 2020):
            Plugin(f"p{i}")
        heaptui.dump(AFTER)
        """,
        "__main__.Plugin",
        "_registry",
    ),
    "listener_list": (
        """
        class EventBus:
            def __init__(self):
                self.listeners = []

            def subscribe(self, callback):
                self.listeners.append(callback)

        class Handler:
            def __init__(self, i):
                self.i = i
                self.buffer = bytearray(100)

            def on_event(self, event):
                pass

        BUS = EventBus()
        for i in range(10):
            BUS.subscribe(Handler(i).on_event)
        heaptui.dump(BASE)
        for i in range(10, 2010):
            BUS.subscribe(Handler(i).on_event)
        heaptui.dump(AFTER)
        """,
        "__main__.Handler",
        "listeners",
    ),
    "thread_local_list": (
        """
        import threading

        class Job:
            def __init__(self, i):
                self.i = i
                self.data = [i] * 10

        grown = threading.Event()
        started = threading.Event()
        finish = threading.Event()
        more = threading.Event()

        def worker():
            pending = []
            for i in range(10):
                pending.append(Job(i))
            started.set()
            more.wait()
            for i in range(10, 2010):
                pending.append(Job(i))
            grown.set()
            finish.wait()

        thread = threading.Thread(target=worker, name="Worker", daemon=True)
        thread.start()
        started.wait()
        heaptui.dump(BASE)
        more.set()
        grown.wait()
        heaptui.dump(AFTER)
        finish.set()
        thread.join()
        """,
        "__main__.Job",
        "pending",
    ),
    "closure_accumulator": (
        """
        class Event:
            def __init__(self, i):
                self.i = i
                self.tags = {"n": i}

        def make_recorder():
            seen = []

            def record(event):
                seen.append(event)

            return record

        record = make_recorder()
        for i in range(10):
            record(Event(i))
        heaptui.dump(BASE)
        for i in range(10, 2010):
            record(Event(i))
        heaptui.dump(AFTER)
        """,
        "__main__.Event",
        "seen",
    ),
}


def _run_program(tmp_path: Path, source: str) -> tuple[str, str]:
    base = tmp_path / "base.heap"
    after = tmp_path / "after.heap"
    script = tmp_path / "leaky.py"
    header = f"import heaptui\nBASE = {str(base)!r}\nAFTER = {str(after)!r}\n"
    script.write_text(header + textwrap.dedent(source))
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # the capture prints nothing
    return str(base), str(after)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_report_names_the_leaked_type_and_its_holder(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, leaked_type, holder = PROGRAMS[name]
    base, after = _run_program(tmp_path, source)
    assert main(["report", after, "--baseline", base, "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    suspects = report["suspects"]
    assert suspects, captured.out
    top = suspects[0]
    assert top["type"] == leaked_type, [s["type"] for s in suspects]
    assert top["count_delta"] >= 2000
    path = top["path"]
    assert path is not None, f"no root path to a new {leaked_type}"
    assert path[-1]["type"] == leaked_type
    # Held by a module or a thread, not explained away as an unreferenced object.
    assert top["root"].startswith(("sys.modules[", "thread ")), top["root"]
    edges = [step["edge"] or "" for step in path]
    assert any(holder in edge for edge in edges), (
        f"{holder!r} not on the path: {top['root']} {' -> '.join(edges[1:])}"
    )
