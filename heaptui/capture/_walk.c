/* heaptui.capture._walk: the compiled hot loop of a heap capture.
 *
 * walk(objects, exclude, extra_roots, on_type, strings, key_text) visits every object of
 * ``objects`` (the list gc.get_objects() returned) and everything reachable from them and
 * from ``extra_roots`` that is not already a node, with tp_traverse, and records each
 * object's type, shallow size, length, safe text and labelled references into growable C
 * arrays, returned as array.array columns.  It produces what the pure-Python walker
 * (heaptui/capture/walker.py) produces for the same heap.
 *
 * Safety: the GIL is held throughout and no user code runs: sizes come from C __sizeof__
 * implementations only, texts of scalars are computed here and the rest by the walker's own
 * functions (``on_type`` says which), attribute names are read from the class's shared keys
 * and member descriptors, never through __getattribute__.  Objects discovered on the way are
 * held by a strong reference until the walk ends; the work list is an explicit array (no
 * recursion), so a million-long chain does not grow the C stack.
 *
 * Rare kinds of objects (classes, modules, frames, methods, subclasses of containers, C types
 * whose members the walker's GenericInfo cannot describe) are labelled by the callables
 * ``on_type`` returns for their type: labeler(obj, referents) -> (targets, kinds, payloads),
 * the walker's own labelling code.  Label strings go to ``strings``, a StringTable
 * (_strtab.c) shared with that code.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#if PY_VERSION_HEX < 0x030B0000
#include <frameobject.h> /* 3.10: PyFrameObject fields (a traceback frame's globals) */
#endif
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "_frames.h"
#include "_strtab.h"
#include "_vec.h"
#include "_views.h"

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


/* ------------------------------------------------------------------ output columns */
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

static int array_handover_ok = 0;

typedef struct {
    PyObject *arr; /* an empty array.array of the column's typecode */
    char *data;
    size_t n;      /* elements */
    size_t cap;    /* elements */
    size_t item;   /* bytes per element */
} Col;

static int col_init(Col *c, PyObject *array_type, const char *code, size_t item) {
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

static void col_reserve_hint(Col *c, size_t elements) {
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

static int col_grow(Col *c) {
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
static int col_finish(Col *c) {
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

static void col_free(Col *c) {
    Py_CLEAR(c->arr);
    PyMem_Free(c->data);
    c->data = NULL;
}

#define COL_PUSH(c, T, v)                                                                      \
    do {                                                                                       \
        if ((c)->n == (c)->cap && col_grow(c) < 0) {                                           \
            return -1;                                                                         \
        }                                                                                      \
        ((T *)(c)->data)[(c)->n++] = (v);                                                      \
    } while (0)

/* Check the array.array layout the hand-over relies on, on a probe array. */
static void check_array_layout(PyObject *array_type) {
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

/* ------------------------------------------------------------------ address set */
typedef struct {
    uintptr_t *slots;
    size_t mask;
    size_t used;
} AddrSet;

static int aset_init(AddrSet *s, size_t hint) {
    size_t cap = 1024;
    while (cap * 7 < hint * 10) {
        cap <<= 1;
    }
    s->slots = PyMem_RawCalloc(cap, sizeof(uintptr_t));
    if (s->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    s->mask = cap - 1;
    s->used = 0;
    return 0;
}

static void aset_free(AddrSet *s) {
    PyMem_RawFree(s->slots);
    s->slots = NULL;
}

/* A full 64-bit mix (murmur3's finaliser): addresses share their low and high bits, and
 * linear probing needs every bit of the slot index to vary. */
static inline size_t aset_hash(uintptr_t a) {
    uint64_t h = (uint64_t)a;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return (size_t)h;
}

static inline int aset_contains(const AddrSet *s, uintptr_t a) {
    size_t i = aset_hash(a) & s->mask;
    for (;;) {
        uintptr_t v = s->slots[i];
        if (v == a) {
            return 1;
        }
        if (v == 0) {
            return 0;
        }
        i = (i + 1) & s->mask;
    }
}

static int aset_grow(AddrSet *s) {
    size_t old_cap = s->mask + 1;
    uintptr_t *old = s->slots;
    size_t cap = old_cap * 2;
    uintptr_t *slots = PyMem_RawCalloc(cap, sizeof(uintptr_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t j = 0; j < old_cap; j++) {
        uintptr_t a = old[j];
        if (a) {
            size_t i = aset_hash(a) & (cap - 1);
            while (slots[i]) {
                i = (i + 1) & (cap - 1);
            }
            slots[i] = a;
        }
    }
    PyMem_RawFree(old);
    s->slots = slots;
    s->mask = cap - 1;
    return 0;
}

/* Add ``a``; return 1 if it was new, 0 if present, -1 on memory error. */
static inline int aset_add(AddrSet *s, uintptr_t a) {
    size_t i = aset_hash(a) & s->mask;
    for (;;) {
        uintptr_t v = s->slots[i];
        if (v == a) {
            return 0;
        }
        if (v == 0) {
            break;
        }
        i = (i + 1) & s->mask;
    }
    s->slots[i] = a;
    s->used++;
    if (s->used * 10 > (s->mask + 1) * 7 && aset_grow(s) < 0) {
        return -1;
    }
    return 1;
}

/* ------------------------------------------------------------------ address bitmap */
/* The set of nodes, as one bit per 8-byte slot of address space, in 16 MiB chunks allocated on
 * first use: a heap's objects sit in few chunks, so this is a few MB where a hash set of
 * millions of addresses would be tens of MB and miss the cache on every probe. */
#define CHUNK_SHIFT 24
#define SLOT_SHIFT 3
#define CHUNK_WORDS ((size_t)1 << (CHUNK_SHIFT - SLOT_SHIFT - 6))

typedef struct {
    uintptr_t chunk; /* address >> CHUNK_SHIFT, plus one (0 marks a free entry) */
    uint64_t *bits;
} ChunkEntry;

typedef struct {
    ChunkEntry *table;
    size_t mask;
    size_t used;
    uintptr_t last_chunk;
    uint64_t *last_bits;
} AddrBits;

static int abits_init(AddrBits *b) {
    b->table = PyMem_RawCalloc(64, sizeof(ChunkEntry));
    b->mask = 63;
    b->used = 0;
    b->last_chunk = 0;
    b->last_bits = NULL;
    if (b->table == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void abits_free(AddrBits *b) {
    if (b->table != NULL) {
        for (size_t i = 0; i <= b->mask; i++) {
            PyMem_RawFree(b->table[i].bits);
        }
    }
    PyMem_RawFree(b->table);
    b->table = NULL;
    b->last_bits = NULL;
    b->last_chunk = 0;
}

static size_t abits_bytes(const AddrBits *b) {
    return b->used * CHUNK_WORDS * sizeof(uint64_t) + (b->mask + 1) * sizeof(ChunkEntry);
}

/* The bitmap of ``chunk`` (address >> CHUNK_SHIFT, plus one), created if ``create``. */
static uint64_t *abits_chunk(AddrBits *b, uintptr_t chunk, int create) {
    size_t i = (size_t)(chunk * 0x9E3779B97F4A7C15ULL >> 40) & b->mask;
    for (;;) {
        if (b->table[i].chunk == chunk) {
            return b->table[i].bits;
        }
        if (b->table[i].chunk == 0) {
            break;
        }
        i = (i + 1) & b->mask;
    }
    if (!create) {
        return NULL;
    }
    if ((b->used + 1) * 2 > b->mask + 1) {
        size_t cap = (b->mask + 1) * 2;
        ChunkEntry *table = PyMem_RawCalloc(cap, sizeof(ChunkEntry));
        if (table == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        for (size_t j = 0; j <= b->mask; j++) {
            if (b->table[j].chunk) {
                size_t k = (size_t)(b->table[j].chunk * 0x9E3779B97F4A7C15ULL >> 40) & (cap - 1);
                while (table[k].chunk) {
                    k = (k + 1) & (cap - 1);
                }
                table[k] = b->table[j];
            }
        }
        PyMem_RawFree(b->table);
        b->table = table;
        b->mask = cap - 1;
        return abits_chunk(b, chunk, create);
    }
    uint64_t *bits = PyMem_RawCalloc(CHUNK_WORDS, sizeof(uint64_t));
    if (bits == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    b->table[i].chunk = chunk;
    b->table[i].bits = bits;
    b->used++;
    return bits;
}

/* Add ``a``; return 1 if it was new, 0 if present, -1 on memory error. */
static inline int abits_add(AddrBits *b, uintptr_t a) {
    uintptr_t chunk = (a >> CHUNK_SHIFT) + 1;
    uint64_t *bits = b->last_bits;
    if (chunk != b->last_chunk) {
        bits = abits_chunk(b, chunk, 1);
        if (bits == NULL) {
            return -1;
        }
        b->last_chunk = chunk;
        b->last_bits = bits;
    }
    size_t slot = (a & (((uintptr_t)1 << CHUNK_SHIFT) - 1)) >> SLOT_SHIFT;
    uint64_t bit = (uint64_t)1 << (slot & 63);
    uint64_t *word = &bits[slot >> 6];
    if (*word & bit) {
        return 0;
    }
    *word |= bit;
    return 1;
}

static inline int abits_contains(AddrBits *b, uintptr_t a) {
    uintptr_t chunk = (a >> CHUNK_SHIFT) + 1;
    uint64_t *bits = chunk == b->last_chunk ? b->last_bits : abits_chunk(b, chunk, 0);
    if (bits == NULL) {
        return 0;
    }
    size_t slot = (a & (((uintptr_t)1 << CHUNK_SHIFT) - 1)) >> SLOT_SHIFT;
    return (bits[slot >> 6] >> (slot & 63)) & 1;
}

/* ------------------------------------------------------------------ address -> value map */
typedef struct {
    uintptr_t *keys;
    int64_t *values;
    size_t mask;
    size_t used;
} AddrMap;

static int amap_init(AddrMap *m) {
    m->keys = PyMem_RawCalloc(1024, sizeof(uintptr_t));
    m->values = PyMem_RawMalloc(1024 * sizeof(int64_t));
    m->mask = 1023;
    m->used = 0;
    if (m->keys == NULL || m->values == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void amap_free(AddrMap *m) {
    PyMem_RawFree(m->keys);
    PyMem_RawFree(m->values);
    m->keys = NULL;
    m->values = NULL;
}

/* The value stored for ``a``, or -1 if none. */
static inline int64_t amap_get(const AddrMap *m, uintptr_t a) {
    size_t i = aset_hash(a) & m->mask;
    for (;;) {
        uintptr_t k = m->keys[i];
        if (k == a) {
            return m->values[i];
        }
        if (k == 0) {
            return -1;
        }
        i = (i + 1) & m->mask;
    }
}

static int amap_put(AddrMap *m, uintptr_t a, int64_t value) {
    size_t i = aset_hash(a) & m->mask;
    while (m->keys[i] != 0 && m->keys[i] != a) {
        i = (i + 1) & m->mask;
    }
    if (m->keys[i] == 0) {
        m->used++;
    }
    m->keys[i] = a;
    m->values[i] = value;
    if (m->used * 2 > m->mask + 1) {
        size_t cap = (m->mask + 1) * 2;
        uintptr_t *keys = PyMem_RawCalloc(cap, sizeof(uintptr_t));
        int64_t *values = PyMem_RawMalloc(cap * sizeof(int64_t));
        if (keys == NULL || values == NULL) {
            PyMem_RawFree(keys);
            PyMem_RawFree(values);
            PyErr_NoMemory();
            return -1;
        }
        for (size_t j = 0; j <= m->mask; j++) {
            if (m->keys[j]) {
                size_t k = aset_hash(m->keys[j]) & (cap - 1);
                while (keys[k]) {
                    k = (k + 1) & (cap - 1);
                }
                keys[k] = m->keys[j];
                values[k] = m->values[j];
            }
        }
        PyMem_RawFree(m->keys);
        PyMem_RawFree(m->values);
        m->keys = keys;
        m->values = values;
        m->mask = cap - 1;
    }
    return 0;
}

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

/* The attributes the walker names on a function (naming.FUNCTION_ATTRS), in its order. */
#define FUNC_ATTR_COUNT 11
static const char *const func_attr_names[FUNC_ATTR_COUNT] = {
    "__code__", "__globals__", "__builtins__", "__defaults__", "__kwdefaults__", "__closure__",
    "__name__", "__qualname__", "__module__", "__doc__", "__type_params__",
};

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

static int foreign_error(void);

static int walk_visit(PyObject *o, void *arg) {
    Vec *refs = (Vec *)arg;
    if (o == NULL) {
        return 0;
    }
    if (refs->len == refs->cap && vec_reserve(refs, 1) < 0) {
        return -1;
    }
    VEC_AT(refs, PyObject *, refs->len++) = o;
    return 0;
}

/* Return the string-table index of ``text`` (an exact str), adding it once; -1 on error. */
static int32_t string_payload(Walk *w, PyObject *text) {
    return strtab_intern_str(w->strings, text);
}

/* ------------------------------------------------------------------ type facts */
static PyObject *object_sizeof_descr = NULL; /* object.__sizeof__ */
static traverseproc subtype_traverse_ptr = NULL; /* tp_traverse of every Python class */
static PyObject *sizeof_name = NULL;         /* interned "__sizeof__" */
static PyObject *ellipsis_char = NULL;       /* "\u2026", what saferepr cuts texts with */
static PyObject *question_mark = NULL;       /* "?" */
static PyTypeObject *deque_type = NULL;      /* collections.deque */
static size_t static_type_presize = 0;       /* what sys.getsizeof adds for a static type */
/* The namespace dict of ``tp`` (a new reference), or NULL without an error set. */
static PyObject *namespace_of(PyTypeObject *tp) {
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *d = PyType_GetDict(tp);
    if (d == NULL) {
        PyErr_Clear();
    }
    return d;
#else
    Py_XINCREF(tp->tp_dict);
    return tp->tp_dict;
#endif
}

/* The value of ``name`` in ``tp``'s own namespace (borrowed: the namespace keeps it), or NULL.
 * Only exact-str keys are compared, by iteration: a dict look-up would call the __eq__ of a
 * user's non-str key whose hash equals the name's. */
static PyObject *own_attr(PyTypeObject *tp, PyObject *name) {
    PyObject *ns = namespace_of(tp);
    if (ns == NULL) {
        return NULL;
    }
    PyObject *found = NULL;
    if (PyDict_Check(ns)) {
        Py_ssize_t pos = 0;
        PyObject *k, *v;
        while (PyDict_Next(ns, &pos, &k, &v)) {
            if (PyUnicode_CheckExact(k) && (k == name || PyUnicode_Compare(k, name) == 0)) {
                found = v;
                break;
            }
        }
    }
    PyErr_Clear();
    Py_DECREF(ns);
    return found;
}

/* A C method descriptor made for instances of ``tp`` (its owner is in tp's MRO).  dict's
 * __sizeof__ stored in another class (``class X: __sizeof__ = dict.__sizeof__``) is not: its
 * C function would read an X as a dict. */
static int own_c_method(PyTypeObject *tp, PyObject *v) {
    if (!Py_IS_TYPE(v, &PyMethodDescr_Type) && !Py_IS_TYPE(v, &PyWrapperDescr_Type)) {
        return 0;
    }
    PyTypeObject *owner = PyDescr_TYPE(v);
    return owner != NULL && PyType_IsSubtype(tp, owner);
}

/* sys.getsizeof calls the first __sizeof__ of the MRO; when that one is Python code or
 * another type's C method, use the first genuine C implementation further up instead (what
 * the pure-Python walker's typeinfo.sizeof_method does); none: basic size and items. */
static void choose_sizeof(TypeInfo *ti, PyTypeObject *tp) {
    ti->size_kind = SIZE_BASIC;
    if (!PyType_HasFeature(tp, Py_TPFLAGS_READY)) {
        return; /* nothing of a type that is not ready is read */
    }
    PyObject *impl = NULL;
    PyObject *mro = tp->tp_mro;
    Py_ssize_t n = (mro != NULL && PyTuple_Check(mro)) ? PyTuple_GET_SIZE(mro) : 0;
    for (Py_ssize_t i = 0; i < n && impl == NULL; i++) {
        PyObject *base = PyTuple_GET_ITEM(mro, i);
        if (!PyType_Check(base)) {
            continue;
        }
        PyObject *v = own_attr((PyTypeObject *)base, sizeof_name);
        if (v != NULL && own_c_method(tp, v)) {
            impl = v;
        }
    }
    if (impl == NULL || impl == object_sizeof_descr) {
        return;
    }
    if (Py_IS_TYPE(impl, &PyMethodDescr_Type)) {
        PyMethodDef *def = ((PyMethodDescrObject *)impl)->d_method;
        if ((def->ml_flags & ~(METH_COEXIST)) == METH_NOARGS) {
            ti->size_kind = SIZE_CFUNC;
            ti->sizeof_func = def->ml_meth;
            return;
        }
    }
    ti->size_kind = SIZE_CALL;
    ti->sizeof_descr = impl;
}

/* Object slots of an instance: the object member descriptors (T_OBJECT, T_OBJECT_EX) of every
 * class in its MRO but ``object``, as the walker's InstanceInfo collects them. */
static int collect_members(Walk *w, TypeInfo *ti, PyTypeObject *tp) {
    PyObject *mro = tp->tp_mro;
    Py_ssize_t n = (mro != NULL && PyTuple_Check(mro)) ? PyTuple_GET_SIZE(mro) : 0;
    Py_ssize_t count = 0;
    for (int pass = 0; pass < 2; pass++) {
        count = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
            if (!PyType_Check(base) || base == &PyBaseObject_Type || base->tp_members == NULL) {
                continue;
            }
            for (PyMemberDef *m = base->tp_members; m->name != NULL; m++) {
                if (m->type != T_OBJECT_EX && m->type != T_OBJECT) {
                    continue;
                }
#ifdef Py_RELATIVE_OFFSET
                if (m->flags & Py_RELATIVE_OFFSET) {
                    continue;
                }
#endif
                if (pass == 1) {
                    PyObject *name = PyUnicode_FromString(m->name);
                    if (name == NULL) {
                        return -1;
                    }
                    int32_t p = string_payload(w, name);
                    Py_DECREF(name);
                    if (p < 0) {
                        return -1;
                    }
                    ti->member_offset[count] = m->offset;
                    ti->member_payload[count] = p;
                }
                count++;
            }
        }
        if (pass == 0) {
            if (count == 0) {
                return 0;
            }
            ti->member_offset = PyMem_RawMalloc((size_t)count * sizeof(Py_ssize_t));
            ti->member_payload = PyMem_RawMalloc((size_t)count * sizeof(int32_t));
            if (ti->member_offset == NULL || ti->member_payload == NULL) {
                PyErr_NoMemory();
                return -1;
            }
        }
    }
    ti->nmembers = count;
    return 0;
}

static int keep(Walk *w, PyObject *o) {
    return o == Py_None ? 0 : PyList_Append(w->keep, o);
}

#define GENERIC_GETSETS_MAX 8 /* naming.GENERIC_GETSETS has 6 names */

/* LAB_GENERIC from the walker's GenericInfo of the type, given as ``generic``:
 * (member descriptors, their payloads, getset descriptors, their payloads).  Members that
 * hold no object are left out: their value cannot be a referent.  Returns 1 if the type can
 * be labelled here, 0 if it is left to the walker's labeller, -1 on error. */
static int generic_fill(TypeInfo *ti, PyObject *generic) {
    if (!PyTuple_Check(generic) || PyTuple_GET_SIZE(generic) != 4) {
        PyErr_SetString(PyExc_TypeError, "generic must be (members, payloads, getsets, payloads)");
        return -1;
    }
    PyObject *lists[4];
    for (int k = 0; k < 4; k++) {
        lists[k] = PyTuple_GET_ITEM(generic, k);
        if (!PyList_Check(lists[k])) {
            PyErr_SetString(PyExc_TypeError, "generic must hold lists");
            return -1;
        }
    }
    Py_ssize_t nm = PyList_GET_SIZE(lists[0]), ng = PyList_GET_SIZE(lists[2]);
    if (PyList_GET_SIZE(lists[1]) != nm || PyList_GET_SIZE(lists[3]) != ng) {
        PyErr_SetString(PyExc_ValueError, "generic: descriptors and payloads differ in length");
        return -1;
    }
    if (ng > GENERIC_GETSETS_MAX) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < nm; i++) {
        PyObject *d = PyList_GET_ITEM(lists[0], i);
        if (!Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            return 0;
        }
#ifdef Py_RELATIVE_OFFSET
        if (((PyMemberDescrObject *)d)->d_member->flags & Py_RELATIVE_OFFSET) {
            return 0;
        }
#endif
    }
    for (Py_ssize_t i = 0; i < ng; i++) {
        if (!Py_IS_TYPE(PyList_GET_ITEM(lists[2], i), &PyGetSetDescr_Type)) {
            return 0;
        }
    }
    ti->member_offset = PyMem_RawMalloc((size_t)(nm ? nm : 1) * sizeof(Py_ssize_t));
    ti->member_payload = PyMem_RawMalloc((size_t)(nm ? nm : 1) * sizeof(int32_t));
    ti->getsets = PyMem_RawMalloc((size_t)(ng ? ng : 1) * sizeof(PyGetSetDef *));
    ti->getset_payload = PyMem_RawMalloc((size_t)(ng ? ng : 1) * sizeof(int32_t));
    ti->member_none = PyMem_RawMalloc((size_t)(nm ? nm : 1));
    if (ti->member_offset == NULL || ti->member_payload == NULL || ti->getsets == NULL
        || ti->getset_payload == NULL || ti->member_none == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < nm; i++) {
        PyMemberDef *def = ((PyMemberDescrObject *)PyList_GET_ITEM(lists[0], i))->d_member;
        long payload = PyLong_AsLong(PyList_GET_ITEM(lists[1], i));
        if (payload == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (def->type == T_OBJECT || def->type == T_OBJECT_EX) {
            ti->member_none[ti->nmembers] = def->type == T_OBJECT;
            ti->member_offset[ti->nmembers] = def->offset;
            ti->member_payload[ti->nmembers++] = (int32_t)payload;
        }
    }
    for (Py_ssize_t i = 0; i < ng; i++) {
        PyGetSetDef *def = ((PyGetSetDescrObject *)PyList_GET_ITEM(lists[2], i))->d_getset;
        long payload = PyLong_AsLong(PyList_GET_ITEM(lists[3], i));
        if (payload == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (def->get != NULL) {
            ti->getsets[ti->ngetsets] = def;
            ti->getset_payload[ti->ngetsets++] = (int32_t)payload;
        }
    }
    return 1;
}

/* Ask the walker how to treat ``tp`` (on_type also appends it to the snapshot's type table)
 * and decide what is done here and what is left to the walker's Python code. */
static int typeinfo_fill(Walk *w, TypeInfo *ti, PyTypeObject *tp) {
    memset(ti, 0, sizeof(*ti));
    ti->type = tp;
    choose_sizeof(ti, tp);
    PyObject *answer = PyObject_CallOneArg(w->on_type, (PyObject *)tp);
    if (answer == NULL) {
        return -1;
    }
    if (!PyTuple_Check(answer) || PyTuple_GET_SIZE(answer) != 5) {
        Py_DECREF(answer);
        PyErr_SetString(PyExc_TypeError,
                        "on_type must return (index, category, text, labeler, generic)");
        return -1;
    }
    long index = PyLong_AsLong(PyTuple_GET_ITEM(answer, 0));
    long cat = PyLong_AsLong(PyTuple_GET_ITEM(answer, 1));
    PyObject *text = PyTuple_GET_ITEM(answer, 2);
    PyObject *labeler = PyTuple_GET_ITEM(answer, 3);
    PyObject *generic = PyTuple_GET_ITEM(answer, 4);
    if (PyErr_Occurred() || keep(w, text) < 0 || keep(w, labeler) < 0 || keep(w, generic) < 0) {
        Py_DECREF(answer);
        return -1;
    }
    ti->index = (uint32_t)index;
    int rc_generic = 0;
    /* Texts: scalars here, the rest through the walker's function. */
    if (text != Py_None) {
        ti->text_func = text; /* also the fallback for ints beyond 64 bits */
        if (tp == &PyUnicode_Type) {
            ti->text_kind = TEXT_STR;
        }
        else if (tp == &PyBytes_Type) {
            ti->text_kind = TEXT_BYTES;
        }
        else if (tp == &PyLong_Type) {
            ti->text_kind = TEXT_INT;
        }
        else if (tp == &PyFloat_Type || tp == &PyComplex_Type || tp == &PyBool_Type
                 || tp == Py_TYPE(Py_None) || tp == Py_TYPE(Py_Ellipsis)
                 || tp == Py_TYPE(Py_NotImplemented)) {
            ti->text_kind = TEXT_REPR;
        }
        else if (tp == &PyFunction_Type) {
            ti->text_kind = TEXT_FUNCTION;
        }
        else if (tp == &PyCode_Type) {
            ti->text_kind = TEXT_CODE;
        }
        else {
            ti->text_kind = TEXT_CALLBACK;
        }
    }
    /* len() of the walker's _LEN_TYPES (exact types only). */
    if (tp == &PyUnicode_Type) {
        ti->len_kind = LEN_STR;
    }
    else if (tp == &PyList_Type || tp == &PyTuple_Type || tp == &PyBytes_Type
             || tp == &PyByteArray_Type || tp == deque_type) {
        ti->len_kind = LEN_SIZE;
    }
    else if (tp == &PyDict_Type) {
        ti->len_kind = LEN_DICT;
    }
    else if (tp == &PySet_Type || tp == &PyFrozenSet_Type) {
        ti->len_kind = LEN_SET;
    }
    /* References: plain Python instances here, whatever has a labeler in Python. */
    if (cat == CAT_INSTANCE && tp->tp_traverse == subtype_traverse_ptr) {
        ti->label_kind = LAB_INSTANCE;
        if (collect_members(w, ti, tp) < 0) {
            Py_DECREF(answer);
            return -1;
        }
    }
    else if (cat == CAT_FUNCTION && tp == &PyFunction_Type) {
        ti->label_kind = LAB_FUNCTION;
    }
    else if (cat == CAT_GENERIC && generic != Py_None
             && (rc_generic = generic_fill(ti, generic)) != 0) {
        if (rc_generic < 0) {
            Py_DECREF(answer);
            return -1;
        }
        ti->label_kind = LAB_GENERIC;
        ti->gen_locals = tp == &PyGen_Type || tp == &PyCoro_Type || tp == &PyAsyncGen_Type;
    }
    else if (labeler != Py_None) {
        ti->label_kind = LAB_CALLBACK;
        ti->labeler = labeler;
    }
    else if (cat == CAT_LEAF) {
        ti->label_kind = LAB_NONE;
    }
    else if (tp == &PyList_Type) {
        ti->label_kind = LAB_LIST;
    }
    else if (cat == CAT_SEQ) {
        ti->label_kind = LAB_SEQ;
    }
    else if (cat == CAT_TUPLE && tp == &PyTuple_Type) {
        ti->label_kind = LAB_TUPLE;
    }
    else if (cat == CAT_DICT && tp == &PyDict_Type) {
        ti->label_kind = LAB_DICT;
    }
    else if (cat == CAT_SET && (tp == &PySet_Type || tp == &PyFrozenSet_Type)) {
        ti->label_kind = LAB_SET;
    }
    else if (cat == CAT_CELL && tp == &PyCell_Type) {
        ti->label_kind = LAB_CELL;
    }
    else {
        Py_DECREF(answer);
        PyErr_Format(PyExc_ValueError, "no labeler for category %ld of %s", cat, tp->tp_name);
        return -1;
    }
    Py_DECREF(answer);
    return 0;
}

static void typeinfo_free(TypeInfo *ti) {
    PyMem_RawFree(ti->member_offset);
    PyMem_RawFree(ti->member_payload);
    PyMem_RawFree(ti->getsets);
    PyMem_RawFree(ti->getset_payload);
    PyMem_RawFree(ti->member_none);
}

static int types_grow(Walk *w) {
    size_t cap = (w->type_mask + 1) * 2;
    size_t *slots = PyMem_RawCalloc(cap, sizeof(size_t));
    if (slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (size_t k = 0; k < w->ntypes; k++) {
        size_t i = aset_hash((uintptr_t)w->types[k].type) & (cap - 1);
        while (slots[i]) {
            i = (i + 1) & (cap - 1);
        }
        slots[i] = k + 1;
    }
    PyMem_RawFree(w->type_slots);
    w->type_slots = slots;
    w->type_mask = cap - 1;
    return 0;
}

static TypeInfo *type_info(Walk *w, PyTypeObject *tp) {
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
    if (w->ntypes == w->types_cap) {
        size_t cap = w->types_cap * 2;
        TypeInfo *types = PyMem_RawRealloc(w->types, cap * sizeof(TypeInfo));
        if (types == NULL) {
            PyErr_NoMemory();
            return NULL;
        }
        w->types = types;
        w->types_cap = cap;
    }
    TypeInfo *ti = &w->types[w->ntypes];
    if (typeinfo_fill(w, ti, tp) < 0) {
        typeinfo_free(ti);
        return NULL;
    }
    w->type_slots[i] = ++w->ntypes;
    w->last_type = NULL; /* the array may move when it grows */
    if (w->ntypes * 2 > w->type_mask + 1 && types_grow(w) < 0) {
        return NULL;
    }
    return &w->types[w->ntypes - 1];
}

/* ------------------------------------------------------------------ shallow size */
/* What sys.getsizeof adds after __sizeof__: the GC header and (3.11+) the pre-header. */
static size_t preheader_size(PyObject *o, PyTypeObject *tp) {
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

static uint64_t shallow_size(PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
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

static int64_t length_of(PyObject *o, TypeInfo *ti) {
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

/* ------------------------------------------------------------------ safe texts */
/* saferepr._cut: ``text`` if it fits ``limit``, else its first limit-1 characters and an
 * ellipsis.  Steals ``text``. */
static PyObject *cut_text(PyObject *text, Py_ssize_t limit) {
    if (text == NULL || PyUnicode_GET_LENGTH(text) <= limit) {
        return text;
    }
    PyObject *head = PyUnicode_Substring(text, 0, limit - 1);
    Py_DECREF(text);
    if (head == NULL) {
        return NULL;
    }
    PyObject *out = PyUnicode_Concat(head, ellipsis_char);
    Py_DECREF(head);
    return out;
}

/* saferepr.str_text / bytes_text: repr of at most ``limit`` items, cut to ``limit``. */
static PyObject *sliced_repr_text(PyObject *o, Py_ssize_t limit) {
    PyObject *part;
    if (PyUnicode_Check(o)) {
        if (PyUnicode_GET_LENGTH(o) <= limit) {
            return cut_text(PyObject_Repr(o), limit);
        }
        part = PyUnicode_Substring(o, 0, limit);
    }
    else {
        if (PyBytes_GET_SIZE(o) <= limit) {
            return cut_text(PyObject_Repr(o), limit);
        }
        part = PyBytes_FromStringAndSize(PyBytes_AS_STRING(o), limit);
    }
    if (part == NULL) {
        return NULL;
    }
    PyObject *text = PyObject_Repr(part);
    Py_DECREF(part);
    if (text == NULL) {
        return NULL;
    }
    /* The repr of ``limit`` items is always longer than limit - 1 characters. */
    PyObject *head = PyUnicode_Substring(text, 0, limit - 1);
    Py_DECREF(text);
    if (head == NULL) {
        return NULL;
    }
    PyObject *out = PyUnicode_Concat(head, ellipsis_char);
    Py_DECREF(head);
    return out;
}

static Py_ssize_t format_ll(long long v, char *out);

/* Decimal text of an exact int that fits 64 bits (saferepr.int_text never cuts those) into
 * ``out`` (at least 21 bytes); returns its length, or -1 (no error set) if it does not fit. */
static Py_ssize_t fast_int_text(PyObject *o, char *out) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return -1;
    }
    return format_ll(v, out);
}

/* saferepr.str_text for the common case, without building any object: an ASCII string of
 * printable characters with no quote or backslash in its first ``limit`` characters is shown
 * as 'text', or 'tex… when cut.  Writes UTF-8 into ``out`` (at least limit + 3 bytes) and
 * returns its length, or -1 if the string needs the general path. */
static Py_ssize_t fast_str_text(PyObject *s, Py_ssize_t limit, char *out) {
    if (!PyUnicode_IS_ASCII(s)) {
        return -1;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(s);
    Py_ssize_t scan = len < limit ? len : limit;
    const unsigned char *data = (const unsigned char *)PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < scan; i++) {
        unsigned char ch = data[i];
        if (ch < 0x20 || ch > 0x7e || ch == '\'' || ch == '\\') {
            return -1;
        }
    }
    out[0] = '\'';
    if (len + 2 <= limit) {
        memcpy(out + 1, data, (size_t)len);
        out[len + 1] = '\'';
        return len + 2;
    }
    /* The repr (of at most ``limit`` characters) is longer than limit: keep limit - 1
     * characters of it, then an ellipsis (U+2026, three bytes in UTF-8). */
    memcpy(out + 1, data, (size_t)(limit - 2));
    memcpy(out + limit - 1, "\xe2\x80\xa6", 3);
    return limit + 2;
}

/* Decimal digits of ``v`` into ``out`` (at least 21 bytes); returns the length. */
static Py_ssize_t format_ll(long long v, char *out) {
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    Py_ssize_t k = 0;
    if (v < 0) {
        out[k++] = '-';
    }
    while (n) {
        out[k++] = tmp[--n];
    }
    return k;
}

/* repr() of a float for the common case, without dtoa: |x| >= 1e-4 with a shortest decimal
 * m / 10**k, m < 2**51 (repr writes those without an exponent), found as the fewest decimal
 * places k for which m = round(|x| * 10**k) gives x again.  Division by an exact power of ten
 * is correctly rounded, so that decimal reads back as x; below 2**51 no other decimal of k
 * places does, and no shorter one was missed (the product's rounding error is under a
 * quarter), so it is the shortest: repr's digits.  Assumes the default rounding mode, as
 * CPython does.  Writes at most 24 bytes; returns the length, or -1 (inf, nan, tiny, huge
 * or long values). */
static Py_ssize_t fast_float_text(double x, char *out) {
    static const double pow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
                                   1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
    const double limit = 2251799813685248.0; /* 2**51 */
    int negative = signbit(x) != 0;
    double a = negative ? -x : x;
    if (!(a < limit)) { /* also inf and nan */
        return -1;
    }
    long long m = 0;
    int k = 0;
    if (a != 0.0) {
        if (a < 1e-4) {
            return -1;
        }
        for (;; k++) {
            if (k >= (int)(sizeof(pow10) / sizeof(pow10[0]))) {
                return -1;
            }
            double scaled = a * pow10[k];
            if (!(scaled < limit)) {
                return -1;
            }
            /* Rounded without libm: below 2**51, adding a half is exact. */
            double r = (double)(long long)(scaled + 0.5);
            if (r / pow10[k] == a && (r - 1) / pow10[k] != a && (r + 1) / pow10[k] != a) {
                m = (long long)r;
                break;
            }
        }
    }
    char digits[24];
    int n = (int)format_ll(m, digits);
    Py_ssize_t len = 0;
    if (negative) {
        out[len++] = '-';
    }
    if (k == 0) {
        memcpy(out + len, digits, (size_t)n);
        len += n;
        memcpy(out + len, ".0", 2);
        return len + 2;
    }
    if (n <= k) { /* 0.000ddd */
        out[len++] = '0';
        out[len++] = '.';
        memset(out + len, '0', (size_t)(k - n));
        len += k - n;
        memcpy(out + len, digits, (size_t)n);
        return len + n;
    }
    memcpy(out + len, digits, (size_t)(n - k));
    len += n - k;
    out[len++] = '.';
    memcpy(out + len, digits + n - k, (size_t)k);
    return len + k;
}

#define MAX_REPR 80
#define MAX_KEY 60

/* The node's text as the walker makes it (new reference), or Py_None if it has none; the
 * cases append_text writes itself (short str, 64-bit int, most floats) are not repeated. */
static PyObject *node_text(PyObject *o, TypeInfo *ti) {
    switch (ti->text_kind) {
    case TEXT_NONE:
        Py_RETURN_NONE;
    case TEXT_STR:
    case TEXT_BYTES:
        return sliced_repr_text(o, MAX_REPR);
    case TEXT_REPR:
        return PyObject_Repr(o);
    case TEXT_FUNCTION: {
        PyFunctionObject *f = (PyFunctionObject *)o;
        PyObject *qual = f->func_qualname, *module = f->func_module;
        if (qual == NULL || !PyUnicode_CheckExact(qual)) {
            qual = question_mark;
        }
        if (module != NULL && PyUnicode_CheckExact(module)
            && PyUnicode_CompareWithASCIIString(module, "builtins") != 0) {
            PyObject *dotted = PyUnicode_FromFormat("%U.%U", module, qual);
            return cut_text(dotted, MAX_REPR);
        }
        Py_INCREF(qual);
        return cut_text(qual, MAX_REPR);
    }
    case TEXT_CODE: {
#if PY_VERSION_HEX >= 0x030B0000
        PyObject *name = ((PyCodeObject *)o)->co_qualname;
#else
        PyObject *name = ((PyCodeObject *)o)->co_name;
#endif
        if (name == NULL || !PyUnicode_CheckExact(name)) {
            Py_RETURN_NONE;
        }
        Py_INCREF(name);
        return cut_text(name, MAX_REPR);
    }
    default:
        break;
    }
    return PyObject_CallOneArg(ti->text_func, o);
}

static int append_text(Walk *w, PyObject *o, TypeInfo *ti) {
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
    if (fast < 0 && ti->text_kind != TEXT_NONE) {
        PyObject *t = node_text(o, ti);
        if (t == NULL) {
            if (foreign_error()) {
                return -1;
            }
            PyErr_Clear(); /* no text: the viewer derives one from type and address */
            t = Py_None;
            Py_INCREF(t);
        }
        if (PyUnicode_Check(t) && PyUnicode_GET_LENGTH(t) > 0) {
            Py_ssize_t n;
            const char *utf8 = PyUnicode_AsUTF8AndSize(t, &n);
            PyObject *encoded = NULL;
            if (utf8 == NULL) {
                /* Lone surrogates: encode as the walker does. */
                PyErr_Clear();
                encoded = PyUnicode_AsEncodedString(t, "utf-8", "backslashreplace");
                if (encoded == NULL) {
                    Py_DECREF(t);
                    return -1;
                }
                utf8 = PyBytes_AS_STRING(encoded);
                n = PyBytes_GET_SIZE(encoded);
            }
            if (vec_reserve(&w->repr_blob, (size_t)n) < 0) {
                Py_XDECREF(encoded);
                Py_DECREF(t);
                return -1;
            }
            memcpy(w->repr_blob.data + w->repr_blob.len, utf8, (size_t)n);
            w->repr_blob.len += (size_t)n;
            Py_XDECREF(encoded);
        }
        Py_DECREF(t);
    }
    COL_PUSH(&w->repr_offsets, uint64_t, w->blob_base + (uint64_t)w->repr_blob.len);
    return 0;
}

/* ------------------------------------------------------------------ edges */
/* The address column doubles as the work list: node i is the object at address addr[i]. */
#define NODE_AT(w, i) (((PyObject **)(w)->addr.data)[i])

static int push_borrowed(Walk *w, PyObject *o) {
    COL_PUSH(&w->addr, uint64_t, (uint64_t)(uintptr_t)o);
    return 0;
}

/* A node found on the way: kept alive by a strong reference until the walk ends. */
static int push_node(Walk *w, PyObject *o) {
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

/* Payload naming a dict key: the string-table index of saferepr.key_text(key); -2 on error. */
static int32_t key_payload(Walk *w, PyObject *key) {
    int64_t cached = amap_get(&w->key_cache, (uintptr_t)key);
    if (cached >= 0) {
        return (int32_t)cached;
    }
    /* The common keys are rendered straight into the table's bytes, without a str. */
    char buf[MAX_KEY + 24];
    Py_ssize_t fast = -1;
    PyObject *text = NULL;
    if (PyUnicode_CheckExact(key)) {
        fast = fast_str_text(key, MAX_KEY, buf);
        if (fast < 0) {
            text = sliced_repr_text(key, MAX_KEY);
        }
    }
    else if (PyLong_CheckExact(key)) {
        fast = fast_int_text(key, buf);
    }
    if (fast >= 0) {
        int32_t p = strtab_intern_utf8(w->strings, buf, (size_t)fast);
        if (p < 0 || amap_put(&w->key_cache, (uintptr_t)key, p) < 0) {
            return -2;
        }
        return p;
    }
    if (text == NULL) {
        if (PyErr_Occurred()) {
            return -2;
        }
        text = PyObject_CallOneArg(w->key_text, key);
        if (text == NULL) {
            return -2;
        }
    }
    if (!PyUnicode_CheckExact(text)) {
        Py_DECREF(text);
        PyErr_SetString(PyExc_TypeError, "key_text must return str");
        return -2;
    }
    int32_t p = string_payload(w, text);
    Py_DECREF(text);
    if (p < 0 || amap_put(&w->key_cache, (uintptr_t)key, p) < 0) {
        return -2;
    }
    return p;
}

static int edges_dict(Walk *w, PyObject *d) {
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        /* key_text may run the walker's Python code (odd keys): hold the entry meanwhile. */
        Py_INCREF(k);
        Py_INCREF(v);
        int32_t p = key_payload(w, k);
        int rc = (p == -2 || emit(w, v, EDGE_KEY, p) < 0 || emit(w, k, EDGE_DICT_KEY, p) < 0);
        Py_DECREF(k);
        Py_DECREF(v);
        if (rc) {
            return -1;
        }
    }
    return 0;
}

static int traverse_into_refs(Walk *w, PyObject *o, PyTypeObject *tp) {
    w->refs.len = 0;
    if (!PyObject_IS_GC(o) || tp->tp_traverse == NULL) {
        return 0;
    }
    return tp->tp_traverse(o, walk_visit, &w->refs);
}

/* Every referent with the same label kind (positions for sequences). */
static int edges_uniform(Walk *w, PyObject *o, PyTypeObject *tp, uint8_t kind) {
    if (traverse_into_refs(w, o, tp) < 0) {
        return -1;
    }
    size_t n = w->refs.len;
    for (size_t i = 0; i < n; i++) {
        int32_t payload = kind == EDGE_INDEX ? (int32_t)i : -1;
        if (emit(w, VEC_AT(&w->refs, PyObject *, i), kind, payload) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Before the walk: the free variable names of every function's closure tuple in ``objects``
 * (Namer.register_closure), so a closure tuple is labelled whenever it is met. */
static int register_closures(Walk *w, PyObject *objects) {
    Py_ssize_t n = PyList_GET_SIZE(objects);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i + 8 < n) {
            PREFETCH(PyList_GET_ITEM(objects, i + 8));
        }
        PyObject *f = PyList_GET_ITEM(objects, i);
        if (!Py_IS_TYPE(f, &PyFunction_Type)) {
            continue;
        }
        PyObject *closure = PyFunction_GET_CLOSURE(f);
        if (closure == NULL || closure == Py_None) {
            continue;
        }
        PyObject *names = PyObject_GetAttrString(PyFunction_GET_CODE(f), "co_freevars");
        if (names == NULL) {
            return -1;
        }
        if (!PyTuple_Check(names)) {
            Py_DECREF(names);
            continue;
        }
        Py_ssize_t count = PyTuple_GET_SIZE(names);
        size_t start = w->closure_payloads.len;
        if (vec_reserve(&w->closure_payloads, (size_t)count) < 0) {
            Py_DECREF(names);
            return -1;
        }
        for (Py_ssize_t j = 0; j < count; j++) {
            PyObject *name = PyTuple_GET_ITEM(names, j);
            int32_t p = -1;
            if (PyUnicode_CheckExact(name)) {
                p = string_payload(w, name);
                if (p < 0) {
                    Py_DECREF(names);
                    return -1;
                }
            }
            VEC_AT(&w->closure_payloads, int32_t, w->closure_payloads.len++) = p;
        }
        Py_DECREF(names);
        if (amap_put(&w->closures, (uintptr_t)closure, ((int64_t)start << 20) | count) < 0) {
            return -1;
        }
    }
    return 0;
}

static int edges_tuple(Walk *w, PyObject *o) {
    Py_ssize_t n = PyTuple_GET_SIZE(o);
    int64_t run = w->closures.used ? amap_get(&w->closures, (uintptr_t)o) : -1;
    if (run >= 0 && (run & 0xFFFFF) == n) {
        const int32_t *names = &VEC_AT(&w->closure_payloads, int32_t, (size_t)(run >> 20));
        for (Py_ssize_t i = 0; i < n; i++) {
            if (emit(w, PyTuple_GET_ITEM(o, i), EDGE_CLOSURE, names[i]) < 0) {
                return -1;
            }
        }
        return 0;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(o, i);
        if (item != NULL && emit(w, item, EDGE_INDEX, (int32_t)i) < 0) {
            return -1;
        }
    }
    return 0;
}

/* The walker's Python code labels this object: labeler(obj, referents). */
static int edges_callback(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
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

/* ---- instances of Python classes: attributes matched to referents by identity ---- */
typedef struct {
    PyObject *obj;
    int32_t payload;
    uint8_t kind;
    uint8_t used;
} Cand;

/* Mirror of CPython's (internal) dict keys object, identical in 3.11, 3.12 and 3.13 builds
 * with the GIL; only read here, for the attribute names of a class's shared keys. */
typedef struct {
    Py_ssize_t dk_refcnt;
    uint8_t dk_log2_size;
    uint8_t dk_log2_index_bytes;
    uint8_t dk_kind;
    uint32_t dk_version;
    Py_ssize_t dk_usable;
    Py_ssize_t dk_nentries;
    char dk_indices[];
} KeysMirror;

typedef struct {
    PyObject *me_key;
    PyObject *me_value;
} UnicodeEntryMirror;

#define DICT_KEYS_GENERAL 0

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

/* Without materialising anything: the instance's own dict (or NULL), and its 3.11+ inline
 * values with their count (or NULL). */
static void instance_storage(PyObject *o, PyTypeObject *tp, PyObject **dict, PyObject ***values,
                             Py_ssize_t *nvalues) {
    *dict = NULL;
    *values = NULL;
    *nvalues = 0;
#if PY_VERSION_HEX >= 0x030B0000
    if (PyType_HasFeature(tp, Py_TPFLAGS_MANAGED_DICT)) {
#if PY_VERSION_HEX < 0x030D0000
        KeysMirror *keys = (KeysMirror *)((PyHeapTypeObject *)tp)->ht_cached_keys;
        Py_ssize_t nkeys = keys != NULL ? keys->dk_nentries : 0;
#endif
#if PY_VERSION_HEX >= 0x030D0000
        *dict = ((PyObject **)o)[-3];
        if (PyType_HasFeature(tp, Py_TPFLAGS_INLINE_VALUES)) {
            uint8_t *head = (uint8_t *)o + tp->tp_basicsize; /* capacity, size, embedded, valid */
            if (head[3]) {
                *values = (PyObject **)(head + sizeof(PyObject *));
                *nvalues = head[0];
            }
        }
#elif PY_VERSION_HEX >= 0x030C0000
        uintptr_t dorv = ((uintptr_t *)o)[-3];
        if (dorv & 1) {
            *values = (PyObject **)(dorv + 1); /* stored as (values - 1), tagged */
            *nvalues = nkeys;
        }
        else {
            *dict = (PyObject *)dorv;
        }
#else
        *dict = ((PyObject **)o)[-3];
        PyObject **vals = ((PyObject ***)o)[-4];
        if (vals != NULL) {
            *values = vals;
            *nvalues = nkeys;
        }
#endif
        return;
    }
#endif
    if (tp->tp_dictoffset != 0) {
        PyObject **slot = _PyObject_GetDictPtr(o);
        *dict = slot != NULL ? *slot : NULL;
    }
}

/* Traverse ``o`` and emit its referents, each named by the first candidate (in order) that
 * is that object and has not named another referent yet: Namer.match of the walker. */
static int emit_matched(Walk *w, PyObject *o, PyTypeObject *tp) {
    if (traverse_into_refs(w, o, tp) < 0) {
        return -1;
    }
    size_t nr = w->refs.len, nc = w->cands.len, from = 0;
    if (vec_reserve(&w->refs, nr) < 0) { /* room for a label slot per referent */
        return -1;
    }
    PyObject **refs = (PyObject **)w->refs.data;
    Cand *cands = (Cand *)w->cands.data;
    intptr_t *label_of = (intptr_t *)(refs + nr); /* nr slots after the referents */
    for (size_t r = 0; r < nr; r++) {
        label_of[r] = -1;
    }
    for (size_t k = 0; k < nc; k++) {
        if (cands[k].kind == EDGE_OTHER) {
            continue;
        }
        for (size_t j = 0; j < nr; j++) {
            size_t r = (from + j) % nr;
            if (label_of[r] < 0 && refs[r] == cands[k].obj) {
                label_of[r] = (intptr_t)k;
                from = r + 1;
                break;
            }
        }
    }
    for (size_t r = 0; r < nr; r++) {
        uint8_t kind = EDGE_OTHER;
        int32_t payload = -1;
        if (label_of[r] >= 0) {
            kind = cands[label_of[r]].kind;
            payload = cands[label_of[r]].payload;
        }
        if (emit(w, refs[r], kind, payload) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Functions: what getattr(f, name) returns for the walker's FUNCTION_ATTRS, read from the
 * struct (a missing optional field reads as None; __type_params__ as ()). */
static int edges_function(Walk *w, PyObject *o, PyTypeObject *tp) {
    PyFunctionObject *f = (PyFunctionObject *)o;
    PyObject *empty = PyTuple_New(0);
    if (empty == NULL) {
        return -1;
    }
    PyObject *values[FUNC_ATTR_COUNT] = {
        f->func_code,
        f->func_globals,
        f->func_builtins,
        f->func_defaults ? f->func_defaults : Py_None,
        f->func_kwdefaults ? f->func_kwdefaults : Py_None,
        f->func_closure ? f->func_closure : Py_None,
        f->func_name,
        f->func_qualname,
        f->func_module ? f->func_module : Py_None,
        f->func_doc ? f->func_doc : Py_None,
#if PY_VERSION_HEX >= 0x030C0000
        f->func_typeparams ? f->func_typeparams : empty,
#else
        NULL,
#endif
    };
    w->cands.len = 0;
    int rc = 0;
    for (int i = 0; i < FUNC_ATTR_COUNT && rc == 0; i++) {
        rc = add_cand(w, values[i], EDGE_ATTR, w->p_func[i]);
    }
    if (rc == 0) {
        rc = emit_matched(w, o, tp);
    }
    Py_DECREF(empty);
    return rc;
}

static int edges_instance(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
    /* Named candidates in the walker's order: class, slots, attributes, __dict__. */
    w->cands.len = 0;
    if (add_cand(w, (PyObject *)tp, EDGE_ATTR, w->p_class) < 0) {
        return -1;
    }
    for (Py_ssize_t m = 0; m < ti->nmembers; m++) {
        PyObject *v = *(PyObject **)((char *)o + ti->member_offset[m]);
        if (add_cand(w, v, EDGE_ATTR, ti->member_payload[m]) < 0) {
            return -1;
        }
    }
    PyObject *dict, **values;
    Py_ssize_t nvalues;
    instance_storage(o, tp, &dict, &values, &nvalues);
    if (values != NULL && nvalues > 0) {
        KeysMirror *keys = (KeysMirror *)((PyHeapTypeObject *)tp)->ht_cached_keys;
        Py_ssize_t named = 0;
        UnicodeEntryMirror *entries = NULL;
        if (keys != NULL && keys->dk_kind != DICT_KEYS_GENERAL) {
            entries = (UnicodeEntryMirror *)(keys->dk_indices
                                             + ((size_t)1 << keys->dk_log2_index_bytes));
            named = keys->dk_nentries;
        }
        for (Py_ssize_t i = 0; i < nvalues; i++) {
            PyObject *v = values[i];
            if (v == NULL) {
                continue;
            }
            int32_t p = -1;
            uint8_t kind = EDGE_OTHER;
            PyObject *name = i < named ? entries[i].me_key : NULL;
            if (name != NULL && PyUnicode_CheckExact(name)) {
                /* Names are few and the class keeps them alive: cache by address. */
                int64_t cached = amap_get(&w->name_cache, (uintptr_t)name);
                if (cached < 0) {
                    cached = string_payload(w, name);
                    if (cached < 0 || amap_put(&w->name_cache, (uintptr_t)name, cached) < 0) {
                        return -1;
                    }
                }
                p = (int32_t)cached;
                kind = EDGE_ATTR;
            }
            if (add_cand(w, v, kind, p) < 0) {
                return -1;
            }
        }
    }
    /* 3.13+: a dict made while the values stay inline is not visited by the instance's
     * traverse (only the values are); it is added after the referents, never matched. */
    int hidden = dict != NULL && values != NULL && Py_IS_TYPE(dict, &PyDict_Type);
    if (!hidden && dict != NULL && Py_IS_TYPE(dict, &PyDict_Type)
        && add_cand(w, dict, EDGE_ATTR, w->p_dict) < 0) {
        return -1;
    }
    if (emit_matched(w, o, tp) < 0) {
        return -1;
    }
    return hidden ? emit(w, dict, EDGE_ATTR, w->p_dict) : 0;
}

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

static int edges_generic(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
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

static int edges_of(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
    switch (ti->label_kind) {
    case LAB_NONE:
        return 0;
    case LAB_DICT:
        return edges_dict(w, o);
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
    case LAB_SEQ: {
        /* deque: its items in iteration order (the walker's view; tp_traverse may add the
         * type).  Iterating an exact deque runs C code only. */
        PyObject *it = PyObject_GetIter(o);
        if (it == NULL) {
            return -1;
        }
        PyObject *item;
        int32_t i = 0;
        while ((item = PyIter_Next(it)) != NULL) {
            int rc = emit(w, item, EDGE_INDEX, i++);
            Py_DECREF(item);
            if (rc < 0) {
                Py_DECREF(it);
                return -1;
            }
        }
        Py_DECREF(it);
        PyErr_Clear(); /* a deque mutated meanwhile: keep what was read */
        return 0;
    }
    case LAB_TUPLE:
        return edges_tuple(w, o);
    case LAB_SET:
        return edges_uniform(w, o, tp, EDGE_MEMBER);
    case LAB_CELL:
        return edges_uniform(w, o, tp, EDGE_CELL);
    case LAB_INSTANCE:
        return edges_instance(w, o, tp, ti);
    case LAB_FUNCTION:
        return edges_function(w, o, tp);
    case LAB_GENERIC:
        return edges_generic(w, o, tp, ti);
    default:
        return edges_callback(w, o, tp, ti);
    }
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
static int foreign_error(void) {
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

/* ------------------------------------------------------------------ the walk */
static void walk_clear(Walk *w) {
    /* Release the strong references taken on discovered nodes. */
    for (size_t i = w->n_first; i < w->addr.n; i++) {
        Py_DECREF(NODE_AT(w, i));
    }
    Vec *vecs[] = {&w->repr_blob, &w->refs, &w->cands, &w->closure_payloads};
    for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
        vec_free(vecs[i]);
    }
    Col *cols[] = {&w->addr,         &w->type_id,     &w->size,      &w->length,
                   &w->flags,        &w->edge_count,  &w->repr_offsets, &w->edge_target,
                   &w->edge_kind,    &w->edge_payload};
    for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
        col_free(cols[i]);
    }
    abits_free(&w->seen);
    aset_free(&w->exclude);
    amap_free(&w->key_cache);
    amap_free(&w->name_cache);
    amap_free(&w->closures);
    for (size_t t = 0; t < w->ntypes; t++) {
        typeinfo_free(&w->types[t]);
    }
    PyMem_RawFree(w->types);
    PyMem_RawFree(w->type_slots);
    w->types = NULL;
    w->type_slots = NULL;
    Py_CLEAR(w->keep);
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
static int flush_chunk(Walk *w, size_t upto) {
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

#define PREFETCH_AHEAD 6

static int walk_run(Walk *w) {
    for (size_t i = 0; i < w->addr.n; i++) {
        /* Node headers are scattered over the heap: ask for one a few steps ahead. */
        if (i + PREFETCH_AHEAD < w->addr.n) {
            PREFETCH(NODE_AT(w, i + PREFETCH_AHEAD));
        }
        PyObject *o = NODE_AT(w, i);
        PyTypeObject *tp = Py_TYPE(o);
        TypeInfo *ti = type_info(w, tp);
        if (ti == NULL) {
            return -1;
        }
        COL_PUSH(&w->type_id, uint32_t, ti->index);
        COL_PUSH(&w->size, uint64_t, shallow_size(o, tp, ti));
        COL_PUSH(&w->length, int64_t, length_of(o, ti));
        /* Listed objects are tracked; so is a tuple the listing left out (it might have been
         * under construction) and the walk found again through its holder. */
        int tracked = i < w->n_tracked;
        if (!tracked && w->listed_tuples != NULL && PyTuple_CheckExact(o)) {
            PyObject *key = PyLong_FromVoidPtr(o);
            tracked = key == NULL ? -1 : PySet_Contains(w->listed_tuples, key);
            Py_XDECREF(key);
            if (tracked < 0) {
                return -1;
            }
        }
        COL_PUSH(&w->flags, uint8_t, tracked ? NODE_GC_TRACKED : 0);
        if (append_text(w, o, ti) < 0) {
            return -1;
        }
        size_t first = w->n_edges;
        if (edges_of(w, o, tp, ti) < 0) {
            return -1;
        }
        COL_PUSH(&w->edge_count, uint32_t, (uint32_t)(w->n_edges - first));
        /* A signal's handler runs now and then (the walk may run no bytecode for long), and
         * what it raises ends the walk and reaches the program. */
        if ((i & 0x3FFF) == 0x3FFF && PyErr_CheckSignals() < 0) {
            return -1;
        }
        if (w->sink != NULL && (i + 1 - w->flushed_nodes >= w->chunk_nodes
                                || w->edge_target.n >= w->chunk_edges)) {
            if (flush_chunk(w, i + 1) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

static int add_exclusions(Walk *w, PyObject *exclude) {
    if (exclude == Py_None) {
        return 0;
    }
    PyObject *it = PyObject_GetIter(exclude);
    if (it == NULL) {
        return -1;
    }
    PyObject *item;
    while ((item = PyIter_Next(it)) != NULL) {
        unsigned long long a = PyLong_AsUnsignedLongLong(item);
        Py_DECREF(item);
        if (a == (unsigned long long)-1 && PyErr_Occurred()) {
            break;
        }
        if (a != 0 && (aset_add(&w->exclude, (uintptr_t)a) < 0 || abits_add(&w->seen, (uintptr_t)a) < 0)) {
            break;
        }
    }
    Py_DECREF(it);
    return PyErr_Occurred() ? -1 : 0;
}

static PyObject *build_result(Walk *w) {
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

static int start_offsets(Walk *w) {
    COL_PUSH(&w->repr_offsets, uint64_t, 0);
    return 0;
}

static PyObject *walk(PyObject *self, PyObject *args, PyObject *kwds) {
    (void)self;
    static char *kwlist[] = {"objects", "exclude", "extra_roots", "on_type", "strings",
                             "key_text", "sink", "sink_names", "chunk_nodes", "chunk_edges",
                             "string_sink", "key_cache_limit", "listed_tuples", NULL};
    PyObject *objects, *exclude, *extra_roots, *on_type, *strings, *key_text;
    PyObject *sink = Py_None, *sink_names = Py_None, *string_sink = Py_None;
    PyObject *listed_tuples = Py_None;
    Py_ssize_t chunk_nodes = 1 << 17, chunk_edges = 1 << 18, key_cache_limit = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OO!OO!O|$OOnnOnO:walk", kwlist,
                                     &PyList_Type, &objects, &exclude, &PyList_Type,
                                     &extra_roots, &on_type, &StrTab_Type, &strings, &key_text,
                                     &sink, &sink_names, &chunk_nodes, &chunk_edges,
                                     &string_sink, &key_cache_limit, &listed_tuples)) {
        return NULL;
    }
    if (listed_tuples != Py_None && !PyAnySet_CheckExact(listed_tuples)) {
        PyErr_SetString(PyExc_TypeError, "listed_tuples must be a set of ids or None");
        return NULL;
    }
    if (sink != Py_None && (!PyTuple_Check(sink_names) || PyTuple_GET_SIZE(sink_names) != SINK_COLUMNS
                            || chunk_nodes < 1 || chunk_edges < 1)) {
        PyErr_SetString(PyExc_ValueError,
                        "a sink needs sink_names (a tuple of 11 column names) and chunk sizes >= 1");
        return NULL;
    }
    Walk w;
    memset(&w, 0, sizeof(w));
    w.listed_tuples = listed_tuples == Py_None ? NULL : listed_tuples;
    if (sink != Py_None) {
        w.sink = sink;
        w.sink_names = sink_names;
        w.chunk_nodes = (size_t)chunk_nodes;
        w.chunk_edges = (size_t)chunk_edges;
        w.string_sink = string_sink == Py_None ? NULL : string_sink;
        w.key_cache_limit = key_cache_limit > 0 ? (size_t)key_cache_limit : 0;
    }
    vec_init(&w.repr_blob, 1);
    vec_init(&w.refs, sizeof(PyObject *));
    vec_init(&w.cands, sizeof(Cand));
    vec_init(&w.closure_payloads, 4);
    w.on_type = on_type;
    w.key_text = key_text;
    w.strings = (StrTab *)strings;

    PyObject *result = NULL;
    Py_ssize_t n = PyList_GET_SIZE(objects);
    w.types_cap = 256;
    w.types = PyMem_RawMalloc(w.types_cap * sizeof(TypeInfo));
    w.type_slots = PyMem_RawCalloc(1024, sizeof(size_t));
    w.type_mask = 1023;
    w.keep = PyList_New(0);
    if (w.types == NULL || w.type_slots == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (w.keep == NULL || amap_init(&w.key_cache) < 0 || amap_init(&w.closures) < 0
        || amap_init(&w.name_cache) < 0) {
        goto done;
    }
    {
        PyObject *array_mod = PyImport_ImportModule("array");
        PyObject *array_type = array_mod ? PyObject_GetAttrString(array_mod, "array") : NULL;
        Py_XDECREF(array_mod);
        if (array_type == NULL) {
            goto done;
        }
        int rc = col_init(&w.addr, array_type, "Q", 8) < 0
                 || col_init(&w.type_id, array_type, "I", 4) < 0
                 || col_init(&w.size, array_type, "Q", 8) < 0
                 || col_init(&w.length, array_type, "q", 8) < 0
                 || col_init(&w.flags, array_type, "B", 1) < 0
                 || col_init(&w.edge_count, array_type, "I", 4) < 0
                 || col_init(&w.repr_offsets, array_type, "Q", 8) < 0
                 || col_init(&w.edge_target, array_type, "Q", 8) < 0
                 || col_init(&w.edge_kind, array_type, "B", 1) < 0
                 || col_init(&w.edge_payload, array_type, "i", 4) < 0;
        Py_DECREF(array_type);
        if (rc != 0) {
            goto done;
        }
        /* About 2.2 nodes and 3.5 references per tracked object on typical heaps; a streamed
         * walk only ever buffers one chunk (and the address column, its work list). */
        size_t nodes_hint = (size_t)n * 5 / 2, edges_hint = (size_t)n * 4;
        col_reserve_hint(&w.addr, nodes_hint);
        if (w.sink != NULL) {
            nodes_hint = w.chunk_nodes + 1;
            edges_hint = w.chunk_edges;
        }
        Col *node_cols[] = {&w.type_id, &w.size, &w.length, &w.flags, &w.edge_count,
                            &w.repr_offsets};
        for (size_t i = 0; i < sizeof(node_cols) / sizeof(node_cols[0]); i++) {
            col_reserve_hint(node_cols[i], nodes_hint);
        }
        col_reserve_hint(&w.edge_target, edges_hint);
        col_reserve_hint(&w.edge_kind, edges_hint);
        col_reserve_hint(&w.edge_payload, edges_hint);
    }
    if (abits_init(&w.seen) < 0 || aset_init(&w.exclude, 64) < 0) {
        goto done;
    }
    {
        PyObject *cls_name = PyUnicode_InternFromString("__class__");
        PyObject *dict_name = PyUnicode_InternFromString("__dict__");
        w.p_class = cls_name ? string_payload(&w, cls_name) : -1;
        w.p_dict = dict_name ? string_payload(&w, dict_name) : -1;
        Py_XDECREF(cls_name);
        Py_XDECREF(dict_name);
        if (w.p_class < 0 || w.p_dict < 0) {
            goto done;
        }
        for (int i = 0; i < FUNC_ATTR_COUNT; i++) {
            PyObject *name = PyUnicode_InternFromString(func_attr_names[i]);
            w.p_func[i] = name ? string_payload(&w, name) : -1;
            Py_XDECREF(name);
            if (w.p_func[i] < 0) {
                goto done;
            }
        }
    }
    if (add_exclusions(&w, exclude) < 0 || abits_add(&w.seen, (uintptr_t)objects) < 0
        || aset_add(&w.exclude, (uintptr_t)objects) < 0) {
        goto done;
    }
    /* The first nodes: the input list minus exclusions (the list keeps them alive, so these
     * references are borrowed).  All of it is seen, as in the walker. */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = PyList_GET_ITEM(objects, i);
        if (abits_add(&w.seen, (uintptr_t)o) < 0) {
            goto done;
        }
        if (!aset_contains(&w.exclude, (uintptr_t)o)) {
            if (push_borrowed(&w, o) < 0) {
                goto done;
            }
        }
    }
    w.n_first = w.n_tracked = w.addr.n;
    if (register_closures(&w, objects) < 0) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(extra_roots); i++) {
        PyObject *o = PyList_GET_ITEM(extra_roots, i);
        int r = abits_add(&w.seen, (uintptr_t)o);
        if (r < 0 || (r && push_node(&w, o) < 0)) {
            goto done;
        }
    }
    if (start_offsets(&w) < 0 || walk_run(&w) < 0) {
        goto done;
    }
    /* The seen-set is the biggest structure after the columns: free it before copying. */
    w.seen_bytes = abits_bytes(&w.seen);
    abits_free(&w.seen);
    amap_free(&w.key_cache);
    for (size_t i = w.n_first; i < w.addr.n; i++) {
        Py_DECREF(NODE_AT(&w, i));
    }
    w.n_first = w.addr.n; /* released: walk_clear must not release them again */
    if (w.flushed_nodes) {
        /* The address column now holds what was not handed over: its last nodes. */
        memmove(w.addr.data, w.addr.data + w.flushed_nodes * 8,
                (w.addr.n - w.flushed_nodes) * 8);
        w.addr.n -= w.flushed_nodes;
        w.n_first = w.addr.n;
    }
    size_t flushed_edges = w.n_edges - w.edge_target.n;
    result = build_result(&w);
    if (result != NULL) {
        PyObject *streamed[2] = {PyLong_FromSize_t(w.flushed_nodes),
                                 PyLong_FromSize_t(flushed_edges)};
        const char *keys[2] = {"streamed_nodes", "streamed_edges"};
        for (int k = 0; k < 2; k++) {
            if (result != NULL
                && (streamed[k] == NULL || PyDict_SetItemString(result, keys[k], streamed[k]) < 0)) {
                Py_CLEAR(result);
            }
            Py_XDECREF(streamed[k]);
        }
    }

done:
    walk_clear(&w);
    return result;
}

/* gc.get_objects(), less the tuples still being built: an exact tuple that only the list and
 * one other reference hold may be a tuple that tuple(), zip() or a C builder is filling, and
 * _PyTuple_Resize refuses a tuple whose reference count is not 1 (SystemError in the program
 * if its thread runs while the capture holds the tuple).  Such a tuple is reached by nothing
 * else, so leaving it out loses nothing; a finished tuple held by one object is found again
 * through that object.  One C call: no other thread runs between listing and filtering.
 * Returns (objects, ids of the tuples left out). */
static PyObject *list_objects(PyObject *self, PyObject *unused) {
    (void)self;
    (void)unused;
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *objects = gc ? PyObject_CallMethod(gc, "get_objects", NULL) : NULL;
    Py_XDECREF(gc);
    if (objects == NULL) {
        return NULL;
    }
    if (!PyList_CheckExact(objects)) {
        Py_DECREF(objects);
        PyErr_SetString(PyExc_TypeError, "gc.get_objects() did not return a list");
        return NULL;
    }
    /* One pass (the object headers are read once): compact in place (kept <= i), keeping the
     * dropped tuples aside. */
    Py_ssize_t n = PyList_GET_SIZE(objects), kept = 0, dropped = 0, cap = 0;
    PyObject **items = ((PyListObject *)objects)->ob_item;
    PyObject **aside = NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = items[i];
        if (PyTuple_CheckExact(o) && Py_REFCNT(o) == 2) {
            if (dropped == cap) {
                cap = cap ? 2 * cap : 1024;
                PyObject **grown = PyMem_RawRealloc(aside, (size_t)cap * sizeof(PyObject *));
                if (grown == NULL) { /* keep the rest: the list still owns everything */
                    items[kept++] = o;
                    cap = dropped;
                    continue;
                }
                aside = grown;
            }
            aside[dropped++] = o;
            continue;
        }
        items[kept++] = o;
    }
    for (Py_ssize_t i = kept; i < n; i++) {
        items[i] = NULL;
    }
    Py_SET_SIZE(objects, kept);
    PyObject *ids = PyList_New(dropped);
    for (Py_ssize_t k = 0; k < dropped; k++) {
        PyObject *id = ids != NULL ? PyLong_FromVoidPtr(aside[k]) : NULL;
        if (id == NULL) {
            Py_CLEAR(ids);
        }
        else {
            PyList_SET_ITEM(ids, k, id);
        }
        Py_DECREF(aside[k]); /* back to its builder's one reference: not freed */
    }
    PyMem_RawFree(aside);
    if (ids == NULL) {
        Py_DECREF(objects);
        return NULL;
    }
    PyObject *result = PyTuple_Pack(2, objects, ids);
    Py_DECREF(objects);
    Py_DECREF(ids);
    return result;
}

/* For the pure-Python walker: the dict an instance holds beside its still-inline values (3.13+:
 * made when its __dict__ was read), which gc.get_referents(instance) does not report; else
 * None. Read in place: a dict that does not exist is never made. */
static PyObject *hidden_dict_py(PyObject *self, PyObject *arg) {
    (void)self;
    PyObject *dict, **values;
    Py_ssize_t nvalues;
    PyTypeObject *tp = Py_TYPE(arg);
    if (!PyType_HasFeature(tp, Py_TPFLAGS_HEAPTYPE)) {
        Py_RETURN_NONE;
    }
    instance_storage(arg, tp, &dict, &values, &nvalues);
    if (dict != NULL && values != NULL && Py_IS_TYPE(dict, &PyDict_Type)) {
        return Py_NewRef(dict);
    }
    Py_RETURN_NONE;
}

/* For tests: the fast float text, or None where repr() is left to CPython. */
static PyObject *float_text_for_tests(PyObject *self, PyObject *arg) {
    (void)self;
    double x = PyFloat_AsDouble(arg);
    if (x == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    char buf[32];
    Py_ssize_t n = fast_float_text(x, buf);
    if (n < 0) {
        Py_RETURN_NONE;
    }
    return PyUnicode_FromStringAndSize(buf, n);
}

static PyMethodDef walk_methods[] = {
    {"walk", (PyCFunction)(void (*)(void))walk, METH_VARARGS | METH_KEYWORDS,
     "walk(objects, exclude, extra_roots, on_type, strings, key_text) -> dict\n\n"
     "Walk the heap from gc.get_objects()'s list; return the snapshot's columns."},
    {"list_objects", list_objects, METH_NOARGS,
     "(gc.get_objects() without tuples still being built, ids of those left out)."},
    {"frame_locals", frames_locals_py, METH_O,
     "[(name, value)] of a frame's or a suspended generator's fast locals, read in place "
     "(never through f_locals); None where they cannot be read."},
    {"frame_locals_dict", frames_locals_dict_py, METH_O,
     "The locals dict a frame holds (f_locals without making or refreshing it), or None."},
    {"hidden_dict", hidden_dict_py, METH_O,
     "The dict an instance holds beside its inline values (3.13+), which gc.get_referents "
     "does not report, read in place (never made); else None."},
    {"_float_text", float_text_for_tests, METH_O,
     "_float_text(x) -> str | None: the walk's own repr of a float (tests)."},
    {NULL, NULL, 0, NULL},
};

/* The process-wide state the walk reads (interned names, layouts); set once per loaded copy of
 * this library, whatever the number of module objects made from it. */
static int globals_ready = 0;

static int init_globals(void) {
    if (globals_ready) {
        return 0;
    }
    Py_CLEAR(sizeof_name);
    Py_CLEAR(ellipsis_char);
    Py_CLEAR(question_mark);
    Py_CLEAR(object_sizeof_descr);
    Py_CLEAR(deque_type);
    sizeof_name = PyUnicode_InternFromString("__sizeof__");
    ellipsis_char = PyUnicode_FromOrdinal(0x2026);
    question_mark = PyUnicode_FromString("?");
    if (sizeof_name == NULL || ellipsis_char == NULL || question_mark == NULL) {
        return -1;
    }
    /* Static builtin types keep their namespace elsewhere on 3.12+: look it up. */
    object_sizeof_descr = _PyType_Lookup(&PyBaseObject_Type, sizeof_name);
    if (object_sizeof_descr == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "object.__sizeof__ not found");
        return -1;
    }
    Py_INCREF(object_sizeof_descr);
    /* Every Python class shares one tp_traverse: read it from a class of the standard
     * library that is always loaded (creating a class here would leave garbage behind). */
    PyObject *codecs = PyImport_ImportModule("codecs");
    PyObject *probe = codecs ? PyObject_GetAttrString(codecs, "CodecInfo") : NULL;
    Py_XDECREF(codecs);
    if (probe == NULL) {
        return -1;
    }
    if (!PyType_Check(probe)) {
        Py_DECREF(probe);
        PyErr_SetString(PyExc_RuntimeError, "codecs.CodecInfo is not a class");
        return -1;
    }
    subtype_traverse_ptr = ((PyTypeObject *)probe)->tp_traverse;
    Py_DECREF(probe);
    PyObject *collections = PyImport_ImportModule("_collections");
    if (collections == NULL) {
        return -1;
    }
    deque_type = (PyTypeObject *)PyObject_GetAttrString(collections, "deque");
    Py_DECREF(collections);
    if (deque_type == NULL) {
        return -1;
    }
    PyObject *array_mod = PyImport_ImportModule("array");
    PyObject *array_type = array_mod ? PyObject_GetAttrString(array_mod, "array") : NULL;
    Py_XDECREF(array_mod);
    if (array_type == NULL) {
        return -1;
    }
    check_array_layout(array_type);
    /* sys.getsizeof(int) - type.__sizeof__(int): whether this release counts a static type's GC
     * header (3.12.0 and .1 do, later releases do not).  Both calls run C code only. */
    {
        PyObject *sys_mod = PyImport_ImportModule("sys");
        PyObject *total = sys_mod ? PyObject_CallMethod(sys_mod, "getsizeof", "O",
                                                        (PyObject *)&PyLong_Type) : NULL;
        PyObject *bare = total ? PyObject_CallMethod((PyObject *)&PyType_Type, "__sizeof__", "O",
                                                      (PyObject *)&PyLong_Type) : NULL;
        Py_XDECREF(sys_mod);
        if (bare == NULL) {
            Py_XDECREF(total);
            Py_DECREF(array_type);
            return -1;
        }
        Py_ssize_t diff = PyLong_AsSsize_t(total) - PyLong_AsSsize_t(bare);
        Py_DECREF(total);
        Py_DECREF(bare);
        static_type_presize = diff > 0 ? (size_t)diff : 0;
    }
    Py_DECREF(array_type);
    if (PyType_Ready(&StrTab_Type) < 0) {
        return -1;
    }
    globals_ready = 1;
    return 0;
}

static int walk_exec(PyObject *module) {
    if (init_globals() < 0) {
        return -1;
    }
    if (PyModule_AddIntConstant(module, "ARRAY_HANDOVER", array_handover_ok) < 0) {
        return -1;
    }
    Py_INCREF(&StrTab_Type);
    if (PyModule_AddObject(module, "StringTable", (PyObject *)&StrTab_Type) < 0) {
        Py_DECREF(&StrTab_Type);
        return -1;
    }
    return 0;
}

/* Multi-phase init: the module is made from its import spec, so it can be loaded under another
 * name (an attached process loads a private copy as <private package>.capture._walk), and the
 * interpreter keeps no copy of it once its importer lets it go. */
static PyModuleDef_Slot walk_slots[] = {
    {Py_mod_exec, (void *)walk_exec},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef walk_module = {
    PyModuleDef_HEAD_INIT, "_walk", "Compiled heap walk for heaptui.capture.", 0, walk_methods,
    walk_slots, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__walk(void) {
    return PyModuleDef_Init(&walk_module);
}
