/* What the C walk (heaptui.capture._walk) does not describe itself: instances of C extension
 * types, labelled from the walker's GenericInfo (object members, a few safe getsets, a
 * suspended generator's locals); objects the walker's Python labellers label; and the errors
 * raised meanwhile that are the program's, not the walk's (a signal handler's). */
#include "_walk.h"
#include "_frames.h"
#if PY_VERSION_HEX < 0x030B0000
#include <frameobject.h> /* 3.10: PyFrameObject fields (a traceback frame's globals) */
#endif

/* ------------------------------------------------------------------ Python labellers */
/* The walker's Python code labels this object: labeler(obj, referents). */
WALK_INTERNAL int edges_callback(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
    if (traverse_into_refs(w, o, tp) < 0) {
        return -1;
    }
    PyObject *refs = PyList_New((Py_ssize_t)w->refs.len);
    if (refs == NULL) {
        return -1;
    }
    for (size_t i = 0; i < w->refs.len; i++) {
        PyObject *r = VEC_AT(&w->refs, PyObject *, i);
        Py_INCREF(r);
        PyList_SET_ITEM(refs, (Py_ssize_t)i, r);
    }
    PyObject *res = PyObject_CallFunctionObjArgs(ti->labeler, o, refs, NULL);
    if (res == NULL) {
        /* A labeller that fails on an odd object costs its labels, not the capture; what a
         * signal handler raised in it goes to the program. */
        if (foreign_error()) {
            Py_DECREF(refs);
            return -1;
        }
        PyErr_Clear();
        int rc = 0;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(refs) && rc == 0; i++) {
            rc = emit(w, PyList_GET_ITEM(refs, i), EDGE_OTHER, -1);
        }
        Py_DECREF(refs);
        return rc;
    }
    Py_DECREF(refs);
    PyObject *targets = NULL, *kinds = NULL, *payloads = NULL;
    int rc = -1;
    if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 3) {
        PyErr_SetString(PyExc_TypeError, "a labeler must return (targets, kinds, payloads)");
        goto out;
    }
    targets = PySequence_Fast(PyTuple_GET_ITEM(res, 0), "targets must be a sequence");
    kinds = PySequence_Fast(PyTuple_GET_ITEM(res, 1), "kinds must be a sequence");
    payloads = PySequence_Fast(PyTuple_GET_ITEM(res, 2), "payloads must be a sequence");
    if (targets == NULL || kinds == NULL || payloads == NULL) {
        goto out;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(targets);
    if (PySequence_Fast_GET_SIZE(kinds) != n || PySequence_Fast_GET_SIZE(payloads) != n) {
        PyErr_SetString(PyExc_ValueError, "a labeler returned lists of different lengths");
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        long kind = PyLong_AsLong(PySequence_Fast_GET_ITEM(kinds, i));
        long payload = PyLong_AsLong(PySequence_Fast_GET_ITEM(payloads, i));
        if (PyErr_Occurred()) {
            goto out;
        }
        if (emit(w, PySequence_Fast_GET_ITEM(targets, i), (uint8_t)kind, (int32_t)payload) < 0) {
            goto out;
        }
    }
    rc = 0;
out:
    Py_XDECREF(targets);
    Py_XDECREF(kinds);
    Py_XDECREF(payloads);
    Py_DECREF(res);
    return rc;
}

/* ------------------------------------------------------------------ C extension types */
/* Instances of other C types: Namer.label_generic's candidates (object members, the safe
 * getsets, the class), matched to the referents by identity. */
/* A suspended generator's (coroutine's...) locals, named: their values are among its
 * referents (its frame is inside it), matched by identity like the members. */
static int gen_local_cands(Walk *w, PyObject *o) {
    FastLocals fl;
    if (!fast_locals_of(o, &fl)) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < fl.n; i++) {
        PyObject *v = fl.slots[i];
        PyObject *name = fast_local_name(fl.code, i);
        if (v == NULL || name == NULL || !PyUnicode_CheckExact(name)) {
            continue;
        }
        /* The code object keeps its names alive: cache their payloads by address. */
        int64_t cached = amap_get(&w->name_cache, (uintptr_t)name);
        if (cached < 0) {
            cached = string_payload(w, name);
            if (cached < 0 || amap_put(&w->name_cache, (uintptr_t)name, cached) < 0) {
                return -1;
            }
        }
        if (add_cand(w, v, EDGE_LOCAL, (int32_t)cached) < 0) {
            return -1;
        }
    }
    return 0;
}

WALK_INTERNAL int edges_generic(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
    w->cands.len = 0;
    for (Py_ssize_t m = 0; m < ti->nmembers; m++) {
        PyObject *v = *(PyObject **)((char *)o + ti->member_offset[m]);
        if (v == NULL && ti->member_none[m]) {
            v = Py_None; /* what the walker's getattr reads, and so names */
        }
        if (add_cand(w, v, EDGE_ATTR, ti->member_payload[m]) < 0) {
            return -1;
        }
    }
    if (ti->gen_locals && gen_local_cands(w, o) < 0) {
        return -1;
    }
    /* A getter returns a new reference: hold them until the referents are matched. */
    PyObject *held[GENERIC_GETSETS_MAX];
    Py_ssize_t nheld = 0;
    int rc = 0;
    for (Py_ssize_t g = 0; g < ti->ngetsets && rc == 0; g++) {
        PyObject *v = ti->getsets[g]->get(o, ti->getsets[g]->closure);
        if (v == NULL) {
            PyErr_Clear();
            continue;
        }
        held[nheld++] = v;
        rc = add_cand(w, v, EDGE_ATTR, ti->getset_payload[g]);
    }
    if (rc == 0) {
        rc = add_cand(w, (PyObject *)tp, EDGE_ATTR, w->p_class);
    }
    if (rc == 0) {
        rc = emit_matched(w, o, tp);
    }
    for (Py_ssize_t i = 0; i < nheld; i++) {
        Py_DECREF(held[i]);
    }
    return rc;
}

/* ------------------------------------------------------------------ foreign errors */
/* Whether ``code`` is the code of a Python function installed as a signal handler, asked of
 * the signal module if the program imported it (nothing is imported here). */
static int is_signal_handler_code(PyObject *code) {
    PyObject *name = PyUnicode_FromString("signal");
    PyObject *signal = name ? PyImport_GetModule(name) : NULL;
    Py_XDECREF(name);
    PyObject *getsignal = signal ? PyObject_GetAttrString(signal, "getsignal") : NULL;
    Py_XDECREF(signal);
    int found = 0;
    for (int sig = 1; getsignal != NULL && sig < 65 && !found; sig++) {
        PyObject *handler = PyObject_CallFunction(getsignal, "i", sig);
        if (handler == NULL) {
            PyErr_Clear();
            continue;
        }
        PyObject *func = PyMethod_Check(handler) ? PyMethod_GET_FUNCTION(handler) : handler;
        found = PyFunction_Check(func) && PyFunction_GET_CODE(func) == code;
        Py_DECREF(handler);
    }
    Py_XDECREF(getsignal);
    PyErr_Clear();
    return found;
}

/* Whether the error set now must reach the program rather than be absorbed by the walk.
 * The walk forgives its Python labellers (one that fails on an odd object costs labels, not
 * the capture), but a signal handler (KeyboardInterrupt, a SIGALRM timeout) may raise inside
 * them: that exception is the program's.  Foreign: anything that is not an Exception, or one
 * raised by the innermost frame of a Python signal handler. */
WALK_INTERNAL int foreign_error(void) {
    if (!PyErr_Occurred()) {
        return 0;
    }
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return 1;
    }
    int foreign = 0;
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *exc = PyErr_GetRaisedException();
    PyObject *tb = exc ? PyException_GetTraceback(exc) : NULL;
#else
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    Py_XINCREF(tb);
#endif
    PyTracebackObject *last = (PyTracebackObject *)tb;
    while (last != NULL && PyTraceBack_Check(last) && last->tb_next != NULL) {
        last = last->tb_next;
    }
    if (last != NULL && PyTraceBack_Check(last) && last->tb_frame != NULL) {
        PyObject *code = (PyObject *)PyFrame_GetCode(last->tb_frame);
        foreign = code != NULL && is_signal_handler_code(code);
        Py_XDECREF(code);
    }
    Py_XDECREF(tb);
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(type, exc, tb);
#endif
    return foreign;
}
