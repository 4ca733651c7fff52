// mcentral.c: the shared list of spans for one span class.
//
// Middle tier of the allocator; malloc.h has the overview. An MCentral owns
// spans of a single span class, never loose objects:
//
//   partial[(sg/2)%2]  swept spans with at least one free slot
//   full[(sg/2)%2]     swept spans with none (and large objects' spans)
//   the other index    the same, not yet swept this cycle (sg = heap sweepgen)
//
// A span held by an MCache is on no list; its owner is that MCache's P. A
// dry MCache takes a whole span via rt_mcentral_cache_span(), so one lock
// round trip pays for many allocations; the span comes back through
// rt_mcentral_uncache_span() when it is used up or the cache is flushed.
//
// When a collection ends, sweepgen advances by 2 and every listed span is
// on an unswept list. cache_span sweeps up to 100 of them (Go's budget)
// before growing the heap; rt_mcentral_pop_unswept feeds the other sweepers
// (src/gc/sweep.c). A span cached across a collection cannot exist: the
// collector flushes every MCache with the world stopped.
//
// Locking: c->lock guards the lists and the allocation fields of the spans
// on them. mcentral_grow() calls rt_mheap_alloc() without c->lock held: an
// MCentral lock and the MHeap lock are never held together.
#include "mem/malloc.h"

#include <string.h>

static inline SpanList *
partial_swept(MCentral *c, uint32_t sg)
{
    return &c->partial[(sg / 2) % 2];
}
static inline SpanList *
partial_unswept(MCentral *c, uint32_t sg)
{
    return &c->partial[1 - (sg / 2) % 2];
}
static inline SpanList *
full_swept(MCentral *c, uint32_t sg)
{
    return &c->full[(sg / 2) % 2];
}
static inline SpanList *
full_unswept(MCentral *c, uint32_t sg)
{
    return &c->full[1 - (sg / 2) % 2];
}

static void
list_push(SpanList *l, Span *s)
{
    if (rt_unlikely(s->list != NULL))
        rt_throw("mcentral: span already on a list");
    s->prev = NULL;
    s->next = l->first;
    if (l->first != NULL)
        l->first->prev = s;
    else
        l->last = s;
    l->first = s;
    s->list = l;
}

static Span *
list_pop(SpanList *l)
{
    Span *s = l->first;
    if (s == NULL)
        return NULL;
    l->first = s->next;
    if (l->first != NULL)
        l->first->prev = NULL;
    else
        l->last = NULL;
    s->next = s->prev = NULL;
    s->list = NULL;
    return s;
}

static inline uint32_t
heap_sweepgen(void)
{
    return __atomic_load_n(&rt_mheap.sweepgen, __ATOMIC_ACQUIRE);
}

// A fresh span of c's class from the heap. Called without c->lock.
static Span *
mcentral_grow(MCentral *c)
{
    uint8_t sc = rt_spanclass_sizeclass(c->spanclass);
    Span *s = rt_mheap_alloc(rt_class_to_npages[sc], c->spanclass);
    // Pages used before are cleared here in one pass rather than slot by
    // slot at allocation: one memset of the span (rep stosb, sequential)
    // costs a fraction of a store miss per small object, and the span's
    // slots then need no clearing at all.
    if (s != NULL && s->needzero) {
        memset((void *)s->startaddr, 0, s->npages << PAGE_SHIFT);
        s->needzero = false;
    }
    return s;
}

// Pops an unswept span and claims it for sweeping (sweepgen h-2 -> h-1).
// Requires c->lock.
static Span *
pop_unswept_locked(MCentral *c, uint32_t sg)
{
    Span *s = list_pop(partial_unswept(c, sg));
    if (s == NULL)
        s = list_pop(full_unswept(c, sg));
    if (s == NULL)
        return NULL;
    uint32_t want = sg - 2;
    if (rt_unlikely(!atomic_compare_exchange_strong(&s->sweepgen, &want, sg - 1)))
        rt_throw("mcentral: unswept span with a bad sweepgen");
    return s;
}

Span *
rt_mcentral_pop_unswept(MCentral *c)
{
    uint32_t sg = heap_sweepgen();
    rt_lock(&c->lock);
    Span *s = pop_unswept_locked(c, sg);
    rt_unlock(&c->lock);
    return s;
}

void
rt_mcentral_put_swept(MCentral *c, Span *s)
{
    uint32_t sg = heap_sweepgen();
    rt_lock(&c->lock);
    if (s->alloc_count < s->nelems)
        list_push(partial_swept(c, sg), s);
    else
        list_push(full_swept(c, sg), s);
    rt_unlock(&c->lock);
}

Span *
rt_mcentral_cache_span(MCentral *c)
{
    uint32_t sg = heap_sweepgen();
    rt_lock(&c->lock);
    Span *s = list_pop(partial_swept(c, sg));
    // Sweep up to 100 unswept spans for one with room, as Go's cacheSpan.
    for (int budget = 100; s == NULL && budget > 0; budget--) {
        Span *u = pop_unswept_locked(c, sg);
        if (u == NULL)
            break;
        rt_unlock(&c->lock);
        if (rt_gc_sweep_span(u, true)) {
            if (u->alloc_count < u->nelems)
                s = u;
            else
                rt_mcentral_put_swept(c, u);
        }
        rt_lock(&c->lock);
    }
    rt_unlock(&c->lock);
    if (s == NULL)
        s = mcentral_grow(c);
    if (rt_unlikely(s->alloc_count >= s->nelems || s->freeindex >= s->nelems))
        rt_throw("mcentral: span has no free objects");
    // Load the 64-slot window that holds freeindex and align it.
    uint32_t base = s->freeindex & ~63u;
    rt_span_refill_alloc_cache(s, base / 8);
    s->alloc_cache >>= s->freeindex % 64;
    return s;
}

void
rt_mcentral_uncache_span(MCentral *c, Span *s)
{
    if (rt_unlikely(s->alloc_count == 0))
        rt_throw("mcentral: uncaching span but s->alloc_count == 0");
    uint32_t sg = heap_sweepgen();
    if (rt_unlikely(atomic_load_explicit(&s->sweepgen, memory_order_relaxed) == sg + 1)) {
        // Cached before this cycle's sweep began: impossible here, the
        // collector flushes every MCache before it marks.
        rt_throw("mcentral: span cached across a collection");
    }
    atomic_store_explicit(&s->sweepgen, sg, memory_order_release);
    rt_lock(&c->lock);
    if (s->nelems - s->alloc_count > 0)
        list_push(partial_swept(c, sg), s);
    else
        list_push(full_swept(c, sg), s);
    rt_unlock(&c->lock);
}

void
rt_mcentral_add_large(MCentral *c, Span *s)
{
    uint32_t sg = heap_sweepgen();
    rt_lock(&c->lock);
    list_push(full_swept(c, sg), s);
    rt_unlock(&c->lock);
}
