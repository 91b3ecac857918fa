/* Growable arrays of fixed-size items, for the C walk and its string table (PyMem_Raw memory;
 * they hold no Python objects). */
#ifndef HEAPTUI_VEC_H
#define HEAPTUI_VEC_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct {
    char *data;
    size_t len;   /* elements */
    size_t cap;   /* elements */
    size_t item;  /* bytes per element */
} Vec;

static inline void vec_init(Vec *v, size_t item) {
    v->data = NULL;
    v->len = 0;
    v->cap = 0;
    v->item = item;
}

static inline void vec_free(Vec *v) {
    PyMem_RawFree(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}

static inline int vec_reserve(Vec *v, size_t extra) {
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

#endif
