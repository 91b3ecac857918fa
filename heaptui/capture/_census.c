/* heaptui.capture._census: count and size a list of objects per type, in one C pass.
 *
 * The census of a watch (heaptui.capture.census) runs every few seconds inside the host, so it
 * must cost about what objgraph's typestats costs: one pass over gc.get_objects(), no graph.
 * census(objects) returns [(type, count, bytes), ...] where bytes is the sum of the objects'
 * C __sizeof__ (what sys.getsizeof returns, less the GC pre-header: the caller adds it per type).
 * With untracked=True it also counts, once each, the objects the collector does not track that
 * they reach through tp_traverse (str, int, float, tuples and dicts of scalars...), following
 * untracked containers further: what gc.get_referents finds. Which untracked objects were
 * counted is kept as one bit per 8-byte slot of address space, in 1 MiB chunks allocated on
 * first use (a heap's objects sit in few chunks: a bit per 64 bytes of heap at most).
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

/* ------------------------------------------------------------------ seen untracked objects */
#define CHUNK_SHIFT 20
#define SLOT_SHIFT 3
#define CHUNK_WORDS ((size_t)1 << (CHUNK_SHIFT - SLOT_SHIFT - 6))

typedef struct {
    uintptr_t chunk; /* address >> CHUNK_SHIFT, plus one (0: a free entry) */
    uint64_t *bits;
} Chunk;

typedef struct {
    Chunk *table;
    size_t mask;
    size_t used;
    uintptr_t last_chunk;
    uint64_t *last_bits;
} Seen;

static size_t chunk_slot(uintptr_t chunk, size_t mask) {
    return (size_t)(chunk * (uintptr_t)0x9E3779B97F4A7C15ULL >> 40) & mask;
}

static uint64_t *seen_chunk(Seen *s, uintptr_t chunk) {
    size_t i = chunk_slot(chunk, s->mask);
    while (s->table[i].chunk != 0) {
        if (s->table[i].chunk == chunk) {
            return s->table[i].bits;
        }
        i = (i + 1) & s->mask;
    }
    if ((s->used + 1) * 2 > s->mask + 1) {
        size_t cap = (s->mask + 1) * 2;
        Chunk *table = PyMem_RawCalloc(cap, sizeof(Chunk));
        if (table == NULL) {
            return NULL;
        }
        for (size_t j = 0; j <= s->mask; j++) {
            if (s->table[j].chunk != 0) {
                size_t k = chunk_slot(s->table[j].chunk, cap - 1);
                while (table[k].chunk != 0) {
                    k = (k + 1) & (cap - 1);
                }
                table[k] = s->table[j];
            }
        }
        PyMem_RawFree(s->table);
        s->table = table;
        s->mask = cap - 1;
        return seen_chunk(s, chunk);
    }
    uint64_t *bits = PyMem_RawCalloc(CHUNK_WORDS, sizeof(uint64_t));
    if (bits == NULL) {
        return NULL;
    }
    s->table[i].chunk = chunk;
    s->table[i].bits = bits;
    s->used++;
    return bits;
}

/* 1 if ``a`` is new (and now marked), 0 if seen before, -1 when out of memory. */
static int seen_add(Seen *s, uintptr_t a) {
    uintptr_t chunk = (a >> CHUNK_SHIFT) + 1;
    uint64_t *bits = s->last_bits;
    if (chunk != s->last_chunk || bits == NULL) {
        bits = seen_chunk(s, chunk);
        if (bits == NULL) {
            return -1;
        }
        s->last_chunk = chunk;
        s->last_bits = bits;
    }
    size_t slot = (a & (((uintptr_t)1 << CHUNK_SHIFT) - 1)) >> SLOT_SHIFT;
    uint64_t mask = (uint64_t)1 << (slot & 63);
    if (bits[slot >> 6] & mask) {
        return 0;
    }
    bits[slot >> 6] |= mask;
    return 1;
}

static void seen_free(Seen *s) {
    if (s->table != NULL) {
        for (size_t i = 0; i <= s->mask; i++) {
            PyMem_RawFree(s->table[i].bits);
        }
    }
    PyMem_RawFree(s->table);
    s->table = NULL;
}

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

/* The pass's state: the per-type table, the untracked objects seen and those still to follow. */
typedef struct {
    Table t;
    Seen seen;
    PyObject **stack;
    size_t depth;
    size_t cap;
    int failed;
} Pass;

static int count_object(Pass *p, PyObject *o) {
    Entry *e = lookup(&p->t, Py_TYPE(o));
    if (e == NULL) {
        return -1;
    }
    e->count++;
    e->bytes += object_size(o, e);
    return 0;
}

/* tp_traverse callback: count an untracked referent the first time; queue it if it is a
 * container (an untracked tuple or dict still holds objects). Borrowed references only: every
 * object stays alive while the list of tracked objects does and nothing runs in between. */
static int visit_untracked(PyObject *o, void *arg) {
    Pass *p = (Pass *)arg;
    if (o == NULL || p->failed) {
        return 0;
    }
    int is_gc = PyObject_IS_GC(o);
    if (is_gc && PyObject_GC_IsTracked(o)) {
        return 0; /* in the list: counted there */
    }
    int fresh = seen_add(&p->seen, (uintptr_t)o);
    if (fresh <= 0) {
        p->failed = fresh < 0;
        return 0;
    }
    if (count_object(p, o) < 0) {
        p->failed = 1;
        return 0;
    }
    if (is_gc && Py_TYPE(o)->tp_traverse != NULL) {
        if (p->depth == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 1024;
            PyObject **stack = PyMem_RawRealloc(p->stack, cap * sizeof(PyObject *));
            if (stack == NULL) {
                p->failed = 1;
                return 0;
            }
            p->stack = stack;
            p->cap = cap;
        }
        p->stack[p->depth++] = o;
    }
    return 0;
}

static void follow(Pass *p, PyObject *o) {
    traverseproc traverse = Py_TYPE(o)->tp_traverse;
    if (traverse != NULL) {
        traverse(o, visit_untracked, p);
    }
    while (p->depth > 0 && !p->failed) {
        PyObject *next = p->stack[--p->depth];
        Py_TYPE(next)->tp_traverse(next, visit_untracked, p);
    }
}

static PyObject *census(PyObject *module, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"objects", "untracked", NULL};
    PyObject *objects;
    int untracked = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!|p", keywords, &PyList_Type, &objects,
                                     &untracked)) {
        return NULL;
    }
    Pass p = {{PyMem_RawCalloc(256, sizeof(Entry)), 255, 0}, {NULL, 63, 0, 0, NULL}, NULL, 0, 0,
              0};
    p.seen.table = untracked ? PyMem_RawCalloc(64, sizeof(Chunk)) : NULL;
    if (p.t.slots == NULL || (untracked && p.seen.table == NULL)) {
        PyMem_RawFree(p.t.slots);
        seen_free(&p.seen);
        return PyErr_NoMemory();
    }
    Table t;
    /* The list cannot change during the pass: nothing here releases the GIL or runs Python
     * code (a C __sizeof__ or tp_traverse does neither). Its length is read every time. */
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(objects) && !p.failed; i++) {
        PyObject *o = PyList_GET_ITEM(objects, i);
        if (count_object(&p, o) < 0) {
            p.failed = 1;
        }
        else if (untracked) {
            follow(&p, o);
        }
    }
    t = p.t;
    seen_free(&p.seen);
    PyMem_RawFree(p.stack);
    if (p.failed) {
        PyMem_RawFree(t.slots);
        return PyErr_NoMemory();
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
    {"census", (PyCFunction)(void (*)(void))census, METH_VARARGS | METH_KEYWORDS,
     "census(objects: list, untracked=False) -> [(type, count, bytes)]: C __sizeof__ totals "
     "per exact type, with the untracked objects they reach when asked."},
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
