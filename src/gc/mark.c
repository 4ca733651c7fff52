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
#include "sanitize.h"
#include "time/timer.h"

#include <string.h>

enum {
    MARK_DEBUG = 0,
    WB_ENTRIES = 255, // (addr, len) pairs per WorkBuf: 4 KiB
    SHARE_MIN = 2,    // a worker with this many entries shares when another waits
    MAX_WORKERS = 256,
    STACK_INIT = 1 << 16, // pairs in a fresh mark stack (1 MiB, lazily committed)
    // work.gen = sequence << 11 | job << 9 | nproc (nproc <= MAX_WORKERS)
    GEN_NPROC_MASK = (1 << 9) - 1,
    GEN_JOB_SHIFT = 9,
    GEN_JOB_MASK = 3,
    GEN_SEQ_SHIFT = 11,
    JOB_MARK = 0,   // workers 0 .. nproc-2: parallel mark, world stopped
    JOB_CONC = 1,   // worker 0: concurrent mark (conc_worker)
    JOB_DISARM = 2, // worker 0: stop tracking the armed pages (conc_disarm)
};
#define GC_HEAP_PER_WORKER ((uint64_t)8 << 20) // heap per mark worker (small heaps)
// Mark assists (see "Mark assists" below).
#define ASSIST_SLACK       ((uint64_t)256 << 10) // allocation between two checks
#define ASSIST_MAX         ((uint64_t)1 << 20)   // marking per call (about a millisecond)

typedef struct WorkBuf {
    struct WorkBuf *next;
    uintptr_t n; // pairs in e
    uintptr_t e[2 * WB_ENTRIES];
} WorkBuf;

// Each GCWork has cache lines of its own: its owner writes n and marked at
// every object, and the fields around it (work.nfull, conc.hungry) are read
// by the other markers at every object.
typedef struct __attribute__((aligned(RT_CACHE_LINE))) GCWork {
    uintptr_t *stack;        // [owner] pairs: stack[2i] address, stack[2i+1] length
    uintptr_t n;             // [owner] pairs on the stack
    uintptr_t cap;           // [owner] pairs it can hold
    uint64_t marked;         // [owner] bytes of objects this worker marked
    uint64_t cpu_ns;         // [owner] time spent marking this cycle
    uint64_t idle_ns;        // [owner] time spent waiting for work this cycle
    uint64_t nshare, nsteal; // [owner] buffers given and taken this cycle
    // A concurrent marker's notes for mark termination (see conc_defer and
    // conc_keep_fresh); read with the world stopped.
    uintptr_t *deferred;              // [owner] words to treat as roots
    uintptr_t ndeferred, capdeferred; // [owner]
    uintptr_t *kept;                  // [owner] fresh objects marked, unscanned: base, length
    uintptr_t nkept, capkept;         // [owner]
} GCWork;

typedef struct Worker {
    GCWork w;
    int id;
    uintptr_t thread;
} Worker;

// Below this live heap, sweeping is left to the allocators (see rt_gc_cycle's end).
enum { BGSWEEP_MIN_HEAP = 32 << 20 };

// Set once at the first collection: running under valgrind's memcheck.
static bool gc_under_valgrind;

// How a scan marks (a compile-time argument of the scanning loops, so each
// mode gets its own copy of them):
//   MARK_PAR    several markers with the world stopped: atomic bit set
//   MARK_SOLO   one marker with the world stopped: plain read-modify-write
//   MARK_CONC   a concurrent marker while goroutines run (worker 0, and a
//               goroutine assisting it): atomic bit set; spans born during
//               this mark are left for mark termination (their pages are
//               not armed)
//   MARK_CHECK  checkmark's re-mark into fresh bitmaps
//   MARK_SEED   STW 1's scan of the stacks: as MARK_SOLO, but a word that
//               points to a young object (not marked by the last full
//               cycle) is left alone (see "Young roots" below)
enum MarkMode { MARK_PAR, MARK_SOLO, MARK_CONC, MARK_CHECK, MARK_SEED, MARK_WHY };

// What a concurrent cycle marks (see "Minor cycles" below).
enum GenKind {
    GEN_FULL = 0,   // mark everything
    GEN_MINOR = 1,  // pre-mark what the last cycle kept
    GEN_MEDIUM = 2, // pre-mark what the last full cycle kept
};

static struct {
    Lock lock;                    // guards full and empty
    WorkBuf *full;                // [lock] shared work
    WorkBuf *empty;               // [lock] spare buffers
    _Atomic uint32_t nfull;       // [atomic] buffers on full (read without the lock)
    _Atomic uint32_t nwait;       // [atomic] workers out of work
    _Atomic uint32_t seq;         // [atomic] futex: bumped when work is shared or marking ends
    _Atomic uint32_t nsleep;      // [atomic] stop-the-world mark workers asleep on seq
    uint32_t nproc;               // [stw] workers in this cycle, starter included
    _Atomic uint32_t gen;         // [atomic] futex: sequence, job, nproc; a change wakes workers
    _Atomic uint32_t ndone;       // [atomic] futex: workers still on their job
    Worker *workers[MAX_WORKERS]; // [stw] dedicated threads
    uint32_t nworkers;            // [stw]
    GCWork self;                  // [stw] the starter's work
    uintptr_t heap_lo, heap_hi;   // [stw] bounds of the arenas, for a quick reject
    enum MarkMode mode;           // [stw] how scan_range marks now
    uint32_t fresh;               // [stw] rt_gc_fresh_cycle of the concurrent mark (MARK_CONC)
    uintptr_t self_sp;            // [stw] the collecting goroutine's stack is a root from here
    uintptr_t extra_lo, extra_hi; // [stw] one more root range (the deferred words), or empty
    bool rescan;                  // [stw] gc_mark's workers first rescan conc.runs' written pages
    bool seed;                    // [stw] mark_roots scans the stacks in MARK_SEED mode
    uint64_t stack_bytes, global_bytes; // [stw] root bytes scanned
} work;

// The concurrent mark (see "Concurrent marking" below).
static struct {
    _Atomic uint32_t phase;       // [atomic; written with the world stopped] CONC_OFF / CONC_MARK
    _Atomic uint32_t done;        // [atomic] the concurrent marker ran out of work
    _Atomic uint32_t stop;        // [atomic] mark termination wants the marker to stop
    bool decided, enabled;        // [rt_gc.running] whether cycles may mark concurrently
    _Atomic bool all_dirty;       // [worker 0, then the stw mark workers] a scan failed: all armed
                                  // pages count as written
    bool arm_failed;              // [worker 0, then stw] the kernel refused to arm: stop trying
    uintptr_t *runs;              // [stw; worker 0 during its job] armed ranges: lo, hi pairs
    uintptr_t nruns, caprun;      // [same]
    uint64_t armed_pages;         // [stw] heap pages armed this cycle
    _Atomic uint64_t dirty_pages; // [worker 0, then the stw mark workers] written OS pages
                                  // rescanned this cycle
    uint64_t cpu_ns;              // [worker 0, then stw] the concurrent marker's time
    // Mark assists (rt_gc_mark_assist).
    _Atomic uint32_t armed;       // [atomic] worker 0 armed the pages: heap objects may be read
    _Atomic bool sparse;          // [atomic; set before armed] a full cycle's arming is complete:
                                  // large objects may skip their pages in memory (push_large)
    _Atomic uint32_t assist_busy; // [atomic] a goroutine is assisting (owns assist)
    _Atomic uint32_t hungry;      // [atomic] concurrent markers out of work: the others share
    // Waiting in the concurrent mark (see "Waiting" below).
    _Atomic uint32_t seq;            // [atomic] futex: bumped at each event a waiter may want
    _Atomic uint32_t nsleep;         // [atomic] threads asleep (or about to be) on seq
    _Atomic uint64_t wake_at;        // [atomic] worker 0's marked bytes that let a parked assist
                                     // go on; UINT64_MAX while none is parked
    _Atomic uint64_t nparked;        // [atomic] assists parked, all cycles
    GCWork assist;                   // [assist_busy; stw] the assisting goroutine's work
    uint64_t goal, expect;           // [stw] the goal, the work expected (heap_live at STW 1: st)
    _Atomic uint64_t assist_ns;      // [atomic] time goroutines spent assisting this cycle
    _Atomic uint64_t assist_wait_ns; // [atomic] time assists spent parked, all cycles
    _Atomic uint64_t assist_total;   // [atomic] bytes assists marked, all cycles
    GCCycleStats st;                 // [rt_gc.running] the cycle in flight
    // Minor cycles (see "Minor cycles" below).
    bool gen;                      // [rt_gc.running] concurrent cycles may be minor (decided once)
    bool gen_valid;                // [stw] no written bit was lost since the last mark
    enum GenKind kind;             // [stw] this cycle's kind (the last one's between cycles)
    bool dsf_done;                 // [worker 0, then stw] a medium cycle's dsf_rescan finished
    uint32_t nminor;               // [stw] minor cycles since the last full or medium one
    uint32_t nmedium;              // [stw] medium cycles since the last full one
    uint32_t nfull_owed;           // [stw] full cycles to run before the next minor one
    uint32_t backoff;              // [stw] nfull_owed after the next minor cycle that gains nothing
    uint64_t full_live;            // [stw] bytes the last full cycle marked
    uint64_t full_prev;            // [stw] ... and the one before it
    uint64_t old_bytes;            // [stw] bytes pre-marked in this minor or medium cycle
    uint64_t work_last[3];         // [stw] bytes the last cycle of each kind (GenKind) traced
    uint64_t need[3];              // [stw] runway the last concurrent mark of each kind needed
    uint64_t harvest_pages;        // [worker 0, then stw] written pages found at a minor's start
    uint64_t setup_ns;             // [worker 0, then stw] its time before it could trace: arming,
                                   // or pre-marking and the harvest
    bool setup_done;               // [worker 0, then stw] it got that far
    uint64_t setup_last[3];        // [stw] setup_ns of the last cycle of each kind that
                                   // finished its setup
    _Atomic uint32_t minor_total;  // [atomic] minor cycles since the program started
    _Atomic uint32_t medium_total; // [atomic] medium cycles since the program started
} conc;

// ---- Waiting -----------------------------------------------------------------------
//
// No marker waits by spinning for long: on a loaded machine the thread it
// waits for may be off its core for a whole time slice, and spinning takes
// the CPU that thread needs. A wait spins WAIT_ACTIVE rounds of WAIT_PAUSES
// PAUSEs, yields the core once, then sleeps in the kernel on a futex word
// (work.seq in the stop-the-world mark, conc.seq in the concurrent one).
// A waiter counts itself in nsleep, fences, reads seq, checks its condition
// and sleeps on that seq; a waker changes the state, fences and, if anyone
// sleeps, bumps seq and wakes them all (futex_event). With the two fences
// either the waker sees the sleeper or the sleeper sees the change.

enum { WAIT_ACTIVE = 4, WAIT_PAUSES = 30 };

static void
futex_event(_Atomic uint32_t *seq, _Atomic uint32_t *nsleep)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(nsleep, memory_order_relaxed) != 0) {
        atomic_fetch_add_explicit(seq, 1, memory_order_seq_cst);
        rt_os_futexwake(seq, INT32_MAX);
    }
}

// Waits until cond(arg) holds: spins briefly (not on one CPU), yields once,
// then sleeps on seq until an event. cond must be cheap and may be called
// many times.
static void
wait_until(bool (*cond)(void *), void *arg, _Atomic uint32_t *seq, _Atomic uint32_t *nsleep)
{
    int active = rt_ncpu > 1 ? WAIT_ACTIVE : 0;
    for (int i = 0; i < active; i++) {
        if (cond(arg))
            return;
        for (int j = 0; j < WAIT_PAUSES; j++)
            rt_arch_pause();
    }
    if (cond(arg))
        return;
    rt_os_osyield();
    while (!cond(arg)) {
        atomic_fetch_add_explicit(nsleep, 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst);
        uint32_t v = atomic_load_explicit(seq, memory_order_relaxed);
        if (!cond(arg))
            rt_os_futexsleep(seq, v, -1);
        atomic_fetch_sub_explicit(nsleep, 1, memory_order_relaxed);
    }
}

// ---- The mark stack ----------------------------------------------------------------

// Doubles an off-heap table of words (*cap entries of width words each, the
// first used of them kept), starting at first entries; throws if it
// cannot be mapped (what: the table's name).
RT_NOINLINE void
rt_gc_table_grow(uintptr_t **t, uintptr_t *cap, uintptr_t used, uintptr_t width, uintptr_t first,
                 const char *what)
{
    uintptr_t ncap = *cap ? *cap * 2 : first;
    uintptr_t *nt = rt_os_map(ncap * width * sizeof(uintptr_t));
    if (nt == NULL)
        rt_throw(what);
    if (*t != NULL) {
        memcpy(nt, *t, used * width * sizeof(uintptr_t));
        rt_os_unmap(*t, *cap * width * sizeof(uintptr_t));
    }
    *t = nt;
    *cap = ncap;
}

// Gives back all but the first 64 KiB of an rt_gc_table_grow table (its pages
// read as zero if used again): one cycle's burst must not stay in RSS.
static void
table_trim(uintptr_t *t, uintptr_t cap, uintptr_t width)
{
    enum { KEEP = 64 << 10 };
    uintptr_t bytes = cap * width * sizeof(uintptr_t);
    if (t != NULL && bytes > KEEP)
        (void)rt_os_release((char *)t + KEEP, bytes - KEEP); // refused: stays resident
}

static void
gcw_grow(GCWork *w)
{
    rt_gc_table_grow(&w->stack, &w->cap, w->n, 2, STACK_INIT, "gc: cannot map the mark stack");
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

// Puts a filled buffer on the global list.
static void
wb_put_full(WorkBuf *b)
{
    rt_lock(&work.lock);
    b->next = work.full;
    work.full = b;
    atomic_fetch_add_explicit(&work.nfull, 1, memory_order_release);
    rt_unlock(&work.lock);
    futex_event(&work.seq, &work.nsleep);
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
    wb_put_full(b);
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

// The concurrent marker leaves a pointer for mark termination, which
// treats every deferred word as a root. A preclean round may have re-armed
// the page the word came from before its object was scanned, so the page
// alone would not bring it back.
static RT_NOINLINE void
conc_defer(GCWork *w, uintptr_t p)
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
        conc_defer(w, p);
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
    if (s->fresh_cycle != work.fresh) {
        conc_defer(w, p); // not expected; mark termination decides
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
//     configured, checked the first time a cycle wants it (core_usable),
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
//     page in use at STW 1 (conc.sparse): a page it skips now, written
//     later, reads as written at mark termination and is rescanned. Not
//     before, and not in minor cycles, whose pages are armed by the
//     harvest as it goes: there the object is read whole.
// STW 1's seeds are scanned later, by the concurrent marker: a large seed
// is queued whole with GC_LEN_LARGE set, and the marker that pops it
// decides then (push_large). Splitting it at STW 1 lost pointers: a page
// untouched then and written before it was armed was never scanned
// (checkmark failures in api.gc_grow, 19 runs in 20).
#define GC_LEN_LARGE ((uintptr_t)1 << 63)

enum { CORE_UNKNOWN, CORE_DECIDING, CORE_ON, CORE_OFF };
static struct {
    _Atomic uint32_t state;      // [atomic; reset with the world stopped] whether mincore may be
                                 // used this cycle
    uint64_t swapouts;           // [written by the decider before it publishes CORE_ON] the
                                 // system's swap-out count then
    _Atomic uint64_t core_scans; // [atomic] large objects scanned by mincore, all cycles
} large;

// Whether this cycle may use mincore. The first caller decides; the others
// wait for its answer.
static bool
core_usable(void)
{
    uint32_t st = atomic_load_explicit(&large.state, memory_order_acquire);
    if (st == CORE_UNKNOWN &&
        atomic_compare_exchange_strong_explicit(&large.state, &st, CORE_DECIDING,
                                                memory_order_acquire, memory_order_acquire)) {
        // The count first: a page swapped out after it is counted, and
        // none was out before it when no swap is configured after it.
        uint64_t n = rt_os_swapouts();
        bool ok = n != UINT64_MAX && !rt_os_swap_configured();
        large.swapouts = n;
        st = ok ? CORE_ON : CORE_OFF;
        atomic_store_explicit(&large.state, st, memory_order_release);
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
        st = atomic_load_explicit(&large.state, memory_order_acquire);
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
static RT_NOINLINE void
push_sparse(GCWork *w, uintptr_t base, uintptr_t len, bool core)
{
    size_t ps = rt_os_pagesize();
    uintptr_t lo = base & ~(uintptr_t)(ps - 1), hi = (base + len + ps - 1) & ~(uintptr_t)(ps - 1);
    uintptr_t n0 = w->n;
    if (core) {
        atomic_fetch_add_explicit(&large.core_scans, 1, memory_order_relaxed);
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
        if (atomic_load_explicit(&conc.sparse, memory_order_relaxed) && core_usable())
            push_sparse(w, base, len, true);
        else
            gcw_push(w, base, len); // read whole: pagemap would count the markers
        return;
    default:
        push_sparse(w, base, len, core_usable());
        return;
    }
}

static void
push_kept(GCWork *w, uintptr_t base, uintptr_t len)
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
    // then reads as free, and mark termination finds it (see conc below).
    uint64_t bit = (uint64_t)1 << (idx % 64);
    _Atomic uint64_t *mb = (_Atomic uint64_t *)s->gcmark_bits + idx / 64;
    if (atomic_load_explicit(mb, memory_order_relaxed) & bit)
        return;
    if (idx >= s->freeindex && !(((const uint64_t *)s->alloc_bits)[idx / 64] & bit)) {
        if (mode == MARK_CONC)
            conc_defer(w, p); // free, or allocated since the marker's view of freeindex
        return;               // a free slot: stale pointer
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
                      (void *)p, idx, s->freeindex, s->fresh_cycle, work.fresh);
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
    const uintptr_t hlo = work.heap_lo, hsize = work.heap_hi - work.heap_lo;
    _Atomic(HeapArena *) *const arenas = rt_mheap.arenas;
    const uint32_t fresh = work.fresh;
    lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    if (rt_unlikely(gc_under_valgrind)) {
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
// when mark termination asks it to (conc.stop), and an assist when it has
// marked up to limit bytes or the world is stopping; it returns false then.
// A concurrent marker shares work while the other one waits for some.
static void assist_wake(void);

static inline __attribute__((always_inline)) GC_NO_SANITIZE bool
drain_local(GCWork *w, const enum MarkMode mode, uint64_t limit)
{
    enum { PREFETCH_DEPTH = 16, STOP_CHECK = 64 };
    uintptr_t rp[PREFETCH_DEPTH], rl[PREFETCH_DEPTH];
    unsigned rh = 0, rn = 0, tick = 0;
    for (;;) {
        if (mode == MARK_CONC && ++tick % STOP_CHECK == 0 &&
            (atomic_load_explicit(&conc.stop, memory_order_relaxed) || w->marked >= limit ||
             (limit != UINT64_MAX &&
              atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed)))) {
            for (; rn > 0; rn--, rh = (rh + 1) % PREFETCH_DEPTH)
                gcw_push(w, rp[rh], rl[rh]);
            return false;
        }
        if (mode == MARK_CONC && limit == UINT64_MAX && tick % STOP_CHECK == 0) {
            if (rt_unlikely(w->marked >= atomic_load_explicit(&conc.wake_at, memory_order_relaxed)))
                assist_wake(); // worker 0 marked what a parked assist waits for
            // Balance (Go's gcw.balance): keep a buffer of worker 0's work
            // on the global list, so that an assist finds some while worker
            // 0 is off its core. Nobody takes it: one share, then nfull > 0.
            if (w->n >= 2 * SHARE_MIN && atomic_load_explicit(&conc.armed, memory_order_relaxed) &&
                atomic_load_explicit(&work.nfull, memory_order_relaxed) == 0) {
                gcw_share(w);
                w->nshare++;
                futex_event(&conc.seq, &conc.nsleep);
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
            atomic_load_explicit(&work.nwait, memory_order_relaxed) != 0 &&
            atomic_load_explicit(&work.nfull, memory_order_relaxed) == 0) {
            gcw_share(w);
            w->nshare++;
        }
        if (mode == MARK_CONC && w->n >= SHARE_MIN &&
            atomic_load_explicit(&conc.hungry, memory_order_relaxed) != 0 &&
            atomic_load_explicit(&work.nfull, memory_order_relaxed) == 0) {
            gcw_share(w);
            w->nshare++;
            futex_event(&conc.seq, &conc.nsleep);
        }
    }
    return true;
}

static RT_NOINLINE GC_NO_SANITIZE void
scan_range(GCWork *w, uintptr_t lo, uintptr_t hi)
{
    switch (work.mode) {
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
    return atomic_load_explicit(&work.nfull, memory_order_relaxed) != 0 ||
           atomic_load_explicit(&work.nwait, memory_order_relaxed) == work.nproc;
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
        atomic_fetch_add_explicit(&work.nsleep, 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst);
        uint32_t v = atomic_load_explicit(&work.seq, memory_order_relaxed);
        if (!mark_waiting(NULL))
            rt_os_futexsleep(&work.seq, v, -1);
        atomic_fetch_sub_explicit(&work.nsleep, 1, memory_order_relaxed);
    }
}

// Marks everything reachable from w's stack and the shared list, together
// with the other workers; returns when all of them are out of work.
static GC_NO_SANITIZE void
mark_loop(GCWork *w)
{
    int64_t t0 = rt_nanotime();
    for (;;) {
        if (work.mode == MARK_PAR)
            drain_local(w, MARK_PAR, UINT64_MAX);
        else
            drain_local(w, MARK_SOLO, UINT64_MAX);
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
                futex_event(&work.seq, &work.nsleep); // the others may sleep
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

static void conc_worker(GCWork *w);
static void conc_disarm(void);
static void conc_rescan_slice(GCWork *w, uint32_t k, uint32_t nproc);

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
        // nproc travels in the same word as the job number: a worker that
        // wakes late for a job it was not part of (which may be over) must
        // not read the next job's nproc and count itself in twice.
        if ((uint32_t)wk->id + 1 >= (g & GEN_NPROC_MASK))
            continue; // not needed this time
        switch ((g >> GEN_JOB_SHIFT) & GEN_JOB_MASK) {
        case JOB_MARK:
            if (work.rescan)
                conc_rescan_slice(&wk->w, (uint32_t)wk->id + 1, g & GEN_NPROC_MASK);
            mark_loop(&wk->w);
            break;
        case JOB_CONC:
            conc_worker(&wk->w);
            break;
        case JOB_DISARM:
            conc_disarm();
            break;
        }
        if (atomic_fetch_sub_explicit(&work.ndone, 1, memory_order_acq_rel) == 1)
            rt_os_futexwake(&work.ndone, 1);
    }
    return NULL;
}

// Starts job on the first nproc - 1 workers (the caller is the last one).
// The workers must be idle (workers_wait).
static void
workers_run(uint32_t job, uint32_t nproc)
{
    atomic_store_explicit(&work.ndone, nproc - 1, memory_order_relaxed);
    uint32_t g = atomic_load_explicit(&work.gen, memory_order_relaxed);
    uint32_t next = ((g >> GEN_SEQ_SHIFT) + 1) << GEN_SEQ_SHIFT | job << GEN_JOB_SHIFT | nproc;
    atomic_store_explicit(&work.gen, next, memory_order_release);
    rt_os_futexwake(&work.gen, 0x7fffffff);
}

// Waits until the workers finished their job (the concurrent marker first
// told to stop, if marking).
static void
workers_wait(void)
{
    uint32_t n;
    while ((n = atomic_load_explicit(&work.ndone, memory_order_acquire)) != 0)
        rt_os_futexsleep(&work.ndone, n, -1);
}

// Starts worker threads until there are n. Never with the world stopped: a
// suspended thread may hold a lock of libc's (or a sanitizer's) that
// pthread_create needs.
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

static GC_NO_SANITIZE void
root_stack(uintptr_t lo, uintptr_t hi, void *arg)
{
    // The sweeper and forcegc goroutines hold no heap pointers, only stale
    // words of the spans they swept (addresses that new objects reuse).
    if (rt_gc_runtime_stack(lo))
        return;
    work.stack_bytes += hi - lo;
    if (work.seed)
        scan_words(arg, lo, hi, MARK_SEED);
    else
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
            if (work.mode == MARK_WHY)
                rt_gc_why_root(base, base + len);
            else
                gcw_push(w, base, len);
        }
    }
    rt_unlock(&s->speciallock);
}

// With GODEBUG=gcwhy or gort_gc_why, why_mark runs this in MARK_WHY mode,
// and the kinds set here name each root (why.c).
static void
mark_roots(GCWork *w)
{
    rt_gc_why_set_kind(WHY_ROOT_STACKS);
    rt_gc_scan_stacks(root_stack, w, work.self_sp);
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
    if (work.extra_lo < work.extra_hi)
        scan_range(w, work.extra_lo, work.extra_hi);
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

// A marked large object scanned again by pagemap (see push_sparse).
static void
large_rescan(Span *s, void *arg)
{
    if (s->divmagic != 0 || rt_spanclass_noscan(s->spanclass) || !(s->gcmark_bits[0] & 1))
        return;
    uintptr_t len = s->scan_kind == SCAN_SLOT ? s->elemsize : rt_span_scan_len(s, 0, s->startaddr);
    if (len >= GC_SPARSE_MIN)
        push_sparse(arg, s->startaddr, len, false);
}

// The end of a mark, world stopped: if mincore was used and a page was
// swapped out since it was decided, what it skipped is scanned again.
static void
large_recheck(GCWork *w)
{
    if (atomic_load_explicit(&large.state, memory_order_acquire) != CORE_ON ||
        rt_os_swapouts() == large.swapouts)
        return;
    atomic_store_explicit(&large.state, CORE_OFF, memory_order_relaxed);
    rt_gc_foreach_span(large_rescan, w);
    mark_loop(w);
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
    enum MarkMode mode = work.mode;
    work.mode = MARK_CHECK;
    uint64_t marked = w->marked, sb = work.stack_bytes, gb = work.global_bytes;
    mark_roots(w);
    drain_local(w, MARK_CHECK, UINT64_MAX);
    work.mode = mode;
    w->marked = marked;
    work.stack_bytes = sb;
    work.global_bytes = gb;
    rt_gc_foreach_span(checkmark_swap_out, NULL);
}

// ---- Retention reports (why.c) ------------------------------------------------------

// Walks from the same roots, depth first, into fresh bitmaps (as the
// checkmark does), for the object gort_gc_why or GODEBUG=gcwhy asks about.
static void
why_mark(GCWork *w)
{
    rt_gc_foreach_span(checkmark_swap_in, NULL);
    enum MarkMode mode = work.mode;
    bool seed = work.seed;
    uint64_t sb = work.stack_bytes, gb = work.global_bytes;
    if (rt_gc_why_begin()) {
        work.mode = MARK_WHY;
        work.seed = false;
        mark_roots(w);
        rt_gc_why_end();
    }
    work.mode = mode;
    work.seed = seed;
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
    if (nproc > work.nworkers + 1) // workers are made before the world stops
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
    work.mode = nproc > 1 ? MARK_PAR : MARK_SOLO;
    if (nproc > 1)
        workers_run(JOB_MARK, nproc);
    int64_t t0 = rt_nanotime();
    mark_roots(w);
    if (work.rescan)
        conc_rescan_slice(w, 0, nproc);
    w->cpu_ns += (uint64_t)(rt_nanotime() - t0);
    mark_loop(w);
    workers_wait();
    // Finalizers (single-threaded: the newly dead are few).
    atomic_store_explicit(&work.nwait, 0, memory_order_relaxed);
    work.nproc = 1;
    work.mode = MARK_SOLO;
    large_recheck(w);
    rt_gc_foreach_special_span(queue_dead_finalizers, w);
    mark_loop(w);
    if (rt_debug.gccheckmark)
        checkmark(w);
    if (rt_gc_why_wanted())
        why_mark(w);
    uint64_t marked = w->marked, cpu = w->cpu_ns;
    for (uint32_t i = 0; i + 1 < nproc; i++) {
        marked += work.workers[i]->w.marked;
        cpu += work.workers[i]->w.cpu_ns;
    }
    *cpu_ns = cpu;
    if (rt_debug.gctrace > 1) {
        rt_printf(
                "gc mark: large objects %s, %llu scanned by mincore so far\n",
                atomic_load_explicit(&large.state, memory_order_relaxed) == CORE_ON
                        ? "skip untouched and armed pages (mincore)"
                        : "skip untouched pages (pagemap)",
                (unsigned long long)atomic_load_explicit(&large.core_scans, memory_order_relaxed));
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

// ---- Concurrent marking ------------------------------------------------------------
//
// When the kernel can track writes (src/os/linux/dirty.c), a cycle marks
// while goroutines run, as the mostly-parallel collectors of Boehm, Demers
// and Shenker do, with the kernel's dirty bits in place of a write barrier:
//
//   STW 1 (sweep termination): finish sweeping, flush the MCaches, list
//     the runs of in-use pages, scan the roots onto worker 0's mark stack
//     (stack words to young objects left out, see below); from now on new
//     spans are stamped "fresh" (Span.fresh_cycle). Start the world.
//   concurrent mark: worker 0 (an OS thread, no P) first arms write
//     tracking on the listed runs (before it reads any heap object), then
//     drains its stack with
//     plain bit sets (the only marker); objects in fresh spans it marks
//     but leaves for STW 2 to scan; then up to
//     PRECLEAN_ROUNDS times it lists the pages written meanwhile, re-arms
//     them in the same walk, rescans the marked objects on them and drains
//     again, which leaves little for the pause. Done, it sets the malloc
//     hook (the next allocation terminates the cycle) and wakes sysmon
//     (which readies the forcegc goroutine when nobody allocates). An
//     allocation that reaches the heap goal terminates it at once.
//   STW 2 (mark termination): stop the marker (its stack is kept); each
//     mark worker lists the written pages of its share of the armed ones
//     (conc_rescan_slice) and queues the marked objects' words on them,
//     then they mark in parallel from all roots again with the
//     world stopped, fresh spans included; the rest is the stop-the-world
//     cycle's termination. Worker 0 then disarms the pages in the
//     background.
//
// Why nothing reachable is missed: objects allocated meanwhile are white
// (allocation does nothing extra), and stacks, registers, globals, every
// runtime root and every deferred word are scanned again at STW 2, and so is
// every fresh object the marker kept (marked, not scanned). Take an object X
// reachable at STW 2 and the first unmarked object on a path to it: its
// predecessor P is a root (rescanned), or was scanned at STW 2 (marked then,
// or kept), or was scanned by the concurrent marker. In the last case P is
// not in a fresh span, so its pages were armed before the marker read any
// object (or count as written: conc_arm_runs). Had the
// pointer been in P when P was scanned, the marker would have marked the
// object, kept it (a fresh span) or deferred the pointer (an arena made
// since STW 1, or a slot that looked free), and STW 2 would mark it. So
// the pointer was stored later, and P's page was then either re-armed by a
// preclean round, which rescanned P's words on it (P was marked by then),
// or is listed as written at STW 2. A failed PAGEMAP_SCAN makes STW 2
// rescan every armed page.
//
// Young roots: STW 1 scans the stacks in MARK_SEED mode, which skips a
// word pointing to a young object: one the last full cycle did not mark
// (not in Span.full_bits), so allocated since it (a minor cycle's survivors
// are young in this sense too). Such an object reached only
// from a stack is usually a temporary that dies before STW 2 (the tree
// binary-trees is building); marking it at STW 1 would keep it, and what
// it reaches, as floating garbage that raises the next goal. Nothing is
// lost: the argument above holds whatever STW 1 marks, as STW 2 scans every
// stack again. The cost is that a young structure still alive at STW 2 is
// marked with the world stopped.
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
// a GOGC runway above what the last full mark kept (gen_next_kind), at
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
//
// A heap that marked less than CONC_MIN_LIVE last time (and holds less
// than CONC_MIN_HEAP),
// GODEBUG=gcstoptheworld=1 (or gcconcurrent=0), a kernel without these
// interfaces, valgrind and TSan (which would see the marker's reads as
// races) get the stop-the-world cycle; so does gort_gc, which runs a full
// blocking cycle.

enum { CONC_OFF = 0, CONC_MARK = 1 };
enum {
    TRIGGER_STW = 61,     // 64ths of the runway: stop-the-world cycles need none (Go's upper clamp)
    TRIGGER_MIN = 45,     // concurrent ones start at least this far into it (Go's lower clamp),
    TRIGGER_EARLIEST = 4, // or, on a small heap, this far
};
// A concurrent mark's runway is at most 19/64 of the heap's, or this much.
#define TRIGGER_FREE_RUNWAY ((uint64_t)8 << 20)
// Why not earlier, when the marker needs more runway: everything allocated
// during a mark is kept, and counts in the marked heap that sets the next
// goal. A mark that starts early lets the program allocate most of a runway
// into it (binary-trees' goal rose from 104 to 167 MB so), and the goal
// grows with it; mark assists make up what the marker lacks. On a small
// heap that growth is a few MiB, and assists would cost more: an assisting
// goroutine marks at about 40% of the marker's speed, and a short runway
// makes it mark a third of every cycle (GCBench: 0.9 s with an early
// trigger, 1.1 s with Go's clamp alone).

// A heap that marked less than this marks with the world stopped: its whole
// mark takes about as long as the two pauses of a concurrent cycle (each a
// stop of the world plus the arming or the rescan), and costs the program
// less.
#define CONC_MIN_LIVE ((uint64_t)1 << 20)
// ... unless the heap is this large already: the first cycle after a huge
// allocation (which may be live data its program fills) marks concurrently.
#define CONC_MIN_HEAP ((uint64_t)64 << 20)
enum {
    RESCAN_DRAIN = 4096,  // pairs a concurrent rescan queues before it drains them
    PRECLEAN_ROUNDS = 3,  // concurrent passes over the written pages
    PRECLEAN_ENOUGH = 64, // written pages few enough to leave to the pause
};

static void
runs_add(uintptr_t lo, uintptr_t hi)
{
    if (conc.nruns > 0 && conc.runs[2 * conc.nruns - 1] == lo && (lo & (ARENA_BYTES - 1)) != 0) {
        conc.runs[2 * conc.nruns - 1] = hi; // contiguous within an arena
        return;
    }
    if (conc.nruns == conc.caprun)
        rt_gc_table_grow(&conc.runs, &conc.caprun, conc.nruns, 2, 1024,
                         "gc: cannot map the armed-range table");
    conc.runs[2 * conc.nruns] = lo;
    conc.runs[2 * conc.nruns + 1] = hi;
    conc.nruns++;
}

// Worker 0, in the background after a cycle (JOB_DISARM); also STW 1 when
// arming failed half way.
static void
conc_disarm(void)
{
    // A refusal is harmless: pages left armed cost their first write an
    // async fault the kernel resolves itself, and only a full cycle follows
    // a disarm, which arms every in-use page again anyway.
    for (size_t i = 0; i < conc.nruns; i++)
        (void)rt_os_dirty_protect(conc.runs[2 * i], conc.runs[2 * i + 1] - conc.runs[2 * i], 0);
    conc.nruns = 0;
}

// Lists the runs of in-use pages for write tracking (conc_arm_runs). [stw]
static void
conc_arm(void)
{
    MHeap *h = &rt_mheap;
    conc.nruns = 0;
    conc.armed_pages = 0;
    rt_lock(&h->lock);
    for (uint32_t i = 0; i < h->narenas; i++) {
        HeapArena *a = h->allarenas[i];
        uint32_t pg = 0;
        while (pg < PAGES_PER_ARENA) {
            uint64_t word = a->pallocbits[pg / 64] >> (pg % 64);
            if (word == 0) {
                pg = (pg / 64 + 1) * 64; // no in-use page in the rest of this word
                continue;
            }
            pg += (uint32_t)__builtin_ctzll(word);
            uint32_t start = pg;
            while (pg < PAGES_PER_ARENA) {
                uint64_t inv = ~a->pallocbits[pg / 64] >> (pg % 64);
                if (inv != 0 && (pg % 64) + (uint32_t)__builtin_ctzll(inv) < 64) {
                    pg += (uint32_t)__builtin_ctzll(inv);
                    break;
                }
                pg = (pg / 64 + 1) * 64;
            }
            if (pg > PAGES_PER_ARENA)
                pg = PAGES_PER_ARENA;
            runs_add(a->base + ((uintptr_t)start << PAGE_SHIFT),
                     a->base + ((uintptr_t)pg << PAGE_SHIFT));
            conc.armed_pages += pg - start;
        }
    }
    rt_unlock(&h->lock);
}

// Worker 0, first thing after STW 1: arms the listed runs. Goroutines run
// already, but the marker has read no heap object yet (the roots only queued
// them), so a write before a page is armed is seen by the scan, and one
// after it is tracked. The world stays stopped for none of it (about
// 0.12 us a page: 30 ms for 1 GiB). If the kernel refuses, or mark
// termination comes first, the runs not armed count as written.
static void
conc_arm_runs(void)
{
    for (size_t i = 0; i < conc.nruns; i++) {
        if (atomic_load_explicit(&conc.stop, memory_order_relaxed)) {
            conc.all_dirty = true;
            return;
        }
        if (rt_os_dirty_protect(conc.runs[2 * i], conc.runs[2 * i + 1] - conc.runs[2 * i], 1) !=
            0) {
            conc.all_dirty = conc.arm_failed = true;
            return;
        }
    }
}

static void dsf_note(uintptr_t lo, uintptr_t hi);

// Queues the words in [lo, hi) (pages written since they were armed) of
// every marked object there: words elsewhere in an object have not changed
// since it was scanned. The concurrent marker leaves fresh spans alone.
static GC_NO_SANITIZE void
rescan_written(uintptr_t lo, uintptr_t hi, void *arg)
{
    GCWork *w = arg;
    atomic_fetch_add_explicit(&conc.dirty_pages, (hi - lo) / rt_os_pagesize(),
                              memory_order_relaxed);
    if (conc.gen)
        dsf_note(lo, hi);
    uintptr_t p = lo;
    while (p < hi) {
        Span *s = rt_span_of(p);
        if (s == NULL) {
            p = (p | (PAGE_SIZE - 1)) + 1;
            continue;
        }
        uintptr_t send = s->startaddr + (s->npages << PAGE_SHIFT);
        uintptr_t a = p > s->startaddr ? p : s->startaddr, b = hi < s->limit ? hi : s->limit;
        bool skip = rt_spanclass_noscan(s->spanclass) ||
                    (work.mode == MARK_CONC && s->fresh_cycle == work.fresh);
        if (!skip && a < b) {
            const uint8_t *mb = s->gcmark_bits;
            if (s->divmagic == 0) {
                if (mb[0] & 1)
                    gcw_push(w, a, b - a);
            } else {
                // Neighbouring marked objects go as one range (a page of
                // old objects in a minor cycle is one entry, not hundreds).
                uint32_t i = rt_span_obj_index(s, a), iend = rt_span_obj_index(s, b - 1);
                uintptr_t rlo = 0, rhi = 0;
                for (; i <= iend; i++) {
                    if (!(mb[i / 8] & (1u << (i % 8))))
                        continue;
                    uintptr_t base = s->startaddr + (uintptr_t)i * s->elemsize;
                    uintptr_t oa = base > a ? base : a, ob = base + s->elemsize;
                    if (ob > b)
                        ob = b;
                    if (oa != rhi) {
                        if (rhi > rlo)
                            gcw_push(w, rlo, rhi - rlo);
                        rlo = oa;
                    }
                    rhi = ob;
                }
                if (rhi > rlo)
                    gcw_push(w, rlo, rhi - rlo);
            }
        }
        p = send;
        // A harvest of many written pages would queue every old object on
        // them first (a mark stack of tens of MiB): the concurrent marker
        // drains as it goes.
        if (work.mode == MARK_CONC && w->n >= RESCAN_DRAIN)
            drain_local(w, MARK_CONC, UINT64_MAX);
    }
}

// A preclean round of the concurrent marker: queues what was written to the
// armed pages and arms them again in the same walk.
static void
conc_rescan(GCWork *w)
{
    for (size_t i = 0; i < conc.nruns; i++) {
        uintptr_t lo = conc.runs[2 * i], hi = conc.runs[2 * i + 1];
        if (atomic_load_explicit(&conc.stop, memory_order_relaxed))
            return; // mark termination rescans everything still written
        if (!conc.all_dirty && rt_os_dirty_scan(lo, hi, 1, rescan_written, w) >= 0)
            continue;
        // A failed scan may have re-armed pages it did not report: from
        // now on, every armed page counts as written (conc_rescan_slice).
        conc.all_dirty = true;
        return;
    }
}

// Mark termination, on each of the nproc mark workers (k = 0 the starter):
// queues the marked words on the written pages of slice k of the armed
// pages, so that the rescan of a heap written all over runs in parallel.
static void
conc_rescan_slice(GCWork *w, uint32_t k, uint32_t nproc)
{
    uintptr_t total = 0;
    for (size_t i = 0; i < conc.nruns; i++)
        total += (conc.runs[2 * i + 1] - conc.runs[2 * i]) >> PAGE_SHIFT;
    uintptr_t from = total * k / nproc, to = total * (k + 1) / nproc, at = 0;
    bool all = atomic_load_explicit(&conc.all_dirty, memory_order_relaxed);
    for (size_t i = 0; i < conc.nruns && at < to; i++) {
        uintptr_t lo = conc.runs[2 * i], hi = conc.runs[2 * i + 1];
        uintptr_t n = (hi - lo) >> PAGE_SHIFT, a = at, b = at + n;
        at = b;
        if (b <= from)
            continue;
        uintptr_t slo = lo + ((a < from ? from - a : 0) << PAGE_SHIFT);
        uintptr_t shi = b > to ? hi - ((b - to) << PAGE_SHIFT) : hi;
        if (!all && rt_os_dirty_scan(slo, shi, 0, rescan_written, w) >= 0)
            continue;
        atomic_store_explicit(&conc.all_dirty, true, memory_order_relaxed);
        // Every page counts as written; with the world stopped, those not
        // in memory read zero (push_sparse).
        if (core_usable())
            rt_os_core_scan(slo, shi, rescan_written, w);
        else
            rescan_written(slo, shi, w);
    }
}

// ---- Minor cycles ------------------------------------------------------------------

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
// assist before conc.armed).
static void
gen_premark(Span *s, void *arg)
{
    (void)arg;
    const uint8_t *src = conc.kind == GEN_MEDIUM ? s->full_bits : s->alloc_bits;
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
    conc.old_bytes += n * s->elemsize;
}

// A full cycle (concurrent or not) marked `marked` bytes. [stw]
static void
gen_full_done(uint64_t marked)
{
    conc.nminor = conc.nmedium = 0;
    conc.full_prev = conc.full_live;
    conc.full_live = marked;
}

// What the next concurrent cycle will be, the last one having marked
// `marked` bytes. [stw]
static enum GenKind
gen_next_kind(uint64_t marked)
{
    if (!conc.gen || !conc.gen_valid || conc.full_live == 0 || conc.nfull_owed > 0 ||
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
    if (conc.kind == GEN_FULL && conc.full_live > conc.full_prev + conc.full_prev / 8)
        return GEN_FULL;
    uint64_t allow = conc.full_live / 400 * (uint64_t)pct; // a quarter of the runway
    if (allow < GEN_PROMOTE_MIN)
        allow = GEN_PROMOTE_MIN;
    if (conc.nminor < GEN_MINOR_MAX && marked <= conc.full_live + allow)
        return GEN_MINOR;
    // A medium cycle keeps all that the last full one kept: not if that one
    // kept more than the one before (transient data caught live, which
    // would stay until the next full cycle).
    // Nor right after a medium one: that one did not bring the heap back
    // within the allowance, and only a full cycle can.
    if (conc.nmedium < GEN_MEDIUM_MAX && conc.kind != GEN_MEDIUM &&
        conc.full_live <= conc.full_prev + conc.full_prev / 8)
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
// rescans the objects that cycle kept on those pages. From rescan_written
// (worker 0 and the STW 2 mark workers: bit sets are atomic).
static void
dsf_note(uintptr_t lo, uintptr_t hi)
{
    for (uintptr_t p = lo & ~(uintptr_t)(PAGE_SIZE - 1); p < hi; p += PAGE_SIZE) {
        uint64_t bit;
        _Atomic uint64_t *w = dsf_word(p, &bit);
        if (w != NULL && !(atomic_load_explicit(w, memory_order_relaxed) & bit))
            atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
    }
}

// A full cycle starts: what it marks is full_bits afterwards. [stw]
static void
dsf_clear(void)
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
static bool
dsf_rescan(GCWork *w, bool stoppable)
{
    for (size_t i = 0; i < conc.nruns; i++) {
        uintptr_t p = conc.runs[2 * i], hi = conc.runs[2 * i + 1], from = 0;
        for (; p <= hi; p += PAGE_SIZE) {
            uint64_t bit;
            _Atomic uint64_t *dw = p < hi ? dsf_word(p, &bit) : NULL;
            bool set = dw != NULL && (atomic_load_explicit(dw, memory_order_relaxed) & bit);
            if (set && from == 0)
                from = p;
            else if (!set && from != 0) {
                rescan_written(from, p, w);
                from = 0;
            }
        }
        if (stoppable && atomic_load_explicit(&conc.stop, memory_order_relaxed))
            return false;
    }
    return true;
}

// Mark termination: lists the pages of the spans nothing in them survived
// (sweeping frees them), for worker 0 to disarm. Allocation reuses those
// pages first; armed, each first write would fault (about 0.7 us a page),
// and they hold no old object to track. A disarmed page reads as written,
// so one reused before worker 0 gets to it is only rescanned. [stw]
static void
gen_list_dead(Span *s, void *arg)
{
    (void)arg;
    uintptr_t nb = rt_span_bitmap_bytes(s->nelems);
    for (uintptr_t i = 0; i < nb; i += 8) {
        uint64_t x;
        memcpy(&x, s->gcmark_bits + i, 8);
        if (x != 0)
            return;
    }
    runs_add(s->startaddr, s->startaddr + (s->npages << PAGE_SHIFT));
}

uint32_t
rt_gc_minor_cycles(void)
{
    return atomic_load_explicit(&conc.minor_total, memory_order_relaxed);
}

uint32_t
rt_gc_medium_cycles(void)
{
    return atomic_load_explicit(&conc.medium_total, memory_order_relaxed);
}

// Worker 0's wait while an assist runs: for its shared work, its end, or a stop.
static bool
conc_drain_may_go(void *arg)
{
    (void)arg;
    return atomic_load_explicit(&work.nfull, memory_order_relaxed) != 0 ||
           !atomic_load_explicit(&conc.assist_busy, memory_order_relaxed) ||
           atomic_load_explicit(&conc.stop, memory_order_relaxed);
}

// Worker 0: drains its stack and the work an assist gave back, until
// neither has any and no goroutine is assisting. False if mark termination
// stopped it.
static GC_NO_SANITIZE bool
conc_drain(GCWork *w)
{
    for (;;) {
        if (!drain_local(w, MARK_CONC, UINT64_MAX))
            return false;
        if (gcw_steal(w)) {
            w->nsteal++;
            continue;
        }
        // Busy first, then the list: an assist gives back its work before
        // it clears busy (release), so seeing it clear shows its work.
        if (atomic_load_explicit(&conc.assist_busy, memory_order_acquire)) {
            // It shares while we are hungry; wait for that or its end.
            atomic_fetch_add_explicit(&conc.hungry, 1, memory_order_relaxed);
            wait_until(conc_drain_may_go, NULL, &conc.seq, &conc.nsleep);
            atomic_fetch_sub_explicit(&conc.hungry, 1, memory_order_relaxed);
            if (atomic_load_explicit(&conc.stop, memory_order_relaxed))
                return false;
            continue;
        }
        if (atomic_load_explicit(&work.nfull, memory_order_acquire) == 0)
            return true;
    }
}

// Worker 0 while goroutines run (JOB_CONC).
static void
conc_worker(GCWork *w)
{
    int64_t t0 = rt_nanotime();
    if (conc.kind != GEN_FULL) {
        rt_gc_foreach_span(gen_premark, NULL);
        if (conc.kind == GEN_MEDIUM)
            conc.dsf_done = dsf_rescan(w, true);
        // Harvest the pages written since the last mark (and arm them).
        uint64_t before = conc.dirty_pages;
        conc_rescan(w);
        conc.harvest_pages = conc.dirty_pages - before;
    } else {
        conc_arm_runs();
    }
    conc.setup_ns = (uint64_t)(rt_nanotime() - t0);
    conc.setup_done = !atomic_load_explicit(&conc.stop, memory_order_relaxed);
    atomic_store_explicit(&conc.sparse, conc.kind == GEN_FULL && conc.setup_done && !conc.all_dirty,
                          memory_order_relaxed);
    // Heap objects may be read now: assists may start (rt_gc_mark_assist).
    atomic_store_explicit(&conc.armed, 1, memory_order_release);
    bool ok = conc_drain(w);
    for (int r = 0; ok && r < PRECLEAN_ROUNDS && !conc.all_dirty; r++) {
        uint64_t before = conc.dirty_pages;
        conc_rescan(w);
        ok = conc_drain(w);
        if (conc.dirty_pages - before <= PRECLEAN_ENOUGH)
            break;
    }
    conc.cpu_ns += (uint64_t)(rt_nanotime() - t0);
    if (ok && !atomic_load_explicit(&conc.stop, memory_order_relaxed)) {
        atomic_store_explicit(&conc.done, 1, memory_order_release);
        atomic_store_explicit(&rt_gc_malloc_hook, 1, memory_order_relaxed);
        rt_sysmon_wake();
    }
    assist_wake(); // parked assists go on: done, or stopped
}

// ---- Mark assists ------------------------------------------------------------------
//
// As Go's gcAssistAlloc: while a concurrent mark runs, a goroutine that
// allocates faster than the markers progress marks too, so the mark ends
// near the goal without stopping the world for it, and what the program
// allocates during the mark (which survives it: floating garbage) stays
// within the runway. Pacing: when the markers have done `done` of the
// `expect` bytes of work (the last cycle's marked heap), the heap may have
// grown that fraction of the way from its size at STW 1 (conc.st.heap0) to
// the goal. The allocator's hook (rt_gc_trigger) fires at the next check;
// an allocation past the allowance marks until the allowance covers the
// heap plus ASSIST_SLACK, at most ASSIST_MAX bytes a call.
//
// One goroutine assists at a time (conc.assist_busy): it marks with
// m->locks raised (the world cannot stop in the middle; it stops early when
// a stop is pending), takes work from the global list, which worker 0
// feeds while conc.hungry is set (and it feeds worker 0 likewise), and
// gives back what it did not
// finish before it clears assist_busy. Worker 0 is done only when the list
// is empty and no assist runs (conc_drain). Nothing is assisted before
// worker 0 has armed the pages (conc.armed): no heap object may be read
// before.

// Sets the allocator's hook to fire when heap_live reaches at (at most the
// goal, where the mark is ended).
static void
assist_next_check(uint64_t at)
{
    if (at > conc.goal)
        at = conc.goal;
    atomic_store_explicit(&rt_gc_trigger, at, memory_order_relaxed);
    if (atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed) >= at)
        atomic_store_explicit(&rt_gc_malloc_hook, 1, memory_order_relaxed);
}

// Bytes the concurrent markers have marked (racy reads of counters their
// owners update: an estimate for pacing).
static uint64_t
assist_done(void)
{
    return __atomic_load_n(&work.workers[0]->w.marked, __ATOMIC_RELAXED) +
           __atomic_load_n(&conc.assist.marked, __ATOMIC_RELAXED);
}

// The heap the program may have reached when the markers did `done`.
static uint64_t
assist_allowed(uint64_t done)
{
    if (done >= conc.expect || conc.goal <= conc.st.heap0)
        return conc.goal;
    return conc.st.heap0 +
           (uint64_t)((double)(conc.goal - conc.st.heap0) * (double)done / (double)conc.expect);
}

// The work after which the allowance reaches heap.
static uint64_t
assist_work_for(uint64_t heap)
{
    if (heap <= conc.st.heap0)
        return 0;
    if (heap >= conc.goal)
        return conc.expect;
    return (uint64_t)((double)conc.expect * (double)(heap - conc.st.heap0) /
                      (double)(conc.goal - conc.st.heap0));
}

// Takes work for the assist: from the global list, else waits a few PAUSEs
// for worker 0 to share some (it may be off its core: the caller parks
// then, assist_park). False if none came.
static bool
assist_get_work(GCWork *w)
{
    if (gcw_steal(w))
        return true;
    bool got = false;
    atomic_fetch_add_explicit(&conc.hungry, 1, memory_order_relaxed);
    int spins = rt_ncpu > 1 ? WAIT_ACTIVE * WAIT_PAUSES : 0;
    for (int i = 0; i < spins; i++) {
        if (atomic_load_explicit(&work.nfull, memory_order_acquire) != 0 && gcw_steal(w)) {
            got = true;
            break;
        }
        if (atomic_load_explicit(&conc.done, memory_order_relaxed) ||
            atomic_load_explicit(&conc.stop, memory_order_relaxed) ||
            atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed))
            break;
        rt_arch_pause();
    }
    atomic_fetch_sub_explicit(&conc.hungry, 1, memory_order_relaxed);
    return got;
}

// Moves all of w's stack to the global list.
static void
gcw_give_back(GCWork *w)
{
    while (w->n > 0) {
        WorkBuf *b = wb_get_empty();
        uintptr_t k = w->n < WB_ENTRIES ? w->n : WB_ENTRIES;
        w->n -= k;
        memcpy(b->e, w->stack + 2 * w->n, k * 2 * sizeof(uintptr_t));
        b->n = k;
        wb_put_full(b);
    }
}

// Wakes the parked assists; each re-checks what it waits for.
static RT_NOINLINE void
assist_wake(void)
{
    atomic_store_explicit(&conc.wake_at, UINT64_MAX, memory_order_relaxed);
    futex_event(&conc.seq, &conc.nsleep);
}

// A parked assist's condition: the markers did *arg bytes of work in all
// (then the program may allocate again), work was shared, or the mark is
// over. Else it (re)publishes in conc.wake_at when worker 0 must wake it.
static bool
assist_may_go(void *arg)
{
    uint64_t target = *(const uint64_t *)arg;
    if (!rt_gc_marking() || atomic_load_explicit(&conc.done, memory_order_relaxed) ||
        atomic_load_explicit(&conc.stop, memory_order_relaxed) ||
        atomic_load_explicit(&work.nfull, memory_order_relaxed) != 0)
        return true;
    uint64_t a = __atomic_load_n(&conc.assist.marked, __ATOMIC_RELAXED);
    uint64_t w0 = __atomic_load_n(&work.workers[0]->w.marked, __ATOMIC_RELAXED);
    if (w0 + a >= target)
        return true;
    uint64_t at = target - a, cur = atomic_load_explicit(&conc.wake_at, memory_order_relaxed);
    while (at < cur &&
           !atomic_compare_exchange_weak_explicit(&conc.wake_at, &cur, at, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
    return false;
}

// Go's assist queue, for a goroutine in debt that found no work to take:
// its thread sleeps (spin, yield, futex: see "Waiting") until worker 0
// has marked enough to cover the debt, shares work (conc.hungry asks it
// to at its next object), or the mark ends,
// rather than spin while worker 0 is off its core. m->locks is 0 here, so
// a stop of the world suspends it as any running goroutine. (The goroutine
// keeps its P meanwhile; the other Ps may steal its run queue.)
static void
assist_park(uint64_t target)
{
    int64_t t0 = rt_nanotime();
    atomic_fetch_add_explicit(&conc.nparked, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&conc.hungry, 1, memory_order_relaxed); // worker 0 shares: we wake
    wait_until(assist_may_go, &target, &conc.seq, &conc.nsleep);
    atomic_fetch_sub_explicit(&conc.hungry, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&conc.assist_wait_ns, (uint64_t)(rt_nanotime() - t0),
                              memory_order_relaxed);
}

// One assist check, with m->locks raised. Returns true with *target set
// when the goroutine is in debt and found no work: it should park.
static GC_NO_SANITIZE bool
assist_once(uint64_t *target)
{
    uint64_t live = atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed);
    if (!rt_gc_marking()) {
        // Ended meanwhile.
    } else if (rt_debug.gcassist == 0) {
        assist_next_check(conc.goal); // GODEBUG=gcassist=0: the goal ends the mark
    } else if (!atomic_load_explicit(&conc.armed, memory_order_acquire) ||
               atomic_load_explicit(&conc.done, memory_order_acquire)) {
        assist_next_check(live + ASSIST_SLACK); // not yet, or not needed
    } else if (live < assist_allowed(assist_done())) {
        assist_next_check(assist_allowed(assist_done()));
    } else if (atomic_exchange_explicit(&conc.assist_busy, 1, memory_order_acq_rel)) {
        assist_next_check(live + ASSIST_SLACK); // another goroutine assists
    } else {
        int64_t t0 = rt_nanotime();
        GCWork *w = &conc.assist;
        uint64_t done = assist_done(), to = assist_work_for(live + ASSIST_SLACK);
        uint64_t want = to > done ? to - done : ASSIST_SLACK;
        uint64_t limit = w->marked + (want < ASSIST_MAX ? want : ASSIST_MAX);
        bool starved = false;
        while (w->marked < limit) {
            if (w->n == 0 && !assist_get_work(w)) {
                starved = true;
                break;
            }
            if (!drain_local(w, MARK_CONC, limit))
                break; // the limit, or a stop
        }
        gcw_give_back(w);
        atomic_fetch_add_explicit(&conc.assist_ns, (uint64_t)(rt_nanotime() - t0),
                                  memory_order_relaxed);
        atomic_store_explicit(&conc.assist_busy, 0, memory_order_release);
        futex_event(&conc.seq, &conc.nsleep); // worker 0 may wait for this
        assist_next_check(assist_allowed(assist_done()) + ASSIST_SLACK);
        if (starved && live >= assist_allowed(assist_done()) &&
            !atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed)) {
            *target = assist_work_for(live + ASSIST_SLACK);
            return true;
        }
    }
    return false;
}

void
rt_gc_mark_assist(void)
{
    // m->locks: the world does not stop in assist_once, so the mark is
    // still the one it paces when it sets the next check. Not while
    // parked: the world may stop then, and the loop looks again.
    M *m = rt_m();
    for (;;) {
        m->locks++;
        uint64_t target = 0;
        bool park = assist_once(&target);
        if (--m->locks == 0 && rt_unlikely(m->gc_pending))
            rt_gc_suspend_self();
        if (!park)
            return;
        assist_park(target);
    }
}

// Decided at the first cycle, before the world stops (it starts worker 0
// and registers the arenas with the kernel).
static void
conc_decide(void)
{
    if (conc.decided)
        return;
    conc.decided = true;
    bool ok = rt_debug.gcconcurrent > 0 && rt_debug.gcstoptheworld == 0 && !RT_TSAN;
    ok = ok && !gc_under_valgrind;
    ok = ok && rt_os_dirty_init() == 0 && rt_mheap_dirty_enable();
    if (ok)
        workers_ensure(1);
    conc.enabled = ok && work.nworkers >= 1;
    conc.gen = conc.enabled && rt_debug.gcgen > 0;
}

static bool
conc_usable(void)
{
    return conc.enabled && !rt_mheap.dirty_failed;
}

bool
rt_gc_concurrent_enabled(void)
{
    return conc.decided && conc.enabled && !rt_mheap.dirty_failed;
}

bool
rt_gc_mark_done(void)
{
    return atomic_load_explicit(&conc.phase, memory_order_acquire) == CONC_MARK &&
           atomic_load_explicit(&conc.done, memory_order_acquire);
}

uint64_t
rt_gc_assist_marked(void)
{
    return atomic_load_explicit(&conc.assist_total, memory_order_relaxed);
}

bool
rt_gc_marking(void)
{
    return atomic_load_explicit(&conc.phase, memory_order_acquire) == CONC_MARK;
}

// ---- The cycle ---------------------------------------------------------------------

// Mark termination's end, world stopped: statistics, the next goal, the
// sweep generation; starts the world. pause_ns: the cycle's earlier pauses;
// need: the runway a concurrent mark needs (0: stop-the-world cycle).
static void
cycle_end(GCCycleStats *st, uint64_t marked, int64_t pause_ns, uint64_t bg_cpu_ns, uint64_t need)
{
    int32_t np = st->nprocs;
    st->heap2 = marked;
    st->stack_bytes = work.stack_bytes;
    st->global_bytes = work.global_bytes;
    atomic_store_explicit(&rt_gc.heap_marked, marked, memory_order_relaxed);
    atomic_store_explicit(&rt_mheap.heap_live, marked, memory_order_relaxed);
    rt_gc_set_trigger_ratio(TRIGGER_STW);
    rt_gc_set_goal(marked);
    st->goal = rt_gc_heap_goal();
    if (need > 0 && st->goal != UINT64_MAX) {
        // Concurrent: trigger where the rest of the runway fits the need,
        // within the clamps.
        uint64_t runway = st->goal - marked, most = runway / 64 * (64 - TRIGGER_MIN);
        if (most < TRIGGER_FREE_RUNWAY)
            most = TRIGGER_FREE_RUNWAY;
        if (need > most)
            need = most;
        uint64_t r = need >= runway ? 64 : need * 64 / runway + 1;
        rt_gc_set_trigger_ratio(r >= 64 - TRIGGER_EARLIEST ? TRIGGER_EARLIEST : (uint32_t)(64 - r));
        rt_gc_set_goal(marked);
    }
    __atomic_store_n(&rt_mheap.sweepgen, rt_mheap.sweepgen + 2, __ATOMIC_RELEASE);
    rt_gc_sweep_reset();
    st->n = ++cycle_no;
    int64_t tend = rt_nanotime();
    uint64_t pause = (uint64_t)(pause_ns + (tend - st->tmarkterm));
    rt_gc.pause_ns[(st->n - 1) % 256] = pause;
    atomic_fetch_add_explicit(&rt_gc.pause_total_ns, pause, memory_order_relaxed);
    atomic_fetch_add_explicit(&rt_gc.cpu_ns, pause * (uint64_t)np + bg_cpu_ns,
                              memory_order_relaxed);
    rt_gc_limiter_account(pause * (uint64_t)np + bg_cpu_ns, tend, np);
    atomic_store_explicit(&rt_gc.last_gc_ns, tend, memory_order_relaxed);
    atomic_store_explicit(&rt_gc.last_gc_unix, rt_walltime(), memory_order_relaxed);
    if (st->forced)
        atomic_fetch_add_explicit(&rt_gc.num_forced_gc, 1, memory_order_relaxed);
    atomic_store_explicit(&rt_gc.num_gc, st->n, memory_order_release);
    rt_gc_start_world();
    st->tend = rt_nanotime();

    if (rt_debug.gctrace > 0)
        rt_gc_trace(st);
    rt_gc_finq_kick();
    // A small heap is swept by its allocators (mcentral sweeps before it
    // grows) in less time than waking the background sweeper on another P
    // costs: that wake-up made the sweeper fight the allocating goroutine
    // over span metadata and the heap lock on every 4 MiB cycle. Leftovers
    // are finished at the next cycle's start.
    if (st->heap2 >= BGSWEEP_MIN_HEAP)
        rt_gc_sweeper_kick();
    else
        rt_gc_scavenge(); // the sweeper's other job: RSS follows the goal down too
}

// Mark workers for a stop-the-world mark of a heap of live bytes: one per
// GC_HEAP_PER_WORKER, at most GOMAXPROCS (each wake-up costs more than a
// small heap's mark).
static int32_t
mark_procs(uint64_t live, int32_t np)
{
    uint64_t n = live / GC_HEAP_PER_WORKER + 1;
    return n < (uint64_t)np ? (int32_t)n : np;
}

// STW 1 of a concurrent cycle, after sweep termination: lists the pages to
// arm, scans the roots for worker 0 and starts it, starts the world.
static void
conc_begin(GCCycleStats *st)
{
    uint64_t goal = rt_gc_heap_goal(), marked = atomic_load(&rt_gc.heap_marked);
    enum GenKind kind = gen_next_kind(marked);
    conc.kind = kind;
    conc.dsf_done = false;
    if (kind == GEN_FULL)
        dsf_clear();
    conc.old_bytes = 0;
    conc.harvest_pages = 0;
    conc.setup_ns = 0;
    conc.setup_done = false;
    conc_arm();
    uint32_t fresh = cycle_no + 1;
    atomic_store_explicit(&rt_gc_fresh_cycle, fresh, memory_order_relaxed);
    work.fresh = fresh;
    heap_bounds();
    GCWork *w = &work.workers[0]->w, *a = &conc.assist;
    w->marked = w->cpu_ns = w->idle_ns = w->nshare = w->nsteal = 0;
    w->nkept = w->ndeferred = 0;
    a->marked = a->nshare = a->nsteal = 0;
    a->nkept = a->ndeferred = 0;
    work.stack_bytes = work.global_bytes = 0;
    work.mode = MARK_SOLO;
    work.seed = true;
    mark_roots(w);
    work.seed = false;
    work.mode = MARK_CONC;
    conc.cpu_ns = 0;
    conc.goal = goal;
    // The work expected: the whole live heap, or what the last minor cycle
    // marked beyond its old objects.
    conc.expect = marked > 0 ? marked : 1;
    if (kind != GEN_FULL && conc.work_last[kind] > 0)
        conc.expect = conc.work_last[kind] + conc.work_last[kind] / 4;
    atomic_store_explicit(&conc.assist_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&conc.armed, 0, memory_order_relaxed);
    atomic_store_explicit(&conc.sparse, false, memory_order_relaxed);
    conc.dirty_pages = 0;
    conc.all_dirty = false;
    atomic_store_explicit(&conc.done, 0, memory_order_relaxed);
    atomic_store_explicit(&conc.stop, 0, memory_order_relaxed);
    atomic_store_explicit(&conc.wake_at, UINT64_MAX, memory_order_relaxed);
    atomic_store_explicit(&conc.phase, CONC_MARK, memory_order_release);
    // The hook fires at the first assist check now (rt_gc_mark_assist), and
    // never later than the goal, where an allocation ends the mark.
    assist_next_check(st->heap0);
    st->tmark = rt_nanotime();
    conc.st = *st;
    workers_run(JOB_CONC, 2);
    rt_gc_start_world();
}

// STW 2 of a concurrent cycle: mark termination. Runs with rt_gc.running.
static void
conc_finish(int reason)
{
    GCCycleStats *st = &conc.st;
    enum GenKind kind = conc.kind;
    if (reason == GC_REASON_FORCED)
        st->forced = true;
    rt_gc_data_segments_update();
    st->tmarkterm = rt_nanotime();
    rt_gc_stop_world();
    atomic_store_explicit(&conc.stop, 1, memory_order_relaxed);
    futex_event(&conc.seq, &conc.nsleep); // worker 0 or a parked assist may sleep
    workers_wait();
    atomic_store_explicit(&conc.phase, CONC_OFF, memory_order_relaxed);
    atomic_store_explicit(&rt_gc_fresh_cycle, 0, memory_order_relaxed);
    st->nprocs = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    rt_malloc_flush_all();
    st->heap1 = atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed);
    // Worker 0's leftovers and the written pages go to the starter's stack;
    // then a stop-the-world mark from all the roots finishes the job.
    // (Work an assist gave back is on the global list, which gc_mark's
    // workers take from; an assist never holds any across a stop.)
    GCWork *cw = &work.workers[0]->w, *aw = &conc.assist, *w = &work.self;
    uint64_t wmarked = cw->marked, cmarked = wmarked + aw->marked;
    while (cw->n > 0) {
        cw->n--;
        gcw_push(w, cw->stack[2 * cw->n], cw->stack[2 * cw->n + 1]);
    }
    heap_bounds();
    work.mode = MARK_SOLO;
    // The fresh objects the markers kept are marked; scan them now.
    for (uintptr_t i = 0; i < cw->nkept; i++)
        push_kept(w, cw->kept[2 * i], cw->kept[2 * i + 1]);
    for (uintptr_t i = 0; i < aw->nkept; i++)
        push_kept(w, aw->kept[2 * i], aw->kept[2 * i + 1]);
    work.rescan = true; // the written pages: by gc_mark's workers, in parallel
    // A medium cycle whose marker was stopped before it rescanned the pages
    // written since the last full cycle: here, with the world stopped.
    if (kind == GEN_MEDIUM && !conc.dsf_done)
        dsf_rescan(w, false);
    // The pointers the concurrent markers left are roots now (gc_mark scans
    // worker 0's table, the assist's appended, through work.extra_lo/hi).
    for (uintptr_t i = 0; i < aw->ndeferred; i++)
        conc_defer(cw, aw->deferred[i]);
    work.extra_lo = (uintptr_t)cw->deferred;
    work.extra_hi = (uintptr_t)(cw->deferred + cw->ndeferred);
    uint64_t assist_ns = atomic_load_explicit(&conc.assist_ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&conc.assist_total, aw->marked, memory_order_relaxed);
    st->mark_cpu_ns = conc.cpu_ns;
    st->assist_cpu_ns = assist_ns;
    uint64_t cpu;
    uint64_t traced = cmarked + gc_mark(mark_procs(st->heap1, st->nprocs), &cpu);
    uint64_t marked = conc.old_bytes + traced;
    work.rescan = false;
    // The runway the next concurrent mark needs: the allocation rate seen
    // during this one times the marker's time for the whole live heap
    // (extrapolated from its speed when it did not finish), plus a quarter.
    uint64_t need = 0;
    // Time the program spent assisting is not allocation time.
    int64_t span = st->tmarkterm - st->tmark - (int64_t)assist_ns;
    if (span > 0 && st->heap1 > st->heap0) {
        double rate = (double)(st->heap1 - st->heap0) / (double)span; // bytes per ns
        // The setup (arming, or pre-marking and the harvest) takes about
        // as long whatever is traced; the tracing is extrapolated.
        double setup = (double)conc.setup_ns, t = (double)(conc.cpu_ns - conc.setup_ns);
        if (!conc.setup_done && setup < (double)conc.setup_last[kind])
            setup = (double)conc.setup_last[kind];
        if (!atomic_load_explicit(&conc.done, memory_order_relaxed))
            t = cmarked > 0 ? t * (double)traced / (double)cmarked : (double)span * 4;
        need = (uint64_t)(rate * (setup + t) * 1.25);
    }
    if (conc.setup_done)
        conc.setup_last[kind] = conc.setup_ns;
    // Each kind of cycle needs its own runway: the next trigger is set for
    // the kind the next cycle will be.
    conc.need[kind] = need;
    conc.work_last[kind] = traced;
    if (kind == GEN_MEDIUM) {
        conc.nmedium++;
        conc.nminor = 0;
        atomic_fetch_add_explicit(&conc.medium_total, 1, memory_order_relaxed);
    } else if (kind == GEN_MINOR) {
        conc.nminor++;
        atomic_fetch_add_explicit(&conc.minor_total, 1, memory_order_relaxed);
        // Young objects that mostly survive (a program replacing its live
        // data) make a minor cycle trace about as much as a full one, and
        // rescan every old object on each page written: back off.
        if (conc.backoff < GEN_BACKOFF)
            conc.backoff = GEN_BACKOFF;
        if (traced > conc.full_live / 2) {
            conc.nfull_owed = conc.backoff;
            if (conc.backoff < GEN_BACKOFF_MAX)
                conc.backoff *= 2;
        } else if (traced < conc.full_live / 8 && conc.backoff > GEN_BACKOFF) {
            conc.backoff /= 2;
        }
    } else if (kind == GEN_FULL) {
        gen_full_done(marked);
        if (conc.nfull_owed > 0)
            conc.nfull_owed--;
    }
    rt_gc.last_full = kind == GEN_FULL;
    // A minor or medium cycle keeps the goal the last full mark set: the
    // old objects it keeps are partly dead, and are not the program's live
    // heap growing unless the next full cycle says so.
    atomic_store_explicit(&rt_gc.full_live, kind != GEN_FULL ? conc.full_live : 0,
                          memory_order_relaxed);
    // A failed scan may have re-armed pages without reporting them.
    conc.gen_valid = conc.gen && !conc.all_dirty && !conc.arm_failed;
    enum GenKind next = gen_next_kind(marked);
    if (conc.need[next] > 0)
        need = conc.need[next];
    if (rt_debug.gctrace > 1) {
        rt_printf("gc heap: sys %llu inuse %llu released %llu MB\n",
                  (unsigned long long)rt_mheap.heap_sys >> 20,
                  (unsigned long long)rt_mheap.heap_inuse >> 20,
                  (unsigned long long)rt_mheap.heap_released >> 20);
        rt_printf("gc concurrent: marker %llu KB in %llu us, assists %llu KB in %llu us; %llu "
                  "pages armed in %zu runs, %llu written pages rescanned%s, "
                  "%zu pointers deferred, %zu fresh objects kept\n",
                  (unsigned long long)wmarked >> 10, (unsigned long long)conc.cpu_ns / 1000,
                  (unsigned long long)aw->marked >> 10, (unsigned long long)assist_ns / 1000,
                  (unsigned long long)conc.armed_pages, (size_t)conc.nruns,
                  (unsigned long long)conc.dirty_pages, conc.all_dirty ? " (all)" : "",
                  (size_t)cw->ndeferred, (size_t)(cw->nkept + aw->nkept));
        if (kind != GEN_FULL)
            rt_printf("gc %s: %llu KB old, %llu KB traced, %llu written pages harvested\n",
                      kind == GEN_MEDIUM ? "medium" : "minor",
                      (unsigned long long)conc.old_bytes >> 10, (unsigned long long)traced >> 10,
                      (unsigned long long)conc.harvest_pages);
    }
    // Before a minor cycle the pages stay armed: their written bits are its
    // remembered set. Only the dead spans' pages are disarmed. A full cycle
    // arms every page afresh, so before one all are disarmed (writes until
    // then do not fault); if a minor one comes instead, its harvest finds
    // them all written.
    if (next != GEN_FULL && !conc.arm_failed) {
        conc.nruns = 0;
        rt_gc_foreach_span(gen_list_dead, NULL);
    }
    workers_run(JOB_DISARM, 2);
    if (conc.arm_failed)
        conc.enabled = false; // later cycles stop the world
    work.extra_lo = work.extra_hi = 0;
    table_trim(cw->kept, cw->capkept, 2);
    table_trim(cw->deferred, cw->capdeferred, 1);
    table_trim(aw->kept, aw->capkept, 2);
    table_trim(aw->deferred, aw->capdeferred, 1);
    table_trim(cw->stack, cw->cap, 2);
    table_trim(aw->stack, aw->cap, 2);
    table_trim(w->stack, w->cap, 2);
    cycle_end(st, marked, st->tmark - st->tstart, conc.cpu_ns + assist_ns, need);
}

static void
gc_cycle(int reason)
{
    // work holds the heap's bounds, conc the cycle's heap sizes.
    rt_gc_noscan_static(&work, sizeof work);
    rt_gc_noscan_static(&conc, sizeof conc);
    rt_gc_noscan_static(&large, sizeof large);
    rt_gc_data_segments_update();
    GCCycleStats st = {0};
    st.forced = reason == GC_REASON_FORCED;
    st.tstart = rt_nanotime();
    gc_under_valgrind = rt_valgrind_running();
    // Threads are made now, not with the world stopped (workers_ensure);
    // GOMAXPROCS may still grow before the stop, and then the mark uses
    // fewer workers than Ps this once.
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    workers_ensure(np < 1 ? 0 : np > MAX_WORKERS ? MAX_WORKERS - 1 : (uint32_t)np - 1);
    conc_decide();
    rt_gc_stop_world();
    atomic_store_explicit(&large.state, CORE_UNKNOWN, memory_order_relaxed);
    np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    st.nprocs = np;
    workers_wait(); // the last cycle's disarming

    // 1. Sweep termination.
    while (rt_gc_sweep_one()) {
    }
    rt_malloc_flush_all();
    st.heap0 = atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed);
    if (reason != GC_REASON_FORCED && conc_usable() &&
        (atomic_load_explicit(&rt_gc.heap_marked, memory_order_relaxed) >= CONC_MIN_LIVE ||
         st.heap0 >= CONC_MIN_HEAP)) {
        conc_begin(&st);
        return; // marking goes on while goroutines run
    }
    st.tmark = rt_nanotime();
    if (conc.gen)
        dsf_clear(); // a full cycle: full_bits is what it marks

    // 2. Mark, with the world stopped.
    uint64_t marked = gc_mark(mark_procs(st.heap0, np), &st.mark_cpu_ns);
    st.tmarkterm = rt_nanotime();

    // 3. Mark termination.
    st.heap1 = atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed);
    gen_full_done(marked);
    conc.kind = GEN_FULL;
    rt_gc.last_full = true;
    atomic_store_explicit(&rt_gc.full_live, 0, memory_order_relaxed);
    cycle_end(&st, marked, st.tmarkterm - st.tstart, 0, 0);
}

static RT_NOINLINE bool gc_start(int reason);

bool
rt_gc_start(int reason)
{
    // The collecting goroutine's stack is a root from gc_start's frame up
    // (work.self_sp): that frame must not hold words of older, deeper
    // frames (a dropped list's nodes, left by the allocator's frames) in
    // slots it never writes. Not a tail call: gc_start's frame goes below
    // this one, where the clearing was.
    rt_stack_clear_dead();
    bool started = gc_start(reason);
    __asm__ volatile("" : : : "memory");
    return started;
}

static RT_NOINLINE bool
gc_start(int reason)
{
    M *m = rt_m();
    if (m == NULL || m->p == NULL || m->curg == NULL || m->locks != 0)
        return false; // not on a user goroutine that may stop the world
    // The caller's registers go to this frame, and the roots on this stack
    // end here: every scan of the cycle sees the same words, whatever the
    // collector's own frames below left behind.
    __builtin_unwind_init();
    uintptr_t sp = rt_arch_getsp();
    for (;;) {
        uint32_t zero = 0;
        if (!atomic_compare_exchange_strong(&rt_gc.running, &zero, 1)) {
            if (reason != GC_REASON_FORCED) {
                if (rt_gc_marking())
                    atomic_store_explicit(&rt_gc_malloc_hook, 1, memory_order_relaxed); // retry
                return false;
            }
            rt_gosched(); // the running cycle stops us, or finishes
            continue;
        }
        work.self_sp = sp;
        if (rt_gc_marking()) {
            // A concurrent mark runs: end it when its marker is done, when
            // the heap reached the goal, or when asked to.
            bool finish = reason != GC_REASON_HEAP ||
                          atomic_load_explicit(&conc.done, memory_order_acquire) ||
                          atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed) >=
                                  rt_gc_heap_goal();
            if (finish)
                conc_finish(reason);
            atomic_store_explicit(&rt_gc.running, 0, memory_order_release);
            if (reason == GC_REASON_FORCED)
                continue; // gort_gc: now a full cycle of its own
            return finish;
        }
        if (reason == GC_REASON_FINISH) {
            atomic_store_explicit(&rt_gc.running, 0, memory_order_release);
            return false;
        }
        gc_cycle(reason);
        atomic_store_explicit(&rt_gc.running, 0, memory_order_release);
        return true;
    }
}
