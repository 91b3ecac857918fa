/* What the files of the C walk share (heaptui.capture._walk: _walk.c and the files it is split
 * into): the walker's state, the per-type facts, the output columns, the functions one file
 * gives the others, and the static inline helpers of the hot path, so every file that calls
 * them still inlines them. */
#ifndef HEAPTUI_WALK_H
#define HEAPTUI_WALK_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_addrset.h"
#include "_internal.h"
#include "_strtab.h"
#include "_vec.h"

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

/* ------------------------------------------------------------------ edge kinds (heaptui/core/labels.py) */
enum {
    EDGE_OTHER = 0,
    EDGE_ATTR = 1,
    EDGE_KEY = 2,
    EDGE_INDEX = 3,
    EDGE_DICT_KEY = 4,
    EDGE_MEMBER = 5,
    EDGE_CLOSURE = 6,
    EDGE_LOCAL = 7,
    EDGE_CELL = 8,
};
#define NODE_GC_TRACKED 1
/* PyGC_Head (internal since 3.8): two words on every default (GIL) build of 3.10-3.13. */
#define GC_HEAD_SIZE (2 * sizeof(uintptr_t))

/* ------------------------------------------------------------------ output columns (_columns.c) */
typedef struct {
    PyObject *arr; /* an empty array.array of the column's typecode */
    char *data;
    size_t n;      /* elements */
    size_t cap;    /* elements */
    size_t item;   /* bytes per element */
} Col;

WALK_INTERNAL extern int array_handover_ok; /* columns are handed to array.array without a copy */

WALK_INTERNAL int col_init(Col *c, PyObject *array_type, const char *code, size_t item);
WALK_INTERNAL void col_reserve_hint(Col *c, size_t elements);
WALK_INTERNAL int col_grow(Col *c);
WALK_INTERNAL int col_finish(Col *c);
WALK_INTERNAL void col_free(Col *c);
WALK_INTERNAL void check_array_layout(PyObject *array_type);

#define COL_PUSH(c, T, v)                                                                      \
    do {                                                                                       \
        if ((c)->n == (c)->cap && col_grow(c) < 0) {                                           \
            return -1;                                                                         \
        }                                                                                      \
        ((T *)(c)->data)[(c)->n++] = (v);                                                      \
    } while (0)

/* ------------------------------------------------------------------ per-type facts */
/* Walker categories (heaptui/capture/typetable.py CAT_*), as on_type returns them. */
enum {
    CAT_LEAF = 0,
    CAT_SEQ = 1,
    CAT_TUPLE = 2,
    CAT_DICT = 3,
    CAT_SET = 4,
    CAT_INSTANCE = 5,
    CAT_FUNCTION = 6,
    CAT_CELL = 7,
    CAT_GENERIC = 12,
};
enum { SIZE_BASIC = 0, SIZE_CFUNC = 1, SIZE_CALL = 2 };
enum {
    LAB_NONE = 0,  /* no references (the walker's CAT_LEAF) */
    LAB_LIST,      /* exact list: items by position */
    LAB_SEQ,       /* deque: referents by position */
    LAB_TUPLE,     /* exact tuple: by position, or closure cells by free variable name */
    LAB_DICT,      /* exact dict: values by key, plus the keys */
    LAB_SET,       /* exact set / frozenset: members */
    LAB_CELL,      /* cell: its contents */
    LAB_INSTANCE,  /* Python class instance: __class__, __dict__, inline values, slots */
    LAB_FUNCTION,  /* exact function: its attributes */
    LAB_GENERIC,   /* other C types: object members, a few safe getsets, __class__ */
    LAB_CALLBACK,  /* labelled by the walker's Python code */
};
enum {
    TEXT_NONE = 0,
    TEXT_STR,
    TEXT_BYTES,
    TEXT_INT,
    TEXT_REPR,     /* exact float, complex, bool, None, Ellipsis, NotImplemented: C repr */
    TEXT_FUNCTION, /* saferepr.function_text */
    TEXT_CODE,     /* saferepr.code_text */
    TEXT_CALLBACK, /* the walker's text function */
};
enum { LEN_NONE = 0, LEN_STR, LEN_SIZE, LEN_DICT, LEN_SET };

typedef struct {
    PyTypeObject *type; /* borrowed; the nodes keep their types alive */
    uint32_t index;     /* position in the snapshot's type table */
    uint8_t size_kind;
    uint8_t label_kind;
    uint8_t text_kind;
    uint8_t len_kind;
    uint8_t gen_locals;        /* LAB_GENERIC: a generator, coroutine or async generator type */
    PyCFunction sizeof_func;   /* SIZE_CFUNC: a METH_NOARGS C __sizeof__ */
    PyObject *sizeof_descr;    /* SIZE_CALL: another C __sizeof__ (borrowed from the type) */
    PyObject *text_func;       /* TEXT_CALLBACK (borrowed: Walk.keep holds it) */
    PyObject *labeler;         /* LAB_CALLBACK (borrowed: Walk.keep holds it) */
    Py_ssize_t nmembers;       /* LAB_INSTANCE, LAB_GENERIC: object slots (member descriptors) */
    Py_ssize_t *member_offset; /* byte offsets inside the instance */
    int32_t *member_payload;   /* string-table index of each slot's name */
    uint8_t *member_none;      /* LAB_GENERIC: 1 if an empty slot reads as None (T_OBJECT) */
    Py_ssize_t ngetsets;       /* LAB_GENERIC: the getsets the walker reads (GENERIC_GETSETS) */
    PyGetSetDef **getsets;     /* ... their definitions (the type keeps them) */
    int32_t *getset_payload;   /* ... and names */
} TypeInfo;


/* The attributes the walker names on a function (naming.FUNCTION_ATTRS): their count. */
#define FUNC_ATTR_COUNT 11

/* ------------------------------------------------------------------ walker state */
typedef struct {
    Col addr;         /* uint64 */
    Col type_id;      /* uint32 */
    Col size;         /* uint64 */
    Col length;       /* int64 */
    Col flags;        /* uint8 */
    Col edge_count;   /* uint32 */
    Col repr_offsets; /* uint64, N + 1 */
    Vec repr_blob;    /* UTF-8 bytes */
    Col edge_target;  /* uint64 */
    Col edge_kind;    /* uint8 */
    Col edge_payload; /* int32 */
    size_t n_edges;
    Vec refs;         /* PyObject* scratch for one node's tp_traverse */
    Vec cands;        /* Cand scratch: one instance's named references */
    Vec closure_payloads; /* int32: free variable names of closures, runs indexed by closures */
    AddrBits seen;    /* every node (and every excluded address) */
    AddrSet exclude;  /* addresses that must not become nodes */
    AddrMap key_cache; /* dict key address -> payload of its text */
    AddrMap name_cache; /* attribute name address -> payload */
    AddrMap closures;  /* closure tuple address -> (start << 16 | count) in closure_payloads */
    size_t seen_bytes; /* size of the node bitmap, reported as meta */
    size_t n_first;    /* nodes[0:n_first] come from the input list (borrowed references) */
    size_t n_tracked;  /* nodes[0:n_tracked] get NODE_GC_TRACKED */
    PyObject *listed_tuples; /* set of the ids of tuples gc listed but the walk was not given */
    int32_t p_class, p_dict; /* payloads of "__class__" and "__dict__" */
    int32_t p_func[FUNC_ATTR_COUNT]; /* payloads of the function attribute names */
    /* type table */
    TypeInfo *types;
    TypeInfo *last_type; /* the type of the previous node, most often this one's */
    size_t ntypes, types_cap;
    size_t *type_slots; /* open addressing over types, value = index + 1 */
    size_t type_mask;
    PyObject *keep;         /* list holding the callables on_type returned */
    PyObject *on_type;      /* on_type(type) -> (index, category, text, labeler) */
    PyObject *key_text;     /* key_text(key) -> str, for keys other than str and small int */
    StrTab *strings;        /* the snapshot's string table (shared with the walker's labellers) */
    /* streaming (optional): complete chunks of the node and reference columns are handed to
     * sink(name, memoryview) during the walk and their buffers reused, so the snapshot is
     * never held whole in this process; only the address column (the work list) stays. */
    PyObject *sink;         /* NULL: keep everything and return it */
    PyObject *sink_names;   /* tuple of the column names, in SINK_* order */
    size_t chunk_nodes;     /* hand over once this many nodes are complete... */
    size_t chunk_edges;     /* ... or this many references are buffered */
    size_t flushed_nodes;   /* nodes [0, flushed_nodes) were handed over (and n_edges minus
                             * the buffered references) */
    uint64_t blob_base;     /* repr bytes handed over so far (repr_offsets stay absolute) */
    PyObject *string_sink;  /* string_sink(blob, offsets): the new strings (strtab_drain) */
    size_t key_cache_limit; /* at a hand-over, forget the rendered keys past this many (0: never) */
} Walk;

/* Columns in the order they are handed to the sink (sink_names has these names). */
enum {
    SINK_ADDR, SINK_TYPE, SINK_SIZE, SINK_LENGTH, SINK_FLAGS, SINK_EDGE_COUNT,
    SINK_REPR_OFFSETS, SINK_REPR_BLOB, SINK_EDGE_TARGET, SINK_EDGE_KIND, SINK_EDGE_PAYLOAD,
    SINK_COLUMNS
};

/* A named candidate for an instance's referents (matched by identity, _edges.c). */
typedef struct {
    PyObject *obj;
    int32_t payload;
    uint8_t kind;
    uint8_t used;
} Cand;

#define MAX_REPR 80            /* saferepr's limit for a node's text */
#define MAX_KEY 60             /* ... and for a dict key's */
#define GENERIC_GETSETS_MAX 8  /* naming.GENERIC_GETSETS has 6 names */

/* ------------------------------------------------------------------ process-wide state */
/* Set once by init_globals (_walk.c); defined in the file that reads them. */
WALK_INTERNAL extern PyObject *object_sizeof_descr;   /* object.__sizeof__ */
WALK_INTERNAL extern traverseproc subtype_traverse_ptr; /* tp_traverse of every Python class */
WALK_INTERNAL extern PyObject *sizeof_name;           /* interned "__sizeof__" */
WALK_INTERNAL extern PyObject *ellipsis_char;         /* "\u2026", what saferepr cuts texts with */
WALK_INTERNAL extern PyObject *question_mark;         /* "?" */
WALK_INTERNAL extern PyTypeObject *deque_type;        /* collections.deque */
WALK_INTERNAL extern size_t static_type_presize;      /* sys.getsizeof's extra for a static type */

/* ------------------------------------------------------------------ between the files */
/* _columns.c: streaming and the finished columns */
WALK_INTERNAL int flush_chunk(Walk *w, size_t upto);
WALK_INTERNAL PyObject *build_result(Walk *w);

/* _typeinfo.c: the type table */
WALK_INTERNAL TypeInfo *type_info_add(Walk *w, PyTypeObject *tp, size_t slot);
WALK_INTERNAL void typeinfo_free(TypeInfo *ti);

/* _texts.c: safe short texts */
WALK_INTERNAL int append_node_text(Walk *w, PyObject *o, TypeInfo *ti);
WALK_INTERNAL PyObject *sliced_repr_text(PyObject *o, Py_ssize_t limit);
WALK_INTERNAL Py_ssize_t fast_int_text(PyObject *o, char *out);
WALK_INTERNAL Py_ssize_t fast_str_text(PyObject *s, Py_ssize_t limit, char *out);
WALK_INTERNAL Py_ssize_t fast_float_text(double x, char *out);

/* _edges.c: references and their labels */
WALK_INTERNAL int walk_visit(PyObject *o, void *arg);
WALK_INTERNAL int edges_by_kind(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti);
WALK_INTERNAL int register_closures(Walk *w, PyObject *objects);
WALK_INTERNAL int emit_matched(Walk *w, PyObject *o, PyTypeObject *tp);
WALK_INTERNAL void instance_storage(PyObject *o, PyTypeObject *tp, PyObject **dict,
                                    PyObject ***values, Py_ssize_t *nvalues);

/* _foreign.c: C extension types, the walker's Python labellers, the program's errors */
WALK_INTERNAL int edges_generic(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti);
WALK_INTERNAL int edges_callback(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti);
WALK_INTERNAL int foreign_error(void);

/* ------------------------------------------------------------------ hot helpers (inline) */
/* Return the string-table index of ``text`` (an exact str), adding it once; -1 on error. */
static inline int32_t string_payload(Walk *w, PyObject *text) {
    return strtab_intern_str(w->strings, text);
}

/* The facts of ``tp``: the previous node's type most often, else from the type table, else
 * asked of the walker once (type_info_add); NULL on error. */
static inline TypeInfo *type_info(Walk *w, PyTypeObject *tp) {
    if (w->last_type != NULL && w->last_type->type == tp) {
        return w->last_type;
    }
    size_t i = aset_hash((uintptr_t)tp) & w->type_mask;
    for (;;) {
        size_t v = w->type_slots[i];
        if (v == 0) {
            break;
        }
        if (w->types[v - 1].type == tp) {
            w->last_type = &w->types[v - 1];
            return w->last_type;
        }
        i = (i + 1) & w->type_mask;
    }
    return type_info_add(w, tp, i);
}

/* ------------------------------------------------------------------ shallow size */
/* What sys.getsizeof adds after __sizeof__: the GC header and (3.11+) the pre-header. */
static inline size_t preheader_size(PyObject *o, PyTypeObject *tp) {
#if PY_VERSION_HEX >= 0x030C0000
    if (tp == &PyType_Type && !PyType_HasFeature((PyTypeObject *)o, Py_TPFLAGS_HEAPTYPE)) {
        return static_type_presize; /* 0 from some 3.12 patch release on, measured at import */
    }
    size_t pre = PyType_IS_GC(tp) ? GC_HEAD_SIZE : 0;
    if (PyType_HasFeature(tp, Py_TPFLAGS_PREHEADER)) {
        pre += 2 * sizeof(PyObject *);
    }
    return pre;
#elif PY_VERSION_HEX >= 0x030B0000
    (void)o;
    size_t pre = PyType_IS_GC(tp) ? GC_HEAD_SIZE : 0;
    if (PyType_HasFeature(tp, Py_TPFLAGS_MANAGED_DICT)) {
        pre += 2 * sizeof(PyObject *);
    }
    return pre;
#else
    (void)tp;
    return PyObject_IS_GC(o) ? GC_HEAD_SIZE : 0;
#endif
}

static inline uint64_t shallow_size(PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
    Py_ssize_t size;
    if (ti->size_kind != SIZE_BASIC) {
        PyObject *res = ti->size_kind == SIZE_CFUNC ? ti->sizeof_func(o, NULL)
                                                     : PyObject_CallOneArg(ti->sizeof_descr, o);
        if (res == NULL) {
            PyErr_Clear();
            goto basic;
        }
        size = PyLong_AsSsize_t(res);
        Py_DECREF(res);
        if (size < 0) {
            PyErr_Clear();
            goto basic;
        }
        return (uint64_t)size + preheader_size(o, tp);
    }
basic:
    size = tp->tp_basicsize;
    if (tp->tp_itemsize > 0) {
        Py_ssize_t n = Py_SIZE(o);
        size += (n < 0 ? -n : n) * tp->tp_itemsize;
    }
    return (uint64_t)size + preheader_size(o, tp);
}

static inline int64_t length_of(PyObject *o, TypeInfo *ti) {
    switch (ti->len_kind) {
    case LEN_STR:
        return PyUnicode_GET_LENGTH(o);
    case LEN_SIZE:
        return Py_SIZE(o);
    case LEN_DICT:
        return PyDict_GET_SIZE(o);
    case LEN_SET:
        return PySet_GET_SIZE(o);
    default:
        return -1;
    }
}

/* The address column doubles as the work list: node i is the object at address addr[i]. */
#define NODE_AT(w, i) (((PyObject **)(w)->addr.data)[i])

static inline int push_borrowed(Walk *w, PyObject *o) {
    COL_PUSH(&w->addr, uint64_t, (uint64_t)(uintptr_t)o);
    return 0;
}

/* A node found on the way: kept alive by a strong reference until the walk ends. */
static inline int push_node(Walk *w, PyObject *o) {
    if (push_borrowed(w, o) < 0) {
        return -1;
    }
    Py_INCREF(o);
    return 0;
}

/* Record one reference; a referent that is not a node yet becomes one. */
static inline int emit(Walk *w, PyObject *target, uint8_t kind, int32_t payload) {
    COL_PUSH(&w->edge_target, uint64_t, (uint64_t)(uintptr_t)target);
    COL_PUSH(&w->edge_kind, uint8_t, kind);
    COL_PUSH(&w->edge_payload, int32_t, payload);
    w->n_edges++;
    int r = abits_add(&w->seen, (uintptr_t)target);
    if (r < 0) {
        return -1;
    }
    return r ? push_node(w, target) : 0;
}

static inline int traverse_into_refs(Walk *w, PyObject *o, PyTypeObject *tp) {
    w->refs.len = 0;
    if (!PyObject_IS_GC(o) || tp->tp_traverse == NULL) {
        return 0;
    }
    return tp->tp_traverse(o, walk_visit, &w->refs);
}

static inline int add_cand(Walk *w, PyObject *obj, uint8_t kind, int32_t payload) {
    if (obj == NULL) {
        return 0;
    }
    if (vec_reserve(&w->cands, 1) < 0) {
        return -1;
    }
    Cand *c = &VEC_AT(&w->cands, Cand, w->cands.len++);
    c->obj = obj;
    c->kind = kind;
    c->payload = payload;
    c->used = 0;
    return 0;
}

/* Append the node's text to repr_blob and its end to repr_offsets: short str, 64-bit int and
 * most floats are written here, the rest by append_node_text (_texts.c). */
static inline int append_text(Walk *w, PyObject *o, TypeInfo *ti) {
    Py_ssize_t fast = -1;
    int is_float = ti->text_kind == TEXT_REPR && Py_IS_TYPE(o, &PyFloat_Type);
    if (ti->text_kind == TEXT_STR || ti->text_kind == TEXT_INT || is_float) {
        if (vec_reserve(&w->repr_blob, MAX_REPR + 8) < 0) {
            return -1;
        }
        char *out = w->repr_blob.data + w->repr_blob.len;
        if (ti->text_kind == TEXT_STR) {
            fast = fast_str_text(o, MAX_REPR, out);
        }
        else if (is_float) {
            fast = fast_float_text(PyFloat_AS_DOUBLE(o), out);
        }
        else {
            fast = fast_int_text(o, out);
        }
        if (fast >= 0) {
            w->repr_blob.len += (size_t)fast;
        }
    }
    if (fast < 0 && ti->text_kind != TEXT_NONE && append_node_text(w, o, ti) < 0) {
        return -1;
    }
    COL_PUSH(&w->repr_offsets, uint64_t, w->blob_base + (uint64_t)w->repr_blob.len);
    return 0;
}

/* Emit the node's references with their labels: leaves and lists here, the other kinds by
 * edges_by_kind (_edges.c). */
static inline int edges_of(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
    switch (ti->label_kind) {
    case LAB_NONE:
        return 0;
    case LAB_LIST: {
        /* The list cannot change while it is read: no Python code runs here. */
        Py_ssize_t n = PyList_GET_SIZE(o);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = PyList_GET_ITEM(o, i);
            if (item != NULL && emit(w, item, EDGE_INDEX, (int32_t)i) < 0) {
                return -1;
            }
        }
        return 0;
    }
    default:
        return edges_by_kind(w, o, tp, ti);
    }
}

#endif
