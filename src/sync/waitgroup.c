// waitgroup.c: gort_waitgroup, Go's sync.WaitGroup (sync/waitgroup.go; sema.h has the overview).
//
// state = counter << 32 | waiters, updated in one 64-bit atomic; sema holds
// the wake-up tokens. Wait adds itself to waiters only while counter > 0;
// the Add that brings counter to 0 with waiters > 0 resets state to 0 and
// releases sema once per waiter. From that Add until the waiters return,
// state must stay 0: Add with a positive delta racing a Wait that saw
// counter 0, or a reuse before Wait has returned, is misuse and panics, as
// in Go.
#include "sync/sema.h"

_Static_assert(sizeof(uint64_t) == sizeof(_Atomic uint64_t), "atomic uint64_t");

static inline _Atomic uint64_t *
wg_state(gort_waitgroup *wg)
{
    return (_Atomic uint64_t *)(void *)&wg->state_;
}

void
gort_waitgroup_add(gort_waitgroup *wg, int delta)
{
    _Atomic uint64_t *st = wg_state(wg);
    uint64_t state =
            atomic_fetch_add(st, (uint64_t)(int64_t)delta << 32) + ((uint64_t)(int64_t)delta << 32);
    int32_t v = (int32_t)(state >> 32);
    uint32_t w = (uint32_t)state;
    if (rt_unlikely(v < 0))
        rt_panic("sync: negative WaitGroup counter");
    if (rt_unlikely(w != 0 && delta > 0 && v == (int32_t)delta))
        rt_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
    if (v > 0 || w == 0)
        return;
    // counter is 0 with waiters: nobody may change state until they are
    // released (Adds must not race Wait; Wait does not count itself when it
    // sees counter 0). A cheap misuse check:
    if (rt_unlikely(atomic_load(st) != state))
        rt_panic("sync: WaitGroup misuse: Add called concurrently with Wait");
    atomic_store(st, 0);
    for (; w != 0; w--)
        rt_semrelease(&wg->sema_, false);
}

void
gort_waitgroup_done(gort_waitgroup *wg)
{
    gort_waitgroup_add(wg, -1);
}

void
gort_waitgroup_wait(gort_waitgroup *wg)
{
    rt_preempt_point();
    _Atomic uint64_t *st = wg_state(wg);
    uint64_t state = atomic_load(st);
    for (;;) {
        if ((int32_t)(state >> 32) == 0)
            return;
        // Count ourselves as a waiter.
        if (atomic_compare_exchange_weak(st, &state, state + 1)) {
            rt_semacquire(&wg->sema_, false, WAIT_SYNC_WAITGROUP);
            if (rt_unlikely(atomic_load(st) != 0))
                rt_panic("sync: WaitGroup is reused before previous Wait has returned");
            return;
        }
    }
}
