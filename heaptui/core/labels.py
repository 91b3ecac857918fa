"""Edge kinds, root kinds and type flags shared by capture, file format and model.

Standard library only: the capture side imports this inside the target program.
An edge label is a pair ``(kind, payload)``. For name-like kinds the payload is an index into
the snapshot's string table; for ``INDEX`` it is the position itself; otherwise it is -1.
Keeping labels as two small integers (instead of one string per edge) keeps a snapshot of
millions of references compact; :func:`render_edge` turns the pair into what a person reads.
"""

from __future__ import annotations

from collections.abc import Callable

# --- edge kinds (uint8 in the file) -------------------------------------------------------
EDGE_OTHER = 0  # a reference the walker could not name: rendered "<ref>"
EDGE_ATTR = 1  # an attribute, payload=name: ".cache", ".__dict__", ".__class__"
EDGE_KEY = 2  # dict value under a key, payload=safe repr of the key: "['user:42']", "[42]"
EDGE_INDEX = 3  # list/tuple/deque position, payload=the index: "[3]"
EDGE_DICT_KEY = 4  # the key object of a dict entry, payload=safe repr of the key or -1: "<key 'a'>"
EDGE_MEMBER = 5  # set/frozenset member: "<member>"
EDGE_CLOSURE = 6  # closure tuple -> cell, payload=free variable name: "<closure count>"
EDGE_LOCAL = 7  # frame -> local variable, payload=name: "f_locals['pending']"
EDGE_CELL = 8  # cell -> its contents: ".cell_contents"
# A reference held in a C object's field that is no attribute, payload=what it is: "<cache>"
# (an lru_cache wrapper's cache dict). Files holding it cannot be read by builds before it.
EDGE_INTERNAL = 9

EDGE_KIND_NAMES = {
    EDGE_OTHER: "other",
    EDGE_ATTR: "attr",
    EDGE_KEY: "key",
    EDGE_INDEX: "index",
    EDGE_DICT_KEY: "dict_key",
    EDGE_MEMBER: "member",
    EDGE_CLOSURE: "closure",
    EDGE_LOCAL: "local",
    EDGE_CELL: "cell",
    EDGE_INTERNAL: "internal",
}
MAX_EDGE_KIND = max(EDGE_KIND_NAMES)

# --- root kinds (uint8 in the file) -------------------------------------------------------
ROOT_MODULE = 1  # a module in sys.modules, label "sys.modules['app']"
ROOT_THREAD = 2  # the innermost frame of a thread, label "thread MainThread: serve() app.py:42"
ROOT_OTHER = 3  # an object nothing in the snapshot refers to (computed by the model, not stored)

ROOT_KIND_NAMES = {ROOT_MODULE: "module", ROOT_THREAD: "thread", ROOT_OTHER: "other"}
MAX_ROOT_KIND = max(ROOT_KIND_NAMES)

# --- per-node flags (uint8 in the file) ---------------------------------------------------
NODE_GC_TRACKED = 1  # the object was in gc.get_objects(); otherwise reached from one that was

# --- per-type flags (in the file's type table) --------------------------------------------
TYPE_BUILTIN = 1  # defined in C (not a heap type): dict, list, str, _thread.lock, ...
TYPE_STDLIB = 2  # defined in a module of the standard library (sys.stdlib_module_names)
TYPE_USER = 4  # a Python class outside the standard library and heaptui: what users write


def render_edge(kind: int, payload: int, string: Callable[[int], str]) -> str:
    """Return the label of one edge as a person reads it (``.cache``, ``['k']``, ``[3]``).

    ``string`` looks up the snapshot's string table; it is only called for name-like kinds.
    """
    if kind == EDGE_ATTR:
        return "." + string(payload)
    if kind == EDGE_KEY:
        return "[" + string(payload) + "]"
    if kind == EDGE_INDEX:
        return f"[{payload}]"
    if kind == EDGE_DICT_KEY:
        return "<key>" if payload < 0 else f"<key {string(payload)}>"
    if kind == EDGE_MEMBER:
        return "<member>"
    if kind == EDGE_CLOSURE:
        return f"<closure {string(payload)}>"
    if kind == EDGE_LOCAL:
        return f"f_locals['{string(payload)}']"
    if kind == EDGE_CELL:
        return ".cell_contents"
    if kind == EDGE_INTERNAL:
        return f"<{string(payload)}>"
    return "<ref>"
