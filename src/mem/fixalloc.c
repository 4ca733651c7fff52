// fixalloc.c: off-heap memory for the runtime's own structures.
//
// See malloc.h. Three layers, none of which calls malloc:
//
//   rt_persistentalloc(size, align)  bump allocation from 256 KiB chunks
//       mapped with rt_os_map; requests over 64 KiB get their own mapping.
//       Never freed. Memory is zero (fresh mappings). Guarded by persist.lock.
//   FixAlloc  a free list of fixed-size blocks carved from persistent
//       chunks (Spans, MCaches, specials). Not locked: its owner's lock guards
//       it. Freed blocks are reused, never returned to the OS.
//   gcbits    alloc/mark bitmaps for spans: free lists per size (8..128
//       bytes in steps of 8), own leaf lock, blocks zeroed on reuse.
#include "mem/malloc.h"

#include <string.h>

enum {
    PERSISTENT_CHUNK = 256 << 10,
    PERSISTENT_MAX_BLOCK = 64 << 10,
    FIXALLOC_CHUNK = 16 << 10,
    GCBITS_MAX = MAX_OBJS_PER_SPAN / 8, // bytes for the largest slot count
};

static struct {
    Lock lock;            // guards the fields below
    uintptr_t base;       // [lock] current chunk
    uintptr_t off;        // [lock] bytes used in it
    _Atomic uint64_t sys; // [atomic] bytes mapped in all
} persist;

void *
rt_persistentalloc(size_t size, size_t align)
{
    if (align == 0)
        align = 8;
    if (rt_unlikely((align & (align - 1)) != 0 || align > 4096))
        rt_throw("persistentalloc: bad align");
    if (size == 0)
        size = 1;
    if (size >= PERSISTENT_MAX_BLOCK) {
        size_t n = (size + 4095) & ~(size_t)4095;
        void *p = rt_os_map(n);
        if (p == NULL)
            rt_throw("persistentalloc: out of memory");
        atomic_fetch_add_explicit(&persist.sys, n, memory_order_relaxed);
        return p;
    }
    rt_lock(&persist.lock);
    uintptr_t off = (persist.off + align - 1) & ~(uintptr_t)(align - 1);
    if (persist.base == 0 || off + size > PERSISTENT_CHUNK) {
        void *p = rt_os_map(PERSISTENT_CHUNK);
        if (p == NULL) {
            rt_unlock(&persist.lock);
            rt_throw("persistentalloc: out of memory");
        }
        atomic_fetch_add_explicit(&persist.sys, PERSISTENT_CHUNK, memory_order_relaxed);
        persist.base = (uintptr_t)p;
        off = 0;
    }
    void *r = (void *)(persist.base + off);
    persist.off = off + size;
    rt_unlock(&persist.lock);
    return r;
}

uint64_t
rt_persistent_sys(void)
{
    return atomic_load_explicit(&persist.sys, memory_order_relaxed);
}

// ---- FixAlloc ----------------------------------------------------------------

void
rt_fixalloc_init(FixAlloc *f, uintptr_t size)
{
    if (size < sizeof(void *))
        size = sizeof(void *);
    f->size = (size + 7) & ~(uintptr_t)7;
    f->list = NULL;
    f->chunk = 0;
    f->nchunk = 0;
    f->inuse = 0;
    f->sys = 0;
}

void *
rt_fixalloc_alloc(FixAlloc *f)
{
    void *v;
    if (f->list != NULL) {
        v = f->list;
        f->list = *(void **)v;
        memset(v, 0, f->size);
    } else {
        if (f->nchunk < f->size) {
            uintptr_t n = f->size > FIXALLOC_CHUNK ? f->size : FIXALLOC_CHUNK;
            f->chunk = (uintptr_t)rt_persistentalloc(n, RT_CACHE_LINE);
            f->nchunk = n;
            f->sys += n;
        }
        v = (void *)f->chunk; // fresh persistent memory is zero
        f->chunk += f->size;
        f->nchunk -= f->size;
    }
    f->inuse += f->size;
    return v;
}

void
rt_fixalloc_free(FixAlloc *f, void *p)
{
    f->inuse -= f->size;
    *(void **)p = f->list;
    f->list = p;
}

// ---- gcbits ---------------------------------------------------------------------

static struct {
    Lock lock;                      // leaf; guards free[]
    void *free[GCBITS_MAX / 8 + 1]; // [lock] free blocks by size / 8
} gcbits;

uint8_t *
rt_gcbits_alloc(uintptr_t nbytes)
{
    if (rt_unlikely(nbytes == 0 || nbytes % 8 != 0 || nbytes > GCBITS_MAX))
        rt_throw("gcbits: bad size");
    rt_lock(&gcbits.lock);
    void *v = gcbits.free[nbytes / 8];
    if (v != NULL) {
        gcbits.free[nbytes / 8] = *(void **)v;
        rt_unlock(&gcbits.lock);
        memset(v, 0, nbytes);
        return v;
    }
    rt_unlock(&gcbits.lock);
    return rt_persistentalloc(nbytes, 8);
}

void
rt_gcbits_free(uint8_t *b, uintptr_t nbytes)
{
    rt_lock(&gcbits.lock);
    *(void **)b = gcbits.free[nbytes / 8];
    gcbits.free[nbytes / 8] = b;
    rt_unlock(&gcbits.lock);
}
