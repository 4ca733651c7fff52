// mark.c: conservative marking: the scan loops, the roots, checkmark, the parallel mark.
//
// See gc.h for the cycle. Marking is conservative: every aligned word of a
// root range or of a scanned object that points into an allocated slot of an
// in-use span marks that slot (rt_span_of's two loads, the span's magic
// division; interior pointers included). Free slots are not marked, so a
// stale word never resurrects garbage or scans freed memory. Pieces longer
// than GC_OBLET are split when popped, so a large array's rest can be
// stolen while one marker scans its head. Popped pieces pass through a
// 16-entry prefetch FIFO before they are scanned: marking is bound by cache
// misses on the objects, and this overlaps them (4x faster on trees).
//
// rt_gc_mark is the stop-the-world mark: up to GOMAXPROCS markers (one per
// GC_HEAP_PER_WORKER of heap, as each wake-up costs more than a small heap's
// mark), the roots, finalizers, checkmark and retention reports.
#include "gc/mark.h"

#include "core/debugvars.h"
#include "sanitize.h"
#include "sched/sudog.h"
#include "time/timer.h"

#include <string.h>

MarkLarge rt_large;

// ---- Marking -----------------------------------------------------------------------

// The concurrent marker leaves a pointer for mark termination, which
// treats every deferred word as a root. A preclean round may have re-armed
// the page the word came from before its object was scanned, so the page
// alone would not bring it back.
RT_NOINLINE void
rt_conc_defer(GCWork *w, uintptr_t p)
{
    if (rt_unlikely(w->ndeferred == w->capdeferred))
        rt_gc_table_grow(&w->deferred, &w->capdeferred, w->ndeferred, 1, 4096,
                         "gc: cannot map the deferred-pointer table");
    w->deferred[w->ndeferred++] = p;
}

// A pointer into slot idx of a span born during this mark (the concurrent
// marker does not read such spans: their pages are not armed). A slot below
// freeindex is allocated (a fresh span's alloc bits are all zero, and
// nothing is swept while marking): mark it once, and leave its words for
// mark termination, which scans it with the world stopped. A slot that looks
// free may have been allocated since: defer the pointer itself. The bit is
// set atomically: a goroutine assisting the marker may mark it too.
static RT_NOINLINE GC_NO_SANITIZE void
conc_keep_fresh(GCWork *w, Span *s, uint32_t idx, uintptr_t p)
{
    uint64_t bit = (uint64_t)1 << (idx % 64);
    _Atomic uint64_t *mb = (_Atomic uint64_t *)s->gcmark_bits + idx / 64;
    if (atomic_load_explicit(mb, memory_order_relaxed) & bit)
        return; // kept already
    if (idx >= s->freeindex) {
        rt_conc_defer(w, p);
        return;
    }
    if (atomic_fetch_or_explicit(mb, bit, memory_order_relaxed) & bit)
        return; // the other marker kept it
    w->marked += s->elemsize;
    if (rt_spanclass_noscan(s->spanclass))
        return;
    uintptr_t base = s->startaddr + (uintptr_t)idx * s->elemsize;
    if (s->divmagic != 0 && w->nkept > 0 &&
        w->kept[2 * w->nkept - 2] + w->kept[2 * w->nkept - 1] == base) {
        w->kept[2 * w->nkept - 1] += s->elemsize; // the object after the last one kept
        return;
    }
    if (rt_unlikely(w->nkept == w->capkept))
        rt_gc_table_grow(&w->kept, &w->capkept, w->nkept, 2, 4096,
                         "gc: cannot map the kept-object table");
    w->kept[2 * w->nkept] = base;
    w->kept[2 * w->nkept + 1] = s->divmagic == 0 ? s->limit - base : s->elemsize;
    w->nkept++;
}

// A word beyond the heap's bounds at STW 1 may point into an arena mapped
// since, whose spans are all fresh.
static RT_NOINLINE GC_NO_SANITIZE void
conc_new_arena(GCWork *w, uintptr_t p)
{
    Span *s = rt_span_of(p);
    if (s == NULL || p >= s->limit)
        return;
    if (s->fresh_cycle != rt_work.fresh) {
        rt_conc_defer(w, p); // not expected; mark termination decides
        return;
    }
    conc_keep_fresh(w, s, rt_span_obj_index(s, p), p);
}

// Large objects: only their pages that may hold data. A page the program
// never wrote (or the scavenger released) reads zero, so holds no pointer;
// reading it would only fault in the zero page, about 0.1 ms a MiB: a
// fresh 2 GiB object cost its own trigger's cycle 13-17 s of pause. The
// kernel says which pages those are, two ways:
//   pagemap (rt_os_resident_scan): pages resident or swapped. It cannot
//     tell an untouched page armed for dirty tracking (a uffd-wp marker)
//     from a swapped one, so once a concurrent cycle has armed the heap,
//     every page of the object reads as data.
//   mincore (rt_os_core_scan): pages in memory; a marker counts as none.
//     Exact only while no page is swapped out: used when no swap is
//     configured, checked the first time a cycle wants it (rt_gc_core_usable),
//     with the system's swap-out count noted then. At the end of the mark
//     an unchanged count proves no page left memory meanwhile; a changed
//     one (swap turned on during the cycle) has every marked large object
//     scanned again by pagemap, with the world stopped (large_recheck).
// Skipping a page is exact where nothing can write it before it would have
// been read, or where a write is seen later:
//   - with the world stopped (stop-the-world marks, mark termination,
//     checkmark; the checkmark skips the same pages, or it would read
//     every armed page of a huge object);
//   - in the concurrent marker of a full cycle once worker 0 armed every
//     page in use at STW 1 (rt_conc.sparse): a page it skips now, written
//     later, reads as written at mark termination and is rescanned. Not
//     before, and not in minor cycles, whose pages are armed by the
//     harvest as it goes: there the object is read whole.
// STW 1's seeds are scanned later, by the concurrent marker: a large seed
// is queued whole with GC_LEN_LARGE set, and the marker that pops it
// decides then (push_large). Splitting it at STW 1 lost pointers: a page
// untouched then and written before it was armed was never scanned
// (checkmark failures in api.gc_grow, 19 runs in 20).

// Whether this cycle may use mincore. The first caller decides; the others
// wait for its answer.
bool
rt_gc_core_usable(void)
{
    uint32_t st = atomic_load_explicit(&rt_large.state, memory_order_acquire);
    if (st == CORE_UNKNOWN &&
        atomic_compare_exchange_strong_explicit(&rt_large.state, &st, CORE_DECIDING,
                                                memory_order_acquire, memory_order_acquire)) {
        // The count first: a page swapped out after it is counted, and
        // none was out before it when no swap is configured after it.
        uint64_t n = rt_os_swapouts();
        bool ok = n != UINT64_MAX && !rt_os_swap_configured();
        rt_large.swapouts = n;
        st = ok ? CORE_ON : CORE_OFF;
        atomic_store_explicit(&rt_large.state, st, memory_order_release);
    }
    // Another marker decides (two kernel reads, tens of microseconds): wait
    // for it. Going on with pagemap instead would read every armed page of
    // the object (api.gc_large at GOMAXPROCS=2, under load: up to 459419
    // faults of 524288).
    for (int i = 0; st == CORE_DECIDING; i++) {
        if (i < 64)
            rt_arch_pause();
        else
            rt_os_osyield();
        st = atomic_load_explicit(&rt_large.state, memory_order_acquire);
    }
    return st == CORE_ON;
}

// Runs go in pieces below GC_SPARSE_MIN: an entry that large on a mark
// stack is an object queued whole, which a marker may split (drain_local).
static void
sparse_run(uintptr_t lo, uintptr_t hi, void *arg)
{
    for (; hi - lo > GC_SPARSE_MIN / 2; lo += GC_SPARSE_MIN / 2)
        gcw_push(arg, lo, GC_SPARSE_MIN / 2);
    gcw_push(arg, lo, hi - lo);
}

// Queues the pages of [base, base+len) that may hold data: by mincore if
// core, else by pagemap.
RT_NOINLINE void
rt_gc_push_sparse(GCWork *w, uintptr_t base, uintptr_t len, bool core)
{
    size_t ps = rt_os_pagesize();
    uintptr_t lo = base & ~(uintptr_t)(ps - 1), hi = (base + len + ps - 1) & ~(uintptr_t)(ps - 1);
    uintptr_t n0 = w->n;
    if (core) {
        atomic_fetch_add_explicit(&rt_large.core_scans, 1, memory_order_relaxed);
        rt_os_core_scan(lo, hi, sparse_run, w);
    } else {
        rt_os_resident_scan(lo, hi, sparse_run, w);
    }
    // Runs are whole pages: clip the first and the last to the object.
    for (uintptr_t i = n0; i < w->n; i++) {
        uintptr_t p = w->stack[2 * i], e = p + w->stack[2 * i + 1];
        p = p < base ? base : p;
        e = e > base + len ? base + len : e;
        w->stack[2 * i] = p;
        w->stack[2 * i + 1] = e - p;
    }
}

// A large object to scan in mode (see above).
static RT_NOINLINE void
push_large(GCWork *w, uintptr_t base, uintptr_t len, enum MarkMode mode)
{
    switch (mode) {
    case MARK_SEED:
        gcw_push(w, base, len | GC_LEN_LARGE); // read after the world restarts
        return;
    case MARK_CONC:
        if (atomic_load_explicit(&rt_conc.sparse, memory_order_relaxed) && rt_gc_core_usable())
            rt_gc_push_sparse(w, base, len, true);
        else
            gcw_push(w, base, len); // read whole: pagemap would count the markers
        return;
    default:
        rt_gc_push_sparse(w, base, len, rt_gc_core_usable());
        return;
    }
}

void
rt_gc_push_kept(GCWork *w, uintptr_t base, uintptr_t len)
{
    if (len >= GC_SPARSE_MIN)
        push_large(w, base, len, MARK_SOLO); // a large object born during the mark
    else
        gcw_push(w, base, len);
}

// Go's greyobject: marks the slot p points into, if it is an allocated one,
// and queues it for scanning unless its span is noscan. In checkmark mode
// the slot must already carry the saved (real) mark.
static inline __attribute__((always_inline)) GC_NO_SANITIZE void
mark_word(GCWork *w, uintptr_t p, uintptr_t hlo, uintptr_t hsize, _Atomic(HeapArena *) *arenas,
          const enum MarkMode mode, uint32_t fresh)
{
    if (p - hlo >= hsize) {
        // The heap may have grown since the bounds were taken at STW 1.
        // (Below ARENA_BYTES, NULL above all, is never one: arenas are
        // aligned to their size, and page 0 cannot be mapped.)
        if (mode == MARK_CONC && p < HEAP_ADDR_MAX && p >= ARENA_BYTES)
            conc_new_arena(w, p);
        return;
    }
    HeapArena *ha = atomic_load_explicit(&arenas[p >> ARENA_SHIFT], memory_order_relaxed);
    if (ha == NULL)
        return;
    Span *s = atomic_load_explicit(&ha->spans[(p >> PAGE_SHIFT) % PAGES_PER_ARENA],
                                   memory_order_relaxed);
    if (s == NULL || p >= s->limit)
        return;
    uint32_t idx = rt_span_obj_index(s, p);
    if (mode == MARK_CONC && s->fresh_cycle == fresh) {
        conc_keep_fresh(w, s, idx, p); // born during this mark
        return;
    }
    // Bitmaps are whole 64-bit words (rt_span_bitmap_bytes), little-endian:
    // bit idx of the byte array is bit idx % 64 of word idx / 64. While
    // goroutines run, freeindex may be stale: a slot allocated meanwhile
    // then reads as free, and mark termination finds it (see conc.c).
    uint64_t bit = (uint64_t)1 << (idx % 64);
    _Atomic uint64_t *mb = (_Atomic uint64_t *)s->gcmark_bits + idx / 64;
    if (atomic_load_explicit(mb, memory_order_relaxed) & bit)
        return;
    if (idx >= s->freeindex && !(((const uint64_t *)s->alloc_bits)[idx / 64] & bit)) {
        if (mode == MARK_CONC)
            rt_conc_defer(w, p); // free, or allocated since the marker's view of freeindex
        return;                  // a free slot: stale pointer
    }
    if (mode == MARK_SEED && !(((const uint64_t *)s->full_bits)[idx / 64] & bit))
        return; // young: STW 2 scans the stacks again
    if (mode == MARK_CHECK) {
        // Single-threaded: plain update.
        atomic_store_explicit(mb, atomic_load_explicit(mb, memory_order_relaxed) | bit,
                              memory_order_relaxed);
        if (!(((const uint64_t *)s->gcmark_saved)[idx / 64] & bit)) {
            uintptr_t base = s->startaddr + (uintptr_t)idx * s->elemsize;
            rt_printf("runtime: checkmarks found unexpected unmarked object obj=%p span=%p "
                      "spanclass=%u elemsize=%lu (pointer %p) idx=%u freeindex=%u fresh=%u/%u\n",
                      (void *)base, (void *)s->startaddr, s->spanclass, (unsigned long)s->elemsize,
                      (void *)p, idx, s->freeindex, s->fresh_cycle, rt_work.fresh);
            rt_throw("checkmark found unmarked object");
        }
    } else if (mode == MARK_SOLO || mode == MARK_SEED) {
        // The only marker: a plain read-modify-write. The atomic one costs
        // about 20 cycles even uncontended, most of a 16-byte object's mark.
        atomic_store_explicit(mb, atomic_load_explicit(mb, memory_order_relaxed) | bit,
                              memory_order_relaxed);
    } else if (atomic_fetch_or_explicit(mb, bit, memory_order_relaxed) & bit) {
        return; // lock bts: another worker won
    }
    uintptr_t base = s->startaddr + (uintptr_t)idx * s->elemsize;
    w->marked += s->elemsize;
    if (rt_spanclass_noscan(s->spanclass))
        return;
    // One test, as before for "large or small": see malloc.h, "Partial scans".
    uintptr_t len =
            rt_likely(s->scan_kind == SCAN_SLOT) ? s->elemsize : rt_span_scan_len(s, idx, base);
    // Large objects skip their pages that hold nothing, where that is
    // exact (push_large).
    if (rt_unlikely(len >= GC_SPARSE_MIN))
        push_large(w, base, len, mode);
    else
        gcw_push(w, base, len);
}

static inline __attribute__((always_inline)) GC_NO_SANITIZE void
scan_words(GCWork *w, uintptr_t lo, uintptr_t hi, const enum MarkMode mode)
{
    // Loop invariants in registers: the stores to the mark stack could alias
    // the globals as far as the compiler knows.
    const uintptr_t hlo = rt_work.heap_lo, hsize = rt_work.heap_hi - rt_work.heap_lo;
    _Atomic(HeapArena *) *const arenas = rt_mheap.arenas;
    const uint32_t fresh = rt_work.fresh;
    lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    if (rt_unlikely(rt_gc_valgrind)) {
        // Conservative scanning reads stack words nobody initialised; tell
        // memcheck each word is a defined value, or the taint of a garbage
        // word would flow into the mark bits and every later use of them.
        for (const uintptr_t *q = (const uintptr_t *)lo; (uintptr_t)(q + 1) <= hi; q++) {
            volatile uintptr_t v = *q;
            rt_valgrind_make_defined((const void *)&v, sizeof v);
            mark_word(w, v, hlo, hsize, arenas, mode, fresh);
        }
        return;
    }
    for (const uintptr_t *q = (const uintptr_t *)lo; (uintptr_t)(q + 1) <= hi; q++)
        mark_word(w, *q, hlo, hsize, arenas, mode, fresh);
}

// Pops and scans until w's stack is empty. Popped pieces wait in a small
// FIFO after a prefetch of their first line, so the cache misses of up to
// PREFETCH_DEPTH objects overlap (scanning is otherwise one miss after
// another). A concurrent marker also stops, its work kept on the stack,
// when mark termination asks it to (rt_conc.stop), and an assist when it has
// marked up to limit bytes or the world is stopping; it returns false then.
// A concurrent marker shares work while the other one waits for some.

static inline __attribute__((always_inline)) GC_NO_SANITIZE bool
drain_local(GCWork *w, const enum MarkMode mode, uint64_t limit)
{
    enum { PREFETCH_DEPTH = 16, STOP_CHECK = 64 };
    uintptr_t rp[PREFETCH_DEPTH], rl[PREFETCH_DEPTH];
    unsigned rh = 0, rn = 0, tick = 0;
    for (;;) {
        if (mode == MARK_CONC && ++tick % STOP_CHECK == 0 &&
            (atomic_load_explicit(&rt_conc.stop, memory_order_relaxed) || w->marked >= limit ||
             (limit != UINT64_MAX &&
              atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed)))) {
            for (; rn > 0; rn--, rh = (rh + 1) % PREFETCH_DEPTH)
                gcw_push(w, rp[rh], rl[rh]);
            return false;
        }
        if (mode == MARK_CONC && limit == UINT64_MAX && tick % STOP_CHECK == 0) {
            if (rt_unlikely(w->marked >=
                            atomic_load_explicit(&rt_conc.wake_at, memory_order_relaxed)))
                rt_assist_wake(); // worker 0 marked what a parked assist waits for
            // Balance (Go's gcw.balance): keep a buffer of worker 0's work
            // on the global list, so that an assist finds some while worker
            // 0 is off its core. Nobody takes it: one share, then nfull > 0.
            if (w->n >= 2 * SHARE_MIN &&
                atomic_load_explicit(&rt_conc.armed, memory_order_relaxed) &&
                atomic_load_explicit(&rt_work.nfull, memory_order_relaxed) == 0) {
                rt_gcw_share(w);
                w->nshare++;
                rt_gc_futex_event(&rt_conc.seq, &rt_conc.nsleep);
            }
        }
        while (rn < PREFETCH_DEPTH && w->n > 0) {
            w->n--;
            uintptr_t p = w->stack[2 * w->n], len = w->stack[2 * w->n + 1];
            if (len > GC_OBLET) {
                // A large seed, or a large object (or what is left of one)
                // queued whole, met where its pages may be skipped: split
                // it by its pages now (push_large; STW 1 reads it at once).
                if (rt_unlikely(len >= GC_SPARSE_MIN) &&
                    (mode != MARK_CONC || (len & GC_LEN_LARGE))) {
                    push_large(w, p, len & ~GC_LEN_LARGE, mode == MARK_SEED ? MARK_SOLO : mode);
                    continue;
                }
                gcw_push(w, p + GC_OBLET, len - GC_OBLET);
                len = GC_OBLET;
            }
            __builtin_prefetch((const void *)p);
            unsigned k = (rh + rn) % PREFETCH_DEPTH;
            rp[k] = p;
            rl[k] = len;
            rn++;
        }
        if (rn == 0)
            break;
        uintptr_t p = rp[rh], len = rl[rh];
        rh = (rh + 1) % PREFETCH_DEPTH;
        rn--;
        scan_words(w, p, p + len, mode);
        if (mode == MARK_PAR && w->n >= SHARE_MIN &&
            atomic_load_explicit(&rt_work.nwait, memory_order_relaxed) != 0 &&
            atomic_load_explicit(&rt_work.nfull, memory_order_relaxed) == 0) {
            rt_gcw_share(w);
            w->nshare++;
        }
        if (mode == MARK_CONC && w->n >= SHARE_MIN &&
            atomic_load_explicit(&rt_conc.hungry, memory_order_relaxed) != 0 &&
            atomic_load_explicit(&rt_work.nfull, memory_order_relaxed) == 0) {
            rt_gcw_share(w);
            w->nshare++;
            rt_gc_futex_event(&rt_conc.seq, &rt_conc.nsleep);
        }
    }
    return true;
}

// drain_local for the concurrent markers (conc.c, assist.c), with its mode
// known here.
GC_NO_SANITIZE bool
rt_gc_drain_conc(GCWork *w, uint64_t limit)
{
    return drain_local(w, MARK_CONC, limit);
}

static RT_NOINLINE GC_NO_SANITIZE void
scan_range(GCWork *w, uintptr_t lo, uintptr_t hi)
{
    switch (rt_work.mode) {
    case MARK_PAR:
        scan_words(w, lo, hi, MARK_PAR);
        break;
    case MARK_SOLO:
        scan_words(w, lo, hi, MARK_SOLO);
        break;
    case MARK_CONC:
        scan_words(w, lo, hi, MARK_CONC);
        break;
    case MARK_CHECK:
        scan_words(w, lo, hi, MARK_CHECK);
        break;
    case MARK_SEED:
        scan_words(w, lo, hi, MARK_SEED);
        break;
    case MARK_WHY:
        rt_gc_why_root(lo, hi); // why.c walks it, depth first
        break;
    }
}

static bool
mark_waiting(void *arg)
{
    (void)arg;
    return atomic_load_explicit(&rt_work.nfull, memory_order_relaxed) != 0 ||
           atomic_load_explicit(&rt_work.nwait, memory_order_relaxed) == rt_work.nproc;
}

// One round of a stop-the-world mark worker's wait for shared work or the
// end (see "Waiting"): PAUSE, then one yield, then the futex.
static void
mark_wait(int spins)
{
    int active = rt_ncpu > 1 ? WAIT_ACTIVE * WAIT_PAUSES : 0;
    if (spins < active) {
        rt_arch_pause();
    } else if (spins == active) {
        rt_os_osyield();
    } else {
        atomic_fetch_add_explicit(&rt_work.nsleep, 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst);
        uint32_t v = atomic_load_explicit(&rt_work.seq, memory_order_relaxed);
        if (!mark_waiting(NULL))
            rt_os_futexsleep(&rt_work.seq, v, -1);
        atomic_fetch_sub_explicit(&rt_work.nsleep, 1, memory_order_relaxed);
    }
}

// Marks everything reachable from w's stack and the shared list, together
// with the other workers; returns when all of them are out of work.
GC_NO_SANITIZE void
rt_mark_loop(GCWork *w)
{
    int64_t t0 = rt_nanotime();
    for (;;) {
        if (rt_work.mode == MARK_PAR)
            drain_local(w, MARK_PAR, UINT64_MAX);
        else
            drain_local(w, MARK_SOLO, UINT64_MAX);
        if (rt_gcw_steal(w)) {
            w->nsteal++;
            continue;
        }
        atomic_fetch_add_explicit(&rt_work.nwait, 1, memory_order_acq_rel);
        bool done = false;
        int64_t ti = rt_nanotime();
        for (int spins = 0;; spins++) {
            if (atomic_load_explicit(&rt_work.nfull, memory_order_acquire) != 0) {
                atomic_fetch_sub_explicit(&rt_work.nwait, 1, memory_order_acq_rel);
                if (rt_gcw_steal(w)) {
                    w->nsteal++;
                    break;
                }
                atomic_fetch_add_explicit(&rt_work.nwait, 1, memory_order_acq_rel);
                continue;
            }
            // All waiting and nothing shared: nobody can add work any more
            // (a worker shares only while it is not counted in nwait).
            if (atomic_load_explicit(&rt_work.nwait, memory_order_acquire) == rt_work.nproc &&
                atomic_load_explicit(&rt_work.nfull, memory_order_acquire) == 0) {
                done = true;
                rt_gc_futex_event(&rt_work.seq, &rt_work.nsleep); // the others may sleep
                break;
            }
            mark_wait(spins);
        }
        w->idle_ns += (uint64_t)(rt_nanotime() - ti);
        if (done)
            break;
    }
    w->cpu_ns += (uint64_t)(rt_nanotime() - t0);
}

// ---- Roots -------------------------------------------------------------------------

static GC_NO_SANITIZE void
root_stack(uintptr_t lo, uintptr_t hi, void *arg)
{
    // The sweeper and forcegc goroutines hold no heap pointers, only stale
    // words of the spans they swept (addresses that new objects reuse).
    if (rt_gc_runtime_stack(lo))
        return;
    rt_work.stack_bytes += hi - lo;
    if (rt_work.seed)
        scan_words(arg, lo, hi, MARK_SEED);
    else
        scan_range(arg, lo, hi);
}

static void
root_global(uintptr_t lo, uintptr_t hi, void *arg)
{
    rt_work.global_bytes += hi - lo;
    scan_range(arg, lo, hi);
}

static void
root_user(uintptr_t start, uintptr_t size, void *arg)
{
    scan_range(arg, start, start + size);
}

static void
root_timer(Timer *t, void *arg)
{
    uintptr_t p = (uintptr_t)t;
    scan_range(arg, (uintptr_t)&p, (uintptr_t)(&p + 1)); // a timer on the heap
    scan_range(arg, p, p + sizeof(Timer));               // and what it holds
}

// The contents of objects with finalizers are roots (Go's markrootSpans): what
// they reach survives, the object itself is decided at mark termination.
static void
root_specials(Span *s, void *arg)
{
    GCWork *w = arg;
    rt_lock(&s->speciallock);
    for (Special *sp = s->specials; sp != NULL; sp = sp->next) {
        if (sp->kind != SPECIAL_FINALIZER)
            continue;
        uintptr_t base = s->startaddr + sp->offset;
        if (s->divmagic != 0)
            base = s->startaddr + (uintptr_t)rt_span_obj_index(s, base) * s->elemsize;
        if (!rt_spanclass_noscan(s->spanclass)) {
            uintptr_t len = s->divmagic == 0 ? s->limit - base : s->elemsize;
            if (rt_work.mode == MARK_WHY)
                rt_gc_why_root(base, base + len);
            else
                gcw_push(w, base, len);
        }
    }
    rt_unlock(&s->speciallock);
}

// With GODEBUG=gcwhy or gort_gc_why, why_mark runs this in MARK_WHY mode,
// and the kinds set here name each root (why.c).
void
rt_mark_roots(GCWork *w)
{
    rt_gc_why_set_kind(WHY_ROOT_STACKS);
    rt_gc_scan_stacks(root_stack, w, rt_work.self_sp);
    rt_gc_why_set_kind(WHY_ROOT_GLOBAL);
    rt_gc_data_segments_foreach(root_global, w);
    rt_gc_why_set_kind(WHY_ROOT_USER);
    rt_gc_roots_foreach(root_user, w);
    rt_gc_why_set_kind(WHY_ROOT_GDESC);
    // G descriptors (off-heap): a goroutine not yet started holds its
    // argument only here; a blocked one its Sudogs' elem/addr.
    rt_lock(&rt_allglock);
    for (G *gp = rt_allg; gp != NULL; gp = gp->alllink) {
        if (atomic_load_explicit(&gp->status, memory_order_relaxed) == G_DEAD)
            continue;
        scan_range(w, (uintptr_t)&gp->arg, (uintptr_t)(&gp->arg + 1));
        scan_range(w, (uintptr_t)&gp->param, (uintptr_t)(&gp->param + 1));
        for (Sudog *sg = gp->waiting; sg != NULL; sg = sg->waitlink)
            scan_range(w, (uintptr_t)sg, (uintptr_t)(sg + 1));
    }
    rt_unlock(&rt_allglock);
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    rt_gc_why_set_kind(WHY_ROOT_TIMER);
    for (int32_t i = 0; i < np; i++)
        rt_timers_visit(rt_allp[i], root_timer, w);
    uintptr_t lo, hi;
    rt_gc_why_set_kind(WHY_ROOT_FINQ);
    rt_gc_finq_range(&lo, &hi);
    scan_range(w, lo, hi);
    rt_gc_why_set_kind(WHY_ROOT_SPECIAL);
    rt_gc_foreach_special_span(root_specials, w);
    rt_gc_why_set_kind(WHY_ROOT_EXTRA);
    if (rt_work.extra_lo < rt_work.extra_hi)
        scan_range(w, rt_work.extra_lo, rt_work.extra_hi);
}

// ---- Mark termination: finalizers ------------------------------------------------

// An object with a finalizer that nothing else reaches: queue its finalizer,
// drop the special, and keep it (and what it reaches) for one more cycle.
static void
queue_dead_finalizers(Span *s, void *arg)
{
    GCWork *w = arg;
    rt_lock(&s->speciallock);
    Special **t = &s->specials;
    while (*t != NULL) {
        Special *sp = *t;
        uintptr_t p = s->startaddr + sp->offset;
        uint32_t idx = s->divmagic != 0 ? rt_span_obj_index(s, p) : 0;
        bool marked = s->gcmark_bits[idx / 8] & (1u << (idx % 8));
        if (sp->kind != SPECIAL_FINALIZER || marked) {
            t = &sp->next;
            continue;
        }
        *t = sp->next;
        SpecialFinalizer *f = (SpecialFinalizer *)sp;
        rt_gc_queue_finalizer(f->fn, (void *)p);
        scan_range(w, (uintptr_t)&p, (uintptr_t)(&p + 1));
        rt_lock(&rt_mheap.speciallock);
        rt_fixalloc_free(&rt_mheap.specialalloc, sp);
        rt_unlock(&rt_mheap.speciallock);
    }
    rt_unlock(&s->speciallock);
}

// ---- Checkmark ---------------------------------------------------------------------

// A marked large object scanned again by pagemap (see rt_gc_push_sparse).
static void
large_rescan(Span *s, void *arg)
{
    if (s->divmagic != 0 || rt_spanclass_noscan(s->spanclass) || !(s->gcmark_bits[0] & 1))
        return;
    uintptr_t len = s->scan_kind == SCAN_SLOT ? s->elemsize : rt_span_scan_len(s, 0, s->startaddr);
    if (len >= GC_SPARSE_MIN)
        rt_gc_push_sparse(arg, s->startaddr, len, false);
}

// The end of a mark, world stopped: if mincore was used and a page was
// swapped out since it was decided, what it skipped is scanned again.
static void
large_recheck(GCWork *w)
{
    if (atomic_load_explicit(&rt_large.state, memory_order_acquire) != CORE_ON ||
        rt_os_swapouts() == rt_large.swapouts)
        return;
    atomic_store_explicit(&rt_large.state, CORE_OFF, memory_order_relaxed);
    rt_gc_foreach_span(large_rescan, w);
    rt_mark_loop(w);
}

static void
checkmark_swap_in(Span *s, void *arg)
{
    (void)arg;
    s->gcmark_saved = s->gcmark_bits;
    s->gcmark_bits = rt_gcbits_alloc(rt_span_bitmap_bytes(s->nelems));
}

static void
checkmark_swap_out(Span *s, void *arg)
{
    (void)arg;
    rt_gcbits_free(s->gcmark_bits, rt_span_bitmap_bytes(s->nelems));
    s->gcmark_bits = s->gcmark_saved;
    s->gcmark_saved = NULL;
}

// Re-marks single-threaded from the same roots into fresh bitmaps; any
// object reached that the parallel mark missed is fatal.
static void
checkmark(GCWork *w)
{
    rt_gc_foreach_span(checkmark_swap_in, NULL);
    enum MarkMode mode = rt_work.mode;
    rt_work.mode = MARK_CHECK;
    uint64_t marked = w->marked, sb = rt_work.stack_bytes, gb = rt_work.global_bytes;
    rt_mark_roots(w);
    drain_local(w, MARK_CHECK, UINT64_MAX);
    rt_work.mode = mode;
    w->marked = marked;
    rt_work.stack_bytes = sb;
    rt_work.global_bytes = gb;
    rt_gc_foreach_span(checkmark_swap_out, NULL);
}

// ---- Retention reports (why.c) ------------------------------------------------------

// Walks from the same roots, depth first, into fresh bitmaps (as the
// checkmark does), for the object gort_gc_why or GODEBUG=gcwhy asks about.
static void
why_mark(GCWork *w)
{
    rt_gc_foreach_span(checkmark_swap_in, NULL);
    enum MarkMode mode = rt_work.mode;
    bool seed = rt_work.seed;
    uint64_t sb = rt_work.stack_bytes, gb = rt_work.global_bytes;
    if (rt_gc_why_begin()) {
        rt_work.mode = MARK_WHY;
        rt_work.seed = false;
        rt_mark_roots(w);
        rt_gc_why_end();
    }
    rt_work.mode = mode;
    rt_work.seed = seed;
    rt_work.stack_bytes = sb;
    rt_work.global_bytes = gb;
    rt_gc_foreach_span(checkmark_swap_out, NULL);
}

// ---- The cycle ---------------------------------------------------------------------

void
rt_gc_heap_bounds(void)
{
    MHeap *h = &rt_mheap;
    if (h->narenas == 0) {
        rt_work.heap_lo = rt_work.heap_hi = 1;
        return;
    }
    rt_work.heap_lo = h->allarenas[0]->base;
    rt_work.heap_hi = h->allarenas[h->narenas - 1]->base + ARENA_BYTES;
}

// Marks the heap with the world stopped. Returns marked bytes.
uint64_t
rt_gc_mark(int32_t nprocs, uint64_t *cpu_ns)
{
    uint32_t nproc = nprocs < 1 ? 1 : (uint32_t)nprocs;
    if (nproc > rt_work.nworkers + 1) // workers are made before the world stops
        nproc = rt_work.nworkers + 1;
    rt_work.nproc = nproc;
    rt_work.stack_bytes = rt_work.global_bytes = 0;
    atomic_store_explicit(&rt_work.nwait, 0, memory_order_relaxed);
    for (uint32_t i = 0; i < rt_work.nworkers; i++) {
        rt_work.workers[i]->w.marked = 0;
        rt_work.workers[i]->w.cpu_ns = 0;
        rt_work.workers[i]->w.idle_ns = 0;
        rt_work.workers[i]->w.nshare = rt_work.workers[i]->w.nsteal = 0;
    }
    GCWork *w = &rt_work.self;
    w->marked = 0;
    w->cpu_ns = 0;
    w->idle_ns = w->nshare = w->nsteal = 0;
    rt_gc_heap_bounds();
    rt_work.mode = nproc > 1 ? MARK_PAR : MARK_SOLO;
    if (nproc > 1)
        rt_workers_run(JOB_MARK, nproc);
    int64_t t0 = rt_nanotime();
    rt_mark_roots(w);
    if (rt_work.rescan)
        rt_conc_rescan_slice(w, 0, nproc);
    w->cpu_ns += (uint64_t)(rt_nanotime() - t0);
    rt_mark_loop(w);
    rt_workers_wait();
    // Finalizers (single-threaded: the newly dead are few).
    atomic_store_explicit(&rt_work.nwait, 0, memory_order_relaxed);
    rt_work.nproc = 1;
    rt_work.mode = MARK_SOLO;
    large_recheck(w);
    rt_gc_foreach_special_span(queue_dead_finalizers, w);
    rt_mark_loop(w);
    if (rt_debug.gccheckmark)
        checkmark(w);
    if (rt_gc_why_wanted())
        why_mark(w);
    uint64_t marked = w->marked, cpu = w->cpu_ns;
    for (uint32_t i = 0; i + 1 < nproc; i++) {
        marked += rt_work.workers[i]->w.marked;
        cpu += rt_work.workers[i]->w.cpu_ns;
    }
    *cpu_ns = cpu;
    if (rt_debug.gctrace > 1) {
        rt_printf("gc mark: large objects %s, %llu scanned by mincore so far\n",
                  atomic_load_explicit(&rt_large.state, memory_order_relaxed) == CORE_ON
                          ? "skip untouched and armed pages (mincore)"
                          : "skip untouched pages (pagemap)",
                  (unsigned long long)atomic_load_explicit(&rt_large.core_scans,
                                                           memory_order_relaxed));
        rt_printf("gc mark: starter busy %llu idle %llu us share %llu steal %llu\n",
                  (unsigned long long)(w->cpu_ns - w->idle_ns) / 1000,
                  (unsigned long long)w->idle_ns / 1000, (unsigned long long)w->nshare,
                  (unsigned long long)w->nsteal);
        for (uint32_t i = 0; i + 1 < nproc; i++) {
            GCWork *x = &rt_work.workers[i]->w;
            rt_printf("gc mark: worker %u busy %llu idle %llu us share %llu steal %llu\n", i,
                      (unsigned long long)(x->cpu_ns - x->idle_ns) / 1000,
                      (unsigned long long)x->idle_ns / 1000, (unsigned long long)x->nshare,
                      (unsigned long long)x->nsteal);
        }
    }
    return marked;
}
