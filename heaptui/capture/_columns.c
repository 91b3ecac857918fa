/* The C walk's output columns (heaptui.capture._walk): growable buffers of fixed-size items,
 * handed over to array.array at the end without a copy, or in chunks to a sink while the walk
 * goes on (a streamed capture). */
#include "_walk.h"
#include "_views.h"

/* An output column grows in memory from PyMem_Realloc and is handed over to an array.array at
 * the end without a copy (array.array frees its buffer with PyMem_Free), so the snapshot's
 * columns are never held twice.  The hand-over writes array.array's private fields; module
 * initialisation checks that their layout is the expected one, else the data is copied. */
typedef struct {
    PyObject_VAR_HEAD
    char *ob_item;
    Py_ssize_t allocated;
    const void *ob_descr;
    PyObject *weakreflist;
    Py_ssize_t ob_exports;
} ArrayMirror;

WALK_INTERNAL int array_handover_ok = 0;


WALK_INTERNAL int col_init(Col *c, PyObject *array_type, const char *code, size_t item) {
    c->n = c->cap = 0;
    c->data = NULL;
    c->item = item;
    c->arr = PyObject_CallFunction(array_type, "s", code);
    return c->arr == NULL ? -1 : 0;
}

/* Big columns start at a size malloc serves with mmap (32 MiB is glibc's highest threshold):
 * their pages are only resident once written, and growing them is a remap, not a copy that
 * would briefly hold the column twice. */
#define COL_MMAP_BYTES ((size_t)33 << 20)

WALK_INTERNAL void col_reserve_hint(Col *c, size_t elements) {
    c->cap = 0;
    if (elements * c->item >= ((size_t)4 << 20)) {
        size_t bytes = elements * c->item;
        if (bytes < COL_MMAP_BYTES) {
            bytes = COL_MMAP_BYTES;
        }
        c->data = PyMem_Malloc(bytes);
        if (c->data != NULL) {
            c->cap = bytes / c->item;
        }
    }
}

WALK_INTERNAL int col_grow(Col *c) {
    size_t cap = c->cap ? c->cap + c->cap / 2 : 65536;
    char *data = PyMem_Realloc(c->data, cap * c->item);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    c->data = data;
    c->cap = cap;
    return 0;
}

/* Give the data to the array.array (``c->arr`` is then the finished column). */
WALK_INTERNAL int col_finish(Col *c) {
    if (array_handover_ok && Py_SIZE(c->arr) == 0 && ((ArrayMirror *)c->arr)->ob_exports == 0) {
        ArrayMirror *a = (ArrayMirror *)c->arr;
        PyMem_Free(a->ob_item);
        a->ob_item = c->data;
        a->allocated = (Py_ssize_t)c->cap;
        Py_SET_SIZE(c->arr, (Py_ssize_t)c->n);
        c->data = NULL;
        c->n = c->cap = 0;
        return 0;
    }
    if (c->n) {
        PyObject *view = PyMemoryView_FromMemory(c->data, (Py_ssize_t)(c->n * c->item),
                                                 PyBUF_READ);
        if (view == NULL) {
            return -1;
        }
        PyObject *r = PyObject_CallMethod(c->arr, "frombytes", "O", view);
        Py_DECREF(view);
        if (r == NULL) {
            return -1;
        }
        Py_DECREF(r);
    }
    PyMem_Free(c->data);
    c->data = NULL;
    c->n = c->cap = 0;
    return 0;
}

WALK_INTERNAL void col_free(Col *c) {
    Py_CLEAR(c->arr);
    PyMem_Free(c->data);
    c->data = NULL;
}


/* Check the array.array layout the hand-over relies on, on a probe array. */
WALK_INTERNAL void check_array_layout(PyObject *array_type) {
    if (!PyType_Check(array_type)
        || ((PyTypeObject *)array_type)->tp_basicsize != (Py_ssize_t)sizeof(ArrayMirror)) {
        return;
    }
    PyObject *probe = PyObject_CallFunction(array_type, "sy#", "B", "\x01\x02\x03", (Py_ssize_t)3);
    if (probe == NULL) {
        PyErr_Clear();
        return;
    }
    ArrayMirror *a = (ArrayMirror *)probe;
    array_handover_ok = Py_SIZE(probe) == 3 && a->allocated >= 3 && a->ob_item != NULL
                        && memcmp(a->ob_item, "\x01\x02\x03", 3) == 0 && a->ob_exports == 0
                        && a->weakreflist == NULL;
    Py_DECREF(probe);
}

/* Hand ``bytes`` at ``data`` to the sink as one segment of column ``which`` (the buffer is
 * reused for the next chunk: the view dies with the call). */
static int sink_segment(Walk *w, int which, const void *data, size_t bytes) {
    if (bytes == 0) {
        return 0;
    }
    return call_with_views(w->sink, PyTuple_GET_ITEM(w->sink_names, which), data, bytes, NULL, 0);
}

/* Hand over nodes [flushed_nodes, upto) (all complete) and every buffered reference, then
 * empty the buffers.  repr_offsets keeps its last entry: the start of the next node. */
WALK_INTERNAL int flush_chunk(Walk *w, size_t upto) {
    size_t n = upto - w->flushed_nodes;
    struct {
        int which;
        const void *data;
        size_t bytes;
    } parts[] = {
        {SINK_ADDR, w->addr.data + w->flushed_nodes * 8, n * 8},
        {SINK_TYPE, w->type_id.data, n * 4},
        {SINK_SIZE, w->size.data, n * 8},
        {SINK_LENGTH, w->length.data, n * 8},
        {SINK_FLAGS, w->flags.data, n},
        {SINK_EDGE_COUNT, w->edge_count.data, n * 4},
        {SINK_REPR_OFFSETS, w->repr_offsets.data, n * 8},
        {SINK_REPR_BLOB, w->repr_blob.data, w->repr_blob.len},
        {SINK_EDGE_TARGET, w->edge_target.data, w->edge_target.n * 8},
        {SINK_EDGE_KIND, w->edge_kind.data, w->edge_kind.n},
        {SINK_EDGE_PAYLOAD, w->edge_payload.data, w->edge_payload.n * 4},
    };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        if (sink_segment(w, parts[i].which, parts[i].data, parts[i].bytes) < 0) {
            return -1;
        }
    }
    /* The strings the references above name go out with them (and may be forgotten). */
    if (w->string_sink != NULL && strtab_drain(w->strings, w->string_sink) < 0) {
        return -1;
    }
    /* Keys met again are rendered again: the cache must not grow with the heap either. */
    if (w->key_cache_limit && w->key_cache.used > w->key_cache_limit) {
        amap_free(&w->key_cache);
        if (amap_init(&w->key_cache) < 0) {
            return -1;
        }
    }
    VEC_AT(&w->repr_offsets, uint64_t, 0) = VEC_AT(&w->repr_offsets, uint64_t, n);
    w->repr_offsets.n = 1;
    w->type_id.n = w->size.n = w->length.n = w->flags.n = w->edge_count.n = 0;
    w->blob_base += w->repr_blob.len;
    w->repr_blob.len = 0;
    w->edge_target.n = w->edge_kind.n = w->edge_payload.n = 0;
    w->flushed_nodes = upto;
    return 0;
}

WALK_INTERNAL PyObject *build_result(Walk *w) {
    PyObject *result = PyDict_New();
    if (result == NULL) {
        return NULL;
    }
    struct {
        const char *name;
        Col *col;
    } cols[] = {
        {"addr", &w->addr},
        {"type_index", &w->type_id},
        {"size", &w->size},
        {"length", &w->length},
        {"flags", &w->flags},
        {"edge_count", &w->edge_count},
        {"repr_offsets", &w->repr_offsets},
        {"edge_target", &w->edge_target},
        {"edge_kind", &w->edge_kind},
        {"edge_payload", &w->edge_payload},
    };
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
        if (col_finish(cols[c].col) < 0
            || PyDict_SetItemString(result, cols[c].name, cols[c].col->arr) < 0) {
            goto fail;
        }
    }
    PyObject *blob = PyByteArray_FromStringAndSize(w->repr_blob.data,
                                                   (Py_ssize_t)w->repr_blob.len);
    if (blob == NULL) {
        goto fail;
    }
    vec_free(&w->repr_blob);
    int rc = PyDict_SetItemString(result, "repr_blob", blob);
    Py_DECREF(blob);
    PyObject *num = rc < 0 ? NULL : PyLong_FromSize_t(w->seen_bytes);
    rc = num ? PyDict_SetItemString(result, "seen_bytes", num) : -1;
    Py_XDECREF(num);
    if (rc < 0) {
        goto fail;
    }
    return result;
fail:
    Py_DECREF(result);
    return NULL;
}
