/* Fast locals of a frame or a generator, read in place (see _frames.c). */
#ifndef HEAPTUI_FRAMES_H
#define HEAPTUI_FRAMES_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_internal.h"

typedef struct {
    PyCodeObject *code; /* borrowed: the frame holds it */
    PyObject **slots;   /* the frame's local, cell and free variable slots (NULL: unset) */
    Py_ssize_t n;       /* how many */
} FastLocals;

/* 1 and ``out`` filled if ``o`` is a frame, or a generator, coroutine or async generator
 * whose frame is not cleared, on a Python whose layout is known; else 0.  No error is set,
 * nothing is allocated, no Python code runs. */
WALK_INTERNAL int fast_locals_of(PyObject *o, FastLocals *out);

/* The name of slot ``i`` of ``code``'s fast locals (borrowed), or NULL. */
WALK_INTERNAL PyObject *fast_local_name(PyCodeObject *code, Py_ssize_t i);

/* Python-level: frame_locals(obj) -> [(name, value), ...] or None. */
WALK_INTERNAL PyObject *frames_locals_py(PyObject *self, PyObject *obj);

/* Python-level: frame_locals_dict(frame) -> the dict a frame holds for locals() (3.10-3.12:
 * PyFrame_FastToLocals fills it) or for a class/module body, else None; read, not made. */
WALK_INTERNAL PyObject *frames_locals_dict_py(PyObject *self, PyObject *obj);

#endif
