// assist.c: mark assists.
//
// As Go's gcAssistAlloc: while a concurrent mark runs, a goroutine that
// allocates faster than the markers progress marks too, so the mark ends
// near the goal without stopping the world for it, and what the program
// allocates during the mark (which survives it: floating garbage) stays
// within the runway. Pacing: when the markers have done `done` of the
// `expect` bytes of work (the last cycle's marked heap), the heap may have
// grown that fraction of the way from its size at STW 1 (rt_conc.st.heap0) to
// the goal. The allocator's hook (rt_gc_trigger) fires at the next check;
// an allocation past the allowance marks until the allowance covers the
// heap plus ASSIST_SLACK, at most ASSIST_MAX bytes a call.
//
// One goroutine assists at a time (rt_conc.assist_busy): it marks with
// m->locks raised (the world cannot stop in the middle; it stops early when
// a stop is pending), takes work from the global list, which worker 0
// feeds while rt_conc.hungry is set (and it feeds worker 0 likewise), and
// gives back what it did not
// finish before it clears assist_busy. Worker 0 is done only when the list
// is empty and no assist runs (rt_conc_drain). Nothing is assisted before
// worker 0 has armed the pages (rt_conc.armed): no heap object may be read
// before.
#include "core/debugvars.h"
#include "gc/mark.h"

#include <string.h>

#define ASSIST_SLACK ((uint64_t)256 << 10) // allocation between two checks
#define ASSIST_MAX   ((uint64_t)1 << 20)   // marking per call (about a millisecond)

// Sets the allocator's hook to fire when heap_live reaches at (at most the
// goal, where the mark is ended).
void
rt_assist_next_check(uint64_t at)
{
    if (at > rt_conc.goal)
        at = rt_conc.goal;
    atomic_store_explicit(&rt_gc_trigger, at, memory_order_relaxed);
    if (atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed) >= at)
        atomic_store_explicit(&rt_gc_malloc_hook, 1, memory_order_relaxed);
}

// Bytes the concurrent markers have marked (racy reads of counters their
// owners update: an estimate for pacing).
static uint64_t
assist_done(void)
{
    return __atomic_load_n(&rt_work.workers[0]->w.marked, __ATOMIC_RELAXED) +
           __atomic_load_n(&rt_conc.assist.marked, __ATOMIC_RELAXED);
}

// The heap the program may have reached when the markers did `done`.
static uint64_t
assist_allowed(uint64_t done)
{
    if (done >= rt_conc.expect || rt_conc.goal <= rt_conc.st.heap0)
        return rt_conc.goal;
    return rt_conc.st.heap0 + (uint64_t)((double)(rt_conc.goal - rt_conc.st.heap0) * (double)done /
                                         (double)rt_conc.expect);
}

// The work after which the allowance reaches heap.
static uint64_t
assist_work_for(uint64_t heap)
{
    if (heap <= rt_conc.st.heap0)
        return 0;
    if (heap >= rt_conc.goal)
        return rt_conc.expect;
    return (uint64_t)((double)rt_conc.expect * (double)(heap - rt_conc.st.heap0) /
                      (double)(rt_conc.goal - rt_conc.st.heap0));
}

// Takes work for the assist: from the global list, else waits a few PAUSEs
// for worker 0 to share some (it may be off its core: the caller parks
// then, assist_park). False if none came.
static bool
assist_get_work(GCWork *w)
{
    if (rt_gcw_steal(w))
        return true;
    bool got = false;
    atomic_fetch_add_explicit(&rt_conc.hungry, 1, memory_order_relaxed);
    int spins = rt_ncpu > 1 ? WAIT_ACTIVE * WAIT_PAUSES : 0;
    for (int i = 0; i < spins; i++) {
        if (atomic_load_explicit(&rt_work.nfull, memory_order_acquire) != 0 && rt_gcw_steal(w)) {
            got = true;
            break;
        }
        if (atomic_load_explicit(&rt_conc.done, memory_order_relaxed) ||
            atomic_load_explicit(&rt_conc.stop, memory_order_relaxed) ||
            atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed))
            break;
        rt_arch_pause();
    }
    atomic_fetch_sub_explicit(&rt_conc.hungry, 1, memory_order_relaxed);
    return got;
}

// Moves all of w's stack to the global list.
static void
gcw_give_back(GCWork *w)
{
    while (w->n > 0) {
        WorkBuf *b = rt_wb_get_empty();
        uintptr_t k = w->n < WB_ENTRIES ? w->n : WB_ENTRIES;
        w->n -= k;
        memcpy(b->e, w->stack + 2 * w->n, k * 2 * sizeof(uintptr_t));
        b->n = k;
        rt_wb_put_full(b);
    }
}

// Wakes the parked assists; each re-checks what it waits for.
RT_NOINLINE void
rt_assist_wake(void)
{
    atomic_store_explicit(&rt_conc.wake_at, UINT64_MAX, memory_order_relaxed);
    rt_gc_futex_event(&rt_conc.seq, &rt_conc.nsleep);
}

// A parked assist's condition: the markers did *arg bytes of work in all
// (then the program may allocate again), work was shared, or the mark is
// over. Else it (re)publishes in rt_conc.wake_at when worker 0 must wake it.
static bool
assist_may_go(void *arg)
{
    uint64_t target = *(const uint64_t *)arg;
    if (!rt_gc_marking() || atomic_load_explicit(&rt_conc.done, memory_order_relaxed) ||
        atomic_load_explicit(&rt_conc.stop, memory_order_relaxed) ||
        atomic_load_explicit(&rt_work.nfull, memory_order_relaxed) != 0)
        return true;
    uint64_t a = __atomic_load_n(&rt_conc.assist.marked, __ATOMIC_RELAXED);
    uint64_t w0 = __atomic_load_n(&rt_work.workers[0]->w.marked, __ATOMIC_RELAXED);
    if (w0 + a >= target)
        return true;
    uint64_t at = target - a, cur = atomic_load_explicit(&rt_conc.wake_at, memory_order_relaxed);
    while (at < cur &&
           !atomic_compare_exchange_weak_explicit(&rt_conc.wake_at, &cur, at, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
    return false;
}

// Go's assist queue, for a goroutine in debt that found no work to take:
// its thread sleeps (spin, yield, futex: see "Waiting") until worker 0
// has marked enough to cover the debt, shares work (rt_conc.hungry asks it
// to at its next object), or the mark ends,
// rather than spin while worker 0 is off its core. m->locks is 0 here, so
// a stop of the world suspends it as any running goroutine. (The goroutine
// keeps its P meanwhile; the other Ps may steal its run queue.)
static void
assist_park(uint64_t target)
{
    int64_t t0 = rt_nanotime();
    atomic_fetch_add_explicit(&rt_conc.nparked, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rt_conc.hungry, 1, memory_order_relaxed); // worker 0 shares: we wake
    rt_gc_wait_until(assist_may_go, &target, &rt_conc.seq, &rt_conc.nsleep);
    atomic_fetch_sub_explicit(&rt_conc.hungry, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rt_conc.assist_wait_ns, (uint64_t)(rt_nanotime() - t0),
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
        rt_assist_next_check(rt_conc.goal); // GODEBUG=gcassist=0: the goal ends the mark
    } else if (!atomic_load_explicit(&rt_conc.armed, memory_order_acquire) ||
               atomic_load_explicit(&rt_conc.done, memory_order_acquire)) {
        rt_assist_next_check(live + ASSIST_SLACK); // not yet, or not needed
    } else if (live < assist_allowed(assist_done())) {
        rt_assist_next_check(assist_allowed(assist_done()));
    } else if (atomic_exchange_explicit(&rt_conc.assist_busy, 1, memory_order_acq_rel)) {
        rt_assist_next_check(live + ASSIST_SLACK); // another goroutine assists
    } else {
        int64_t t0 = rt_nanotime();
        GCWork *w = &rt_conc.assist;
        uint64_t done = assist_done(), to = assist_work_for(live + ASSIST_SLACK);
        uint64_t want = to > done ? to - done : ASSIST_SLACK;
        uint64_t limit = w->marked + (want < ASSIST_MAX ? want : ASSIST_MAX);
        bool starved = false;
        while (w->marked < limit) {
            if (w->n == 0 && !assist_get_work(w)) {
                starved = true;
                break;
            }
            if (!rt_gc_drain_conc(w, limit))
                break; // the limit, or a stop
        }
        gcw_give_back(w);
        atomic_fetch_add_explicit(&rt_conc.assist_ns, (uint64_t)(rt_nanotime() - t0),
                                  memory_order_relaxed);
        atomic_store_explicit(&rt_conc.assist_busy, 0, memory_order_release);
        rt_gc_futex_event(&rt_conc.seq, &rt_conc.nsleep); // worker 0 may wait for this
        rt_assist_next_check(assist_allowed(assist_done()) + ASSIST_SLACK);
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
