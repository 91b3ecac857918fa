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
 *
 * This file is the walk and the module; the rest is split by job: _walk.h (what the files
 * share, and the hot helpers inlined into each), _addrset.h (address sets), _columns.c (the
 * output columns), _typeinfo.c (per-type facts), _texts.c (safe short texts), _edges.c
 * (references and their labels), _foreign.c (C extension types, the walker's Python labellers,
 * the program's errors), _strtab.c (the string table), _frames.c (fast locals).
 */
#include "_walk.h"
#include "_frames.h"

/* The attributes the walker names on a function (naming.FUNCTION_ATTRS), in its order. */
static const char *const func_attr_names[FUNC_ATTR_COUNT] = {
    "__code__", "__globals__", "__builtins__", "__defaults__", "__kwdefaults__", "__closure__",
    "__name__", "__qualname__", "__module__", "__doc__", "__type_params__",
};

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
