/* Handing C buffers to Python callables as memoryviews that die with the call.
 *
 * The C walk reuses its buffers once a chunk went out: a sink that kept a view of one would
 * later read other data.  The views are released after the call, so a sink that kept one
 * gets an error on use instead.
 */
#ifndef HEAPTUI_VIEWS_H
#define HEAPTUI_VIEWS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Call fn(lead, view of a, view of b): ``lead`` and ``b`` may be NULL (left out).  Both views
 * are released afterwards whatever happens; the call's error, if any, is the one kept.
 * Returns 0, or -1 with an error set. */
static inline int call_with_views(PyObject *fn, PyObject *lead, const void *a, size_t a_len,
                                  const void *b, size_t b_len) {
    PyObject *views[2] = {NULL, NULL};
    PyObject *r = NULL;
    views[0] = PyMemoryView_FromMemory((char *)a, (Py_ssize_t)a_len, PyBUF_READ);
    if (views[0] != NULL && b != NULL) {
        views[1] = PyMemoryView_FromMemory((char *)b, (Py_ssize_t)b_len, PyBUF_READ);
    }
    if (views[0] != NULL && (b == NULL || views[1] != NULL)) {
        PyObject *args[3];
        int n = 0;
        if (lead != NULL) {
            args[n++] = lead;
        }
        args[n++] = views[0];
        if (views[1] != NULL) {
            args[n++] = views[1];
        }
        r = PyObject_Vectorcall(fn, args, (size_t)n, NULL);
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    int ok = r != NULL;
    Py_XDECREF(r);
    for (int k = 0; k < 2; k++) {
        if (views[k] == NULL) {
            continue;
        }
        PyObject *released = PyObject_CallMethod(views[k], "release", NULL);
        if (released == NULL) {
            ok = 0;
            if (type == NULL) {
                PyErr_Fetch(&type, &value, &tb);
            }
            PyErr_Clear();
        }
        Py_XDECREF(released);
        Py_DECREF(views[k]);
    }
    if (type != NULL) {
        PyErr_Restore(type, value, tb);
    }
    return ok ? 0 : -1;
}

#endif
