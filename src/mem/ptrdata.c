// ptrdata.c: gort_alloc_ptrs, objects whose pointers all lie in a prefix.
//
// See malloc.h, "Partial scans", for the design. In short: an object from
// gort_alloc_ptrs(size, ptr_bytes) is an ordinary scanned object (same span
// classes, same fast path) whose span then remembers how far to scan it:
//   large (> 32 KiB): Span.large_ptr_bytes, written before the object is
//     returned;
//   small: Span.ptr_words, an off-heap table of one uint32 per slot (the
//     number of words to scan, 0 = the whole slot), taken from a FixAlloc
//     the first time such an object lands in the span, after which
//     scan_kind becomes SCAN_TABLE.
// The collector looks at these only when scan_kind != SCAN_SLOT, the test
// that used to tell large objects from small ones, so gort_alloc and
// gort_alloc_noscan pay nothing.
//
// Races: an entry is written only by the allocator of its object (after
// the allocation, the object unpublished), or zeroed by the sweeper when
// the slot is freed; a concurrent marker may read an entry as it is
// written. The table is installed by compare-and-swap (the span may have
// changed hands between the allocation and the install). An entry reads 0
// (whole slot) until it is set, and a stale 0 only makes the marker scan
// more, which is always safe. The table pointer is published with a release
// store before scan_kind changes; rt_span_scan_len loads it with acquire and
// treats NULL as "whole slot". Sweeping (the sweeper owns the span) zeroes
// the entries of freed slots, so a slot reused by gort_alloc is scanned
// whole; rt_mheap_free returns the table.
#include "mem/malloc.h"

static Lock table_lock;      // guards table_alloc; only persist.lock below it (docs/locking.md)
static FixAlloc table_alloc; // [lock: table_lock] MAX_OBJS_PER_SPAN uint32 entries a block
static bool table_inited;    // [lock: table_lock]

enum { TABLE_BYTES = MAX_OBJS_PER_SPAN * sizeof(uint32_t) };

static uint32_t *
table_new(void)
{
    rt_lock(&table_lock);
    if (!table_inited) {
        rt_fixalloc_init(&table_alloc, TABLE_BYTES);
        table_inited = true;
    }
    uint32_t *t = rt_fixalloc_alloc(&table_alloc); // zeroed: every slot scanned whole
    rt_unlock(&table_lock);
    return t;
}

void
rt_span_ptrdata_free(Span *s)
{
    uint32_t *t = atomic_load_explicit(&s->ptr_words, memory_order_relaxed);
    if (t == NULL)
        return;
    atomic_store_explicit(&s->ptr_words, NULL, memory_order_relaxed);
    rt_lock(&table_lock);
    rt_fixalloc_free(&table_alloc, t);
    rt_unlock(&table_lock);
}

void
rt_span_ptrdata_sweep(Span *s)
{
    uint32_t *t = atomic_load_explicit(&s->ptr_words, memory_order_relaxed);
    if (t == NULL)
        return;
    const uint8_t *ab = s->alloc_bits;
    for (uint32_t i = 0; i < s->nelems; i++)
        if (!(ab[i / 8] & (1u << (i % 8))))
            t[i] = 0;
}

uintptr_t
rt_span_scan_len(const Span *s, uint32_t idx, uintptr_t base)
{
    if (s->scan_kind == SCAN_LARGE) {
        uintptr_t all = s->limit - base;
        uintptr_t n = s->large_ptr_bytes;
        return n != 0 && n < all ? n : all;
    }
    const uint32_t *t = atomic_load_explicit(&((Span *)s)->ptr_words, memory_order_acquire);
    uint32_t words = t != NULL ? __atomic_load_n(&t[idx], __ATOMIC_RELAXED) : 0;
    return words != 0 ? (uintptr_t)words * sizeof(uintptr_t) : s->elemsize;
}

// Records that the object x of span s holds pointers only in its first
// ptr_bytes (rounded up to words, below the slot size).
static void
record(Span *s, uintptr_t x, uintptr_t ptr_bytes)
{
    if (s->divmagic == 0) {
        s->large_ptr_bytes = ptr_bytes;
        return;
    }
    uint32_t *t = atomic_load_explicit(&s->ptr_words, memory_order_acquire);
    if (t == NULL) {
        // Usually the span's owner, but the span may have changed hands
        // since the allocation (a collection flushed the MCaches): two
        // installers race, the loser returns its table.
        uint32_t *fresh = table_new(), *none = NULL;
        if (atomic_compare_exchange_strong_explicit(&s->ptr_words, &none, fresh,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            t = fresh;
        } else {
            t = none;
            rt_lock(&table_lock);
            rt_fixalloc_free(&table_alloc, fresh);
            rt_unlock(&table_lock);
        }
        __atomic_store_n(&s->scan_kind, (uint8_t)SCAN_TABLE, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&t[rt_span_obj_index(s, x)], (uint32_t)(ptr_bytes / sizeof(uintptr_t)),
                     __ATOMIC_RELAXED);
}

void *
gort_alloc_ptrs(size_t size, size_t ptr_bytes)
{
    if (rt_unlikely(ptr_bytes > size))
        rt_panic("gort_alloc_ptrs: ptr_bytes %lu out of range [0:%lu]", (unsigned long)ptr_bytes,
                 (unsigned long)size);
    if (ptr_bytes == 0)
        return rt_mallocgc(size, RT_NOSCAN);
    uintptr_t words = ((uintptr_t)ptr_bytes + sizeof(uintptr_t) - 1) / sizeof(uintptr_t);
    void *x = rt_mallocgc(size, 0);
    if (words * sizeof(uintptr_t) >= size || words > UINT32_MAX)
        return x; // nothing to leave out: an ordinary object
    // x is live in this frame (the collector is conservative), so its span
    // stays in use; only x's own entry is written here.
    record(rt_span_of((uintptr_t)x), (uintptr_t)x, words * sizeof(uintptr_t));
    return x;
}
