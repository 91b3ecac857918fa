/* heaptui.capture._walk.StringTable: the snapshot's string table, kept as UTF-8 bytes in C.
 *
 * Labels name references by a position in one table of distinct strings (attribute names,
 * rendered dict keys, root labels).  The C walk adds rendered keys as bytes it formats itself
 * (no str object is made for them); the walker's Python code adds names through ``intern``.
 * Batches go to the snapshot writer already encoded (``drain``), and a streamed capture
 * forgets what it has seen past ``limit`` strings, so the table never grows with the heap.
 */
#ifndef HEAPTUI_STRTAB_H
#define HEAPTUI_STRTAB_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "_internal.h"

typedef struct StrTab StrTab;

WALK_INTERNAL extern PyTypeObject StrTab_Type;

#define StrTab_Check(o) PyObject_TypeCheck((o), &StrTab_Type)

/* The position of the string with these UTF-8 bytes, added on first use; -1 on error. */
WALK_INTERNAL int32_t strtab_intern_utf8(StrTab *t, const char *data, size_t len);

/* The position of ``text`` (an exact str), added on first use; -1 on error. */
WALK_INTERNAL int32_t strtab_intern_str(StrTab *t, PyObject *text);

/* Hand the strings added since the last drain to sink(blob, offsets) (the UTF-8 bytes, and
 * each string's start in the whole table's blob as native uint64), then forget them all if
 * more than ``limit`` are remembered.  The buffers are released after the call.  0 or -1. */
WALK_INTERNAL int strtab_drain(StrTab *t, PyObject *sink);

#endif
