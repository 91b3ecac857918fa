/* The C walk's references (heaptui.capture._walk): each node's referents, in the order the
 * walker reports them, with their labels (edge kind and payload): list and tuple positions,
 * dict keys rendered into the string table, set members, cell contents, closure variables, the
 * attributes of instances and functions.  C extension types and what the walker's Python code
 * labels are in _foreign.c. */
#include "_walk.h"

WALK_INTERNAL int walk_visit(PyObject *o, void *arg) {
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
WALK_INTERNAL int register_closures(Walk *w, PyObject *objects) {
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

/* ---- instances of Python classes: attributes matched to referents by identity ---- */
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

/* Without materialising anything: the instance's own dict (or NULL), and its 3.11+ inline
 * values with their count (or NULL). */
WALK_INTERNAL void instance_storage(PyObject *o, PyTypeObject *tp, PyObject **dict,
                                    PyObject ***values, Py_ssize_t *nvalues) {
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
WALK_INTERNAL int emit_matched(Walk *w, PyObject *o, PyTypeObject *tp) {
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

/* edges_of's other label kinds (_walk.h does leaves and lists). */
WALK_INTERNAL int edges_by_kind(Walk *w, PyObject *o, PyTypeObject *tp, TypeInfo *ti) {
    switch (ti->label_kind) {
    case LAB_DICT:
        return edges_dict(w, o);
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
