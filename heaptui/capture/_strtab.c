/* heaptui.capture._walk.StringTable (see _strtab.h).
 *
 * The strings remembered since the last time the table forgot (all of them when ``limit`` is
 * 0) are kept back to back in one byte arena, with an open-addressing index over their hashes.
 * A rendered dict key costs a hash and a probe here, where a table of str objects cost a str,
 * an int, a dict insertion, a later encoding and a deallocation: on a heap with many distinct
 * keys that was a sixth of the whole capture.
 */
#include "_strtab.h"
#include "_vec.h"
#include "_views.h"

#include <string.h>

struct StrTab {
    PyObject_HEAD
    Vec bytes;          /* char: UTF-8 of the remembered strings, back to back */
    Vec ends;           /* uint64: entry e is bytes[start(e), ends[e]) (start(0) = 0) */
    Vec hashes;         /* uint64: hash of each entry */
    size_t n;           /* entries remembered (the length of ends and hashes) */
    uint32_t *slots;    /* index: entry + 1, or 0 for a free slot */
    size_t mask;
    size_t drained;     /* entries [0, drained) were handed over */
    int64_t base;       /* position of entry 0 (strings forgotten before it) */
    uint64_t blob_out;  /* bytes of the whole table handed over so far */
    size_t limit;       /* forget everything at a drain past this many entries; 0: never */
    uint64_t seed;      /* random: texts chosen to collide would slow the walk the host waits on */
};

static uint64_t hash_bytes(uint64_t seed, const char *p, size_t n) {
    uint64_t h = seed ^ ((uint64_t)n * 0x9E3779B97F4A7C15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
    return h;
}

#define END(t, e) VEC_AT(&(t)->ends, uint64_t, e)
#define HASH(t, e) VEC_AT(&(t)->hashes, uint64_t, e)

static inline uint64_t entry_start(const StrTab *t, size_t e) {
    return e ? END(t, e - 1) : 0;
}

static int slots_resize(StrTab *t, size_t cap) {
    uint32_t *slots = PyMem_RawCalloc(cap, sizeof(uint32_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t e = 0; e < t->n; e++) {
        size_t i = (size_t)HASH(t, e) & (cap - 1);
        while (slots[i]) {
            i = (i + 1) & (cap - 1);
        }
        slots[i] = (uint32_t)(e + 1);
    }
    PyMem_RawFree(t->slots);
    t->slots = slots;
    t->mask = cap - 1;
    return 0;
}

int32_t strtab_intern_utf8(StrTab *t, const char *data, size_t len) {
    uint64_t h = hash_bytes(t->seed, data, len);
    size_t i = (size_t)h & t->mask;
    for (;;) {
        uint32_t s = t->slots[i];
        if (s == 0) {
            break;
        }
        size_t e = s - 1;
        if (HASH(t, e) == h) {
            uint64_t start = entry_start(t, e);
            if (END(t, e) - start == len && memcmp(t->bytes.data + start, data, len) == 0) {
                return (int32_t)(t->base + (int64_t)e);
            }
        }
        i = (i + 1) & t->mask;
    }
    if (t->base + (int64_t)t->n >= INT32_MAX) {
        PyErr_SetString(PyExc_OverflowError, "more than 2**31 distinct label strings");
        return -1;
    }
    if (vec_reserve(&t->ends, 1) < 0 || vec_reserve(&t->hashes, 1) < 0
        || vec_reserve(&t->bytes, len) < 0) {
        return -1;
    }
    memcpy(t->bytes.data + t->bytes.len, data, len);
    t->bytes.len += len;
    END(t, t->n) = t->bytes.len;
    HASH(t, t->n) = h;
    t->slots[i] = (uint32_t)(t->n + 1);
    t->n++;
    t->ends.len = t->hashes.len = t->n;
    if (t->n * 2 > t->mask + 1 && slots_resize(t, (t->mask + 1) * 2) < 0) {
        return -1;
    }
    return (int32_t)(t->base + (int64_t)t->n - 1);
}

int32_t strtab_intern_str(StrTab *t, PyObject *text) {
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0) {
        return -1;
    }
#endif
    if (PyUnicode_IS_ASCII(text)) {
        return strtab_intern_utf8(t, (const char *)PyUnicode_DATA(text),
                                  (size_t)PyUnicode_GET_LENGTH(text));
    }
    /* Encoded afresh, not through PyUnicode_AsUTF8AndSize: that would cache the UTF-8 inside
     * the str, which may be the program's own.  Lone surrogates pass, as in the writer. */
    PyObject *encoded = PyUnicode_AsEncodedString(text, "utf-8", "surrogatepass");
    if (encoded == NULL) {
        return -1;
    }
    int32_t p = strtab_intern_utf8(t, PyBytes_AS_STRING(encoded),
                                   (size_t)PyBytes_GET_SIZE(encoded));
    Py_DECREF(encoded);
    return p;
}

static void forget_all(StrTab *t) {
    t->base += (int64_t)t->n;
    t->n = t->drained = t->bytes.len = t->ends.len = t->hashes.len = 0;
    memset(t->slots, 0, (t->mask + 1) * sizeof(uint32_t));
}

int strtab_drain(StrTab *t, PyObject *sink) {
    size_t count = t->n - t->drained;
    if (count) {
        uint64_t first = entry_start(t, t->drained);
        uint64_t *offsets = PyMem_RawMalloc(count * sizeof(uint64_t));
        if (offsets == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        for (size_t k = 0; k < count; k++) {
            offsets[k] = t->blob_out + entry_start(t, t->drained + k) - first;
        }
        size_t blob_len = (size_t)(t->bytes.len - first);
        int rc = call_with_views(sink, NULL, t->bytes.data + first, blob_len, offsets,
                                 count * sizeof(uint64_t));
        PyMem_RawFree(offsets);
        if (rc < 0) {
            return -1;
        }
        t->blob_out += blob_len;
        t->drained = t->n;
    }
    if (t->limit && t->n > t->limit) {
        forget_all(t);
    }
    return 0;
}

/* ------------------------------------------------------------------ the Python type */
/* Eight bytes of os.urandom() (C code only; its result is released at once). */
static int random_seed(uint64_t *seed) {
    PyObject *os = PyImport_ImportModule("os");
    PyObject *bytes = os ? PyObject_CallMethod(os, "urandom", "i", 8) : NULL;
    Py_XDECREF(os);
    if (bytes == NULL) {
        return -1;
    }
    if (!PyBytes_Check(bytes) || PyBytes_GET_SIZE(bytes) != 8) {
        Py_DECREF(bytes);
        PyErr_SetString(PyExc_RuntimeError, "os.urandom(8) did not give 8 bytes");
        return -1;
    }
    memcpy(seed, PyBytes_AS_STRING(bytes), 8);
    Py_DECREF(bytes);
    return 0;
}

static PyObject *strtab_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"limit", NULL};
    Py_ssize_t limit = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|n:StringTable", kwlist, &limit)) {
        return NULL;
    }
    if (limit < 0) {
        PyErr_SetString(PyExc_ValueError, "limit must be >= 0");
        return NULL;
    }
    StrTab *t = (StrTab *)type->tp_alloc(type, 0);
    if (t == NULL) {
        return NULL;
    }
    t->limit = (size_t)limit;
    if (random_seed(&t->seed) < 0) {
        Py_DECREF(t);
        return NULL;
    }
    vec_init(&t->bytes, 1);
    vec_init(&t->ends, sizeof(uint64_t));
    vec_init(&t->hashes, sizeof(uint64_t));
    if (slots_resize(t, 1024) < 0) {
        Py_DECREF(t);
        return NULL;
    }
    return (PyObject *)t;
}

static void strtab_dealloc(StrTab *t) {
    vec_free(&t->bytes);
    vec_free(&t->ends);
    vec_free(&t->hashes);
    PyMem_RawFree(t->slots);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static PyObject *strtab_intern(StrTab *t, PyObject *text) {
    if (!PyUnicode_CheckExact(text)) {
        PyErr_Format(PyExc_TypeError, "intern() takes a str, not %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    int32_t p = strtab_intern_str(t, text);
    return p < 0 ? NULL : PyLong_FromLong(p);
}

static PyObject *strtab_intern_many(StrTab *t, PyObject *texts) {
    PyObject *seq = PySequence_Fast(texts, "intern_many() takes a sequence of str");
    if (seq == NULL) {
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *p = strtab_intern(t, PySequence_Fast_GET_ITEM(seq, i));
        if (p == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, p);
    }
    Py_DECREF(seq);
    return out;
}

static PyObject *strtab_drain_py(StrTab *t, PyObject *sink) {
    if (strtab_drain(t, sink) < 0) {
        return NULL;
    }
    return PyLong_FromLongLong((long long)(t->base + (int64_t)t->drained));
}

static PyObject *strtab_undrained(StrTab *t, PyObject *Py_UNUSED(ignored)) {
    PyObject *out = PyList_New((Py_ssize_t)(t->n - t->drained));
    for (size_t e = t->drained; out != NULL && e < t->n; e++) {
        uint64_t start = entry_start(t, e);
        Py_ssize_t len = (Py_ssize_t)(END(t, e) - start);
        PyObject *s = PyUnicode_DecodeUTF8(t->bytes.data + start, len, "surrogatepass");
        if (s == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)(e - t->drained), s);
    }
    return out;
}

static Py_ssize_t strtab_len(StrTab *t) {
    return (Py_ssize_t)(t->base + (int64_t)t->n);
}

static PyMethodDef strtab_methods[] = {
    {"intern", (PyCFunction)strtab_intern, METH_O,
     "intern(text) -> int: the position of ``text``, added on first use."},
    {"intern_many", (PyCFunction)strtab_intern_many, METH_O,
     "intern_many(texts) -> list[int]: intern() of each text, in order."},
    {"drain", (PyCFunction)strtab_drain_py, METH_O,
     "drain(sink) -> int: hand the strings added since the last drain to sink(blob, offsets)\n"
     "(their UTF-8 bytes, and each one's start in the whole table's blob as native uint64),\n"
     "forget everything if more than ``limit`` are remembered; return how many strings\n"
     "were handed over in all."},
    {"undrained", (PyCFunction)strtab_undrained, METH_NOARGS,
     "undrained() -> list[str]: the strings added since the last drain."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods strtab_as_sequence = {
    .sq_length = (lenfunc)strtab_len,
};

PyTypeObject StrTab_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "heaptui.capture._walk.StringTable",
    .tp_basicsize = sizeof(StrTab),
    .tp_dealloc = (destructor)strtab_dealloc,
    .tp_as_sequence = &strtab_as_sequence,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "StringTable(limit=0): distinct label strings, kept as UTF-8 (len: positions given).",
    .tp_methods = strtab_methods,
    .tp_new = strtab_new,
};
