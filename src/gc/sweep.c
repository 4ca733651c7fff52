// sweep.c: sweeping spans, the background sweeper, the scavenger step.
//
// See gc.h and malloc.h (sweepgen states). Mark termination adds 2 to
// rt_mheap.sweepgen, so every span on an MCentral list (all of them: the
// MCaches were flushed) is on that central's unswept lists. A span is swept
// by whoever pops it from there (rt_mcentral_pop_unswept moves it to h - 1,
// "being swept"): MCentral.cache_span before it hands one out, the
// background sweeper goroutine, gort_gc, or the next cycle's sweep
// termination. Sweeping one span (Go's mspan.sweep):
//
//   nalloc := popcount(gcmark_bits); freed = alloc_count - nalloc;
//   (GORT_DEBUG >= 1) poison every freed slot with 0xdeadbeef;
//   alloc_bits := gcmark_bits, gcmark_bits := the old alloc_bits cleared;
//   freeindex := 0, alloc_count := nalloc, needzero if anything was freed;
//   nalloc == 0: the pages go back to the heap (rt_mheap_free);
//   otherwise sweepgen := h and the span goes to a swept list.
//
// Finalizers of dead objects were queued at mark termination (mark.c), which
// also kept those objects, so sweeping never meets a live special on a dead
// slot. A sweeper holds m->locks (acquirem) for one span, so a collector
// stop never finds a span half swept.
//
// The background sweeper is a runtime goroutine that sweeps in batches of
// 10 spans between rt_gosched() calls, then scavenges and parks (WAIT_GC_SWEEP)
// until the next cycle kicks it.
#include "gc/gc.h"

#include <string.h>

enum { SWEEP_BATCH = 10 };

static _Atomic uint32_t sweep_cursor = NUM_SPAN_CLASSES; // next central to sweep

static struct {
    Lock lock;    // guards the fields below
    G *g;         // [lock] the sweeper goroutine, NULL until started
    bool parked;  // [lock] it waits for rt_gc_sweeper_kick
    bool started; // [lock]
} sweeper;

static inline void
acquirem(M *m)
{
    if (m != NULL)
        m->locks++;
    atomic_signal_fence(memory_order_seq_cst);
}

static inline void
releasem(M *m)
{
    atomic_signal_fence(memory_order_seq_cst);
    if (m != NULL)
        m->locks--;
}

static void
poison_freed(Span *s)
{
    for (uint32_t i = 0; i < s->nelems; i++) {
        uint8_t bit = (uint8_t)(1u << (i % 8));
        bool was = i < s->freeindex || (s->alloc_bits[i / 8] & bit);
        if (!was || (s->gcmark_bits[i / 8] & bit))
            continue;
        uint32_t *q = (uint32_t *)(s->startaddr + (uintptr_t)i * s->elemsize);
        uintptr_t n = (s->divmagic == 0 ? s->limit - s->startaddr : s->elemsize) / 4;
        for (uintptr_t k = 0; k < n; k++)
            q[k] = 0xdeadbeef;
    }
}

bool
rt_gc_sweep_span(Span *s, bool preserve)
{
    uint32_t sg = __atomic_load_n(&rt_mheap.sweepgen, __ATOMIC_ACQUIRE);
    if (rt_unlikely(atomic_load_explicit(&s->sweepgen, memory_order_relaxed) != sg - 1))
        rt_throw("sweep: span is not being swept");
    uintptr_t nb = rt_span_bitmap_bytes(s->nelems);
    uint32_t nalloc = 0;
    for (uintptr_t i = 0; i < nb; i += 8) {
        uint64_t w;
        memcpy(&w, s->gcmark_bits + i, 8);
        nalloc += rt_popcount64(w);
    }
    if (rt_unlikely(nalloc > s->alloc_count)) {
        rt_printf("runtime: span %p spanclass=%u nelems=%u alloc_count=%u marked=%u\n",
                  (void *)s->startaddr, s->spanclass, s->nelems, s->alloc_count, nalloc);
        rt_throw("sweep: more marked objects than allocated");
    }
    uint32_t nfreed = s->alloc_count - nalloc;
    if (GORT_DEBUG >= 1 && nfreed > 0)
        poison_freed(s);
    if (rt_unlikely(nalloc == 0 && s->specials != NULL)) {
        // Defensive: records of objects that are gone (cannot happen for
        // finalizers, which keep their object; see mark.c).
        rt_lock(&s->speciallock);
        Special *sp = s->specials;
        s->specials = NULL;
        rt_unlock(&s->speciallock);
        while (sp != NULL) {
            Special *next = sp->next;
            rt_lock(&rt_mheap.speciallock);
            rt_fixalloc_free(&rt_mheap.specialalloc, sp);
            rt_unlock(&rt_mheap.speciallock);
            sp = next;
        }
    }
    uint8_t *old = s->alloc_bits;
    s->alloc_bits = s->gcmark_bits;
    memset(old, 0, nb);
    s->gcmark_bits = old;
    // A minor or medium cycle frees no object that a full one marked: only
    // a full cycle changes full_bits.
    if (rt_gc.last_full)
        memcpy(s->full_bits, s->alloc_bits, nb);
    s->freeindex = 0;
    s->alloc_count = nalloc;
    if (rt_unlikely(s->scan_kind == SCAN_TABLE) && nfreed > 0 && nalloc > 0)
        rt_span_ptrdata_sweep(s); // freed slots are scanned whole again
    if (nfreed > 0) {
        s->needzero = true;
        atomic_fetch_add_explicit(&rt_mheap.nfree, nfreed, memory_order_relaxed);
        atomic_fetch_add_explicit(&rt_mheap.total_free, (uint64_t)nfreed * s->elemsize,
                                  memory_order_relaxed);
    }
    if (nalloc == 0) {
        rt_mheap_free(s);
        return false;
    }
    atomic_store_explicit(&s->sweepgen, sg, memory_order_release);
    if (!preserve)
        rt_mcentral_put_swept(&rt_mheap.central[s->spanclass], s);
    return true;
}

bool
rt_gc_sweep_one(void)
{
    for (;;) {
        uint32_t i = atomic_load_explicit(&sweep_cursor, memory_order_acquire);
        if (i >= NUM_SPAN_CLASSES)
            return false;
        M *m = rt_m();
        acquirem(m);
        Span *s = rt_mcentral_pop_unswept(&rt_mheap.central[i]);
        if (s != NULL) {
            rt_gc_sweep_span(s, false);
            releasem(m);
            return true;
        }
        releasem(m);
        atomic_compare_exchange_strong(&sweep_cursor, &i, i + 1);
    }
}

void
rt_gc_sweep_reset(void)
{
    atomic_store_explicit(&sweep_cursor, 0, memory_order_release);
}

void
rt_gc_scavenge(void)
{
    uint64_t goal = rt_gc_heap_goal();
    rt_lock(&rt_mheap.lock);
    uint64_t inuse = rt_mheap.heap_inuse;
    rt_unlock(&rt_mheap.lock);
    // Go's retained-heap goal: about 10% over the heap goal.
    uint64_t retain = goal == UINT64_MAX ? UINT64_MAX : goal + goal / 10;
    uint64_t keep = retain > inuse ? retain - inuse : 0;
    int64_t limit = atomic_load_explicit(&rt_gc.memory_limit, memory_order_relaxed);
    if (limit != INT64_MAX) {
        // Keep mapped memory at or under 95% of the limit.
        uint64_t allowed = (uint64_t)limit / 100 * 95, other = rt_gc_nonheap_bytes() + inuse;
        uint64_t k2 = allowed > other ? allowed - other : 0;
        if (k2 < keep)
            keep = k2;
    }
    if (keep == UINT64_MAX)
        return;
    if (keep == 0)
        keep = 1; // rt_mheap_scavenge(0) means "everything"; 1 byte is the same
    rt_mheap_scavenge(keep);
}

static void
bgsweep(void *arg)
{
    (void)arg;
    for (;;) {
        int n = 0;
        while (rt_gc_sweep_one()) {
            if (++n % SWEEP_BATCH == 0)
                rt_gosched();
        }
        rt_gc_scavenge();
        rt_lock(&sweeper.lock);
        if (atomic_load_explicit(&sweep_cursor, memory_order_acquire) < NUM_SPAN_CLASSES) {
            rt_unlock(&sweeper.lock); // a new cycle began meanwhile
            continue;
        }
        sweeper.parked = true;
        rt_parkunlock(&sweeper.lock, WAIT_GC_SWEEP);
    }
}

void
rt_gc_sweeper_kick(void)
{
    rt_lock(&sweeper.lock);
    if (!sweeper.started) {
        sweeper.started = true;
        rt_unlock(&sweeper.lock);
        G *gp = rt_newproc(bgsweep, NULL, 0, true, 0);
        rt_lock(&sweeper.lock);
        sweeper.g = gp;
        rt_unlock(&sweeper.lock);
        return;
    }
    G *gp = NULL;
    if (sweeper.parked) {
        sweeper.parked = false;
        gp = sweeper.g;
    }
    rt_unlock(&sweeper.lock);
    if (gp != NULL)
        rt_ready(gp, false);
}

bool
rt_gc_runtime_stack(uintptr_t sp)
{
    G *gp = sweeper.g;
    if (gp != NULL && sp >= gp->stack_lo && sp < gp->stack_hi)
        return true;
    return rt_gc_forcegc_stack(sp);
}

// ---- Span walks (world stopped) ---------------------------------------------------

static void
foreach_bit(_Atomic uint8_t *bm, HeapArena *a, void (*fn)(Span *s, void *arg), void *arg)
{
    for (uint32_t i = 0; i < PAGES_PER_ARENA / 8; i++) {
        uint8_t b = atomic_load_explicit(&bm[i], memory_order_relaxed);
        while (b != 0) {
            uint32_t k = (uint32_t)__builtin_ctz(b);
            b &= (uint8_t)(b - 1);
            Span *s = atomic_load_explicit(&a->spans[i * 8 + k], memory_order_relaxed);
            if (s != NULL && s->state == SPAN_IN_USE)
                fn(s, arg);
        }
    }
}

void
rt_gc_foreach_span(void (*fn)(Span *s, void *arg), void *arg)
{
    MHeap *h = &rt_mheap;
    for (uint32_t i = 0; i < h->narenas; i++)
        foreach_bit(h->allarenas[i]->page_inuse, h->allarenas[i], fn, arg);
}

void
rt_gc_foreach_special_span(void (*fn)(Span *s, void *arg), void *arg)
{
    MHeap *h = &rt_mheap;
    for (uint32_t i = 0; i < h->narenas; i++)
        foreach_bit(h->allarenas[i]->page_specials, h->allarenas[i], fn, arg);
}
