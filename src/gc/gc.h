// gc.h: the garbage collector (overview).
//
// A mostly-concurrent, parallel, conservative, non-moving mark-sweep
// collector over the spans of src/mem, with Go's lazy concurrent sweeping,
// Go's pacer (GOGC, GOMEMLIMIT) and Go's finalizer semantics. Where the
// kernel tracks writes (src/os/linux/dirty.c), automatic cycles mark while
// goroutines run, between two short pauses: see conc.c; most of those
// cycles are minor or medium ones, which do not trace again what survived
// an earlier cycle (gen.c). gort_gc and
// the fallback (GODEBUG=gcstoptheworld=1 or gcconcurrent=0, valgrind, TSan,
// older kernels) run the stop-the-world cycle below.
//
//   mark.h       what the mark files share, and a map of them: markwork.c
//                (mark stacks, sharing, mark threads), mark.c (scan loops,
//                roots, checkmark, the stop-the-world mark), conc.c
//                (concurrent marking), gen.c (minor and medium cycles),
//                assist.c (mark assists), cycle.c (rt_gc_start, the cycle)
//   sweep.c      sweeping one span (sweepgen states in malloc.h), the
//                background sweeper goroutine, the scavenger step
//   pacer.c      GOGC / GOMEMLIMIT, heap goal and trigger, the allocation
//                hook (trigger, gcstress), forced GC, gort_gc, gctrace
//   finalizer.c  gort_set_finalizer, the finalizer queue and its goroutine
//   roots.c      gort_add_roots, the data/bss segments of every module
//   memstats.c   gort_read_memstats
//
// A stop-the-world cycle, run by the goroutine that starts it (gort_gc, or
// an allocation that crossed the trigger), as Go's phases with the world
// stopped for all of marking (a concurrent cycle: see conc.c):
//
//   1. sweep termination (STW; gctrace's first clock figure): stop the world
//      (rt_gc_stop_world: goroutines are parked in the scheduler or
//      suspended in a signal handler, registers saved); finish sweeping the
//      previous cycle's spans; flush every MCache (all spans go back to
//      their MCentral, so no span is owned by anyone while marking). Mark
//      bits are all clear now: sweeping hands each span fresh zeroed bits.
//   2. mark (STW, parallel; the second clock figure): up to GOMAXPROCS
//      workers (one per 8 MiB of heap), the starter plus dedicated GC
//      threads woken by futex,
//      each with its own off-heap mark stack, sharing work through a global
//      list of work buffers. Roots: goroutine stacks and saved registers
//      (rt_gc_scan_stacks), writable PT_LOAD segments of every loaded
//      module, gort_add_roots ranges, G descriptors' arg/param and their
//      Sudogs, armed timers, the finalizer queue, and the contents (not the
//      object) of every object that has a finalizer. Every word that points
//      into an allocated slot (interior pointers too) marks the slot with an
//      atomic OR; noscan spans are never scanned; objects > 128 KiB are
//      scanned in 128 KiB oblets.
//   3. mark termination (STW; the third clock figure): objects with a
//      finalizer that are still unmarked get their finalizer queued, lose
//      the special, and are marked with everything they reach (Go: "p is
//      freed a cycle later"); checkmark verification (GODEBUG=gccheckmark=1);
//      heap_live := marked bytes; new goal and trigger; sweepgen += 2, which
//      turns every listed span into an unswept one; start the world.
//   4. sweep (concurrent): MCentral.cache_span sweeps before it hands out a
//      span; for a live heap of 32 MiB or more the background sweeper
//      goroutine sweeps the rest and then scavenges, below that the cycle's
//      starter scavenges at its end; gort_gc sweeps everything itself
//      before returning, as runtime.GC does.
//
// Stop-the-world: rt_gc_stop_world (src/sched/gcstop.c) takes worldsema, as
// rt_stop_the_world does, so a collection and gort_gomaxprocs take turns.
// Sweepers hold m->locks while they sweep one span, so a stop never finds a
// span half swept; so does an M handing a P to another (startm).
//
// Conservative limits: words in C locals that the compiler keeps after
// their last use, in malloc'ed memory not registered with gort_add_roots,
// or in threads gort did not start are not seen or may keep garbage alive;
// pointers hidden by arithmetic (xor lists) are not seen.
//
// Locking: rt_gc.lock serialises the settings' writers (readers load
// atomically); rt_gc.running (a CAS flag) makes cycles one at a time; the
// rest of a cycle's state is [stw]: written only by the starter with the
// world stopped. finq.lock and roots.lock are leaves.
#ifndef GORT_GC_GC_H
#define GORT_GC_GC_H

#include "mem/malloc.h"

// Conservative scanning reads whole stacks (ASan redzones, fake frames) and
// memory other threads wrote before they were stopped by a signal (which
// TSan cannot see as a synchronisation): the scanning loops are exempt.
#if defined(__clang__)
#define GC_NO_SANITIZE __attribute__((no_sanitize("address", "thread", "memory")))
#else
#define GC_NO_SANITIZE __attribute__((no_sanitize_address, no_sanitize_thread))
#endif

enum {
    GC_DEFAULT_PERCENT = 100,
    GC_OBLET = 128 << 10, // large objects are scanned in pieces of this size
    // Objects this large are scanned only where their pages may hold data
    // (mark.c, push_sparse): a pagemap read costs less than reading 1 MiB.
    GC_SPARSE_MIN = 1 << 20,
    // The trigger's place in the runway from marked to goal
    // (GCState.trigger_ratio) is counted in 64ths; a stop-the-world cycle
    // needs no runway and triggers at Go's upper clamp, 61/64.
    GC_TRIGGER_SCALE = 64,
    GC_TRIGGER_STW = 61,
    // Entries of the pause ring (GCState.pause_ns), as many as the public
    // gort_memstats.pause_ns has (memstats.c checks that).
    GC_PAUSE_RING = 256,
};
#define GC_HEAP_MINIMUM    ((uint64_t)4 << 20) // Go's defaultHeapMinimum at GOGC=100
#define GC_FORCE_PERIOD_NS ((int64_t)120 * 1000 * 1000 * 1000) // Go's forcegcperiod
// The period in force: GC_FORCE_PERIOD_NS; tests shorten it (as Go's tests
// set forcegcperiod). [atomic]
extern _Atomic int64_t rt_gc_force_period_ns;

enum GCReason {
    GC_REASON_HEAP = 0, // the trigger was crossed (or a concurrent mark may end)
    GC_REASON_FORCED,   // gort_gc: a full blocking cycle
    GC_REASON_TIME,     // forcegc: none for 2 minutes
    GC_REASON_STRESS,   // GODEBUG=gcstress
    GC_REASON_FINISH,   // end a concurrent mark whose marker is done; never start one
};

typedef struct GCState {
    Lock lock;                      // serialises setters
    _Atomic int32_t percent;        // [atomic] GOGC; -1 = off; written under lock
    _Atomic int64_t memory_limit;   // [atomic] bytes; INT64_MAX = none; written under lock
    _Atomic uint64_t heap_marked;   // [atomic] live heap after the last cycle (0: none yet)
    _Atomic uint64_t goal;          // [atomic] heap goal of the next cycle
    _Atomic uint64_t full_live;     // [atomic] after a minor or medium cycle, what the last
                                    // full mark marked: the goal is from it (rt_gc_set_goal);
                                    // 0 otherwise
    _Atomic uint32_t num_gc;        // [atomic] completed cycles
    _Atomic uint32_t num_forced_gc; // [atomic] cycles started by gort_gc
    _Atomic uint32_t running;       // [atomic] 1 while a cycle runs (CAS 0 -> 1 to start one)
    bool limit_bound;               // [stw] the goal came from the memory limit
    bool last_full;                 // [stw] the last cycle was full (not minor or medium):
                                    // sweeping copies its marks to Span.full_bits
    uint64_t gogc_trigger;          // [stw] trigger from GOGC alone (CPU limiter)
    uint32_t trigger_ratio;         // [stw] trigger = marked + runway x ratio / GC_TRIGGER_SCALE
    // Statistics, written [stw] by the starter, read racily by memstats.
    _Atomic uint64_t pause_total_ns;
    uint64_t pause_ns[GC_PAUSE_RING]; // latest at (num_gc + GC_PAUSE_RING - 1) % GC_PAUSE_RING
    _Atomic int64_t last_gc_ns;       // nanotime at the end of the last cycle (0: none)
    _Atomic int64_t last_gc_unix;     // walltime of the same
    _Atomic uint64_t cpu_ns;          // GC CPU: pause x GOMAXPROCS, summed
    // The CPU limiter's bucket (rt_gc_limiter_account): GC CPU time in,
    // mutator time out, capped at 1 CPU-second per P.
    uint64_t limiter_fill;    // [stw] ns
    int64_t limiter_last;     // [stw] nanotime of the last account
    uint64_t limiter_last_gc; // [stw] the last cycle's GC CPU ns
} GCState;

extern GCState rt_gc;

// ---- pacer.c ------------------------------------------------------------------
// Charges a cycle's GC CPU time (gc_cpu_ns, over np Ps) to the CPU limiter.
// [stw]
void rt_gc_limiter_account(uint64_t gc_cpu_ns, int64_t now, int32_t np);

// The heap size at which the next cycle should finish, as last computed.
uint64_t rt_gc_heap_goal(void);
// Goal and trigger from a marked heap size; publishes rt_gc_trigger. [stw]
void rt_gc_set_goal(uint64_t marked);
// Where the next trigger sits in the runway, in 64ths (concurrent cycles
// start earlier than the stop-the-world ones' GC_TRIGGER_STW). [stw]
void rt_gc_set_trigger_ratio(uint32_t ratio64);
// Non-heap memory the memory limit must leave room for (runtime metadata).
uint64_t rt_gc_nonheap_bytes(void);
// sysmon, once a second: readies the forcegc goroutine when no cycle ran
// for rt_gc_force_period_ns. Runs on sysmon's M (no P); takes a leaf Lock.
void rt_gc_sysmon_tick(int64_t now);
// sysmon, every round: readies the forcegc goroutine to end a concurrent
// mark whose marker is done (when no allocation does it first).
void rt_gc_sysmon_poll(void);
// Is sp on the forcegc goroutine's stack? (rt_gc_runtime_stack)
bool rt_gc_forcegc_stack(uintptr_t sp);
// Prints the gctrace line of the cycle just finished.
typedef struct GCCycleStats {
    uint32_t n;
    int64_t tstart, tmark, tmarkterm, tend; // nanotime at phase boundaries
    uint64_t mark_cpu_ns;                   // summed over the mark workers
    uint64_t assist_cpu_ns;                 // goroutines' mark assists
    uint64_t heap0, heap1, heap2, goal;
    uint64_t stack_bytes, global_bytes;
    int32_t nprocs;
    bool forced;
} GCCycleStats;
void rt_gc_trace(const GCCycleStats *st);

// ---- the mark (mark.h lists its files) -----------------------------------------
// Runs one full cycle on the calling user goroutine (P held, no Locks held).
// reason GC_REASON_FORCED waits for a running cycle and always collects; the
// others skip if a cycle is already running. Returns true if it collected.
bool rt_gc_start(int reason);
// A concurrent mark is running (between its two pauses).
bool rt_gc_marking(void);
// ... and its marker is done: the next allocation (or forcegc) ends it.
bool rt_gc_mark_done(void);
// The allocating goroutine reached its mark-assist check during a concurrent
// mark: marks if it allocated ahead of the markers, and sets the next check.
// From rt_gc_malloc_slow (a user goroutine, P held, no Locks).
void rt_gc_mark_assist(void);
// Bytes marked by assists since the program started.
uint64_t rt_gc_assist_marked(void);
// Minor cycles since the program started (gen.c).
uint32_t rt_gc_minor_cycles(void);
// Medium cycles since the program started (the same).
uint32_t rt_gc_medium_cycles(void);
// Cycles mark concurrently (known from the first automatic cycle on).
bool rt_gc_concurrent_enabled(void);

// ---- sweep.c -----------------------------------------------------------------
// Sweeps one unswept span, if any is left; false when sweeping is done.
// Runs on a goroutine or with the world stopped; takes MCentral locks.
bool rt_gc_sweep_one(void);
// Restarts the sweep over all centrals (called [stw] when sweepgen moves).
void rt_gc_sweep_reset(void);
// Wakes the background sweeper (starting it if needed). User goroutine.
void rt_gc_sweeper_kick(void);
// True if sp lies on the stack of a runtime goroutine that holds no heap
// pointers (the sweeper, forcegc): the collector does not scan those.
bool rt_gc_runtime_stack(uintptr_t sp);
// Returns free pages to the OS down to what the goal and the limit allow.
void rt_gc_scavenge(void);
// Calls fn for every in-use span ([stw]; or while a concurrent mark runs,
// when no span is swept or freed, and spans born meanwhile may be seen).
void rt_gc_foreach_span(void (*fn)(Span *s, void *arg), void *arg);
// Calls fn for every in-use span that has specials ([stw]).
void rt_gc_foreach_special_span(void (*fn)(Span *s, void *arg), void *arg);

// ---- finalizer.c ---------------------------------------------------------------
// Queues fn(obj) for the finalizer goroutine. [stw]
void rt_gc_queue_finalizer(void (*fn)(void *), void *obj);
// The queue as a root range (entries not yet run). [stw]
void rt_gc_finq_range(uintptr_t *lo, uintptr_t *hi);
// Wakes the finalizer goroutine if work is queued (starting it if needed).
void rt_gc_finq_kick(void);

// ---- markwork.c: the collector's off-heap tables -----------------------------
// Doubles the table *t of *cap entries of width words each (the first used
// of them kept), starting at first entries: rt_os_map'd, never on the heap
// or scanned; throws what if it cannot be mapped.
void rt_gc_table_grow(uintptr_t **t, uintptr_t *cap, uintptr_t used, uintptr_t width,
                      uintptr_t first, const char *what);

// ---- why.c: retention reports (gort_gc_why, GODEBUG=gcwhy) ------------------
// The roots mark_roots scans, as the retention walk names them.
enum WhyRoot {
    WHY_ROOT_STACKS,  // threads' saved registers and stacks, goroutines' stacks
    WHY_ROOT_GLOBAL,  // writable data segments
    WHY_ROOT_USER,    // gort_add_roots ranges
    WHY_ROOT_GDESC,   // G descriptors: arg, param, sudogs
    WHY_ROOT_TIMER,   // pending timers
    WHY_ROOT_FINQ,    // the finalizer queue
    WHY_ROOT_SPECIAL, // the contents of objects with finalizers
    WHY_ROOT_EXTRA,   // words the concurrent marker deferred
};
// Whether this cycle's mark termination should run the walk. [stw]
bool rt_gc_why_wanted(void);
// Starts the walk (false: nothing to explain). The caller has swapped fresh
// mark bitmaps in (the real ones in Span.gcmark_saved). [stw]
bool rt_gc_why_begin(void);
// The kind of the root ranges scanned next. [stw]
void rt_gc_why_set_kind(int kind);
// Scans one root range for the walk (mark_roots in MARK_WHY mode). [stw]
void rt_gc_why_root(uintptr_t lo, uintptr_t hi);
// Prints the report and frees the walk's stack. [stw]
void rt_gc_why_end(void);
// gort_gc_why for the address ~hidden (asm.S enters it).
int rt_gc_why_hidden(uintptr_t hidden);

// ---- roots.c -----------------------------------------------------------------
// Root ranges for the collector: calls fn for each registered range, with
// roots.lock held (fn must not call gort_add_roots/gort_remove_roots).
void rt_gc_roots_foreach(void (*fn)(uintptr_t start, uintptr_t size, void *arg), void *arg);
// Refreshes the table of writable data segments of all loaded modules.
// Called before the world stops (dl_iterate_phdr takes the loader's lock).
void rt_gc_data_segments_update(void);
// Leaves the runtime static [p, p + n) out of the data segments' roots:
// it holds heap addresses that are not references. Before the world stops.
void rt_gc_noscan_static(const void *p, size_t n);
// Calls fn for every data segment range recorded by the last update, minus
// the heap's own metadata and the statics above. [stw]
void rt_gc_data_segments_foreach(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);

#endif // GORT_GC_GC_H
