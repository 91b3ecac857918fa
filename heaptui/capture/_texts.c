/* The C walk's safe short texts (heaptui.capture._walk): each node's text as saferepr makes
 * it, without running user code: short strings, ints and floats are written here straight into
 * the text bytes, other scalars by their C repr, functions and code by their names, and the
 * rest by the walker's own text functions. */
#include "_walk.h"
#include <math.h>

WALK_INTERNAL PyObject *ellipsis_char = NULL; /* "\u2026", what saferepr cuts texts with */
WALK_INTERNAL PyObject *question_mark = NULL; /* "?" */

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
WALK_INTERNAL PyObject *sliced_repr_text(PyObject *o, Py_ssize_t limit) {
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
    /* The repr of ``limit`` items (quotes included) is longer than ``limit``: always cut. */
    return cut_text(text, limit);
}

static Py_ssize_t format_ll(long long v, char *out);

/* Decimal text of an exact int that fits 64 bits (saferepr.int_text never cuts those) into
 * ``out`` (at least 21 bytes); returns its length, or -1 (no error set) if it does not fit. */
WALK_INTERNAL Py_ssize_t fast_int_text(PyObject *o, char *out) {
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
WALK_INTERNAL Py_ssize_t fast_str_text(PyObject *s, Py_ssize_t limit, char *out) {
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
WALK_INTERNAL Py_ssize_t fast_float_text(double x, char *out) {
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

/* The node's text as the walker makes it (new reference), or Py_None if it has none; the
 * cases append_text (_walk.h) writes itself (short str, 64-bit int, most floats) are not
 * repeated. */
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

/* append_text's general path (_walk.h): the text of a node the fast cases did not write,
 * made by node_text, appended to repr_blob as UTF-8. */
WALK_INTERNAL int append_node_text(Walk *w, PyObject *o, TypeInfo *ti) {
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
    return 0;
}
