// gen.c: minor and medium cycles (the generational policy).
//
// Minor cycles (GODEBUG=gcgen=1, the default): a program whose live heap is
// mostly old data that it does not change (binary-trees' long-lived tree, a
// cache, an index) would have the marker go over all of it every cycle. A
// minor cycle does not: the kernel's written bits, kept armed from one
// cycle to the next, are its remembered set, as the sticky mark bits of
// Demers et al.'s "Combining generational and conservative garbage
// collection" (1990) use the virtual-memory dirty bits.
//
//   After a cycle the pages stay armed, so every page written from its
//   STW 2 on reads as written later. Pages never armed, or in spans born
//   during the last mark, read as written too. (Only the pages of spans in
//   which nothing survived are disarmed: they hold no old object. Before a
//   full cycle, which arms every page afresh, all of them are.)
//   A minor cycle: worker 0 first ORs every in-use span's alloc bits into
//   its mark bits (sweep termination made them the last cycle's marks):
//   every object that survived the last cycle (old) is marked and is not
//   traced again; objects allocated since (young) are white. STW 1's
//   roots are traced only as far as the first old objects they reach.
//   Then, instead of arming every run, worker 0 harvests: it lists the written
//   pages of every run and re-arms them in the same walk (as a preclean
//   round does), and queues the words of the old objects on them. The rest
//   is the concurrent cycle above; STW 2 leaves the pages written during the
//   mark as they are, so the next cycle harvests them in turn.
//
// Why a young object reachable at STW 2 is marked: take the first unmarked
// object on a path to it from the roots, and its predecessor P. The
// argument above covers every P that this cycle scanned. Otherwise P is
// old and was not scanned: its page was clean at the harvest and at STW 2,
// so P has not changed since the page was last armed. Pages are armed only
// by a full cycle's arming (then P was marked and scanned later in that
// cycle) or by a walk that reported them written, after which every marked
// object on them was rescanned (harvest, preclean). Either way P's words
// were scanned by a mark that completed, while they held what they hold
// now, and everything they reach was marked then; sweeping made it old,
// and this cycle marked it at STW 1. Old objects that died are kept until
// the next full cycle (floating garbage, as in any sticky-bit scheme).
//
// A cycle is minor when the heap marked last time is at most a quarter of
// a GOGC runway above what the last full mark kept (rt_gen_next_kind), at
// most GEN_MINOR_MAX minors in a row. Otherwise it is medium: a minor
// cycle whose old objects are those the last full cycle marked
// (Span.full_bits) rather than those the last cycle kept, so it frees what
// the minor cycles since promoted and then lost (binary-trees' finished
// trees) without tracing the long-lived data again. Its remembered set
// must cover every write since the last full cycle: every page a walk
// reports as written (harvest, preclean, STW 2) is noted in
// HeapArena.written_since_full, cleared when a full cycle starts, and a
// medium cycle's worker 0 rescans the marked objects on those pages
// before it harvests (or STW 2 does, if it was stopped first). The
// argument above holds with "the last full cycle" for "the last cycle".
// At most GEN_MEDIUM_MAX mediums come between two full cycles, never two
// in a row, and none when the last full cycle kept more than an eighth
// more than the one before (transient data it caught live would stay).
// A minor or medium cycle keeps the last full cycle's goal. The cycle is
// full within GEN_BACKOFF full cycles of a minor one that traced more
// than half of what the last full one kept (most young objects survived:
// a minor cycle gains nothing and rescans every old object on each
// written page; the wait doubles each time, up to GEN_BACKOFF_MAX, and
// halves after a minor cycle that traced less than an eighth), when a
// scan of the written bits failed (a lost bit could hide a pointer:
// gen_valid), when the goal came from the memory limit, for gort_gc, and
// after a full cycle that kept more than an eighth more than the full one
// before (a growing heap: what it caught live may be transient).
#include "gc/mark.h"

#include <string.h>

enum {
    GEN_MINOR_MAX = 16,    // minor cycles between two full or medium ones
    GEN_MEDIUM_MAX = 3,    // medium cycles between two full ones
    GEN_BACKOFF = 8,       // full cycles after a minor one in which most young objects survived
    GEN_BACKOFF_MAX = 512, // ... doubled each time it happens again
};
// Promoted garbage allowed before a full cycle: a quarter of the runway
// (GOGC's), at least this much.
#define GEN_PROMOTE_MIN ((uint64_t)1 << 20)

// Worker 0, first thing in a minor cycle: what the last cycle kept is
// marked now (counted in old_bytes unless STW 1's roots marked it
// already). Goroutines run, but no span is swept or freed while marking,
// a span born since has no alloc bits set, and nothing else marks yet (no
// assist before rt_conc.armed).
void
rt_gen_premark(Span *s, void *arg)
{
    (void)arg;
    const uint8_t *src = rt_conc.kind == GEN_MEDIUM ? s->full_bits : s->alloc_bits;
    uintptr_t nb = rt_span_bitmap_bytes(s->nelems);
    uint64_t n = 0;
    for (uintptr_t i = 0; i < nb; i += 8) {
        uint64_t x, m;
        memcpy(&x, src + i, 8);
        if (x == 0)
            continue;
        memcpy(&m, s->gcmark_bits + i, 8);
        n += rt_popcount64(x & ~m);
        m |= x;
        memcpy(s->gcmark_bits + i, &m, 8);
    }
    rt_conc.old_bytes += n * s->elemsize;
}

// A full cycle (concurrent or not) marked `marked` bytes. [stw]
void
rt_gen_full_done(uint64_t marked)
{
    rt_conc.nminor = rt_conc.nmedium = 0;
    rt_conc.full_prev = rt_conc.full_live;
    rt_conc.full_live = marked;
}

// What the next concurrent cycle will be, the last one having marked
// `marked` bytes. [stw]
enum GenKind
rt_gen_next_kind(uint64_t marked)
{
    if (!rt_conc.gen || !rt_conc.gen_valid || rt_conc.full_live == 0 || rt_conc.nfull_owed > 0 ||
        rt_gc.limit_bound)
        return GEN_FULL;
    int32_t pct = atomic_load_explicit(&rt_gc.percent, memory_order_relaxed);
    if (pct < 0)
        return GEN_FULL; // cycles come from the memory limit only
    // A full cycle that kept more than an eighth more than the full cycle
    // before may have caught transient data live (a tree being built, then
    // dropped): a minor or medium cycle would keep it, up to GEN_MINOR_MAX
    // cycles, as old garbage. Until the live heap stops growing, cycles are
    // full (GCBench's stretch tree: peak RSS 39 MiB in 2 runs of 12, 21-23
    // in the others; 21-23 in all with this).
    if (rt_conc.kind == GEN_FULL && rt_conc.full_live > rt_conc.full_prev + rt_conc.full_prev / 8)
        return GEN_FULL;
    uint64_t allow = rt_conc.full_live / 400 * (uint64_t)pct; // a quarter of the runway
    if (allow < GEN_PROMOTE_MIN)
        allow = GEN_PROMOTE_MIN;
    if (rt_conc.nminor < GEN_MINOR_MAX && marked <= rt_conc.full_live + allow)
        return GEN_MINOR;
    // A medium cycle keeps all that the last full one kept: not if that one
    // kept more than the one before (transient data caught live, which
    // would stay until the next full cycle).
    // Nor right after a medium one: that one did not bring the heap back
    // within the allowance, and only a full cycle can.
    if (rt_conc.nmedium < GEN_MEDIUM_MAX && rt_conc.kind != GEN_MEDIUM &&
        rt_conc.full_live <= rt_conc.full_prev + rt_conc.full_prev / 8)
        return GEN_MEDIUM;
    return GEN_FULL;
}

// ---- Pages written since the last full cycle (HeapArena.written_since_full)

// The word of HeapArena.written_since_full that holds the page at p, and
// its bit there; NULL outside the arenas.
static _Atomic uint64_t *
dsf_word(uintptr_t p, uint64_t *bit)
{
    HeapArena *a = atomic_load_explicit(&rt_mheap.arenas[p >> ARENA_SHIFT], memory_order_relaxed);
    if (a == NULL)
        return NULL;
    uint32_t pg = (uint32_t)((p >> PAGE_SHIFT) % PAGES_PER_ARENA);
    *bit = (uint64_t)1 << (pg % 64);
    return &a->written_since_full[pg / 64];
}

// Notes [lo, hi) as written since the last full cycle: a medium cycle
// rescans the objects that cycle kept on those pages. From rt_gc_rescan_written
// (worker 0 and the STW 2 mark workers: bit sets are atomic).
void
rt_dsf_note(uintptr_t lo, uintptr_t hi)
{
    for (uintptr_t p = lo & ~(uintptr_t)(PAGE_SIZE - 1); p < hi; p += PAGE_SIZE) {
        uint64_t bit;
        _Atomic uint64_t *w = dsf_word(p, &bit);
        if (w != NULL && !(atomic_load_explicit(w, memory_order_relaxed) & bit))
            atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
    }
}

// A full cycle starts: what it marks is full_bits afterwards. [stw]
void
rt_dsf_clear(void)
{
    MHeap *h = &rt_mheap;
    for (uint32_t i = 0; i < h->narenas; i++)
        memset((void *)h->allarenas[i]->written_since_full, 0,
               sizeof h->allarenas[i]->written_since_full);
}

// Worker 0 in a medium cycle, after pre-marking: queues the words of the
// marked objects on every page written since the last full cycle. Only the
// runs listed at STW 1 hold objects that cycle kept. False if mark
// termination stopped it (stoppable): then STW 2 does it all again.
bool
rt_dsf_rescan(GCWork *w, bool stoppable)
{
    for (size_t i = 0; i < rt_conc.nruns; i++) {
        uintptr_t p = rt_conc.runs[2 * i], hi = rt_conc.runs[2 * i + 1], from = 0;
        for (; p <= hi; p += PAGE_SIZE) {
            uint64_t bit;
            _Atomic uint64_t *dw = p < hi ? dsf_word(p, &bit) : NULL;
            bool set = dw != NULL && (atomic_load_explicit(dw, memory_order_relaxed) & bit);
            if (set && from == 0)
                from = p;
            else if (!set && from != 0) {
                rt_gc_rescan_written(from, p, w);
                from = 0;
            }
        }
        if (stoppable && atomic_load_explicit(&rt_conc.stop, memory_order_relaxed))
            return false;
    }
    return true;
}

// Mark termination: lists the pages of the spans nothing in them survived
// (sweeping frees them), for worker 0 to disarm. Allocation reuses those
// pages first; armed, each first write would fault (about 0.7 us a page),
// and they hold no old object to track. A disarmed page reads as written,
// so one reused before worker 0 gets to it is only rescanned. [stw]
void
rt_gen_list_dead(Span *s, void *arg)
{
    (void)arg;
    uintptr_t nb = rt_span_bitmap_bytes(s->nelems);
    for (uintptr_t i = 0; i < nb; i += 8) {
        uint64_t x;
        memcpy(&x, s->gcmark_bits + i, 8);
        if (x != 0)
            return;
    }
    rt_gc_runs_add(s->startaddr, s->startaddr + (s->npages << PAGE_SHIFT));
}

uint32_t
rt_gc_minor_cycles(void)
{
    return atomic_load_explicit(&rt_conc.minor_total, memory_order_relaxed);
}

uint32_t
rt_gc_medium_cycles(void)
{
    return atomic_load_explicit(&rt_conc.medium_total, memory_order_relaxed);
}

// Mark termination of a concurrent cycle of this kind, which traced bytes
// beyond its old objects and marked in all: the counts of minor and medium
// cycles, the back-off from minor cycles that gain nothing, the goal the
// next cycles keep, and whether the written bits are still whole.
void
rt_gen_cycle_done(enum GenKind kind, uint64_t traced, uint64_t marked)
{
    if (kind == GEN_MEDIUM) {
        rt_conc.nmedium++;
        rt_conc.nminor = 0;
        atomic_fetch_add_explicit(&rt_conc.medium_total, 1, memory_order_relaxed);
    } else if (kind == GEN_MINOR) {
        rt_conc.nminor++;
        atomic_fetch_add_explicit(&rt_conc.minor_total, 1, memory_order_relaxed);
        // Young objects that mostly survive (a program replacing its live
        // data) make a minor cycle trace about as much as a full one, and
        // rescan every old object on each page written: back off.
        if (rt_conc.backoff < GEN_BACKOFF)
            rt_conc.backoff = GEN_BACKOFF;
        if (traced > rt_conc.full_live / 2) {
            rt_conc.nfull_owed = rt_conc.backoff;
            if (rt_conc.backoff < GEN_BACKOFF_MAX)
                rt_conc.backoff *= 2;
        } else if (traced < rt_conc.full_live / 8 && rt_conc.backoff > GEN_BACKOFF) {
            rt_conc.backoff /= 2;
        }
    } else if (kind == GEN_FULL) {
        rt_gen_full_done(marked);
        if (rt_conc.nfull_owed > 0)
            rt_conc.nfull_owed--;
    }
    rt_gc.last_full = kind == GEN_FULL;
    // A minor or medium cycle keeps the goal the last full mark set: the
    // old objects it keeps are partly dead, and are not the program's live
    // heap growing unless the next full cycle says so.
    atomic_store_explicit(&rt_gc.full_live, kind != GEN_FULL ? rt_conc.full_live : 0,
                          memory_order_relaxed);
    // A failed scan may have re-armed pages without reporting them.
    rt_conc.gen_valid = rt_conc.gen && !rt_conc.all_dirty && !rt_conc.arm_failed;
}
