// mark.c: one collection cycle: stop the world, mark in parallel, restart.
//
// See gc.h for the phases. Marking is conservative: every aligned word of a
// root range or of a scanned object that points into an allocated slot of an
// in-use span marks that slot (rt_span_of's two loads, the span's magic
// division; interior pointers included). Free slots are not marked, so a
// stale word never resurrects garbage or scans freed memory.
//
// Work: each worker owns a GCWork, a growable stack of (address, length)
// pairs mapped with rt_os_map (never the heap, never recursion: a 10M-node
// list needs one entry at a time). While another worker waits and nothing is
// shared, a worker with two or more entries moves half of them (at most a
// 4 KiB WorkBuf) to the global list; idle workers take a buffer from it.
// Marking ends when every worker waits and the list is empty. Pieces longer
// than GC_OBLET are split when popped, so a large array's rest can be
// stolen while one worker scans its head. Popped pieces pass through a
// 16-entry prefetch FIFO before they are scanned: marking is bound by cache
// misses on the objects, and this overlaps them (4x faster on trees).
//
// Threads: worker i (0 .. GOMAXPROCS-2) is a dedicated OS thread (not an M,
// no P, no gort stack, all signals blocked) sleeping on a futex on work.gen;
// the goroutine that starts the cycle is the last worker and scans the
// roots, sharing as it goes. Small heaps use fewer workers (one per 8 MiB of
// heap), as each wake-up costs more than it marks. Workers are created on
// demand and never exit.
//
// Locking: work.lock guards the global buffer lists (a leaf). Everything
// else in `work` is [stw]: written by the starter with the world stopped,
// read by the workers between the futex wake-up and their done count.
#include "gc/gc.h"
#include "time/timer.h"

#include <string.h>

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define GC_VALGRIND 1
#else
#define GC_VALGRIND 0
#endif

enum {
    MARK_DEBUG = 0,
    WB_ENTRIES = 255, // (addr, len) pairs per WorkBuf: 4 KiB
    SHARE_MIN = 2,    // a worker with this many entries shares when another waits
    MAX_WORKERS = 256,
    STACK_INIT = 1 << 16, // pairs in a fresh mark stack (1 MiB, lazily committed)
    GEN_NPROC_BITS = 9,   // work.gen = cycle << 9 | nproc (nproc <= MAX_WORKERS)
    GEN_NPROC_MASK = (1 << GEN_NPROC_BITS) - 1,
};
#define GC_HEAP_PER_WORKER ((uint64_t)8 << 20) // heap per mark worker (small heaps)

typedef struct WorkBuf {
    struct WorkBuf *next;
    uintptr_t n; // pairs in e
    uintptr_t e[2 * WB_ENTRIES];
} WorkBuf;

typedef struct GCWork {
    uintptr_t *stack;        // [owner] pairs: stack[2i] address, stack[2i+1] length
    uintptr_t n;             // [owner] pairs on the stack
    uintptr_t cap;           // [owner] pairs it can hold
    uint64_t marked;         // [owner] bytes of objects this worker marked
    uint64_t cpu_ns;         // [owner] time spent marking this cycle
    uint64_t idle_ns;        // [owner] time spent waiting for work this cycle
    uint64_t nshare, nsteal; // [owner] buffers given and taken this cycle
    uint8_t pad[RT_CACHE_LINE];
} GCWork;

typedef struct Worker {
    GCWork w;
    int id;
    uintptr_t thread;
} Worker;

// Below this live heap, sweeping is left to the allocators (see rt_gc_cycle's end).
enum { BGSWEEP_MIN_HEAP = 32 << 20 };

#if GC_VALGRIND
// Set once at the first collection: running under valgrind's memcheck.
static bool gc_under_valgrind;
#endif

static struct {
    Lock lock;                    // guards full and empty
    WorkBuf *full;                // [lock] shared work
    WorkBuf *empty;               // [lock] spare buffers
    _Atomic uint32_t nfull;       // [atomic] buffers on full (read without the lock)
    _Atomic uint32_t nwait;       // [atomic] workers out of work
    uint32_t nproc;               // [stw] workers in this cycle, starter included
    _Atomic uint32_t gen;         // [atomic] futex: cycle << 9 | nproc; a change wakes workers
    _Atomic uint32_t ndone;       // [atomic] helper workers still marking
    Worker *workers[MAX_WORKERS]; // [stw] dedicated threads
    uint32_t nworkers;            // [stw]
    GCWork self;                  // [stw] the starter's work
    uintptr_t heap_lo, heap_hi;   // [stw] bounds of the arenas, for a quick reject
    bool checkmark;               // [stw] checkmark pass running
    uint64_t stack_bytes, global_bytes; // [stw] root bytes scanned
} work;

// ---- The mark stack ----------------------------------------------------------------

static RT_NOINLINE void
gcw_grow(GCWork *w)
{
    uintptr_t ncap = w->cap ? w->cap * 2 : STACK_INIT;
    uintptr_t *ns = rt_os_map(ncap * 2 * sizeof(uintptr_t));
    if (ns == NULL)
        rt_throw("gc: cannot map the mark stack");
    if (w->stack != NULL) {
        memcpy(ns, w->stack, w->n * 2 * sizeof(uintptr_t));
        rt_os_unmap(w->stack, w->cap * 2 * sizeof(uintptr_t));
    }
    w->stack = ns;
    w->cap = ncap;
}

static inline void
gcw_push(GCWork *w, uintptr_t p, uintptr_t len)
{
    if (rt_unlikely(w->n == w->cap))
        gcw_grow(w);
    w->stack[2 * w->n] = p;
    w->stack[2 * w->n + 1] = len;
    w->n++;
}

static WorkBuf *
wb_get_empty(void)
{
    rt_lock(&work.lock);
    WorkBuf *b = work.empty;
    if (b != NULL)
        work.empty = b->next;
    rt_unlock(&work.lock);
    if (b == NULL) {
        b = rt_os_map(sizeof(WorkBuf));
        if (b == NULL)
            rt_throw("gc: cannot map a work buffer");
    }
    b->n = 0;
    return b;
}

// Moves about half of w's stack (at most WB_ENTRIES pairs) to the global
// list. A short stack gives its bottom entries, the oldest and usually the
// biggest pieces of work (a tree's other subtrees); a deep one its top, so
// sharing never copies more than a buffer's worth.
static RT_NOINLINE void
gcw_share(GCWork *w)
{
    WorkBuf *b = wb_get_empty();
    uintptr_t k = (w->n + 1) / 2 < WB_ENTRIES ? (w->n + 1) / 2 : WB_ENTRIES;
    if (w->n <= 4 * WB_ENTRIES) {
        memcpy(b->e, w->stack, k * 2 * sizeof(uintptr_t));
        memmove(w->stack, w->stack + 2 * k, (w->n - k) * 2 * sizeof(uintptr_t));
        w->n -= k;
    } else {
        w->n -= k;
        memcpy(b->e, w->stack + 2 * w->n, k * 2 * sizeof(uintptr_t));
    }
    b->n = k;
    rt_lock(&work.lock);
    b->next = work.full;
    work.full = b;
    atomic_fetch_add_explicit(&work.nfull, 1, memory_order_release);
    rt_unlock(&work.lock);
}

// Takes one buffer of shared work onto w's stack. False if none.
static bool
gcw_steal(GCWork *w)
{
    if (atomic_load_explicit(&work.nfull, memory_order_acquire) == 0)
        return false;
    rt_lock(&work.lock);
    WorkBuf *b = work.full;
    if (b != NULL) {
        work.full = b->next;
        atomic_fetch_sub_explicit(&work.nfull, 1, memory_order_relaxed);
    }
    rt_unlock(&work.lock);
    if (b == NULL)
        return false;
    while (w->n + b->n > w->cap)
        gcw_grow(w);
    memcpy(w->stack + 2 * w->n, b->e, b->n * 2 * sizeof(uintptr_t));
    w->n += b->n;
    rt_lock(&work.lock);
    b->next = work.empty;
    work.empty = b;
    rt_unlock(&work.lock);
    return true;
}

// ---- Marking -----------------------------------------------------------------------

// Go's greyobject: marks the slot p points into, if it is an allocated one,
// and queues it for scanning unless its span is noscan. In checkmark mode
// the slot must already carry the saved (real) mark.
static inline __attribute__((always_inline)) GC_NO_SANITIZE void
mark_word(GCWork *w, uintptr_t p, uintptr_t hlo, uintptr_t hsize, _Atomic(HeapArena *) *arenas,
          const bool checkmark)
{
    if (p - hlo >= hsize)
        return;
    HeapArena *ha = atomic_load_explicit(&arenas[p >> ARENA_SHIFT], memory_order_relaxed);
    if (ha == NULL)
        return;
    Span *s = atomic_load_explicit(&ha->spans[(p >> PAGE_SHIFT) % PAGES_PER_ARENA],
                                   memory_order_relaxed);
    if (s == NULL || p >= s->limit)
        return;
    uint32_t idx = rt_span_obj_index(s, p);
    // Bitmaps are whole 64-bit words (rt_span_bitmap_bytes), little-endian:
    // bit idx of the byte array is bit idx % 64 of word idx / 64.
    uint64_t bit = (uint64_t)1 << (idx % 64);
    if (idx >= s->freeindex && !(((const uint64_t *)s->alloc_bits)[idx / 64] & bit))
        return; // a free slot: stale pointer
    _Atomic uint64_t *mb = (_Atomic uint64_t *)s->gcmark_bits + idx / 64;
    if (atomic_load_explicit(mb, memory_order_relaxed) & bit)
        return;
    if (checkmark) {
        // Single-threaded: plain update.
        atomic_store_explicit(mb, atomic_load_explicit(mb, memory_order_relaxed) | bit,
                              memory_order_relaxed);
        if (!(((const uint64_t *)s->gcmark_saved)[idx / 64] & bit)) {
            uintptr_t base = s->startaddr + (uintptr_t)idx * s->elemsize;
            rt_printf("runtime: checkmarks found unexpected unmarked object obj=%p span=%p "
                      "spanclass=%u elemsize=%lu (pointer %p)\n",
                      (void *)base, (void *)s->startaddr, s->spanclass, (unsigned long)s->elemsize,
                      (void *)p);
            rt_throw("checkmark found unmarked object");
        }
    } else if (work.nproc == 1) {
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
    uintptr_t len = s->divmagic == 0 ? s->limit - base : s->elemsize;
    gcw_push(w, base, len);
}

static inline __attribute__((always_inline)) GC_NO_SANITIZE void
scan_words(GCWork *w, uintptr_t lo, uintptr_t hi, const bool checkmark)
{
    // Loop invariants in registers: the stores to the mark stack could alias
    // the globals as far as the compiler knows.
    const uintptr_t hlo = work.heap_lo, hsize = work.heap_hi - work.heap_lo;
    _Atomic(HeapArena *) *const arenas = rt_mheap.arenas;
    lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
#if GC_VALGRIND
    if (rt_unlikely(gc_under_valgrind)) {
        // Conservative scanning reads stack words nobody initialised; tell
        // memcheck each word is a defined value, or the taint of a garbage
        // word would flow into the mark bits and every later use of them.
        for (const uintptr_t *q = (const uintptr_t *)lo; (uintptr_t)(q + 1) <= hi; q++) {
            volatile uintptr_t v = *q;
            VALGRIND_MAKE_MEM_DEFINED((const void *)&v, sizeof v);
            mark_word(w, v, hlo, hsize, arenas, checkmark);
        }
        return;
    }
#endif
    for (const uintptr_t *q = (const uintptr_t *)lo; (uintptr_t)(q + 1) <= hi; q++)
        mark_word(w, *q, hlo, hsize, arenas, checkmark);
}

// Pops and scans until w's stack is empty. Popped pieces wait in a small
// FIFO after a prefetch of their first line, so the cache misses of up to
// PREFETCH_DEPTH objects overlap (scanning is otherwise one miss after
// another).
static inline __attribute__((always_inline)) GC_NO_SANITIZE void
drain_local(GCWork *w, const bool checkmark)
{
    enum { PREFETCH_DEPTH = 16 };
    uintptr_t rp[PREFETCH_DEPTH], rl[PREFETCH_DEPTH];
    unsigned rh = 0, rn = 0;
    for (;;) {
        while (rn < PREFETCH_DEPTH && w->n > 0) {
            w->n--;
            uintptr_t p = w->stack[2 * w->n], len = w->stack[2 * w->n + 1];
            if (len > GC_OBLET) {
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
        scan_words(w, p, p + len, checkmark);
        if (!checkmark && w->n >= SHARE_MIN &&
            atomic_load_explicit(&work.nwait, memory_order_relaxed) != 0 &&
            atomic_load_explicit(&work.nfull, memory_order_relaxed) == 0) {
            gcw_share(w);
            w->nshare++;
        }
    }
}

static RT_NOINLINE GC_NO_SANITIZE void
scan_range(GCWork *w, uintptr_t lo, uintptr_t hi)
{
    if (work.checkmark)
        scan_words(w, lo, hi, true);
    else
        scan_words(w, lo, hi, false);
}

// Marks everything reachable from w's stack and the shared list, together
// with the other workers; returns when all of them are out of work.
static GC_NO_SANITIZE void
mark_loop(GCWork *w)
{
    int64_t t0 = rt_nanotime();
    for (;;) {
        drain_local(w, false);
        if (gcw_steal(w)) {
            w->nsteal++;
            continue;
        }
        atomic_fetch_add_explicit(&work.nwait, 1, memory_order_acq_rel);
        bool done = false;
        int64_t ti = rt_nanotime();
        for (int spins = 0;; spins++) {
            if (atomic_load_explicit(&work.nfull, memory_order_acquire) != 0) {
                atomic_fetch_sub_explicit(&work.nwait, 1, memory_order_acq_rel);
                if (gcw_steal(w)) {
                    w->nsteal++;
                    break;
                }
                atomic_fetch_add_explicit(&work.nwait, 1, memory_order_acq_rel);
                continue;
            }
            // All waiting and nothing shared: nobody can add work any more
            // (a worker shares only while it is not counted in nwait).
            if (atomic_load_explicit(&work.nwait, memory_order_acquire) == work.nproc &&
                atomic_load_explicit(&work.nfull, memory_order_acquire) == 0) {
                done = true;
                break;
            }
            if (spins < 100)
                rt_arch_pause();
            else if (spins < 200)
                rt_os_osyield();
            else
                rt_os_usleep(10);
        }
        w->idle_ns += (uint64_t)(rt_nanotime() - ti);
        if (done)
            break;
    }
    w->cpu_ns += (uint64_t)(rt_nanotime() - t0);
}

static void *
worker_main(void *arg)
{
    Worker *wk = arg;
    uint32_t seen = 0;
    for (;;) {
        uint32_t g;
        while ((g = atomic_load_explicit(&work.gen, memory_order_acquire)) == seen)
            rt_os_futexsleep(&work.gen, seen, -1);
        seen = g;
        // nproc travels in the same word as the cycle number: a worker that
        // wakes late for a cycle it was not part of (which may be over) must
        // not read the next cycle's nproc and count itself in twice.
        if ((uint32_t)wk->id + 1 >= (g & GEN_NPROC_MASK))
            continue; // not needed this cycle
        mark_loop(&wk->w);
        if (atomic_fetch_sub_explicit(&work.ndone, 1, memory_order_acq_rel) == 1)
            rt_os_futexwake(&work.ndone, 1);
    }
    return NULL;
}

static void
workers_ensure(uint32_t n)
{
    while (work.nworkers < n && work.nworkers < MAX_WORKERS) {
        Worker *wk = rt_persistentalloc(sizeof(Worker), RT_CACHE_LINE);
        wk->id = (int)work.nworkers;
        if (rt_os_newosproc(worker_main, wk, &wk->thread) != 0)
            break; // fewer helpers; marking still completes
        work.workers[work.nworkers++] = wk;
    }
}

// ---- Roots -------------------------------------------------------------------------

static void
root_stack(uintptr_t lo, uintptr_t hi, void *arg)
{
    // The sweeper and forcegc goroutines hold no heap pointers, only stale
    // words of the spans they swept (addresses that new objects reuse).
    if (rt_gc_runtime_stack(lo))
        return;
    work.stack_bytes += hi - lo;
    scan_range(arg, lo, hi);
}

static void
root_global(uintptr_t lo, uintptr_t hi, void *arg)
{
    work.global_bytes += hi - lo;
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
            gcw_push(w, base, len);
        }
    }
    rt_unlock(&s->speciallock);
}

static void
mark_roots(GCWork *w)
{
    rt_gc_scan_stacks(root_stack, w);
    rt_gc_data_segments_foreach(root_global, w);
    rt_gc_roots_foreach(root_user, w);
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
    for (int32_t i = 0; i < np; i++)
        rt_timers_visit(rt_allp[i], root_timer, w);
    uintptr_t lo, hi;
    rt_gc_finq_range(&lo, &hi);
    scan_range(w, lo, hi);
    rt_gc_foreach_special_span(root_specials, w);
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
    work.checkmark = true;
    uint64_t marked = w->marked, sb = work.stack_bytes, gb = work.global_bytes;
    mark_roots(w);
    drain_local(w, true);
    work.checkmark = false;
    w->marked = marked;
    work.stack_bytes = sb;
    work.global_bytes = gb;
    rt_gc_foreach_span(checkmark_swap_out, NULL);
}

// ---- The cycle ---------------------------------------------------------------------

static void
heap_bounds(void)
{
    MHeap *h = &rt_mheap;
    if (h->narenas == 0) {
        work.heap_lo = work.heap_hi = 1;
        return;
    }
    work.heap_lo = h->allarenas[0]->base;
    work.heap_hi = h->allarenas[h->narenas - 1]->base + ARENA_BYTES;
}

// Marks the heap with the world stopped. Returns marked bytes.
static uint64_t
gc_mark(int32_t nprocs, uint64_t *cpu_ns)
{
    uint32_t nproc = nprocs < 1 ? 1 : (uint32_t)nprocs;
    if (nproc > MAX_WORKERS)
        nproc = MAX_WORKERS;
    workers_ensure(nproc - 1);
    if (nproc > work.nworkers + 1)
        nproc = work.nworkers + 1;
    work.nproc = nproc;
    work.stack_bytes = work.global_bytes = 0;
    atomic_store_explicit(&work.nwait, 0, memory_order_relaxed);
    for (uint32_t i = 0; i < work.nworkers; i++) {
        work.workers[i]->w.marked = 0;
        work.workers[i]->w.cpu_ns = 0;
        work.workers[i]->w.idle_ns = 0;
        work.workers[i]->w.nshare = work.workers[i]->w.nsteal = 0;
    }
    GCWork *w = &work.self;
    w->marked = 0;
    w->cpu_ns = 0;
    w->idle_ns = w->nshare = w->nsteal = 0;
    heap_bounds();
    if (nproc > 1) {
        atomic_store_explicit(&work.ndone, nproc - 1, memory_order_relaxed);
        uint32_t g = atomic_load_explicit(&work.gen, memory_order_relaxed);
        atomic_store_explicit(&work.gen, ((g >> GEN_NPROC_BITS) + 1) << GEN_NPROC_BITS | nproc,
                              memory_order_release);
        rt_os_futexwake(&work.gen, 0x7fffffff);
    }
    int64_t t0 = rt_nanotime();
    mark_roots(w);
    w->cpu_ns += (uint64_t)(rt_nanotime() - t0);
    mark_loop(w);
    if (nproc > 1) {
        uint32_t n;
        while ((n = atomic_load_explicit(&work.ndone, memory_order_acquire)) != 0)
            rt_os_futexsleep(&work.ndone, n, -1);
    }
    // Finalizers (single-threaded: the newly dead are few).
    atomic_store_explicit(&work.nwait, 0, memory_order_relaxed);
    work.nproc = 1;
    rt_gc_foreach_special_span(queue_dead_finalizers, w);
    mark_loop(w);
    if (rt_debug.gccheckmark)
        checkmark(w);
    uint64_t marked = w->marked, cpu = w->cpu_ns;
    for (uint32_t i = 0; i + 1 < nproc; i++) {
        marked += work.workers[i]->w.marked;
        cpu += work.workers[i]->w.cpu_ns;
    }
    *cpu_ns = cpu;
    if (rt_debug.gctrace > 1) {
        rt_printf("gc mark: starter busy %llu idle %llu us share %llu steal %llu\n",
                  (unsigned long long)(w->cpu_ns - w->idle_ns) / 1000,
                  (unsigned long long)w->idle_ns / 1000, (unsigned long long)w->nshare,
                  (unsigned long long)w->nsteal);
        for (uint32_t i = 0; i + 1 < nproc; i++) {
            GCWork *x = &work.workers[i]->w;
            rt_printf("gc mark: worker %u busy %llu idle %llu us share %llu steal %llu\n", i,
                      (unsigned long long)(x->cpu_ns - x->idle_ns) / 1000,
                      (unsigned long long)x->idle_ns / 1000, (unsigned long long)x->nshare,
                      (unsigned long long)x->nsteal);
        }
    }
    return marked;
}

static uint32_t cycle_no; // [stw]

static void
gc_cycle(int reason)
{
    rt_gc_data_segments_update();
    GCCycleStats st = {0};
    st.forced = reason == GC_REASON_FORCED;
    st.tstart = rt_nanotime();
#if GC_VALGRIND
    gc_under_valgrind = RUNNING_ON_VALGRIND != 0;
#endif
    rt_gc_stop_world();
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    st.nprocs = np;

    // 1. Sweep termination.
    while (rt_gc_sweep_one()) {
    }
    rt_malloc_flush_all();
    st.heap0 = atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed);
    st.tmark = rt_nanotime();

    // 2. Mark.
    // Helpers cost a wake-up each: a small heap is marked by fewer workers
    // (one per GC_HEAP_PER_WORKER of heap, at most GOMAXPROCS).
    uint64_t nmark = st.heap0 / GC_HEAP_PER_WORKER + 1;
    uint64_t marked = gc_mark(nmark < (uint64_t)np ? (int32_t)nmark : np, &st.mark_cpu_ns);
    st.tmarkterm = rt_nanotime();

    // 3. Mark termination.
    st.heap1 = atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed);
    st.heap2 = marked;
    st.stack_bytes = work.stack_bytes;
    st.global_bytes = work.global_bytes;
    atomic_store_explicit(&rt_gc.heap_marked, marked, memory_order_relaxed);
    atomic_store_explicit(&rt_mheap.heap_live, marked, memory_order_relaxed);
    rt_gc_set_goal(marked);
    st.goal = rt_gc_heap_goal();
    __atomic_store_n(&rt_mheap.sweepgen, rt_mheap.sweepgen + 2, __ATOMIC_RELEASE);
    rt_gc_sweep_reset();
    st.n = ++cycle_no;
    int64_t tend = rt_nanotime();
    uint64_t pause = (uint64_t)(tend - st.tstart);
    rt_gc.pause_ns[(st.n - 1) % 256] = pause;
    atomic_fetch_add_explicit(&rt_gc.pause_total_ns, pause, memory_order_relaxed);
    atomic_fetch_add_explicit(&rt_gc.cpu_ns, pause * (uint64_t)np, memory_order_relaxed);
    rt_gc.last_pause_ns = (int64_t)pause;
    atomic_store_explicit(&rt_gc.last_gc_ns, tend, memory_order_relaxed);
    atomic_store_explicit(&rt_gc.last_gc_unix, rt_walltime(), memory_order_relaxed);
    if (st.forced)
        atomic_fetch_add_explicit(&rt_gc.num_forced_gc, 1, memory_order_relaxed);
    atomic_store_explicit(&rt_gc.num_gc, st.n, memory_order_release);
    rt_gc_start_world();
    st.tend = rt_nanotime();

    if (rt_debug.gctrace > 0)
        rt_gc_trace(&st);
    rt_gc_finq_kick();
    // A small heap is swept by its allocators (mcentral sweeps before it
    // grows) in less time than waking the background sweeper on another P
    // costs: that wake-up made the sweeper fight the allocating goroutine
    // over span metadata and the heap lock on every 4 MiB cycle. Leftovers
    // are finished at the next cycle's start.
    if (st.heap2 >= BGSWEEP_MIN_HEAP)
        rt_gc_sweeper_kick();
    else
        rt_gc_scavenge(); // the sweeper's other job: RSS follows the goal down too
}

bool
rt_gc_start(int reason)
{
    M *m = rt_m();
    if (m == NULL || m->p == NULL || m->curg == NULL || m->locks != 0)
        return false; // not on a user goroutine that may stop the world
    uint32_t zero = 0;
    while (!atomic_compare_exchange_strong(&rt_gc.running, &zero, 1)) {
        if (reason != GC_REASON_FORCED)
            return false;
        zero = 0;
        rt_gosched(); // the running cycle stops us, or finishes
    }
    gc_cycle(reason);
    atomic_store_explicit(&rt_gc.running, 0, memory_order_release);
    return true;
}
