/* The C walk's type facts (heaptui.capture._walk): for each type met, once, what the walker
 * says of it (on_type) and what is read here: how its size is taken, how it is labelled, how its
 * text and length are made; kept in a table looked up by the type's address. */
#include "_walk.h"
#include <structmember.h>

WALK_INTERNAL PyObject *object_sizeof_descr = NULL; /* object.__sizeof__ */
WALK_INTERNAL traverseproc subtype_traverse_ptr = NULL; /* tp_traverse of every Python class */
WALK_INTERNAL PyObject *sizeof_name = NULL;         /* interned "__sizeof__" */
WALK_INTERNAL PyTypeObject *deque_type = NULL;      /* collections.deque */
WALK_INTERNAL size_t static_type_presize = 0;       /* what sys.getsizeof adds for a static type */
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

WALK_INTERNAL void typeinfo_free(TypeInfo *ti) {
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

/* A type not met yet: its facts go to the table, at ``slot`` (where type_info's look-up
 * stopped); NULL on error. */
WALK_INTERNAL TypeInfo *type_info_add(Walk *w, PyTypeObject *tp, size_t slot) {
    size_t i = slot;
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
