"""Import a part of the world, make live objects of odd kinds, then dump the heap.

Run as ``python world_target.py CASE PATH`` (``HEAPTUI_WALKER`` picks the walker): prints the
names it imported, one a line, and writes a snapshot to PATH. A crash of the capture shows as
the process dying by a signal; ``tests/capture/test_capture_world.py`` reads the file back.

CASE is ``stdlib`` (every module of the standard library but the C test helpers), the name of
one C test helper (``_testcapi``, ...), ``packages`` (every installed package that ships a C
extension), ``pympler`` or ``live`` (numpy arrays and views, buffers, an mmap, suspended
generators and coroutines, a running asyncio loop in a thread).
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import sys
import types
import warnings
from importlib import metadata
from typing import Any

import heaptui

# Standard-library modules left out of the ``stdlib`` case, and why: each does something on
# import that a test must not. Only top-level names are imported, so ``idlelib``, ``turtle``
# and ``tkinter`` are in: they open no window on import (``idlelib.idle``, ``turtle.Screen()``
# and ``tkinter.Tk()`` would, and are not imported or called).
STDLIB_SKIP = {
    "antigravity": "opens a web browser",
    "this": "prints the Zen of Python",
    "__hello__": "prints Hello world",
    "__phello__": "prints Hello world",
}


def lib_dynload_names() -> set[str]:
    """C modules shipped with the interpreter, some of which ``stdlib_module_names`` omits."""
    where = [p for p in sys.path if p.endswith("lib-dynload")]  # a venv's sysconfig says venv
    return {m.name for m in pkgutil.iter_modules(where)}


def c_test_helpers() -> list[str]:
    """The C modules CPython builds for its own tests (``_testcapi``, ``_testbuffer``, ...)."""
    return sorted(n for n in lib_dynload_names() if n.startswith("_") and "test" in n)


def stdlib_names() -> list[str]:
    helpers = set(c_test_helpers())
    names = set(sys.stdlib_module_names) | lib_dynload_names()
    return sorted(n for n in names - helpers if n not in STDLIB_SKIP)


def packages_with_c_extensions() -> list[str]:
    """Top-level import names of installed distributions that ship compiled modules."""
    names: set[str] = set()
    for dist in metadata.distributions():
        files = dist.files or []
        if not any(str(f).endswith((".so", ".pyd")) for f in files):
            continue
        for f in files:
            top = f.parts[0]
            if str(f).endswith((".py", ".so")) and not top.endswith((".dist-info", ".libs")):
                names.add(top.split(".")[0])
    names.discard("__editable__")
    return sorted(names)


def import_all(names: list[str]) -> list[str]:
    """Import each name; a module that cannot import here (another OS, a missing library) is
    left out, since only what a program can import can be on its heap."""
    done = []
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:  # some raise SystemExit or odd errors on import
            continue
        done.append(name)
    return done


def live_objects() -> dict[str, Any]:
    """Objects caught in the middle of something: views on buffers, suspended frames, a loop."""
    import asyncio
    import mmap
    import threading

    import numpy

    base = numpy.arange(1000, dtype=numpy.float64).reshape(10, 100)
    data = bytearray(b"x" * 4096)
    mapped = mmap.mmap(-1, 4096)
    mapped[:5] = b"hello"

    def counting() -> Any:
        local = [1, 2, 3]
        yield local
        yield len(local)

    async def sleeper(n: int) -> int:
        held = {"n": n}
        await asyncio.sleep(3600)
        return held["n"]

    @types.coroutine
    def pause() -> Any:
        yield "paused"

    async def waiting(n: int) -> int:
        held = {"n": n}
        await pause()
        return held["n"]

    async def ticks() -> Any:
        held = [0]
        yield held
        yield held

    suspended = counting()
    next(suspended)
    never_awaited = waiting(0)  # a coroutine that was never started
    started = waiting(1)
    started.send(None)  # suspended in its await, never finished
    agen = ticks()
    with contextlib.suppress(StopIteration):  # it yielded its first value and is suspended
        agen.asend(None).send(None)

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    loop.call_soon(ready.set)
    tasks = [loop.create_task(sleeper(i)) for i in range(5)]
    runner = threading.Thread(target=loop.run_forever, name="asyncio-loop", daemon=True)
    runner.start()
    ready.wait(10)
    return {
        "array": base,
        "views": [base[::2], base.T, base[3], base.ravel()[10:20]],
        "scalar": base[0, 0],
        "bytearray": data,
        "memoryview": memoryview(data)[10:20],
        "mmap": mapped,
        "mmap view": memoryview(mapped)[:5],
        "numpy on mmap": numpy.frombuffer(mapped, dtype=numpy.uint8),
        "generator": suspended,
        "coroutines": [never_awaited, started, agen],
        "loop": loop,
        "tasks": tasks,
        "thread": runner,
    }


def stop_loop(held: dict[str, Any]) -> None:
    """Stop the loop's thread, then cancel its tasks so that the exit is quiet."""
    import asyncio

    loop = held["loop"]
    loop.call_soon_threadsafe(loop.stop)
    held["thread"].join(10)
    for task in held["tasks"]:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*held["tasks"], return_exceptions=True))
    loop.close()


def main() -> None:
    case, path = sys.argv[1], sys.argv[2]
    warnings.simplefilter("ignore")  # deprecated modules warn on import; not what is tested
    if case == "stdlib":
        names = import_all(stdlib_names())
    elif case == "packages":
        names = import_all(packages_with_c_extensions())
    elif case == "pympler":
        names = import_all(["pympler.asizeof", "pympler.muppy", "pympler.tracker"])
    elif case == "live":
        names = ["numpy", "asyncio", "mmap"]
        held = live_objects()  # alive during the dump
    else:
        names = import_all([case])
        if not names:
            sys.exit(f"cannot import {case}")
    heaptui.dump(path)
    if case == "live":
        stop_loop(held)
    print("\n".join(names))


if __name__ == "__main__":
    main()
