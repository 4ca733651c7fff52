// mcache.c: the per-P allocation cache, slow half.
//
// See malloc.h. An MCache holds one span per span class (&rt_emptyspan
// until first use) and the tiny-allocator block. The fast path
// (rt_span_next_free_fast in malloc.h, used by malloc.c) takes the next
// free slot from the current 64-slot window of the span; this file scans
// further windows (Go's nextFreeIndex), and when the span is used up trades
// it for another at its MCentral (Go's refill).
//
// Locking: an MCache belongs to its P ([owner]); the P's M runs with
// m->locks raised while it uses it, so nothing else touches it. The global
// MCache of Ms without a P is used under malloc.c's lock. rt_mheap.mcache_lock
// guards the list of live MCaches that gort_read_memstats sums.
#include "mem/malloc.h"

Span rt_emptyspan; // nelems 0, alloc_cache 0: every fast path misses

// Go's nextFreeIndex: the index of the next free slot at or after
// s->freeindex, consuming it; s->nelems if none.
static uint32_t
span_next_free_index(Span *s)
{
    uint32_t sfreeindex = s->freeindex, snelems = s->nelems;
    if (sfreeindex == snelems)
        return sfreeindex;
    uint64_t cache = s->alloc_cache;
    while (cache == 0) {
        // Move to the start of the next 64-slot window.
        sfreeindex = (sfreeindex + 64) & ~63u;
        if (sfreeindex >= snelems) {
            s->freeindex = snelems;
            return snelems;
        }
        rt_span_refill_alloc_cache(s, sfreeindex / 8);
        cache = s->alloc_cache;
    }
    uint32_t bit = (uint32_t)__builtin_ctzll(cache);
    uint32_t result = sfreeindex + bit;
    if (result >= snelems) {
        s->freeindex = snelems;
        return snelems;
    }
    s->alloc_cache = (cache >> bit) >> 1;
    sfreeindex = result + 1;
    if (sfreeindex % 64 == 0 && sfreeindex != snelems)
        rt_span_refill_alloc_cache(s, sfreeindex / 8);
    s->freeindex = sfreeindex;
    return result;
}

// Go's mcache.refill: c->alloc[spc] is used up; return it to its MCentral
// and take a span with free slots.
static void
mcache_refill(MCache *c, uint8_t spc)
{
    Span *s = c->alloc[spc];
    if (rt_unlikely(s->alloc_count != s->nelems))
        rt_throw("mcache: refill of span with free space remaining");
    rt_stack_clear_dead(); // Boehm's GC_clear_stack, in small (stack.c)
    MCentral *central = &rt_mheap.central[spc];
    if (s != &rt_emptyspan)
        rt_mcentral_uncache_span(central, s);
    s = rt_mcentral_cache_span(central);
    RT_ASSERT_INVARIANT(atomic_load_explicit(&s->sweepgen, memory_order_relaxed) ==
                        __atomic_load_n(&rt_mheap.sweepgen, __ATOMIC_RELAXED)); // swept
    // Cached and swept: the next sweep must leave it alone (sweepgen + 3).
    atomic_store_explicit(&s->sweepgen, rt_mheap.sweepgen + 3, memory_order_relaxed);
    // Go charges every free slot to heapLive up front; flush gives back
    // what was not used. The pacer (issue 3) reads it.
    uint64_t live = atomic_fetch_add_explicit(&rt_mheap.heap_live,
                                              (uint64_t)(s->nelems - s->alloc_count) * s->elemsize,
                                              memory_order_relaxed);
    rt_gc_check_trigger(live);
    c->alloc[spc] = s;
}

void *
rt_mcache_next_free(MCache *c, uint8_t spc)
{
    Span *s = c->alloc[spc];
    uint32_t idx = span_next_free_index(s);
    if (idx == s->nelems) {
        mcache_refill(c, spc);
        s = c->alloc[spc];
        idx = span_next_free_index(s);
    }
    if (rt_unlikely(idx >= s->nelems))
        rt_throw("mcache: no free slot in a refilled span");
    // A slot handed out was free at the last sweep (its alloc bit clear).
    RT_ASSERT_INVARIANT((s->alloc_bits[idx / 8] >> (idx % 8) & 1) == 0);
    s->alloc_count++;
    if (rt_unlikely(s->alloc_count > s->nelems))
        rt_throw("mcache: s->alloc_count > s->nelems");
    return (void *)(s->startaddr + (uintptr_t)idx * s->elemsize);
}

void
rt_mcache_init(MCache *c)
{
    c->tiny = 0;
    c->tinyoffset = 0;
    for (uint32_t i = 0; i < NUM_SPAN_CLASSES; i++)
        c->alloc[i] = &rt_emptyspan;
    MHeap *h = &rt_mheap;
    rt_lock(&h->mcache_lock);
    c->allprev = NULL;
    c->alllink = h->allmcache;
    if (h->allmcache != NULL)
        h->allmcache->allprev = c;
    h->allmcache = c;
    rt_unlock(&h->mcache_lock);
}

void
rt_mcache_flush(MCache *c)
{
    for (uint32_t i = 0; i < NUM_SPAN_CLASSES; i++) {
        Span *s = c->alloc[i];
        if (s == &rt_emptyspan)
            continue;
        atomic_fetch_sub_explicit(&rt_mheap.heap_live,
                                  (uint64_t)(s->nelems - s->alloc_count) * s->elemsize,
                                  memory_order_relaxed);
        rt_mcentral_uncache_span(&rt_mheap.central[i], s);
        c->alloc[i] = &rt_emptyspan;
    }
    c->tiny = 0;
    c->tinyoffset = 0;
}

MCache *
rt_mcache_new(void)
{
    MHeap *h = &rt_mheap;
    if (rt_unlikely(!h->inited))
        rt_throw("mcache: rt_malloc_init not called");
    rt_lock(&h->lock);
    MCache *c = rt_fixalloc_alloc(&h->cachealloc);
    rt_unlock(&h->lock);
    rt_mcache_init(c);
    return c;
}

void
rt_mcache_release(MCache *c)
{
    MHeap *h = &rt_mheap;
    rt_mcache_flush(c);
    // Unlink and fold the counters into the heap's in one critical section
    // so gort_read_memstats never sees them twice or not at all.
    rt_lock(&h->mcache_lock);
    if (c->allprev != NULL)
        c->allprev->alllink = c->alllink;
    else
        h->allmcache = c->alllink;
    if (c->alllink != NULL)
        c->alllink->allprev = c->allprev;
    atomic_fetch_add_explicit(&h->nmalloc, atomic_load(&c->nmalloc), memory_order_relaxed);
    atomic_fetch_add_explicit(&h->total_alloc, atomic_load(&c->total_alloc), memory_order_relaxed);
    atomic_fetch_add_explicit(&h->ntiny, atomic_load(&c->ntiny), memory_order_relaxed);
    atomic_fetch_add_explicit(&h->nfree, atomic_load(&c->nfree), memory_order_relaxed);
    atomic_fetch_add_explicit(&h->total_free, atomic_load(&c->total_free), memory_order_relaxed);
    rt_unlock(&h->mcache_lock);
    rt_lock(&h->lock);
    rt_fixalloc_free(&h->cachealloc, c);
    rt_unlock(&h->lock);
}
