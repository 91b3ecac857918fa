/* Read the fast locals of a frame (running or not) or of a generator, coroutine or async
 * generator, in place.
 *
 * ``frame.f_locals`` cannot be used by a capture: on 3.10-3.12 it runs PyFrame_FastToLocals,
 * which refreshes the dict that the program's own ``locals()`` returned (a loop over it then
 * fails with "dictionary changed size during iteration"), and a trace or profile function
 * that is running writes that dict back into the fast locals when it returns (a local read
 * between the two is lost: UnboundLocalError).  Here the slots are only read.
 *
 * 3.10's PyFrameObject is public.  3.11-3.13 keep the locals in an interpreter frame
 * (``_PyInterpreterFrame``, internal): its layout for each release is mirrored below, only
 * the fields up to ``localsplus``, and checked before use (the code pointer must be a code
 * object).  Other releases answer "not readable" and the walkers fall back to unlabelled
 * referents.  Generators (3.11+) embed their interpreter frame in the generator object
 * (public ``PyGenObject``: ``gi_iframe``, ``gi_frame_state``); 3.10 generators have a frame
 * object, read like any frame. */
#include "_frames.h"

#if PY_VERSION_HEX < 0x030B0000
#include <frameobject.h>
#endif

#if PY_VERSION_HEX >= 0x030B0000 && PY_VERSION_HEX < 0x030E0000
#define HAVE_IFRAME 1

/* struct _frame: PyObject_HEAD, f_back, f_frame, ... (3.11-3.13) */
typedef struct {
    PyObject_HEAD
    PyObject *f_back;
    void *f_frame;
} FrameObjectMirror;

#if PY_VERSION_HEX < 0x030C0000
typedef struct {
    PyObject *f_func;
    PyObject *f_globals;
    PyObject *f_builtins;
    PyObject *f_locals;
    PyObject *f_code;
    PyObject *frame_obj;
    void *previous;
    void *prev_instr;
    int stacktop;
    char is_entry; /* bool */
    char owner;
    PyObject *localsplus[1];
} IFrameMirror;
#define IFRAME_CODE(f) ((f)->f_code)
#else
typedef struct {
    PyObject *f_code; /* 3.13: f_executable (a code object or None) */
    void *previous;
    PyObject *f_funcobj;
    PyObject *f_globals;
    PyObject *f_builtins;
    PyObject *f_locals;
    PyObject *frame_obj;
    void *instr_ptr;
    int stacktop;
    uint16_t return_offset;
    char owner;
    PyObject *localsplus[1];
} IFrameMirror;
#define IFRAME_CODE(f) ((f)->f_code)
#endif

/* gi_frame_state values 3.11-3.13: cleared from 4 on (FRAME_CLEARED), completed at 1. */
#define GEN_FRAME_COMPLETED 1

static int from_iframe(IFrameMirror *f, FastLocals *out) {
    if (f == NULL) {
        return 0;
    }
    PyObject *code = IFRAME_CODE(f);
    if (code == NULL || !PyCode_Check(code)) {
        return 0;
    }
    PyCodeObject *co = (PyCodeObject *)code;
    if (co->co_nlocalsplus < 0 || co->co_localsplusnames == NULL
        || !PyTuple_Check(co->co_localsplusnames)
        || PyTuple_GET_SIZE(co->co_localsplusnames) != co->co_nlocalsplus) {
        return 0;
    }
    out->code = co;
    out->slots = f->localsplus;
    out->n = co->co_nlocalsplus;
    return 1;
}
#endif

int fast_locals_of(PyObject *o, FastLocals *out) {
    out->code = NULL;
    out->slots = NULL;
    out->n = 0;
    if (PyFrame_Check(o)) {
#if PY_VERSION_HEX < 0x030B0000
        PyFrameObject *f = (PyFrameObject *)o;
        PyCodeObject *co = f->f_code;
        if (co == NULL || !PyTuple_Check(co->co_varnames) || !PyTuple_Check(co->co_cellvars)
            || !PyTuple_Check(co->co_freevars)) {
            return 0;
        }
        out->code = co;
        out->slots = f->f_localsplus;
        out->n = co->co_nlocals + PyTuple_GET_SIZE(co->co_cellvars)
                 + PyTuple_GET_SIZE(co->co_freevars);
        return 1;
#elif defined(HAVE_IFRAME)
        return from_iframe((IFrameMirror *)((FrameObjectMirror *)o)->f_frame, out);
#else
        return 0;
#endif
    }
    if (PyGen_CheckExact(o) || PyCoro_CheckExact(o) || PyAsyncGen_CheckExact(o)) {
        /* The three share the generator's head (_PyGenObject_HEAD). */
#if PY_VERSION_HEX < 0x030B0000
        PyFrameObject *f = ((PyGenObject *)o)->gi_frame;
        return f != NULL ? fast_locals_of((PyObject *)f, out) : 0;
#elif defined(HAVE_IFRAME)
        PyGenObject *g = (PyGenObject *)o;
        if (g->gi_frame_state >= GEN_FRAME_COMPLETED) {
            return 0; /* its locals are released (the slots are not reset) */
        }
        return from_iframe((IFrameMirror *)g->gi_iframe, out);
#else
        return 0;
#endif
    }
    return 0;
}

PyObject *fast_local_name(PyCodeObject *code, Py_ssize_t i) {
#if PY_VERSION_HEX < 0x030B0000
    Py_ssize_t nlocals = PyTuple_GET_SIZE(code->co_varnames);
    if (i < nlocals) {
        return PyTuple_GET_ITEM(code->co_varnames, i);
    }
    i -= nlocals;
    Py_ssize_t ncells = PyTuple_GET_SIZE(code->co_cellvars);
    if (i < ncells) {
        return PyTuple_GET_ITEM(code->co_cellvars, i);
    }
    i -= ncells;
    return i < PyTuple_GET_SIZE(code->co_freevars) ? PyTuple_GET_ITEM(code->co_freevars, i)
                                                    : NULL;
#elif defined(HAVE_IFRAME)
    return i < PyTuple_GET_SIZE(code->co_localsplusnames)
               ? PyTuple_GET_ITEM(code->co_localsplusnames, i)
               : NULL;
#else
    (void)code;
    (void)i;
    return NULL;
#endif
}

PyObject *frames_locals_py(PyObject *self, PyObject *obj) {
    (void)self;
    FastLocals fl;
    if (!fast_locals_of(obj, &fl)) {
        Py_RETURN_NONE;
    }
    /* First hold every value (one allocation, made before any slot is read: an allocation
     * may run a collection, and a finalizer could change the slots), then pair them. */
    Py_ssize_t n = fl.n;
    PyObject *held = PyList_New(2 * n);
    if (held == NULL) {
        return NULL;
    }
    if (!fast_locals_of(obj, &fl) || fl.n != n) {
        Py_DECREF(held);
        Py_RETURN_NONE;
    }
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *value = fl.slots[i];
        PyObject *name = fast_local_name(fl.code, i);
        if (value == NULL || name == NULL) {
            continue;
        }
        Py_INCREF(name);
        Py_INCREF(value);
        PyList_SET_ITEM(held, 2 * count, name);
        PyList_SET_ITEM(held, 2 * count + 1, value);
        count++;
    }
    PyObject *result = PyList_New(count);
    for (Py_ssize_t i = 0; result != NULL && i < count; i++) {
        PyObject *pair = PyTuple_Pack(2, PyList_GET_ITEM(held, 2 * i),
                                      PyList_GET_ITEM(held, 2 * i + 1));
        if (pair == NULL) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, i, pair);
    }
    Py_DECREF(held); /* its unused tail is NULL, which list_dealloc skips */
    return result;
}

PyObject *frames_locals_dict_py(PyObject *self, PyObject *obj) {
    (void)self;
    PyObject *d = NULL;
    if (PyFrame_Check(obj)) {
#if PY_VERSION_HEX < 0x030B0000
        d = ((PyFrameObject *)obj)->f_locals;
#elif defined(HAVE_IFRAME)
        IFrameMirror *f = (IFrameMirror *)((FrameObjectMirror *)obj)->f_frame;
        if (f != NULL && IFRAME_CODE(f) != NULL && PyCode_Check(IFRAME_CODE(f))) {
            d = f->f_locals;
        }
#endif
    }
    if (d == NULL) {
        Py_RETURN_NONE;
    }
    return Py_NewRef(d);
}
