// rwmutex.c: gort_rwmutex, Go's sync.RWMutex (sync/rwmutex.go; sema.h has the overview).
//
// reader_count counts readers holding or wanting the lock. A writer first
// takes w (excluding other writers), then subtracts RWMUTEX_MAX_READERS: a
// negative count tells arriving readers that a writer is pending, so they
// park on reader_sem and the writer is not starved. The writer moves the
// number of readers still inside into reader_wait; each of them decrements
// it on RUnlock and the last one wakes the writer on writer_sem. Unlock adds
// RWMUTEX_MAX_READERS back and releases reader_sem once per reader that
// queued meanwhile, then unlocks w.
//
// Invariants: -RWMUTEX_MAX_READERS <= reader_count < RWMUTEX_MAX_READERS;
// reader_count < 0 iff a writer holds or waits for the lock.
// Locking: the counters change only atomically; w orders the writers.
#include "sync/sema.h"

#define RWMUTEX_MAX_READERS (1 << 30)

static inline _Atomic int32_t *
atomic_i32(int32_t *p)
{
    return (_Atomic int32_t *)(void *)p;
}

void
gort_rwmutex_rlock(gort_rwmutex *rw)
{
    rt_preempt_point();
    if (atomic_fetch_add(atomic_i32(&rw->reader_count_), 1) + 1 < 0) {
        // A writer is pending: wait for it.
        rt_semacquire(&rw->reader_sem_, false, WAIT_SYNC_RWMUTEX_RLOCK);
    }
}

RT_NOINLINE static void
rwmutex_runlock_slow(gort_rwmutex *rw, int32_t r)
{
    if (rt_unlikely(r + 1 == 0 || r + 1 == -RWMUTEX_MAX_READERS))
        rt_fatal("sync: RUnlock of unlocked RWMutex");
    // A writer is pending; the last reader out wakes it.
    if (atomic_fetch_sub(atomic_i32(&rw->reader_wait_), 1) - 1 == 0)
        rt_semrelease(&rw->writer_sem_, false);
}

void
gort_rwmutex_runlock(gort_rwmutex *rw)
{
    int32_t r = atomic_fetch_sub(atomic_i32(&rw->reader_count_), 1) - 1;
    if (rt_unlikely(r < 0))
        rwmutex_runlock_slow(rw, r);
}

void
gort_rwmutex_lock(gort_rwmutex *rw)
{
    rt_preempt_point();
    // First, win against the other writers.
    gort_mutex_lock(&rw->w_);
    // Announce the pending writer to readers.
    int32_t r = atomic_fetch_sub(atomic_i32(&rw->reader_count_), RWMUTEX_MAX_READERS);
    // Wait for the active readers.
    if (r != 0 && atomic_fetch_add(atomic_i32(&rw->reader_wait_), r) + r != 0)
        rt_semacquire(&rw->writer_sem_, false, WAIT_SYNC_RWMUTEX_LOCK);
}

void
gort_rwmutex_unlock(gort_rwmutex *rw)
{
    // Announce that no writer is active.
    int32_t r = atomic_fetch_add(atomic_i32(&rw->reader_count_), RWMUTEX_MAX_READERS) +
                RWMUTEX_MAX_READERS;
    if (rt_unlikely(r >= RWMUTEX_MAX_READERS))
        rt_fatal("sync: Unlock of unlocked RWMutex");
    // Unblock the readers that queued behind us.
    for (int32_t i = 0; i < r; i++)
        rt_semrelease(&rw->reader_sem_, false);
    // Let the other writers proceed.
    gort_mutex_unlock(&rw->w_);
}
