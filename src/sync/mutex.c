// mutex.c: gort_mutex, Go's sync.Mutex (sync/mutex.go; sema.h has the overview).
//
// state = locked 1 | woken 2 | starving 4 | waiters << 3; sema counts
// wake-up tokens for the waiters parked in the semaphore table.
//
// Normal mode: waiters queue FIFO, but a woken waiter does not own the mutex;
// it competes with newly arriving goroutines, which usually win (they are
// already on a CPU). A waiter that loses goes back to the front of the queue
// (LIFO acquire). Newcomers may spin a little (rt_sync_canspin) and set
// `woken` so that Unlock does not wake a second waiter for nothing.
//
// Starvation mode: a waiter that waited more than 1 ms sets `starving`. Unlock
// then hands the mutex to the first waiter (semaphore handoff) without setting
// `locked`; newcomers neither take it nor spin but queue at the tail. The
// waiter that receives the mutex sets `locked` and leaves starvation mode if
// it is the last waiter or waited less than 1 ms.
//
// Invariants: `starving` implies waiters > 0 or a handoff in flight; `woken`
// is set by at most one goroutine, which clears it on its next CAS.
// Locking: the state word is only changed by atomic operations.
#include "sync/sema.h"

enum {
    MUTEX_LOCKED = 1,
    MUTEX_WOKEN = 2,
    MUTEX_STARVING = 4,
    MUTEX_WAITER_SHIFT = 3,
    MUTEX_WAITER = 1 << MUTEX_WAITER_SHIFT,
};

#define STARVATION_THRESHOLD_NS 1000000 // 1 ms

static inline _Atomic int32_t *
mutex_state(gort_mutex *m)
{
    return (_Atomic int32_t *)(void *)&m->state_;
}

// User goroutine; may spin and park.
RT_NOINLINE static void
mutex_lock_slow(gort_mutex *m)
{
    _Atomic int32_t *st = mutex_state(m);
    int64_t wait_start = 0;
    bool starving = false;
    bool awoke = false;
    int iter = 0;
    int32_t old = atomic_load_explicit(st, memory_order_relaxed);
    for (;;) {
        // Spin only in normal mode while it is locked: in starvation mode
        // ownership goes to the waiters anyway.
        if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) == MUTEX_LOCKED && rt_sync_canspin(iter)) {
            // Set woken so that Unlock does not wake other waiters.
            if (!awoke && (old & MUTEX_WOKEN) == 0 && (old >> MUTEX_WAITER_SHIFT) != 0 &&
                atomic_compare_exchange_strong(st, &old, old | MUTEX_WOKEN))
                awoke = true;
            rt_sync_dospin();
            iter++;
            old = atomic_load_explicit(st, memory_order_relaxed);
            continue;
        }
        int32_t nstate = old;
        // A starving mutex is not taken by newcomers: they queue.
        if ((old & MUTEX_STARVING) == 0)
            nstate |= MUTEX_LOCKED;
        if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) != 0)
            nstate += MUTEX_WAITER;
        // Switch to starvation mode, unless it was just unlocked: Unlock
        // expects a starving mutex to have waiters.
        if (starving && (old & MUTEX_LOCKED) != 0)
            nstate |= MUTEX_STARVING;
        if (awoke) {
            if (rt_unlikely((nstate & MUTEX_WOKEN) == 0))
                rt_throw("sync: inconsistent mutex state");
            nstate &= ~MUTEX_WOKEN;
        }
        if (!atomic_compare_exchange_weak(st, &old, nstate))
            continue; // old holds the fresh state
        if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) == 0)
            return; // locked it with the CAS

        // Queue; at the front if we waited before.
        bool lifo = wait_start != 0;
        if (wait_start == 0)
            wait_start = rt_nanotime();
        rt_semacquire(&m->sema_, lifo, WAIT_SYNC_MUTEX);
        starving = starving || rt_nanotime() - wait_start > STARVATION_THRESHOLD_NS;
        old = atomic_load(st);
        if ((old & MUTEX_STARVING) != 0) {
            // Handed off to us: locked is clear and we still count as a
            // waiter. Fix both.
            if (rt_unlikely((old & (MUTEX_LOCKED | MUTEX_WOKEN)) != 0 ||
                            (old >> MUTEX_WAITER_SHIFT) == 0))
                rt_throw("sync: inconsistent mutex state");
            int32_t delta = MUTEX_LOCKED - MUTEX_WAITER;
            // Leave starvation mode here, weighing our wait time: two
            // goroutines could otherwise hand off to each other forever.
            if (!starving || (old >> MUTEX_WAITER_SHIFT) == 1)
                delta -= MUTEX_STARVING;
            atomic_fetch_add(st, delta);
            return;
        }
        awoke = true;
        iter = 0;
    }
}

void
gort_mutex_lock(gort_mutex *m)
{
    rt_preempt_point();
    int32_t unlocked = 0;
    if (rt_likely(atomic_compare_exchange_strong_explicit(mutex_state(m), &unlocked, MUTEX_LOCKED,
                                                          memory_order_acquire,
                                                          memory_order_relaxed)))
        return;
    mutex_lock_slow(m);
}

bool
gort_mutex_trylock(gort_mutex *m)
{
    _Atomic int32_t *st = mutex_state(m);
    int32_t old = atomic_load_explicit(st, memory_order_relaxed);
    if ((old & (MUTEX_LOCKED | MUTEX_STARVING)) != 0)
        return false;
    // A waiter may be about to wake, but we run now and may take it first.
    return atomic_compare_exchange_strong(st, &old, old | MUTEX_LOCKED);
}

// Any goroutine; may yield (starvation handoff), never parks.
RT_NOINLINE static void
mutex_unlock_slow(gort_mutex *m, int32_t nstate)
{
    if (rt_unlikely(((nstate + MUTEX_LOCKED) & MUTEX_LOCKED) == 0))
        rt_fatal("sync: unlock of unlocked mutex");
    if ((nstate & MUTEX_STARVING) != 0) {
        // Starvation: hand ownership to the first waiter and yield to it.
        // locked stays clear; starving keeps newcomers out meanwhile.
        rt_semrelease(&m->sema_, true);
        return;
    }
    _Atomic int32_t *st = mutex_state(m);
    int32_t old = nstate;
    for (;;) {
        // No waiters, or someone is already woken or holds it, or it turned
        // starving after our unlock (then a later unlocker hands off).
        if ((old >> MUTEX_WAITER_SHIFT) == 0 ||
            (old & (MUTEX_LOCKED | MUTEX_WOKEN | MUTEX_STARVING)) != 0)
            return;
        // Take the right to wake one.
        nstate = (old - MUTEX_WAITER) | MUTEX_WOKEN;
        if (atomic_compare_exchange_weak(st, &old, nstate)) {
            rt_semrelease(&m->sema_, false);
            return;
        }
    }
}

void
gort_mutex_unlock(gort_mutex *m)
{
    int32_t nstate = atomic_fetch_sub_explicit(mutex_state(m), MUTEX_LOCKED, memory_order_release) -
                     MUTEX_LOCKED;
    if (rt_unlikely(nstate != 0))
        mutex_unlock_slow(m, nstate);
}
