/* heaptui.capture._census: count and size a list of objects per type, in one C pass.
 *
 * The census of a watch (heaptui.capture.census) runs every few seconds inside the host, so it
 * must cost about what objgraph's typestats costs: one pass over gc.get_objects(), no graph.
 * census(objects) returns [(type, count, bytes), ...] where bytes is the sum of the objects'
 * C __sizeof__ (what sys.getsizeof returns, less the GC pre-header: the caller adds it per type).
 *
 * Safety: the GIL is held throughout and no user code runs. A type whose first __sizeof__ in
 * the MRO is a METH_NOARGS C method (dict, list, set, type...) has it called directly; any
 * other type (a Python __sizeof__, object's) is sized as object.__sizeof__ does:
 * tp_basicsize + |ob_size| * tp_itemsize. The list keeps every object (and so its type) alive
 * during the pass; the table holds borrowed pointers only until the result is built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    PyTypeObject *tp;   /* NULL: empty slot */
    PyCFunction sizeof_func; /* NULL: basic size */
    Py_ssize_t count;
    Py_ssize_t bytes;
} Entry;

typedef struct {
    Entry *slots;
    size_t mask;
    size_t used;
} Table;

static PyObject *sizeof_name = NULL;

static size_t hash_ptr(const void *p) {
    uintptr_t x = (uintptr_t)p >> 4;
    x ^= x >> 17;
    x *= (uintptr_t)0x9E3779B97F4A7C15ULL;
    return (size_t)(x ^ (x >> 29));
}

static int table_grow(Table *t) {
    size_t cap = (t->mask + 1) * 2;
    Entry *slots = PyMem_RawCalloc(cap, sizeof(Entry));
    if (slots == NULL) {
        return -1;
    }
    for (size_t i = 0; i <= t->mask; i++) {
        Entry *e = &t->slots[i];
        if (e->tp == NULL) {
            continue;
        }
        size_t j = hash_ptr(e->tp) & (cap - 1);
        while (slots[j].tp != NULL) {
            j = (j + 1) & (cap - 1);
        }
        slots[j] = *e;
    }
    PyMem_RawFree(t->slots);
    t->slots = slots;
    t->mask = cap - 1;
    return 0;
}

/* The C __sizeof__ to call for instances of tp, or NULL for the basic size. */
static PyCFunction choose_sizeof(PyTypeObject *tp) {
    PyObject *impl = _PyType_Lookup(tp, sizeof_name); /* borrowed, no user code */
    if (impl == NULL || !Py_IS_TYPE(impl, &PyMethodDescr_Type)) {
        return NULL;
    }
    PyMethodDef *def = ((PyMethodDescrObject *)impl)->d_method;
    if ((def->ml_flags & ~(METH_COEXIST)) != METH_NOARGS) {
        return NULL;
    }
    if (strcmp(def->ml_name, "__sizeof__") != 0) {
        return NULL;
    }
    /* object.__sizeof__ is the basic size: skip the call. */
    PyObject *base_impl = _PyType_Lookup(&PyBaseObject_Type, sizeof_name);
    if (impl == base_impl) {
        return NULL;
    }
    return def->ml_meth;
}

static Entry *lookup(Table *t, PyTypeObject *tp) {
    size_t j = hash_ptr(tp) & t->mask;
    while (t->slots[j].tp != NULL) {
        if (t->slots[j].tp == tp) {
            return &t->slots[j];
        }
        j = (j + 1) & t->mask;
    }
    if ((t->used + 1) * 2 > t->mask + 1) {
        if (table_grow(t) < 0) {
            return NULL;
        }
        return lookup(t, tp);
    }
    Entry *e = &t->slots[j];
    e->tp = tp;
    e->sizeof_func = choose_sizeof(tp);
    t->used++;
    return e;
}

static Py_ssize_t basic_size(PyObject *o, PyTypeObject *tp) {
    Py_ssize_t size = tp->tp_basicsize;
    if (tp->tp_itemsize != 0) {
        Py_ssize_t n = Py_SIZE(o);
        size += (n < 0 ? -n : n) * tp->tp_itemsize;
    }
    return size;
}

static Py_ssize_t object_size(PyObject *o, Entry *e) {
    if (e->sizeof_func != NULL) {
        PyObject *r = e->sizeof_func(o, NULL);
        if (r != NULL) {
            Py_ssize_t n = PyLong_AsSsize_t(r);
            Py_DECREF(r);
            if (n >= 0) {
                return n;
            }
        }
        PyErr_Clear();
    }
    return basic_size(o, e->tp);
}

static PyObject *census(PyObject *module, PyObject *objects) {
    if (!PyList_CheckExact(objects)) {
        PyErr_SetString(PyExc_TypeError, "census() takes a list");
        return NULL;
    }
    Table t = {PyMem_RawCalloc(256, sizeof(Entry)), 255, 0};
    if (t.slots == NULL) {
        return PyErr_NoMemory();
    }
    /* The list cannot change during the pass: nothing here releases the GIL or runs Python
     * code (a C __sizeof__ does neither). Its length is read every time regardless. */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects); i++) {
        PyObject *o = PyList_GET_ITEM(objects, i);
        Entry *e = lookup(&t, Py_TYPE(o));
        if (e == NULL) {
            PyMem_RawFree(t.slots);
            return PyErr_NoMemory();
        }
        e->count++;
        e->bytes += object_size(o, e);
    }
    PyObject *result = PyList_New(0);
    for (size_t i = 0; result != NULL && i <= t.mask; i++) {
        Entry *e = &t.slots[i];
        if (e->tp == NULL) {
            continue;
        }
        PyObject *row = Py_BuildValue("(Onn)", (PyObject *)e->tp, e->count, e->bytes);
        if (row == NULL || PyList_Append(result, row) < 0) {
            Py_XDECREF(row);
            Py_CLEAR(result);
            break;
        }
        Py_DECREF(row);
    }
    PyMem_RawFree(t.slots);
    return result;
}

static PyMethodDef methods[] = {
    {"census", census, METH_O,
     "census(objects: list) -> [(type, count, bytes)]: C __sizeof__ totals per exact type."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_census", "Per-type object census in one C pass.", -1, methods,
};

PyMODINIT_FUNC PyInit__census(void) {
    sizeof_name = PyUnicode_InternFromString("__sizeof__");
    if (sizeof_name == NULL) {
        return NULL;
    }
    return PyModule_Create(&module_def);
}
