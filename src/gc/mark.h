// mark.h: what the files of the collector's mark share (internal to src/gc).
//
// gc.h tells the cycle; conc.c's top tells the concurrent mark and gen.c's
// the minor and medium cycles. Here: the marker's work units (GCWork, one
// marker's stack; WorkBuf, a buffer of shared work), the mark's shared state
// (rt_work: the mark stacks' shared lists and the mark threads, mostly
// [stw]; rt_conc: the concurrent mark), and the prototypes, grouped by the
// file that defines them:
//
//   markwork.c  waiting (spin, yield, futex), mark stacks, work sharing, the
//               mark threads and their jobs
//   mark.c      conservative marking: the scan loops, large objects, the
//               roots, finalizers at mark termination, checkmark, retention
//               reports, and the stop-the-world parallel mark (rt_gc_mark)
//   conc.c      concurrent marking on the kernel's dirty bits: arming, the
//               rescans of written pages, worker 0's job
//   gen.c       minor and medium cycles: what a cycle pre-marks, which kind
//               the next one is, the pages written since the last full cycle
//   assist.c    mark assists: the pacing of allocation against the marker
//   cycle.c     the drivers: rt_gc_start, the stop-the-world cycle, a
//               concurrent cycle's STW 1 and STW 2, the cycle's end
#ifndef GORT_GC_MARK_H
#define GORT_GC_MARK_H

#include "gc/gc.h"

enum {
    MARK_DEBUG = 0,
    WB_ENTRIES = 255, // (addr, len) pairs per WorkBuf: 4 KiB
    SHARE_MIN = 2,    // a worker with this many entries shares when another waits
    MAX_WORKERS = 256,
    STACK_INIT = 1 << 16, // pairs in a fresh mark stack (1 MiB, lazily committed)
    // rt_work.jobs = sequence << 11 | job << 9 | nproc (nproc <= MAX_WORKERS)
    JOBS_NPROC_MASK = (1 << 9) - 1,
    JOBS_JOB_SHIFT = 9,
    JOBS_JOB_MASK = 3,
    JOBS_SEQ_SHIFT = 11,
    JOB_MARK = 0,   // workers 0 .. nproc-2: parallel mark, world stopped
    JOB_CONC = 1,   // worker 0: concurrent mark (rt_conc_worker)
    JOB_DISARM = 2, // worker 0: stop tracking the armed pages (rt_conc_disarm)
};
#define GC_HEAP_PER_WORKER ((uint64_t)8 << 20) // heap per mark worker (small heaps)

typedef struct WorkBuf {
    struct WorkBuf *next;
    uintptr_t n; // pairs in e
    uintptr_t e[2 * WB_ENTRIES];
} WorkBuf;

// Each GCWork has cache lines of its own: its owner writes n and marked at
// every object, and the fields around it (rt_work.nfull, rt_conc.hungry) are read
// by the other markers at every object.
typedef struct __attribute__((aligned(RT_CACHE_LINE))) GCWork {
    uintptr_t *stack;        // [owner] pairs: stack[2i] address, stack[2i+1] length
    uintptr_t n;             // [owner] pairs on the stack
    uintptr_t cap;           // [owner] pairs it can hold
    uint64_t marked;         // [owner] bytes of objects this worker marked
    uint64_t cpu_ns;         // [owner] time spent marking this cycle
    uint64_t idle_ns;        // [owner] time spent waiting for work this cycle
    uint64_t nshare, nsteal; // [owner] buffers given and taken this cycle
    // A concurrent marker's notes for mark termination (see rt_conc_defer and
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

// Set at each cycle's start: running under valgrind (cycle.c).
extern bool rt_gc_valgrind;

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

// What a concurrent cycle marks (gen.c).
enum GenKind {
    GEN_FULL = 0,   // mark everything
    GEN_MINOR = 1,  // pre-mark what the last cycle kept
    GEN_MEDIUM = 2, // pre-mark what the last full cycle kept
};

// The mark's shared state (markwork.c).
typedef struct MarkWork {
    Lock lock;                    // guards full and empty
    WorkBuf *full;                // [lock] shared work
    WorkBuf *empty;               // [lock] spare buffers
    _Atomic uint32_t nfull;       // [atomic] buffers on full (read without the lock)
    _Atomic uint32_t nwait;       // [atomic] workers out of work
    _Atomic uint32_t seq;         // [atomic] futex: bumped when work is shared or marking ends
    _Atomic uint32_t nsleep;      // [atomic] stop-the-world mark workers asleep on seq
    uint32_t nproc;               // [stw] workers in this cycle, starter included
    _Atomic uint32_t jobs;        // [atomic] futex: sequence, job, nproc; a change wakes workers
    _Atomic uint32_t ndone;       // [atomic] futex: workers still on their job
    Worker *workers[MAX_WORKERS]; // [stw] dedicated threads
    uint32_t nworkers;            // [stw]
    GCWork self;                  // [stw] the starter's work
    uintptr_t heap_lo, heap_hi;   // [stw] bounds of the arenas, for a quick reject
    enum MarkMode mode;           // [stw] how scan_range marks now
    uint32_t fresh;               // [stw] rt_gc_fresh_cycle of the concurrent mark (MARK_CONC)
    uintptr_t self_sp;            // [stw] the collecting goroutine's stack is a root from here
    uintptr_t extra_lo, extra_hi; // [stw] one more root range (the deferred words), or empty
    bool rescan; // [stw] rt_gc_mark's workers first rescan rt_conc.runs' written pages
    bool seed;   // [stw] rt_mark_roots scans the stacks in MARK_SEED mode
    uint64_t stack_bytes, global_bytes; // [stw] root bytes scanned
} MarkWork;
extern MarkWork rt_work;

// The concurrent mark (conc.c).
typedef struct ConcMark {
    _Atomic uint32_t phase;       // [atomic] CONC_OFF / CONC_MARK; written with the world stopped
    _Atomic uint32_t done;        // [atomic] the concurrent marker ran out of work
    _Atomic uint32_t stop;        // [atomic] mark termination wants the marker to stop
    bool decided, enabled;        // [owner] rt_gc.running's holder: may cycles mark concurrently
    _Atomic bool all_dirty;       // [atomic] worker 0, then the stw mark workers: a scan failed,
                                  // all armed pages count as written
    bool arm_failed;              // [owner] worker 0, then stw: the kernel refused to arm
    uintptr_t *runs;              // [stw] (and worker 0 during its job) armed ranges: lo, hi pairs
    uintptr_t nruns, caprun;      // [stw] the same
    uint64_t armed_pages;         // [stw] heap pages armed this cycle
    _Atomic uint64_t dirty_pages; // [atomic] worker 0, then the stw mark workers: written OS
                                  // pages rescanned this cycle
    uint64_t cpu_ns;              // [owner] worker 0, then stw: the concurrent marker's time
    // Mark assists (rt_gc_mark_assist).
    _Atomic uint32_t armed;       // [atomic] worker 0 armed the pages: heap objects may be read
    _Atomic bool sparse;          // [atomic] set before armed: a full cycle's arming is complete:
                                  // large objects may skip their pages in memory (push_large)
    _Atomic uint32_t assist_busy; // [atomic] a goroutine is assisting (owns assist)
    _Atomic uint32_t hungry;      // [atomic] concurrent markers out of work: the others share
    // Waiting in the concurrent mark (markwork.c).
    _Atomic uint32_t seq;            // [atomic] futex: bumped at each event a waiter may want
    _Atomic uint32_t nsleep;         // [atomic] threads asleep (or about to be) on seq
    _Atomic uint64_t wake_at;        // [atomic] worker 0's marked bytes that let a parked assist
                                     // go on; UINT64_MAX while none is parked
    _Atomic uint64_t nparked;        // [atomic] assists parked, all cycles
    GCWork assist;                   // [owner] assist_busy's holder, else stw: the assist's work
    uint64_t goal, expect;           // [stw] the goal, the work expected (heap_live at STW 1: st)
    _Atomic uint64_t assist_ns;      // [atomic] time goroutines spent assisting this cycle
    _Atomic uint64_t assist_wait_ns; // [atomic] time assists spent parked, all cycles
    _Atomic uint64_t assist_total;   // [atomic] bytes assists marked, all cycles
    GCCycleStats st;                 // [owner] rt_gc.running's holder: the cycle in flight
    // Minor cycles (gen.c).
    bool gen;               // [owner] rt_gc.running's holder: concurrent cycles may be
                            // minor (decided once)
    bool gen_valid;         // [stw] no written bit was lost since the last mark
    enum GenKind kind;      // [stw] this cycle's kind (the last one's between cycles)
    bool dsf_done;          // [owner] worker 0, then stw: a medium cycle's rt_dsf_rescan ended
    uint32_t nminor;        // [stw] minor cycles since the last full or medium one
    uint32_t nmedium;       // [stw] medium cycles since the last full one
    uint32_t nfull_owed;    // [stw] full cycles to run before the next minor one
    uint32_t backoff;       // [stw] nfull_owed after the next minor cycle that gains nothing
    uint64_t full_live;     // [stw] bytes the last full cycle marked
    uint64_t full_prev;     // [stw] ... and the one before it
    uint64_t old_bytes;     // [stw] bytes pre-marked in this minor or medium cycle
    uint64_t work_last[3];  // [stw] bytes the last cycle of each kind (GenKind) traced
    uint64_t need[3];       // [stw] runway the last concurrent mark of each kind needed
    uint64_t harvest_pages; // [owner] worker 0, then stw: written pages at a minor's start
    uint64_t setup_ns;      // [owner] worker 0, then stw: its time before it could
                            // trace (arming, or pre-marking and the harvest)
    bool setup_done;        // [owner] worker 0, then stw: it got that far
    uint64_t setup_last[3]; // [stw] setup_ns of the last cycle of each kind that
                            // finished its setup
    _Atomic uint32_t minor_total;  // [atomic] minor cycles since the program started
    _Atomic uint32_t medium_total; // [atomic] medium cycles since the program started
} ConcMark;
extern ConcMark rt_conc;

enum { CONC_OFF = 0, CONC_MARK = 1 };

enum { WAIT_ACTIVE = 4, WAIT_PAUSES = 30 };

#define GC_LEN_LARGE ((uintptr_t)1 << 63)

enum { CORE_UNKNOWN, CORE_DECIDING, CORE_ON, CORE_OFF };
typedef struct MarkLarge {
    _Atomic uint32_t state;      // [atomic] whether mincore may be used this cycle; reset with
                                 // the world stopped
    uint64_t swapouts;           // [const] written by the decider before it publishes CORE_ON:
                                 // the system's swap-out count then
    _Atomic uint64_t core_scans; // [atomic] large objects scanned by mincore, all cycles
} MarkLarge;
extern MarkLarge rt_large;

// markwork.c
void rt_gcw_grow(GCWork *w);
void rt_gc_futex_event(_Atomic uint32_t *seq, _Atomic uint32_t *nsleep);
void rt_gc_wait_until(bool (*cond)(void *), void *arg, _Atomic uint32_t *seq,
                      _Atomic uint32_t *nsleep);
void rt_gc_table_trim(uintptr_t *t, uintptr_t cap, uintptr_t width);
WorkBuf *rt_wb_get_empty(void);
void rt_wb_put_full(WorkBuf *b);
RT_NOINLINE void rt_gcw_share(GCWork *w);
bool rt_gcw_steal(GCWork *w);
void rt_workers_run(uint32_t job, uint32_t nproc);
void rt_workers_wait(void);
void rt_workers_ensure(uint32_t n);

// mark.c
RT_NOINLINE void rt_conc_defer(GCWork *w, uintptr_t p);
bool rt_gc_core_usable(void);
RT_NOINLINE void rt_gc_push_sparse(GCWork *w, uintptr_t base, uintptr_t len, bool core);
void rt_gc_push_kept(GCWork *w, uintptr_t base, uintptr_t len);
GC_NO_SANITIZE bool rt_gc_drain_conc(GCWork *w, uint64_t limit);
GC_NO_SANITIZE void rt_mark_loop(GCWork *w);
void rt_mark_roots(GCWork *w);
void rt_gc_heap_bounds(void);
uint64_t rt_gc_mark(int32_t nprocs, uint64_t *cpu_ns);

// conc.c
void rt_gc_runs_add(uintptr_t lo, uintptr_t hi);
void rt_conc_disarm(void);
void rt_conc_arm(void);
GC_NO_SANITIZE void rt_gc_rescan_written(uintptr_t lo, uintptr_t hi, void *arg);
void rt_conc_rescan_slice(GCWork *w, uint32_t k, uint32_t nproc);
GC_NO_SANITIZE bool rt_conc_drain(GCWork *w);
void rt_conc_worker(GCWork *w);
void rt_conc_decide(void);
bool rt_conc_usable(void);

// gen.c
void rt_gen_premark(Span *s, void *arg);
void rt_gen_full_done(uint64_t marked);
enum GenKind rt_gen_next_kind(uint64_t marked);
void rt_dsf_note(uintptr_t lo, uintptr_t hi);
void rt_dsf_clear(void);
bool rt_dsf_rescan(GCWork *w, bool stoppable);
void rt_gen_list_dead(Span *s, void *arg);
void rt_gen_cycle_done(enum GenKind kind, uint64_t traced, uint64_t marked);

// assist.c
void rt_assist_next_check(uint64_t at);
RT_NOINLINE void rt_assist_wake(void);

static inline void
gcw_push(GCWork *w, uintptr_t p, uintptr_t len)
{
    if (rt_unlikely(w->n == w->cap))
        rt_gcw_grow(w);
    w->stack[2 * w->n] = p;
    w->stack[2 * w->n + 1] = len;
    w->n++;
}

#endif
