/* Sets of addresses for the C walk, header-only (every function static inline): a hash set
 * (the excluded addresses), a bitmap of address space in chunks (the walk's nodes) and an
 * address -> value map (rendered keys, names, closures).  No Python object is held: the memory
 * is PyMem_Raw's, and only addresses are stored. */
#ifndef HEAPTUI_ADDRSET_H
#define HEAPTUI_ADDRSET_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* ------------------------------------------------------------------ address set */
typedef struct {
    uintptr_t *slots;
    size_t mask;
    size_t used;
} AddrSet;

static inline int aset_init(AddrSet *s, size_t hint) {
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

static inline void aset_free(AddrSet *s) {
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

static inline int aset_grow(AddrSet *s) {
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

static inline int abits_init(AddrBits *b) {
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

static inline void abits_free(AddrBits *b) {
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

static inline size_t abits_bytes(const AddrBits *b) {
    return b->used * CHUNK_WORDS * sizeof(uint64_t) + (b->mask + 1) * sizeof(ChunkEntry);
}

/* The bitmap of ``chunk`` (address >> CHUNK_SHIFT, plus one), created if ``create``. */
static inline uint64_t *abits_chunk(AddrBits *b, uintptr_t chunk, int create) {
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

static inline int amap_init(AddrMap *m) {
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

static inline void amap_free(AddrMap *m) {
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

static inline int amap_put(AddrMap *m, uintptr_t a, int64_t value) {
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

#endif
