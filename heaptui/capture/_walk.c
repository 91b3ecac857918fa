/* heaptui.capture._walk: the compiled hot loop of a heap capture.
 *
 * walk(objects, exclude, key_repr_max) visits every object of ``objects`` (the list returned by
 * gc.get_objects()) and every untracked object reachable from them, with tp_traverse, and
 * records each object's type, shallow size, length and labelled references into growable C
 * arrays, returned as array.array columns.  No Python-level code runs during the walk: no
 * __repr__, no user __sizeof__ (only C __sizeof__ methods are called), no __getattribute__.
 * The GIL is held throughout.  Untracked objects discovered on the way are kept alive by a
 * strong reference until the walk ends; the work list is an explicit array, so a million-long
 * chain does not grow the C stack.
 *
 * Edge labels produced here (see heaptui/labels.py): dict keys/values, list/tuple positions,
 * set members, cell contents, instance attributes (materialised __dict__, 3.11+ inline values,
 * __slots__ member descriptors).  Objects whose references need richer labels are returned in
 * ``deferred`` with the position of their first edge so the Python side can relabel them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ edge kinds (labels.py) */
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

/* ------------------------------------------------------------------ growable arrays */
typedef struct {
    char *data;
    size_t len;   /* elements */
    size_t cap;   /* elements */
    size_t item;  /* bytes per element */
} Vec;

static void vec_init(Vec *v, size_t item) {
    v->data = NULL;
    v->len = 0;
    v->cap = 0;
    v->item = item;
}

static void vec_free(Vec *v) {
    PyMem_RawFree(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}

static int vec_reserve(Vec *v, size_t extra) {
    if (v->len + extra <= v->cap) {
        return 0;
    }
    size_t cap = v->cap ? v->cap : 1024;
    while (cap < v->len + extra) {
        cap += cap / 2 + 1024;
    }
    char *data = PyMem_RawRealloc(v->data, cap * v->item);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    v->data = data;
    v->cap = cap;
    return 0;
}

#define VEC_AT(v, T, i) (((T *)(v)->data)[i])

/* ------------------------------------------------------------------ address set */
typedef struct {
    uintptr_t *slots;
    size_t mask;
    size_t used;
} AddrSet;

static int aset_init(AddrSet *s, size_t hint) {
    size_t cap = 1024;
    while (cap < hint * 2) {
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

static inline size_t aset_hash(uintptr_t a) {
    uint64_t h = (uint64_t)a >> 4;
    h *= 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 17);
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
    if (s->used * 2 > s->mask + 1 && aset_grow(s) < 0) {
        return -1;
    }
    return 1;
}

/* ------------------------------------------------------------------ per-type facts */
enum { SIZE_BASIC = 0, SIZE_CFUNC = 1, SIZE_CALL = 2 };
enum {
    LAB_GENERIC = 0,   /* tp_traverse, unlabelled */
    LAB_DICT,          /* exact dict */
    LAB_LIST,          /* exact list */
    LAB_TUPLE,         /* exact tuple */
    LAB_SET,           /* exact set / frozenset */
    LAB_CELL,          /* cell */
    LAB_INSTANCE,      /* Python class instance: __dict__, inline values, slots */
};

typedef struct {
    PyTypeObject *type; /* borrowed; the types list holds a reference */
    uint32_t index;
    uint8_t size_kind;
    uint8_t label_kind;
    uint8_t deferred;   /* the Python side relabels this type's edges */
    uint8_t class_edge; /* LAB_INSTANCE: the instance refers to its (heap) class */
    PyCFunction sizeof_func;   /* SIZE_CFUNC: a METH_NOARGS C __sizeof__ */
    PyObject *sizeof_descr;    /* SIZE_CALL: another C callable __sizeof__ (borrowed) */
    Py_ssize_t nmembers;       /* LAB_INSTANCE: object slots (member descriptors) */
    Py_ssize_t *member_offset; /* byte offsets inside the instance */
    int32_t *member_payload;   /* string-table index of each slot's name */
} TypeInfo;

/* ------------------------------------------------------------------ walker state */
typedef struct {
    Vec nodes;        /* PyObject* of every node, in node order */
    Vec type_id;      /* uint32 */
    Vec size;         /* uint64 */
    Vec length;       /* int64 */
    Vec flags;        /* uint8 */
    Vec edge_count;   /* uint32 */
    Vec edge_target;  /* uint64 */
    Vec edge_kind;    /* uint8 */
    Vec edge_payload; /* int32 */
    Vec refs;         /* PyObject* scratch for one node's tp_traverse */
    Vec cands;        /* Cand scratch: one instance's named references */
    int32_t p_class, p_dict; /* payloads of "__class__" and "__dict__" */
    Vec deferred;     /* int64 pairs: node position, first edge position */
    AddrSet seen;     /* untracked nodes already queued */
    AddrSet exclude;  /* addresses that must not become nodes */
    Py_ssize_t n_tracked; /* nodes[0:n_tracked] are the input list (borrowed) */
    /* type table */
    TypeInfo *types;
    size_t ntypes, types_cap;
    size_t *type_slots; /* open addressing over types, value = index + 1 */
    size_t type_mask;
    PyObject *type_list;   /* list of type objects, index = type id */
    /* strings: text -> index */
    PyObject *string_index; /* dict str -> int */
    PyObject *strings;      /* list of str */
    PyObject *key_cache;    /* dict key object -> payload int (str/int keys only) */
    Py_ssize_t key_repr_max;
    PyObject *defer_types;  /* set of types handled by the Python side, or NULL */
} Walk;

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

/* Return the string-table index of ``text`` (a str), adding it once; -1 on error. */
static int32_t string_payload(Walk *w, PyObject *text) {
    PyObject *idx = PyDict_GetItemWithError(w->string_index, text);
    if (idx != NULL) {
        return (int32_t)PyLong_AsLong(idx);
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(w->strings);
    PyObject *num = PyLong_FromSsize_t(n);
    if (num == NULL) {
        return -1;
    }
    int rc = PyDict_SetItem(w->string_index, text, num);
    Py_DECREF(num);
    if (rc < 0 || PyList_Append(w->strings, text) < 0) {
        return -1;
    }
    return (int32_t)n;
}

/* ------------------------------------------------------------------ type facts */
static PyObject *object_sizeof_descr = NULL; /* object.__dict__['__sizeof__'] */
static traverseproc subtype_traverse_ptr = NULL; /* tp_traverse of every Python class */
static PyObject *sizeof_name = NULL;         /* interned "__sizeof__" */
static PyObject *ellipsis_text = NULL;       /* "..." */

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

static int is_c_callable_descr(PyObject *v) {
    PyTypeObject *t = Py_TYPE(v);
    return t == &PyMethodDescr_Type || t == &PyWrapperDescr_Type || t == &PyCFunction_Type
           || t == &PyClassMethodDescr_Type;
}

/* sys.getsizeof calls the first __sizeof__ of the MRO; when that one is Python code, use the
 * first C implementation further up instead (what the pure-Python walker does). */
static void choose_sizeof(TypeInfo *ti, PyTypeObject *tp) {
    PyObject *impl = _PyType_Lookup(tp, sizeof_name);
    if (impl == NULL || !is_c_callable_descr(impl)) {
        impl = NULL;
        PyObject *mro = tp->tp_mro;
        Py_ssize_t n = (mro != NULL && PyTuple_Check(mro)) ? PyTuple_GET_SIZE(mro) : 0;
        for (Py_ssize_t i = 0; i < n && impl == NULL; i++) {
            PyObject *base = PyTuple_GET_ITEM(mro, i);
            if (!PyType_Check(base)) {
                continue;
            }
            PyObject *ns = namespace_of((PyTypeObject *)base);
            if (ns == NULL) {
                continue;
            }
            PyObject *v = PyDict_Check(ns) ? PyDict_GetItemWithError(ns, sizeof_name) : NULL;
            if (v != NULL && is_c_callable_descr(v)) {
                impl = v; /* kept alive by the type's namespace */
            }
            PyErr_Clear();
            Py_DECREF(ns);
        }
    }
    ti->size_kind = SIZE_BASIC;
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

/* Object slots (``__slots__`` entries) of a Python class: the member descriptors of every
 * Python class in its MRO. */
static int collect_members(Walk *w, TypeInfo *ti, PyTypeObject *tp) {
    PyObject *mro = tp->tp_mro;
    Py_ssize_t n = (mro != NULL && PyTuple_Check(mro)) ? PyTuple_GET_SIZE(mro) : 0;
    Py_ssize_t count = 0;
    for (int pass = 0; pass < 2; pass++) {
        count = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
            if (!PyType_Check(base) || base->tp_traverse != subtype_traverse_ptr
                || base->tp_members == NULL) {
                continue;
            }
            for (PyMemberDef *m = base->tp_members; m->name != NULL; m++) {
                if ((m->type != T_OBJECT_EX && m->type != T_OBJECT) || (m->flags & READONLY)) {
                    continue;
                }
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

static int typeinfo_fill(Walk *w, TypeInfo *ti, PyTypeObject *tp) {
    memset(ti, 0, sizeof(*ti));
    ti->type = tp;
    ti->index = (uint32_t)w->ntypes;
    choose_sizeof(ti, tp);
    if (tp == &PyDict_Type) {
        ti->label_kind = LAB_DICT;
    }
    else if (tp == &PyList_Type) {
        ti->label_kind = LAB_LIST;
    }
    else if (tp == &PyTuple_Type) {
        ti->label_kind = LAB_TUPLE;
    }
    else if (tp == &PySet_Type || tp == &PyFrozenSet_Type) {
        ti->label_kind = LAB_SET;
    }
    else if (tp == &PyCell_Type) {
        ti->label_kind = LAB_CELL;
    }
    else if (tp->tp_traverse == subtype_traverse_ptr) {
        ti->label_kind = LAB_INSTANCE;
        ti->class_edge = 1;
        if (collect_members(w, ti, tp) < 0) {
            return -1;
        }
    }
    if (w->defer_types != NULL) {
        int r = PySet_Contains(w->defer_types, (PyObject *)tp);
        if (r < 0) {
            return -1;
        }
        ti->deferred = (uint8_t)r;
    }
    return 0;
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
    size_t i = aset_hash((uintptr_t)tp) & w->type_mask;
    for (;;) {
        size_t v = w->type_slots[i];
        if (v == 0) {
            break;
        }
        if (w->types[v - 1].type == tp) {
            return &w->types[v - 1];
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
    if (typeinfo_fill(w, ti, tp) < 0 || PyList_Append(w->type_list, (PyObject *)tp) < 0) {
        return NULL;
    }
    w->type_slots[i] = ++w->ntypes;
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
        return 0;
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

static int64_t shallow_size(PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
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
        return (int64_t)(size + preheader_size(o, tp));
    }
basic:
    size = tp->tp_basicsize;
    if (tp->tp_itemsize > 0) {
        Py_ssize_t n = Py_SIZE(o);
        size += (n < 0 ? -n : n) * tp->tp_itemsize;
    }
    return (int64_t)(size + preheader_size(o, tp));
}

static int64_t length_of(PyObject *o, PyTypeObject *tp) {
    if (PyUnicode_Check(o)) {
        return PyUnicode_GET_LENGTH(o);
    }
    if (tp == &PyList_Type || tp == &PyTuple_Type || tp == &PyBytes_Type
        || tp == &PyByteArray_Type || PyList_Check(o) || PyTuple_Check(o)
        || PyBytes_Check(o) || PyByteArray_Check(o)) {
        return Py_SIZE(o);
    }
    if (PyDict_Check(o)) {
        return PyDict_GET_SIZE(o);
    }
    if (PyAnySet_Check(o)) {
        return PySet_GET_SIZE(o);
    }
    return -1;
}

/* ------------------------------------------------------------------ edges */
static inline int emit(Walk *w, PyObject *target, uint8_t kind, int32_t payload) {
    if (vec_reserve(&w->edge_target, 1) < 0 || vec_reserve(&w->edge_kind, 1) < 0
        || vec_reserve(&w->edge_payload, 1) < 0) {
        return -1;
    }
    size_t n = w->edge_target.len;
    VEC_AT(&w->edge_target, uint64_t, n) = (uint64_t)(uintptr_t)target;
    VEC_AT(&w->edge_kind, uint8_t, n) = kind;
    VEC_AT(&w->edge_payload, int32_t, n) = payload;
    w->edge_target.len = w->edge_kind.len = w->edge_payload.len = n + 1;
    /* Untracked referents become nodes (once); tracked ones are nodes already. */
    if (!PyObject_GC_IsTracked(target)) {
        uintptr_t a = (uintptr_t)target;
        if (aset_contains(&w->exclude, a)) {
            return 0;
        }
        int r = aset_add(&w->seen, a);
        if (r < 0) {
            return -1;
        }
        if (r) {
            if (vec_reserve(&w->nodes, 1) < 0) {
                return -1;
            }
            Py_INCREF(target);
            VEC_AT(&w->nodes, PyObject *, w->nodes.len++) = target;
        }
    }
    return 0;
}

/* Payload naming a dict key: repr of a str or int key (cut to key_repr_max), else -1. */
static int32_t key_payload(Walk *w, PyObject *key) {
    if (!PyUnicode_CheckExact(key) && !PyLong_CheckExact(key)) {
        return -1;
    }
    PyObject *cached = PyDict_GetItemWithError(w->key_cache, key);
    if (cached != NULL) {
        return (int32_t)PyLong_AsLong(cached);
    }
    if (PyErr_Occurred()) {
        return -2;
    }
    PyObject *text = PyObject_Repr(key);
    if (text == NULL) {
        return -2;
    }
    if (PyUnicode_GET_LENGTH(text) > w->key_repr_max) {
        PyObject *cut = PyUnicode_Substring(text, 0, w->key_repr_max);
        Py_DECREF(text);
        if (cut == NULL) {
            return -2;
        }
        text = PyUnicode_Concat(cut, ellipsis_text);
        Py_DECREF(cut);
        if (text == NULL) {
            return -2;
        }
    }
    int32_t p = string_payload(w, text);
    Py_DECREF(text);
    if (p < 0) {
        return -2;
    }
    PyObject *num = PyLong_FromLong(p);
    if (num == NULL || PyDict_SetItem(w->key_cache, key, num) < 0) {
        Py_XDECREF(num);
        return -2;
    }
    Py_DECREF(num);
    return p;
}

static int edges_dict(Walk *w, PyObject *d) {
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(d, &pos, &k, &v)) {
        int32_t p = key_payload(w, k);
        if (p == -2) {
            return -1;
        }
        if (emit(w, k, EDGE_DICT_KEY, p) < 0) {
            return -1;
        }
        if (emit(w, v, p < 0 ? EDGE_OTHER : EDGE_KEY, p) < 0) {
            return -1;
        }
    }
    return 0;
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

static int edges_instance(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
    w->cands.len = 0;
    if (add_cand(w, (PyObject *)tp, EDGE_ATTR, w->p_class) < 0) {
        return -1;
    }
    PyObject *dict, **values;
    Py_ssize_t nvalues;
    instance_storage(o, tp, &dict, &values, &nvalues);
    if (add_cand(w, dict, EDGE_ATTR, w->p_dict) < 0) {
        return -1;
    }
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
            if (i < named && entries[i].me_key != NULL && PyUnicode_Check(entries[i].me_key)) {
                p = string_payload(w, entries[i].me_key);
                if (p < 0) {
                    return -1;
                }
                kind = EDGE_ATTR;
            }
            if (add_cand(w, v, kind, p) < 0) {
                return -1;
            }
        }
    }
    for (Py_ssize_t m = 0; m < ti->nmembers; m++) {
        PyObject *v = *(PyObject **)((char *)o + ti->member_offset[m]);
        if (add_cand(w, v, EDGE_ATTR, ti->member_payload[m]) < 0) {
            return -1;
        }
    }
    w->refs.len = 0;
    if (tp->tp_traverse(o, walk_visit, &w->refs) < 0) {
        return -1;
    }
    size_t nc = w->cands.len, at = 0;
    Cand *cands = (Cand *)w->cands.data;
    for (size_t r = 0; r < w->refs.len; r++) {
        PyObject *ref = VEC_AT(&w->refs, PyObject *, r);
        uint8_t kind = EDGE_OTHER;
        int32_t payload = -1;
        for (size_t k = 0; k < nc; k++) {
            Cand *c = &cands[(at + k) % nc];
            if (!c->used && c->obj == ref) {
                c->used = 1;
                kind = c->kind;
                payload = c->payload;
                at = (at + k + 1) % nc;
                break;
            }
        }
        if (emit(w, ref, kind, payload) < 0) {
            return -1;
        }
    }
    return 0;
}

static int edges_generic(Walk *w, PyObject *o, PyTypeObject *tp) {
    w->refs.len = 0;
    if (!PyObject_IS_GC(o) || tp->tp_traverse == NULL) {
        return 0;
    }
    if (tp->tp_traverse(o, walk_visit, &w->refs) < 0) {
        return -1;
    }
    size_t n = w->refs.len;
    for (size_t i = 0; i < n; i++) {
        if (emit(w, VEC_AT(&w->refs, PyObject *, i), EDGE_OTHER, -1) < 0) {
            return -1;
        }
    }
    return 0;
}

static int edges_of(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
    switch (ti->label_kind) {
    case LAB_DICT:
        return edges_dict(w, o);
    case LAB_LIST: {
        /* Index the live list each step: it cannot change (no Python code runs). */
        Py_ssize_t n = PyList_GET_SIZE(o);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = PyList_GET_ITEM(o, i);
            if (item != NULL && emit(w, item, EDGE_INDEX, (int32_t)i) < 0) {
                return -1;
            }
        }
        return 0;
    }
    case LAB_TUPLE: {
        Py_ssize_t n = PyTuple_GET_SIZE(o);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = PyTuple_GET_ITEM(o, i);
            if (item != NULL && emit(w, item, EDGE_INDEX, (int32_t)i) < 0) {
                return -1;
            }
        }
        return 0;
    }
    case LAB_SET: {
        w->refs.len = 0;
        if (tp->tp_traverse(o, walk_visit, &w->refs) < 0) {
            return -1;
        }
        size_t n = w->refs.len;
        for (size_t i = 0; i < n; i++) {
            if (emit(w, VEC_AT(&w->refs, PyObject *, i), EDGE_MEMBER, -1) < 0) {
                return -1;
            }
        }
        return 0;
    }
    case LAB_CELL: {
        PyObject *c = PyCell_GET(o);
        if (c != NULL && emit(w, c, EDGE_CELL, -1) < 0) {
            return -1;
        }
        return 0;
    }
    case LAB_INSTANCE:
        return edges_instance(w, o, tp, ti);
    default:
        return edges_generic(w, o, tp);
    }
}

/* ------------------------------------------------------------------ the walk */
static void walk_clear(Walk *w) {
    /* Release the strong references taken on untracked nodes. */
    for (size_t i = (size_t)w->n_tracked; i < w->nodes.len; i++) {
        Py_DECREF(VEC_AT(&w->nodes, PyObject *, i));
    }
    vec_free(&w->nodes);
    vec_free(&w->type_id);
    vec_free(&w->size);
    vec_free(&w->length);
    vec_free(&w->flags);
    vec_free(&w->edge_count);
    vec_free(&w->edge_target);
    vec_free(&w->edge_kind);
    vec_free(&w->edge_payload);
    vec_free(&w->refs);
    vec_free(&w->cands);
    vec_free(&w->deferred);
    aset_free(&w->seen);
    aset_free(&w->exclude);
    for (size_t t = 0; t < w->ntypes; t++) {
        PyMem_RawFree(w->types[t].member_offset);
        PyMem_RawFree(w->types[t].member_payload);
    }
    PyMem_RawFree(w->types);
    PyMem_RawFree(w->type_slots);
    w->types = NULL;
    w->type_slots = NULL;
    Py_CLEAR(w->type_list);
    Py_CLEAR(w->string_index);
    Py_CLEAR(w->strings);
    Py_CLEAR(w->key_cache);
}

static int walk_run(Walk *w) {
    for (size_t i = 0; i < w->nodes.len; i++) {
        PyObject *o = VEC_AT(&w->nodes, PyObject *, i);
        PyTypeObject *tp = Py_TYPE(o);
        TypeInfo *ti = type_info(w, tp);
        if (ti == NULL) {
            return -1;
        }
        if (vec_reserve(&w->type_id, 1) < 0 || vec_reserve(&w->size, 1) < 0
            || vec_reserve(&w->length, 1) < 0 || vec_reserve(&w->flags, 1) < 0
            || vec_reserve(&w->edge_count, 1) < 0) {
            return -1;
        }
        VEC_AT(&w->type_id, uint32_t, i) = ti->index;
        VEC_AT(&w->size, uint64_t, i) = (uint64_t)shallow_size(o, tp, ti);
        VEC_AT(&w->length, int64_t, i) = length_of(o, tp);
        VEC_AT(&w->flags, uint8_t, i) = i < (size_t)w->n_tracked ? NODE_GC_TRACKED : 0;
        w->type_id.len = w->size.len = w->length.len = w->flags.len = i + 1;
        size_t first = w->edge_target.len;
        if (ti->deferred) {
            if (vec_reserve(&w->deferred, 2) < 0) {
                return -1;
            }
            VEC_AT(&w->deferred, int64_t, w->deferred.len++) = (int64_t)i;
            VEC_AT(&w->deferred, int64_t, w->deferred.len++) = (int64_t)first;
        }
        if (edges_of(w, o, tp, ti) < 0) {
            return -1;
        }
        VEC_AT(&w->edge_count, uint32_t, i) = (uint32_t)(w->edge_target.len - first);
        w->edge_count.len = i + 1;
    }
    return 0;
}

/* Copy a C column into a new array.array of typecode ``code`` and free the C column. */
static PyObject *column_to_array(PyObject *array_type, const char *code, Vec *v) {
    PyObject *arr = PyObject_CallFunction(array_type, "s", code);
    if (arr == NULL) {
        return NULL;
    }
    if (v->len) {
        PyObject *view = PyMemoryView_FromMemory(v->data, (Py_ssize_t)(v->len * v->item),
                                                 PyBUF_READ);
        if (view == NULL) {
            Py_DECREF(arr);
            return NULL;
        }
        PyObject *r = PyObject_CallMethod(arr, "frombytes", "O", view);
        Py_DECREF(view);
        if (r == NULL) {
            Py_DECREF(arr);
            return NULL;
        }
        Py_DECREF(r);
    }
    vec_free(v);
    return arr;
}

static PyObject *walk(PyObject *self, PyObject *args, PyObject *kwds) {
    (void)self;
    static char *kwlist[] = {"objects", "exclude", "key_repr_max", "defer_types", NULL};
    PyObject *objects, *exclude = Py_None, *defer_types = Py_None;
    Py_ssize_t key_repr_max = 60;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!|OnO", kwlist, &PyList_Type, &objects,
                                     &exclude, &key_repr_max, &defer_types)) {
        return NULL;
    }
    if (key_repr_max < 1) {
        PyErr_SetString(PyExc_ValueError, "key_repr_max must be positive");
        return NULL;
    }
    Walk w;
    memset(&w, 0, sizeof(w));
    vec_init(&w.nodes, sizeof(PyObject *));
    vec_init(&w.type_id, 4);
    vec_init(&w.size, 8);
    vec_init(&w.length, 8);
    vec_init(&w.flags, 1);
    vec_init(&w.edge_count, 4);
    vec_init(&w.edge_target, 8);
    vec_init(&w.edge_kind, 1);
    vec_init(&w.edge_payload, 4);
    vec_init(&w.refs, sizeof(PyObject *));
    vec_init(&w.cands, sizeof(Cand));
    vec_init(&w.deferred, 8);
    w.key_repr_max = key_repr_max;
    w.defer_types = defer_types == Py_None ? NULL : defer_types;
    if (w.defer_types != NULL && !PyAnySet_Check(w.defer_types)) {
        PyErr_SetString(PyExc_TypeError, "defer_types must be a set of types");
        return NULL;
    }

    PyObject *result = NULL, *array_mod = NULL, *array_type = NULL;
    PyObject *deferred_objs = NULL;
    Py_ssize_t n = PyList_GET_SIZE(objects);
    w.types_cap = 256;
    w.types = PyMem_RawMalloc(w.types_cap * sizeof(TypeInfo));
    w.type_slots = PyMem_RawCalloc(1024, sizeof(size_t));
    w.type_mask = 1023;
    w.type_list = PyList_New(0);
    w.string_index = PyDict_New();
    w.strings = PyList_New(0);
    w.key_cache = PyDict_New();
    if (w.types == NULL || w.type_slots == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (w.type_list == NULL || w.string_index == NULL || w.strings == NULL
        || w.key_cache == NULL) {
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
    }
    if (aset_init(&w.seen, (size_t)n) < 0 || aset_init(&w.exclude, 16) < 0) {
        goto done;
    }
    if (exclude != Py_None) {
        PyObject *it = PyObject_GetIter(exclude);
        if (it == NULL) {
            goto done;
        }
        PyObject *item;
        while ((item = PyIter_Next(it)) != NULL) {
            unsigned long long a = PyLong_AsUnsignedLongLong(item);
            Py_DECREF(item);
            if (a == (unsigned long long)-1 && PyErr_Occurred()) {
                break;
            }
            if (a != 0 && aset_add(&w.exclude, (uintptr_t)a) < 0) {
                break;
            }
        }
        Py_DECREF(it);
        if (PyErr_Occurred()) {
            goto done;
        }
    }
    /* The tracked nodes: the input list, minus excluded addresses.  The list keeps them
     * alive (its references are borrowed here); the list itself is never a node. */
    if (vec_reserve(&w.nodes, (size_t)n + (size_t)n / 2 + 1024) < 0) {
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = PyList_GET_ITEM(objects, i);
        if (!aset_contains(&w.exclude, (uintptr_t)o)) {
            VEC_AT(&w.nodes, PyObject *, w.nodes.len++) = o;
        }
    }
    w.n_tracked = (Py_ssize_t)w.nodes.len;
    /* Tracked objects met as referents are never re-added: mark the list's objects seen
     * only if they are untracked now (a tuple untracked since gc.get_objects()). */
    for (size_t i = 0; i < w.nodes.len; i++) {
        PyObject *o = VEC_AT(&w.nodes, PyObject *, i);
        if (!PyObject_GC_IsTracked(o) && aset_add(&w.seen, (uintptr_t)o) < 0) {
            goto done;
        }
    }
    aset_add(&w.exclude, (uintptr_t)objects);

    if (walk_run(&w) < 0) {
        goto done;
    }

    /* Objects the Python side relabels: a list of (object, node, first edge). */
    deferred_objs = PyList_New(0);
    if (deferred_objs == NULL) {
        goto done;
    }
    for (size_t j = 0; j < w.deferred.len; j += 2) {
        int64_t node = VEC_AT(&w.deferred, int64_t, j);
        int64_t first = VEC_AT(&w.deferred, int64_t, j + 1);
        PyObject *t = Py_BuildValue("(OLL)", VEC_AT(&w.nodes, PyObject *, node), (long long)node,
                                    (long long)first);
        if (t == NULL || PyList_Append(deferred_objs, t) < 0) {
            Py_XDECREF(t);
            goto done;
        }
        Py_DECREF(t);
    }

    array_mod = PyImport_ImportModule("array");
    if (array_mod == NULL) {
        goto done;
    }
    array_type = PyObject_GetAttrString(array_mod, "array");
    if (array_type == NULL) {
        goto done;
    }
    /* Node addresses replace the node pointers; the strong references taken on untracked
     * nodes are released in walk_clear, after the columns are built. */
    Vec addr;
    vec_init(&addr, 8);
    if (vec_reserve(&addr, w.nodes.len + 1) < 0) {
        goto done;
    }
    for (size_t i = 0; i < w.nodes.len; i++) {
        VEC_AT(&addr, uint64_t, i) = (uint64_t)(uintptr_t)VEC_AT(&w.nodes, PyObject *, i);
    }
    addr.len = w.nodes.len;
    result = PyDict_New();
    if (result == NULL) {
        vec_free(&addr);
        goto done;
    }
    struct {
        const char *name;
        const char *code;
        Vec *vec;
    } cols[] = {
        {"addr", "Q", &addr},
        {"type_index", "I", &w.type_id},
        {"size", "Q", &w.size},
        {"length", "q", &w.length},
        {"flags", "B", &w.flags},
        {"edge_count", "I", &w.edge_count},
        {"edge_target", "Q", &w.edge_target},
        {"edge_kind", "B", &w.edge_kind},
        {"edge_payload", "i", &w.edge_payload},
    };
    for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
        PyObject *arr = column_to_array(array_type, cols[c].code, cols[c].vec);
        if (arr == NULL || PyDict_SetItemString(result, cols[c].name, arr) < 0) {
            Py_XDECREF(arr);
            vec_free(&addr);
            Py_CLEAR(result);
            goto done;
        }
        Py_DECREF(arr);
    }
    if (PyDict_SetItemString(result, "types", w.type_list) < 0
        || PyDict_SetItemString(result, "strings", w.strings) < 0
        || PyDict_SetItemString(result, "deferred", deferred_objs) < 0) {
        Py_CLEAR(result);
    }

done:
    Py_XDECREF(deferred_objs);
    Py_XDECREF(array_type);
    Py_XDECREF(array_mod);
    walk_clear(&w);
    return result;
}

static PyMethodDef walk_methods[] = {
    {"walk", (PyCFunction)(void (*)(void))walk, METH_VARARGS | METH_KEYWORDS,
     "walk(objects, exclude=None, key_repr_max=60, defer_types=None) -> dict of columns"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef walk_module = {
    PyModuleDef_HEAD_INIT, "_walk", "Compiled heap walk for heaptui.capture.", -1, walk_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__walk(void) {
    /* A throwaway Python class tells which tp_traverse every Python class shares. */
    PyObject *probe = PyObject_CallFunction((PyObject *)&PyType_Type, "s()N", "_Probe",
                                            PyDict_New());
    if (probe == NULL) {
        return NULL;
    }
    subtype_traverse_ptr = ((PyTypeObject *)probe)->tp_traverse;
    Py_DECREF(probe);
    sizeof_name = PyUnicode_InternFromString("__sizeof__");
    ellipsis_text = PyUnicode_FromString("...");
    if (sizeof_name == NULL || ellipsis_text == NULL) {
        return NULL;
    }
    /* Static builtin types keep their namespace elsewhere on 3.12+: look it up. */
    object_sizeof_descr = _PyType_Lookup(&PyBaseObject_Type, sizeof_name);
    if (object_sizeof_descr == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "object.__sizeof__ not found");
        return NULL;
    }
    Py_INCREF(object_sizeof_descr);
    return PyModule_Create(&walk_module);
}
