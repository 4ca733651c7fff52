// cycle.c: a collection cycle, from rt_gc_start to the restart of the world.
//
// gc.h tells the stop-the-world cycle and conc.c the concurrent one. Here
// are their drivers: rt_gc_start (who may start or end a cycle), gc_cycle
// (sweep termination, then the stop-the-world mark or a concurrent cycle's
// STW 1, conc_begin), conc_finish (a concurrent cycle's STW 2, mark
// termination) and cycle_end (statistics, the next goal and trigger, the
// sweep generation, the restart).
#include "core/debugvars.h"
#include "gc/mark.h"
#include "sanitize.h"
#include "time/timer.h"

// Below this live heap, sweeping is left to the allocators (see rt_gc_cycle's end).
enum { BGSWEEP_MIN_HEAP = 32 << 20 };

bool rt_gc_valgrind;     // [stw] set at each cycle's start
uint32_t rt_gc_cycle_no; // [stw] cycles completed

enum {
    // 64ths of the runway (GC_TRIGGER_SCALE); stop-the-world cycles need none and
    // trigger at GC_TRIGGER_STW (gc.h, Go's upper clamp).
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

// ---- The cycle ---------------------------------------------------------------------

// Mark termination's end, world stopped: statistics, the next goal, the
// sweep generation; starts the world. pause_ns: the cycle's earlier pauses;
// need: the runway a concurrent mark needs (0: stop-the-world cycle).
static void
cycle_end(GCCycleStats *st, uint64_t marked, int64_t pause_ns, uint64_t bg_cpu_ns, uint64_t need)
{
    int32_t np = st->nprocs;
    st->heap2 = marked;
    st->stack_bytes = rt_work.stack_bytes;
    st->global_bytes = rt_work.global_bytes;
    atomic_store_explicit(&rt_gc.heap_marked, marked, memory_order_relaxed);
    atomic_store_explicit(&rt_mheap.heap_live, marked, memory_order_relaxed);
    rt_gc_set_trigger_ratio(GC_TRIGGER_STW);
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
    st->n = ++rt_gc_cycle_no;
    int64_t tend = rt_nanotime();
    uint64_t pause = (uint64_t)(pause_ns + (tend - st->tmarkterm));
    rt_gc.pause_ns[(st->n - 1) % GC_PAUSE_RING] = pause;
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
    enum GenKind kind = rt_gen_next_kind(marked);
    rt_conc.kind = kind;
    rt_conc.dsf_done = false;
    if (kind == GEN_FULL)
        rt_dsf_clear();
    rt_conc.old_bytes = 0;
    rt_conc.harvest_pages = 0;
    rt_conc.setup_ns = 0;
    rt_conc.setup_done = false;
    rt_conc_arm();
    uint32_t fresh = rt_gc_cycle_no + 1;
    atomic_store_explicit(&rt_gc_fresh_cycle, fresh, memory_order_relaxed);
    rt_work.fresh = fresh;
    rt_gc_heap_bounds();
    GCWork *w = &rt_work.workers[0]->w, *a = &rt_conc.assist;
    w->marked = w->cpu_ns = w->idle_ns = w->nshare = w->nsteal = 0;
    w->nkept = w->ndeferred = 0;
    a->marked = a->nshare = a->nsteal = 0;
    a->nkept = a->ndeferred = 0;
    rt_work.stack_bytes = rt_work.global_bytes = 0;
    rt_work.mode = MARK_SOLO;
    rt_work.seed = true;
    rt_mark_roots(w);
    rt_work.seed = false;
    rt_work.mode = MARK_CONC;
    rt_conc.cpu_ns = 0;
    rt_conc.goal = goal;
    // The work expected: the whole live heap, or what the last minor cycle
    // marked beyond its old objects.
    rt_conc.expect = marked > 0 ? marked : 1;
    if (kind != GEN_FULL && rt_conc.work_last[kind] > 0)
        rt_conc.expect = rt_conc.work_last[kind] + rt_conc.work_last[kind] / 4;
    atomic_store_explicit(&rt_conc.assist_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&rt_conc.armed, 0, memory_order_relaxed);
    atomic_store_explicit(&rt_conc.sparse, false, memory_order_relaxed);
    rt_conc.dirty_pages = 0;
    rt_conc.all_dirty = false;
    atomic_store_explicit(&rt_conc.done, 0, memory_order_relaxed);
    atomic_store_explicit(&rt_conc.stop, 0, memory_order_relaxed);
    atomic_store_explicit(&rt_conc.wake_at, UINT64_MAX, memory_order_relaxed);
    atomic_store_explicit(&rt_conc.phase, CONC_MARK, memory_order_release);
    // The hook fires at the first assist check now (rt_gc_mark_assist), and
    // never later than the goal, where an allocation ends the mark.
    rt_assist_next_check(st->heap0);
    st->tmark = rt_nanotime();
    rt_conc.st = *st;
    rt_workers_run(JOB_CONC, 2);
    rt_gc_start_world();
}

// conc_finish's first step: stop the world, then the concurrent marker
// (worker 0, which may sleep, as may a parked assist), and flush the caches.
static void
finish_stop(GCCycleStats *st)
{
    rt_gc_data_segments_update();
    st->tmarkterm = rt_nanotime();
    rt_gc_stop_world();
    atomic_store_explicit(&rt_conc.stop, 1, memory_order_relaxed);
    rt_gc_futex_event(&rt_conc.seq, &rt_conc.nsleep); // worker 0 or a parked assist may sleep
    rt_workers_wait();
    atomic_store_explicit(&rt_conc.phase, CONC_OFF, memory_order_relaxed);
    atomic_store_explicit(&rt_gc_fresh_cycle, 0, memory_order_relaxed);
    st->nprocs = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    rt_malloc_flush_all();
    st->heap1 = atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed);
}

// Worker 0's leftovers (cw) and the written pages go to the starter's stack
// (w); then a stop-the-world mark from all the roots finishes the job. (Work
// an assist (aw) gave back is on the global list, which rt_gc_mark's workers
// take from; an assist never holds any across a stop.)
static void
finish_gather(enum GenKind kind, GCWork *w, GCWork *cw, GCWork *aw)
{
    while (cw->n > 0) {
        cw->n--;
        gcw_push(w, cw->stack[2 * cw->n], cw->stack[2 * cw->n + 1]);
    }
    rt_gc_heap_bounds();
    rt_work.mode = MARK_SOLO;
    // The fresh objects the markers kept are marked; scan them now.
    for (uintptr_t i = 0; i < cw->nkept; i++)
        rt_gc_push_kept(w, cw->kept[2 * i], cw->kept[2 * i + 1]);
    for (uintptr_t i = 0; i < aw->nkept; i++)
        rt_gc_push_kept(w, aw->kept[2 * i], aw->kept[2 * i + 1]);
    rt_work.rescan = true; // the written pages: by rt_gc_mark's workers, in parallel
    // A medium cycle whose marker was stopped before it rescanned the pages
    // written since the last full cycle: here, with the world stopped.
    if (kind == GEN_MEDIUM && !rt_conc.dsf_done)
        rt_dsf_rescan(w, false);
    // The pointers the concurrent markers left are roots now (rt_gc_mark scans
    // worker 0's table, the assist's appended, through rt_work.extra_lo/hi).
    for (uintptr_t i = 0; i < aw->ndeferred; i++)
        rt_conc_defer(cw, aw->deferred[i]);
    rt_work.extra_lo = (uintptr_t)cw->deferred;
    rt_work.extra_hi = (uintptr_t)(cw->deferred + cw->ndeferred);
}

// The runway the next concurrent mark of this kind needs: the allocation
// rate seen during this one times the marker's time for the whole live heap
// (extrapolated from its speed when it did not finish), plus a quarter.
// cmarked: what the concurrent markers marked; traced: all this cycle traced.
static uint64_t
finish_runway(const GCCycleStats *st, enum GenKind kind, uint64_t cmarked, uint64_t traced,
              uint64_t assist_ns)
{
    uint64_t need = 0;
    // Time the program spent assisting is not allocation time.
    int64_t span = st->tmarkterm - st->tmark - (int64_t)assist_ns;
    if (span > 0 && st->heap1 > st->heap0) {
        double rate = (double)(st->heap1 - st->heap0) / (double)span; // bytes per ns
        // The setup (arming, or pre-marking and the harvest) takes about
        // as long whatever is traced; the tracing is extrapolated.
        double setup = (double)rt_conc.setup_ns, t = (double)(rt_conc.cpu_ns - rt_conc.setup_ns);
        if (!rt_conc.setup_done && setup < (double)rt_conc.setup_last[kind])
            setup = (double)rt_conc.setup_last[kind];
        if (!atomic_load_explicit(&rt_conc.done, memory_order_relaxed))
            t = cmarked > 0 ? t * (double)traced / (double)cmarked : (double)span * 4;
        need = (uint64_t)(rate * (setup + t) * 1.25);
    }
    if (rt_conc.setup_done)
        rt_conc.setup_last[kind] = rt_conc.setup_ns;
    return need;
}

// GODEBUG=gctrace=2's lines for a concurrent cycle.
static void
finish_trace(enum GenKind kind, const GCWork *cw, const GCWork *aw, uint64_t wmarked,
             uint64_t traced, uint64_t assist_ns)
{
    rt_printf("gc heap: sys %llu inuse %llu released %llu MB\n",
              (unsigned long long)rt_mheap.heap_sys >> 20,
              (unsigned long long)rt_mheap.heap_inuse >> 20,
              (unsigned long long)rt_mheap.heap_released >> 20);
    rt_printf("gc concurrent: marker %llu KB in %llu us, assists %llu KB in %llu us; %llu "
              "pages armed in %zu runs, %llu written pages rescanned%s, "
              "%zu pointers deferred, %zu fresh objects kept\n",
              (unsigned long long)wmarked >> 10, (unsigned long long)rt_conc.cpu_ns / 1000,
              (unsigned long long)aw->marked >> 10, (unsigned long long)assist_ns / 1000,
              (unsigned long long)rt_conc.armed_pages, (size_t)rt_conc.nruns,
              (unsigned long long)rt_conc.dirty_pages, rt_conc.all_dirty ? " (all)" : "",
              (size_t)cw->ndeferred, (size_t)(cw->nkept + aw->nkept));
    if (kind != GEN_FULL)
        rt_printf("gc %s: %llu KB old, %llu KB traced, %llu written pages harvested\n",
                  kind == GEN_MEDIUM ? "medium" : "minor",
                  (unsigned long long)rt_conc.old_bytes >> 10, (unsigned long long)traced >> 10,
                  (unsigned long long)rt_conc.harvest_pages);
}

// The pages' arming for the next cycle (of kind next), then the markers'
// tables back to their usual size. Before a minor cycle the pages stay
// armed: their written bits are its remembered set. Only the dead spans'
// pages are disarmed. A full cycle arms every page afresh, so before one
// all are disarmed (writes until then do not fault); if a minor one comes
// instead, its harvest finds them all written.
static void
finish_disarm(enum GenKind next, GCWork *w, GCWork *cw, GCWork *aw)
{
    if (next != GEN_FULL && !rt_conc.arm_failed) {
        rt_conc.nruns = 0;
        rt_gc_foreach_span(rt_gen_list_dead, NULL);
    }
    rt_workers_run(JOB_DISARM, 2);
    if (rt_conc.arm_failed)
        rt_conc.enabled = false; // later cycles stop the world
    rt_work.extra_lo = rt_work.extra_hi = 0;
    rt_gc_table_trim(cw->kept, cw->capkept, 2);
    rt_gc_table_trim(cw->deferred, cw->capdeferred, 1);
    rt_gc_table_trim(aw->kept, aw->capkept, 2);
    rt_gc_table_trim(aw->deferred, aw->capdeferred, 1);
    rt_gc_table_trim(cw->stack, cw->cap, 2);
    rt_gc_table_trim(aw->stack, aw->cap, 2);
    rt_gc_table_trim(w->stack, w->cap, 2);
}

// STW 2 of a concurrent cycle: mark termination. Runs with rt_gc.running.
static void
conc_finish(int reason)
{
    GCCycleStats *st = &rt_conc.st;
    enum GenKind kind = rt_conc.kind;
    if (reason == GC_REASON_FORCED)
        st->forced = true;
    finish_stop(st);
    GCWork *cw = &rt_work.workers[0]->w, *aw = &rt_conc.assist, *w = &rt_work.self;
    uint64_t wmarked = cw->marked, cmarked = wmarked + aw->marked;
    finish_gather(kind, w, cw, aw);
    uint64_t assist_ns = atomic_load_explicit(&rt_conc.assist_ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&rt_conc.assist_total, aw->marked, memory_order_relaxed);
    st->mark_cpu_ns = rt_conc.cpu_ns;
    st->assist_cpu_ns = assist_ns;
    uint64_t cpu;
    uint64_t traced = cmarked + rt_gc_mark(mark_procs(st->heap1, st->nprocs), &cpu);
    uint64_t marked = rt_conc.old_bytes + traced;
    rt_work.rescan = false;
    uint64_t need = finish_runway(st, kind, cmarked, traced, assist_ns);
    // Each kind of cycle needs its own runway: the next trigger is set for
    // the kind the next cycle will be.
    rt_conc.need[kind] = need;
    rt_conc.work_last[kind] = traced;
    rt_gen_cycle_done(kind, traced, marked);
    enum GenKind next = rt_gen_next_kind(marked);
    if (rt_conc.need[next] > 0)
        need = rt_conc.need[next];
    if (rt_debug.gctrace > 1)
        finish_trace(kind, cw, aw, wmarked, traced, assist_ns);
    finish_disarm(next, w, cw, aw);
    cycle_end(st, marked, st->tmark - st->tstart, rt_conc.cpu_ns + assist_ns, need);
}

static void
gc_cycle(int reason)
{
    // work holds the heap's bounds, conc the cycle's heap sizes.
    rt_gc_noscan_static(&rt_work, sizeof rt_work);
    rt_gc_noscan_static(&rt_conc, sizeof rt_conc);
    rt_gc_noscan_static(&rt_large, sizeof rt_large);
    rt_gc_data_segments_update();
    GCCycleStats st = {0};
    st.forced = reason == GC_REASON_FORCED;
    st.tstart = rt_nanotime();
    rt_gc_valgrind = rt_valgrind_running();
    // Threads are made now, not with the world stopped (rt_workers_ensure);
    // GOMAXPROCS may still grow before the stop, and then the mark uses
    // fewer workers than Ps this once.
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    rt_workers_ensure(np < 1 ? 0 : np > MAX_WORKERS ? MAX_WORKERS - 1 : (uint32_t)np - 1);
    rt_conc_decide();
    rt_gc_stop_world();
    atomic_store_explicit(&rt_large.state, CORE_UNKNOWN, memory_order_relaxed);
    np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    st.nprocs = np;
    rt_workers_wait(); // the last cycle's disarming

    // 1. Sweep termination.
    while (rt_gc_sweep_one()) {
    }
    rt_malloc_flush_all();
    st.heap0 = atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed);
    if (reason != GC_REASON_FORCED && rt_conc_usable() &&
        (atomic_load_explicit(&rt_gc.heap_marked, memory_order_relaxed) >= CONC_MIN_LIVE ||
         st.heap0 >= CONC_MIN_HEAP)) {
        conc_begin(&st);
        return; // marking goes on while goroutines run
    }
    st.tmark = rt_nanotime();
    if (rt_conc.gen)
        rt_dsf_clear(); // a full cycle: full_bits is what it marks

    // 2. Mark, with the world stopped.
    uint64_t marked = rt_gc_mark(mark_procs(st.heap0, np), &st.mark_cpu_ns);
    st.tmarkterm = rt_nanotime();

    // 3. Mark termination.
    st.heap1 = atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed);
    rt_gen_full_done(marked);
    rt_conc.kind = GEN_FULL;
    rt_gc.last_full = true;
    atomic_store_explicit(&rt_gc.full_live, 0, memory_order_relaxed);
    cycle_end(&st, marked, st.tmarkterm - st.tstart, 0, 0);
}

static RT_NOINLINE bool gc_start(int reason);

bool
rt_gc_start(int reason)
{
    // The collecting goroutine's stack is a root from gc_start's frame up
    // (rt_work.self_sp): that frame must not hold words of older, deeper
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
        rt_work.self_sp = sp;
        if (rt_gc_marking()) {
            // A concurrent mark runs: end it when its marker is done, when
            // the heap reached the goal, or when asked to.
            bool finish = reason != GC_REASON_HEAP ||
                          atomic_load_explicit(&rt_conc.done, memory_order_acquire) ||
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
