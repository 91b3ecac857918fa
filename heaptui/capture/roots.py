"""The roots of a capture: modules in ``sys.modules`` and the innermost frame of every thread.

Standard library only; nothing here runs user code and nothing is imported into the target.
Thread names come from ``threading._active`` (only if ``threading`` was already imported),
read as the ``_name`` instance attribute through ``object.__getattribute__`` when no class in
the thread's MRO defines ``_name`` (so no property can run).
"""

from __future__ import annotations

import _thread
import gc
import sys
import types
from itertools import compress, repeat
from operator import and_, eq, is_
from typing import Any

from ..core.agent_threads import AGENT_THREAD_PREFIX
from ..core.labels import ROOT_MODULE, ROOT_THREAD
from .saferepr import key_text
from .typeinfo import has_base, mro_lookup

_FRAME_GLOBALS = types.FrameType.__dict__["f_globals"].__get__
# The package this copy of heaptui runs as: "heaptui", or the private name an injected agent
# gets (``_heaptui_attach_<random>``, see heaptui.transport.attach.viewer_payload).
_PACKAGE = __name__.split(".")[0]
_CAPTURE_PACKAGE = _PACKAGE + ".capture"


def is_capture_frame(frame: Any) -> bool:
    """True for frames of :mod:`heaptui.capture` and the ``heaptui.capture/dump`` wrappers."""
    try:
        name = dict.get(_FRAME_GLOBALS(frame), "__name__")
    except Exception:
        return False
    if type(name) is not str:
        return False
    return name in (_PACKAGE, _CAPTURE_PACKAGE) or name.startswith(_CAPTURE_PACKAGE + ".")


def caller_frame(frame: Any) -> Any:
    """The first frame at or above ``frame`` that is not part of the capture itself."""
    while frame is not None and is_capture_frame(frame):
        frame = frame.f_back
    return frame


try:
    from ._walk import list_objects as _c_list_objects  # type: ignore[import-not-found]
except ImportError:  # pure Python only
    _c_list_objects = None


def _listed_refcount() -> int:
    """``sys.getrefcount`` as :func:`listed_objects`'s map sees a tuple only a list holds."""
    probe = [tuple([[]])]
    return next(map(sys.getrefcount, probe))


_LISTED_REFCOUNT = _listed_refcount()


def listed_objects() -> tuple[list[Any], list[int]]:
    """``gc.get_objects()`` less the tuples still being built, and the ids of those left out.

    ``tuple(gen)``, ``zip`` and C code build a tuple in place and resize it, which fails
    (SystemError in the program) if anything else holds it when its thread runs again. A
    tracked exact tuple that only the list and one other reference hold may be one: it is left
    out (nothing else reaches a tuple being built); a finished one is found again through the
    object that holds it. The compiled accelerator lists and filters in one C call, so no
    other thread runs in between; the pure-Python fallback filters right after listing.
    """
    if _c_list_objects is not None:
        objs, dropped = _c_list_objects()
        return objs, dropped
    objs = gc.get_objects()
    suspect = list(
        map(
            and_,
            map(is_, map(type, objs), repeat(tuple)),
            map(eq, map(sys.getrefcount, objs), repeat(_LISTED_REFCOUNT + 1)),
        )
    )
    if not any(suspect):
        return objs, []
    dropped = list(map(id, compress(objs, suspect)))
    objs = list(compress(objs, map(is_, suspect, repeat(False))))
    return objs, dropped


def in_finalizer(frame: Any) -> bool:
    """Whether a ``__del__`` is among ``frame`` and its callers.

    A finalizer may run inside a garbage collection, and then the objects being collected
    are in the collector's own work list, not in ``gc.get_objects()``: tracked referents
    are no longer sure to be listed (see columns.Columns.targets).
    """
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__del__":
            return True
        frame = frame.f_back
    return False


def module_roots() -> list[tuple[Any, int, str]]:
    """``(module, ROOT_MODULE, "sys.modules['name']")`` for every entry of ``sys.modules``."""
    modules = sys.modules
    items = list(dict.items(modules)) if has_base(type(modules), dict) else []
    return [(mod, ROOT_MODULE, f"sys.modules[{key_text(name)}]") for name, mod in items]


def _thread_names() -> dict[int, str]:
    threading = dict.get(sys.modules, "threading")
    if threading is None:
        return {}
    ns = types.ModuleType.__dict__["__dict__"].__get__(threading)
    active = dict.get(ns, "_active") if type(ns) is dict else None
    if not has_base(type(active), dict):
        return {}
    names: dict[int, str] = {}
    for ident, thread in list(dict.items(active)):
        if type(ident) is not int:
            continue
        found, _, _ = mro_lookup(type(thread), "_name")
        if found:
            continue
        try:
            name = object.__getattribute__(thread, "_name")
        except Exception:
            continue
        if type(name) is str:
            names[ident] = name
    return names


def frame_text(frame: Any) -> str:
    """``func() file.py:42`` for a frame, from its code object and current line."""
    code = frame.f_code
    filename = code.co_filename if type(code.co_filename) is str else "?"
    base = filename.replace("\\", "/").rsplit("/", 1)[-1]
    line = frame.f_lineno
    return f"{code.co_name}() {base}:{line if line is not None else '?'}"


def frame_node_text(frame: Any) -> str:
    """:func:`frame_text` as a frame's node text (``worker() app.py:19``), "" if unreadable:
    frames are named everywhere, never ``frame at 0x...``."""
    try:
        return frame_text(frame)
    except Exception:
        return ""


def main_thread_ident(thread_idents: list[int]) -> int | None:
    """The ident of the process's main thread, found without importing anything.

    3.13's ``_thread._get_main_thread_ident()`` knows it; before that ``threading`` (if the
    program imported it) keeps it in ``threading._main_thread``. Otherwise no thread was
    started through ``threading``, so when only one thread exists it is the main thread (a
    thread started with ``_thread.start_new_thread`` ends with the main thread). With several
    threads and neither source: None, and they keep their hexadecimal idents.
    """
    get_main = getattr(_thread, "_get_main_thread_ident", None)
    if get_main is not None:
        ident = get_main()
        if type(ident) is int:
            return ident
    threading = dict.get(sys.modules, "threading")
    if threading is not None:
        ns = types.ModuleType.__dict__["__dict__"].__get__(threading)
        main = dict.get(ns, "_main_thread") if type(ns) is dict else None
        if main is not None and not mro_lookup(type(main), "_ident")[0]:
            try:
                ident = object.__getattribute__(main, "_ident")
            except Exception:
                ident = None
            if type(ident) is int:
                return ident
    if len(thread_idents) == 1:
        return thread_idents[0]
    return None


def thread_roots(own_frame: Any) -> list[tuple[Any, int, str]]:
    """``(frame, ROOT_THREAD, label)`` per thread; this thread's root is ``own_frame``.

    Threads are named as ``threading`` names them; the main thread is ``MainThread`` even when
    ``threading`` was never imported (see :func:`main_thread_ident`); other unnamed threads
    show their ident (``thread 0x7f...``).
    """
    names = _thread_names()
    me = _thread.get_ident()
    frames = sys._current_frames()
    main = main_thread_ident(list(frames))
    if main is not None and main not in names:
        names[main] = "MainThread"
    roots: list[tuple[Any, int, str]] = []
    for ident, frame in list(dict.items(frames)):
        if ident == me:
            frame = own_frame
        if frame is None:
            continue
        name = names.get(ident, f"{ident:#x}")
        if name.startswith(AGENT_THREAD_PREFIX):
            continue  # the live agent's own threads are not roots of the program's heap
        roots.append((frame, ROOT_THREAD, f"thread {name}: {frame_text(frame)}"))
    frames.clear()
    return roots
