/* heaptui.model.dominators_native: the compiled inner loops of heaptui.model.dominators.
 *
 * Provides four functions over flat 8-byte integer buffers (numpy int64/uint64 arrays):
 *   dominator_tree(offsets, targets, roots, idom_out, order_out) -> reached count
 *   reachable(offsets, targets, roots, mask_out)  (mask_out: uint8/bool, 1 = reached)
 *   subtree_sums(idom, order, count, values)    (values[p] += values[child], children first)
 *   ancestor_sums(idom, order, count, values)   (values[child] += values[p], parents first)
 * The dominator tree is computed with Lengauer-Tarjan (simple version: path compression, no
 * balancing), O(E log N), with every recursion of the textbook version written as a loop so a
 * linked list a million links long costs no stack. The GIL is released while the loops run so
 * a UI worker thread does not freeze the interface. A pure Python version of the same algorithm
 * lives in dominators_python.py and the tests check both against a brute-force answer.
 * Only the stable C API and the buffer protocol are used: no numpy headers at build time.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NONE (-1)

/* Acquire ``count`` buffers (8-byte integers, or 1-byte when itemsize[i] == 1), releasing
 * those already taken if one fails. */
static int
get_buffers(PyObject *const *objs, Py_buffer *views, const int *writable, const int *itemsize,
            const char *const *names, int count)
{
    for (int i = 0; i < count; i++) {
        int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable[i] ? PyBUF_WRITABLE : 0);
        int ok = PyObject_GetBuffer(objs[i], &views[i], flags) == 0;
        if (ok) {
            const char *fmt = views[i].format ? views[i].format : "B";
            if (*fmt == '<' || *fmt == '=' || *fmt == '@') {
                fmt++;
            }
            const char *allowed = itemsize[i] == 8 ? "qQlL" : "?bB";
            ok = views[i].itemsize == itemsize[i] && views[i].ndim == 1 && *fmt &&
                 strchr(allowed, *fmt) != NULL && !fmt[1];
            if (!ok) {
                PyErr_Format(PyExc_TypeError, "%s must be a 1-d %s array", names[i],
                             itemsize[i] == 8 ? "int64/uint64" : "bool/uint8");
                PyBuffer_Release(&views[i]);
            }
        }
        if (!ok) {
            while (i-- > 0) {
                PyBuffer_Release(&views[i]);
            }
            return -1;
        }
    }
    return 0;
}

static void
release_buffers(Py_buffer *views, int count)
{
    for (int i = 0; i < count; i++) {
        PyBuffer_Release(&views[i]);
    }
}

/* eval(v) of Lengauer-Tarjan: the vertex with the smallest semidominator on v's path in the
 * linked forest, compressing that path on the way (a loop: paths can be a million long). */
static inline int32_t
eval_compress(int32_t v, int32_t *ancestor, int32_t *label, const int32_t *semi, int32_t *path)
{
    if (ancestor[v] == NONE) {
        return v;
    }
    Py_ssize_t depth = 0;
    int32_t x = v;
    while (ancestor[ancestor[x]] != NONE) {
        path[depth++] = x;
        x = ancestor[x];
    }
    while (depth > 0) {
        x = path[--depth];
        int32_t anc = ancestor[x];
        if (semi[label[anc]] < semi[label[x]]) {
            label[x] = label[anc];
        }
        ancestor[x] = ancestor[anc];
    }
    return label[v];
}

typedef struct {
    Py_ssize_t n_nodes;
    const int64_t *offsets, *targets, *roots;
    Py_ssize_t n_roots;
    int64_t *idom_out, *order_out;
} tree_args;

/* Returns the number of reached nodes, -1 on invalid input, -2 when out of memory. */
static Py_ssize_t
compute_dominator_tree(const tree_args *a)
{
    const Py_ssize_t N = a->n_nodes;
    const int64_t *off = a->offsets, *tgt = a->targets;
    const int64_t E = off[N];
    Py_ssize_t result = -2;

    /* Validate the CSR first so the loops below never index out of bounds. */
    if (off[0] != 0) {
        return -1;
    }
    for (Py_ssize_t v = 0; v < N; v++) {
        if (off[v + 1] < off[v]) {
            return -1;
        }
    }
    for (int64_t e = 0; e < E; e++) {
        if (tgt[e] < 0 || tgt[e] >= N) {
            return -1;
        }
    }
    for (Py_ssize_t r = 0; r < a->n_roots; r++) {
        if (a->roots[r] < 0 || a->roots[r] >= N) {
            return -1;
        }
    }

    /* Node-indexed arrays, then arrays indexed by DFS number (0 = the virtual root). */
    int32_t *dfnum = malloc(sizeof(int32_t) * (size_t)(N + 1));
    uint8_t *is_root = calloc((size_t)N + 1, 1);
    int32_t *vertex = malloc(sizeof(int32_t) * (size_t)(N + 1));
    int32_t *parent = malloc(sizeof(int32_t) * (size_t)(N + 1));
    int32_t *semi = malloc(sizeof(int32_t) * (size_t)(N + 1));
    int32_t *idom = malloc(sizeof(int32_t) * (size_t)(N + 1));
    int32_t *ancestor = malloc(sizeof(int32_t) * (size_t)(N + 1));
    int32_t *label = malloc(sizeof(int32_t) * (size_t)(N + 1));
    int32_t *bucket = malloc(sizeof(int32_t) * (size_t)(N + 1));
    int32_t *next_in_bucket = malloc(sizeof(int32_t) * (size_t)(N + 1));
    int32_t *stack = malloc(sizeof(int32_t) * (size_t)(N + 1));
    int64_t *cursor = malloc(sizeof(int64_t) * (size_t)(N + 1));
    int64_t *rev_off = NULL;
    int32_t *rev_src = NULL;
    if (!dfnum || !is_root || !vertex || !parent || !semi || !idom || !ancestor || !label ||
        !bucket || !next_in_bucket || !stack || !cursor) {
        goto done;
    }

    /* 1. Iterative depth-first search from the virtual root; its children are the roots. */
    for (Py_ssize_t v = 0; v < N; v++) {
        dfnum[v] = NONE;
    }
    int32_t n = 0;
    vertex[0] = NONE;
    parent[0] = NONE;
    for (Py_ssize_t r = 0; r < a->n_roots; r++) {
        int32_t root = (int32_t)a->roots[r];
        is_root[root] = 1;
        if (dfnum[root] != NONE) {
            continue;
        }
        dfnum[root] = ++n;
        vertex[n] = root;
        parent[n] = 0;
        Py_ssize_t sp = 0;
        stack[sp] = root;
        cursor[sp] = off[root];
        sp++;
        while (sp > 0) {
            int32_t top = stack[sp - 1];
            int64_t c = cursor[sp - 1];
            if (c < off[top + 1]) {
                cursor[sp - 1] = c + 1;
                int32_t t = (int32_t)tgt[c];
                if (dfnum[t] == NONE) {
                    dfnum[t] = ++n;
                    vertex[n] = t;
                    parent[n] = dfnum[top];
                    stack[sp] = t;
                    cursor[sp] = off[t];
                    sp++;
                }
            }
            else {
                sp--;
            }
        }
    }

    /* 2. Predecessors by DFS number (reached sources only), so step 3 reads them in order. */
    rev_off = calloc((size_t)n + 2, sizeof(int64_t));
    if (!rev_off) {
        goto done;
    }
    for (Py_ssize_t v = 0; v < N; v++) {
        if (dfnum[v] == NONE) {
            continue;
        }
        for (int64_t e = off[v]; e < off[v + 1]; e++) {
            rev_off[dfnum[tgt[e]] + 1]++;
        }
    }
    for (int32_t w = 0; w <= n; w++) {
        rev_off[w + 1] += rev_off[w];
    }
    rev_src = malloc(sizeof(int32_t) * (size_t)(rev_off[n + 1] > 0 ? rev_off[n + 1] : 1));
    if (!rev_src) {
        goto done;
    }
    for (Py_ssize_t v = 0; v < N; v++) {
        if (dfnum[v] == NONE) {
            continue;
        }
        for (int64_t e = off[v]; e < off[v + 1]; e++) {
            rev_src[rev_off[dfnum[tgt[e]]]++] = dfnum[v];
        }
    }
    for (int32_t w = n + 1; w > 0; w--) {
        rev_off[w] = rev_off[w - 1];
    }
    rev_off[0] = 0;

    /* 3. Semidominators in reverse DFS order, with implicit idoms from the buckets. */
    for (int32_t w = 0; w <= n; w++) {
        semi[w] = w;
        label[w] = w;
        ancestor[w] = NONE;
        bucket[w] = NONE;
        idom[w] = 0;
    }
    int32_t *path = stack; /* the DFS stack is free now: reuse it for path compression */
    for (int32_t w = n; w >= 1; w--) {
        int32_t node = vertex[w];
        if (is_root[node]) {
            semi[w] = 0;
        }
        for (int64_t e = rev_off[w]; e < rev_off[w + 1]; e++) {
            int32_t u = eval_compress(rev_src[e], ancestor, label, semi, path);
            if (semi[u] < semi[w]) {
                semi[w] = semi[u];
            }
        }
        next_in_bucket[w] = bucket[semi[w]];
        bucket[semi[w]] = w;
        int32_t p = parent[w];
        ancestor[w] = p;
        for (int32_t v = bucket[p]; v != NONE; v = next_in_bucket[v]) {
            int32_t u = eval_compress(v, ancestor, label, semi, path);
            idom[v] = semi[u] < semi[v] ? u : p;
        }
        bucket[p] = NONE;
    }

    /* 4. Explicit idoms in DFS order, then back to node positions. */
    for (int32_t w = 1; w <= n; w++) {
        if (idom[w] != semi[w]) {
            idom[w] = idom[idom[w]];
        }
    }
    for (Py_ssize_t v = 0; v < N; v++) {
        a->idom_out[v] = -2;
    }
    for (int32_t w = 1; w <= n; w++) {
        a->idom_out[vertex[w]] = idom[w] == 0 ? -1 : vertex[idom[w]];
        a->order_out[w - 1] = vertex[w];
    }
    for (Py_ssize_t i = n; i < N; i++) {
        a->order_out[i] = -1;
    }
    result = n;

done:
    free(dfnum);
    free(is_root);
    free(vertex);
    free(parent);
    free(semi);
    free(idom);
    free(ancestor);
    free(label);
    free(bucket);
    free(next_in_bucket);
    free(stack);
    free(cursor);
    free(rev_off);
    free(rev_src);
    return result;
}

static PyObject *
dominator_tree(PyObject *self, PyObject *args)
{
    PyObject *objs[5];
    if (!PyArg_ParseTuple(args, "OOOOO:dominator_tree", &objs[0], &objs[1], &objs[2], &objs[3],
                          &objs[4])) {
        return NULL;
    }
    static const int writable[5] = {0, 0, 0, 1, 1}, itemsize[5] = {8, 8, 8, 8, 8};
    static const char *const names[5] = {"offsets", "targets", "roots", "idom_out", "order_out"};
    Py_buffer b[5];
    if (get_buffers(objs, b, writable, itemsize, names, 5) < 0) {
        return NULL;
    }
    Py_ssize_t n_nodes = b[0].len / 8 - 1;
    Py_ssize_t reached = -1;
    if (n_nodes < 0 || n_nodes >= INT32_MAX || b[3].len / 8 != n_nodes ||
        b[4].len / 8 != n_nodes || ((const int64_t *)b[0].buf)[n_nodes] != b[1].len / 8) {
        PyErr_SetString(PyExc_ValueError, "inconsistent array lengths");
    }
    else {
        tree_args a = {n_nodes,        b[0].buf, b[1].buf, b[2].buf, b[2].len / 8,
                       (int64_t *)b[3].buf, (int64_t *)b[4].buf};
        Py_BEGIN_ALLOW_THREADS
        reached = compute_dominator_tree(&a);
        Py_END_ALLOW_THREADS
        if (reached == -1) {
            PyErr_SetString(PyExc_ValueError, "offsets, targets or roots out of range");
        }
        else if (reached == -2) {
            PyErr_NoMemory();
        }
    }
    release_buffers(b, 5);
    if (reached < 0) {
        return NULL;
    }
    return PyLong_FromSsize_t(reached);
}

/* reachable(offsets, targets, roots, mask_out): mask_out[v] = 1 if a root reaches v, else 0.
 * Cheaper than a full dominator tree; used to find garbage before the one real computation. */
static PyObject *
reachable(PyObject *self, PyObject *args)
{
    PyObject *objs[4];
    if (!PyArg_ParseTuple(args, "OOOO:reachable", &objs[0], &objs[1], &objs[2], &objs[3])) {
        return NULL;
    }
    static const int writable[4] = {0, 0, 0, 1}, itemsize[4] = {8, 8, 8, 1};
    static const char *const names[4] = {"offsets", "targets", "roots", "mask_out"};
    Py_buffer b[4];
    if (get_buffers(objs, b, writable, itemsize, names, 4) < 0) {
        return NULL;
    }
    Py_buffer off = b[0], tgt = b[1], roots = b[2], mask = b[3];
    const Py_ssize_t N = off.len / 8 - 1;
    const int64_t *o = off.buf, *t = tgt.buf, *r = roots.buf;
    uint8_t *seen = mask.buf;
    int bad = N < 0 || mask.len != N || o[0] != 0 || o[N] != tgt.len / 8;
    int64_t *stack = bad ? NULL : malloc(sizeof(int64_t) * (size_t)(N + 1));
    if (!bad && !stack) {
        bad = 2;
    }
    if (!bad) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t v = 0; v < N && !bad; v++) {
            bad = o[v + 1] < o[v];
        }
        for (int64_t e = 0; e < o[N] && !bad; e++) {
            bad = t[e] < 0 || t[e] >= N;
        }
        memset(seen, 0, (size_t)N);
        Py_ssize_t sp = 0;
        for (Py_ssize_t i = 0; i < roots.len / 8 && !bad; i++) {
            if (r[i] < 0 || r[i] >= N) {
                bad = 1;
            }
            else if (!seen[r[i]]) {
                seen[r[i]] = 1;
                stack[sp++] = r[i];
            }
            while (sp > 0 && !bad) {
                int64_t v = stack[--sp];
                for (int64_t e = o[v]; e < o[v + 1]; e++) {
                    if (!seen[t[e]]) {
                        seen[t[e]] = 1;
                        stack[sp++] = t[e];
                    }
                }
            }
        }
        Py_END_ALLOW_THREADS
    }
    free(stack);
    release_buffers(b, 4);
    if (bad == 2) {
        return PyErr_NoMemory();
    }
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "offsets, targets or roots out of range");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* Shared body of subtree_sums / ancestor_sums: children_first picks the direction. */
static PyObject *
tree_sums(PyObject *args, int children_first)
{
    PyObject *objs[3];
    Py_ssize_t count;
    if (!PyArg_ParseTuple(args, "OOnO", &objs[0], &objs[1], &count, &objs[2])) {
        return NULL;
    }
    static const int writable[3] = {0, 0, 1}, itemsize[3] = {8, 8, 8};
    static const char *const names[3] = {"idom", "order", "values"};
    Py_buffer b[3];
    if (get_buffers(objs, b, writable, itemsize, names, 3) < 0) {
        return NULL;
    }
    Py_buffer idom = b[0], order = b[1], values = b[2];
    const Py_ssize_t N = idom.len / 8;
    int bad = values.len / 8 != N || count < 0 || count > order.len / 8;
    if (!bad) {
        const int64_t *dom = idom.buf, *ord = order.buf;
        uint64_t *val = values.buf;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < count && !bad; i++) {
            int64_t v = ord[i];
            bad = v < 0 || v >= N || dom[v] >= N;
        }
        if (!bad && children_first) {
            for (Py_ssize_t i = count - 1; i >= 0; i--) {
                int64_t v = ord[i], p = dom[v];
                if (p >= 0) {
                    val[p] += val[v];
                }
            }
        }
        else if (!bad) {
            for (Py_ssize_t i = 0; i < count; i++) {
                int64_t v = ord[i], p = dom[v];
                if (p >= 0) {
                    val[v] += val[p];
                }
            }
        }
        Py_END_ALLOW_THREADS
    }
    release_buffers(b, 3);
    if (bad) {
        PyErr_SetString(PyExc_ValueError, "inconsistent idom, order or values");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
subtree_sums(PyObject *self, PyObject *args)
{
    return tree_sums(args, 1);
}

static PyObject *
ancestor_sums(PyObject *self, PyObject *args)
{
    return tree_sums(args, 0);
}

static PyMethodDef methods[] = {
    {"dominator_tree", dominator_tree, METH_VARARGS,
     "dominator_tree(offsets, targets, roots, idom_out, order_out) -> reached count"},
    {"reachable", reachable, METH_VARARGS,
     "reachable(offsets, targets, roots, mask_out): 1 where a root reaches the node"},
    {"subtree_sums", subtree_sums, METH_VARARGS,
     "subtree_sums(idom, order, count, values): add each node's value into its parent's, "
     "children first"},
    {"ancestor_sums", ancestor_sums, METH_VARARGS,
     "ancestor_sums(idom, order, count, values): add each parent's value into its "
     "children's, parents first"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "heaptui.model.dominators_native",
    "Compiled inner loops of heaptui.model.dominators.", -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit_dominators_native(void)
{
    return PyModule_Create(&module);
}
