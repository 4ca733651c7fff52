// malloc.c: rt_mallocgc, the allocator's entry, and the public gort_alloc.
//
// See malloc.h for the tiers and the path. The fast path runs on the
// current P's MCache with m->locks raised (a plain increment: the signal
// handler will not preempt an M with locks, and async preemption never
// stops runtime code anyway), takes no lock and does no atomic
// read-modify-write: size class lookup, the span's ctz over its inverted
// alloc-bits window, two statistics stores. Memory is cleared only where it
// may be dirty: span.needzero for small slots, the scav bits of the pages
// for large objects, explicitly for a fresh tiny block.
//
// An M without a P (sysmon, boot before the Ps exist, a thread gort did not
// start) uses one global MCache under global_mcache_lock.
//
// The collector's trigger is checked where heap_live grows (a refill in
// mcache.c, a large object here); crossing it sets rt_gc_malloc_hook, which
// mallocgc tests with one relaxed load after releasing the M and which
// makes it call rt_gc_malloc_slow (src/gc/pacer.c): the allocating
// goroutine runs the cycle itself. m->locks is fenced with signal fences
// so the compiler cannot move the allocation out of the window in which the
// collector's stop-the-world signal leaves this M alone.
//
// gort_alloc and gort_alloc_noscan are preemption points (src/sched/preempt.c):
// after the object is made, with nothing held, one relaxed load of
// curg->preempt and a branch not taken; a set flag yields the P. Runtime
// callers of rt_mallocgc never yield there.
#include "mem/malloc.h"

#include <string.h>

uintptr_t rt_zerobase;

static Lock global_mcache_lock; // guards global_mcache
static MCache global_mcache;    // [lock: global_mcache_lock]

void
rt_malloc_init(void)
{
    if (rt_mheap.inited)
        return;
    rt_sizeclass_init();
    rt_mheap_init();
    rt_mcache_init(&global_mcache);
}

static RT_NOINLINE void *
malloc_tiny_block(MCache *c, uintptr_t size)
{
    void *x = rt_span_next_free_fast(c->alloc[TINY_SPAN_CLASS]);
    if (x == NULL)
        x = rt_mcache_next_free(c, TINY_SPAN_CLASS);
    // The block is carved into pieces without further clearing: zero it all.
    ((uint64_t *)x)[0] = 0;
    ((uint64_t *)x)[1] = 0;
    rt_stat_add(&c->nmalloc, 1);
    rt_stat_add(&c->total_alloc, TINY_SIZE);
    // Keep whichever block has more room left.
    if (size < c->tinyoffset || c->tiny == 0) {
        c->tiny = (uintptr_t)x;
        c->tinyoffset = size;
    }
    return x;
}

// Large object: its own span straight from the heap. Called with m->locks
// raised (m may be NULL: then with global_mcache_lock held instead); the
// caller clears the object after releasing them, if *needzero.
//
// A request above rt_mheap.max_alloc (RAM plus swap, or the address-space
// and data rlimits, whichever is lower: see rt_os_mem_max) can never be met,
// so it fails at once in Go's words (the contract's "fatal error: runtime:
// out of memory", after Go's line with the size) instead of being mapped MAP_NORESERVE and
// failing, much later, in the kernel's OOM killer. GOMEMLIMIT is a soft goal
// and does not refuse anything, as in Go.
RT_NORETURN void
rt_out_of_memory(uintptr_t size)
{
    rt_printf("runtime: out of memory: cannot allocate %lu-byte block (%lu in use)\n",
              (unsigned long)size,
              (unsigned long)atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed));
    rt_throw("runtime: out of memory");
}

static RT_NOINLINE void *
malloc_large(MCache *c, uintptr_t size, bool noscan, bool *needzero)
{
    if (rt_unlikely(size > rt_mheap.max_alloc))
        rt_out_of_memory(size);
    uintptr_t npages = (size + PAGE_SIZE - 1) >> PAGE_SHIFT;
    uint8_t spc = rt_spanclass(0, noscan);
    Span *s = rt_mheap_alloc(npages, spc);
    s->limit = s->startaddr + size; // as Go: the tail past size is no object
    s->freeindex = 1;
    s->alloc_count = 1;
    rt_mcentral_add_large(&rt_mheap.central[spc], s);
    uint64_t live =
            atomic_fetch_add_explicit(&rt_mheap.heap_live, s->elemsize, memory_order_relaxed);
    rt_gc_check_trigger(live + s->elemsize);
    rt_stat_add(&c->nmalloc, 1);
    rt_stat_add(&c->total_alloc, s->elemsize);
    *needzero = s->needzero;
    return (void *)s->startaddr;
}

// Clears a small slot. Up to 256 bytes inline, 16 bytes a store: a libc
// memset call costs more than the clearing of a typical 16-64 byte object.
// The empty asm keeps the compiler from turning the loop back into memset.
static inline __attribute__((always_inline)) void
zero_slot(void *x, uintptr_t n)
{
    if (n > 256) {
        memset(x, 0, n);
        return;
    }
    uint64_t *q = x;
    if (n & 8) {
        *q++ = 0;
        n -= 8;
    }
    for (; n != 0; n -= 16, q += 2) {
        q[0] = 0;
        q[1] = 0;
        __asm__("" : : "r"(q) : "memory");
    }
}

// A small object (size <= MAX_SMALL_SIZE) from c, cleared.
static inline __attribute__((always_inline)) void *
malloc_small(MCache *c, uintptr_t size, bool noscan)
{
    if (noscan && size < TINY_SIZE) {
        // Tiny: align the offset by the size's alignment, as Go.
        uintptr_t off = c->tinyoffset;
        if ((size & 7) == 0)
            off = (off + 7) & ~(uintptr_t)7;
        else if ((size & 3) == 0)
            off = (off + 3) & ~(uintptr_t)3;
        else if ((size & 1) == 0)
            off = (off + 1) & ~(uintptr_t)1;
        if (off + size <= TINY_SIZE && c->tiny != 0) {
            c->tinyoffset = off + size;
            rt_stat_add(&c->ntiny, 1);
            return (void *)(c->tiny + off);
        }
        return malloc_tiny_block(c, size);
    }
    uint8_t spc = rt_spanclass(rt_size_to_class(size), noscan);
    Span *s = c->alloc[spc];
    void *x = rt_span_next_free_fast(s);
    if (rt_unlikely(x == NULL)) {
        x = rt_mcache_next_free(c, spc);
        s = c->alloc[spc]; // refilled
    }
    uintptr_t elemsize = s->elemsize;
    if (s->needzero) // the usual case once the collector has swept the span
        zero_slot(x, elemsize);
    rt_stat_add(&c->nmalloc, 1);
    rt_stat_add(&c->total_alloc, elemsize);
    return x;
}

// The collector may run here: x is live in this frame across the call.
static RT_NOINLINE RT_COLD void
gc_hook(void *x)
{
    void *volatile keep = x;
    rt_gc_malloc_slow();
    (void)keep;
}

static RT_NOINLINE void *
mallocgc_global(uintptr_t size, int flags)
{
    if (rt_unlikely(!rt_mheap.inited))
        rt_throw("malloc: called before rt_malloc_init");
    bool noscan = (flags & RT_NOSCAN) != 0, needzero = false;
    void *x;
    rt_lock(&global_mcache_lock);
    if (size <= MAX_SMALL_SIZE)
        x = malloc_small(&global_mcache, size, noscan);
    else
        x = malloc_large(&global_mcache, size, noscan, &needzero);
    rt_unlock(&global_mcache_lock);
    if (needzero)
        memset(x, 0, size);
    if (rt_unlikely(atomic_load_explicit(&rt_gc_malloc_hook, memory_order_relaxed)))
        gc_hook(x);
    return x;
}

static RT_NOINLINE void *
mallocgc_large(M *m, MCache *c, uintptr_t size, bool noscan)
{
    bool needzero;
    void *x = malloc_large(c, size, noscan, &needzero);
    atomic_signal_fence(memory_order_seq_cst);
    m->locks--;
    if (needzero)
        memset(x, 0, size); // preemptible again while clearing
    if (rt_unlikely(atomic_load_explicit(&rt_gc_malloc_hook, memory_order_relaxed)))
        gc_hook(x);
    return x;
}

static inline __attribute__((always_inline)) void *
mallocgc(size_t size, int flags)
{
    if (rt_unlikely(size == 0))
        return &rt_zerobase;
    M *m = rt_m();
    if (rt_unlikely(m == NULL))
        return mallocgc_global(size, flags);
    m->locks++; // acquirem: the P and its MCache stay ours
    atomic_signal_fence(memory_order_seq_cst);
    P *p = m->p;
    MCache *c = p != NULL ? p->mcache : NULL;
    if (rt_unlikely(c == NULL)) {
        m->locks--;
        return mallocgc_global(size, flags);
    }
    bool noscan = (flags & RT_NOSCAN) != 0;
    if (rt_unlikely(size > MAX_SMALL_SIZE))
        return mallocgc_large(m, c, size, noscan); // releases m->locks
    void *x = malloc_small(c, size, noscan);
    atomic_signal_fence(memory_order_seq_cst);
    m->locks--;
    if (rt_unlikely(atomic_load_explicit(&rt_gc_malloc_hook, memory_order_relaxed)))
        gc_hook(x);
    return x;
}

void *
rt_mallocgc(size_t size, int flags)
{
    return mallocgc(size, flags);
}

void *
gort_alloc(size_t size)
{
    void *x = mallocgc(size, 0);
    rt_preempt_point(); // x stays on this stack: a pointer the collector sees
    return x;
}

void *
gort_alloc_noscan(size_t size)
{
    void *x = mallocgc(size, RT_NOSCAN);
    rt_preempt_point(); // x stays on this stack: a pointer the collector sees
    return x;
}

uint64_t
rt_malloc_max(void)
{
    return rt_mheap.max_alloc;
}

bool
rt_find_object(uintptr_t p, uintptr_t *base, Span **span)
{
    Span *s = rt_span_of(p);
    if (s == NULL || p >= s->limit)
        return false;
    if (base != NULL)
        *base = s->startaddr + (uintptr_t)rt_span_obj_index(s, p) * s->elemsize;
    if (span != NULL)
        *span = s;
    return true;
}

void
rt_malloc_flush_all(void)
{
    MHeap *h = &rt_mheap;
    rt_lock(&global_mcache_lock);
    rt_lock(&h->mcache_lock);
    for (MCache *c = h->allmcache; c != NULL; c = c->alllink)
        rt_mcache_flush(c);
    rt_unlock(&h->mcache_lock);
    rt_unlock(&global_mcache_lock);
}
