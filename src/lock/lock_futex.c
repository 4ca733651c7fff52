// lock_futex.c: the runtime's Lock and Note on futexes.
//
// Lock: key 0 unlocked, 1 locked, 2 locked and someone may sleep. Lock spins
// briefly (active spinning with PAUSE, then a few sched_yields) before
// sleeping in the kernel; unlock wakes one sleeper only if key was 2. Holding
// a Lock raises m->locks so the M is not preempted asynchronously while it
// holds it (the lock would stay held while another goroutine ran there).
//
// Note: key 0 clear, 1 woken. One thread sleeps, one wakes; the OS contract
// (os.h) lets futexsleep return spuriously, so sleepers loop.
#include "rt.h"

enum { ACTIVE_SPIN = 4, ACTIVE_SPIN_CNT = 30, PASSIVE_SPIN = 1 };

static inline void
locks_inc(void)
{
    M *m = rt_m();
    if (m)
        m->locks++;
}

static inline void
locks_dec(void)
{
    M *m = rt_m();
    if (m)
        m->locks--;
}

bool
rt_trylock(Lock *l)
{
    uint32_t z = 0;
    locks_inc();
    if (atomic_compare_exchange_strong_explicit(&l->key, &z, 1, memory_order_acquire,
                                                memory_order_relaxed))
        return true;
    locks_dec();
    return false;
}

void
rt_lock(Lock *l)
{
    locks_inc();
    uint32_t v = atomic_exchange_explicit(&l->key, 1, memory_order_acquire);
    if (rt_likely(v == 0))
        return;
    // v is 1 or 2. Whatever we set, we must restore 2 if there were sleepers.
    uint32_t wait = v;
    int spin = rt_ncpu > 1 ? ACTIVE_SPIN : 0;
    for (;;) {
        for (int i = 0; i < spin; i++) {
            while (atomic_load_explicit(&l->key, memory_order_relaxed) == 0) {
                uint32_t z = 0;
                if (atomic_compare_exchange_weak_explicit(&l->key, &z, wait, memory_order_acquire,
                                                          memory_order_relaxed))
                    return;
            }
            for (int j = 0; j < ACTIVE_SPIN_CNT; j++)
                rt_arch_pause();
        }
        for (int i = 0; i < PASSIVE_SPIN; i++) {
            while (atomic_load_explicit(&l->key, memory_order_relaxed) == 0) {
                uint32_t z = 0;
                if (atomic_compare_exchange_weak_explicit(&l->key, &z, wait, memory_order_acquire,
                                                          memory_order_relaxed))
                    return;
            }
            rt_os_osyield();
        }
        v = atomic_exchange_explicit(&l->key, 2, memory_order_acquire);
        if (v == 0)
            return;
        wait = 2;
        rt_os_futexsleep(&l->key, 2, -1);
    }
}

void
rt_unlock(Lock *l)
{
    uint32_t v = atomic_exchange_explicit(&l->key, 0, memory_order_release);
    if (rt_unlikely(v == 0))
        rt_throw("unlock of unlocked lock");
    if (v == 2)
        rt_os_futexwake(&l->key, 1);
    M *m = rt_m();
    if (m) {
        if (--m->locks == 0 && rt_unlikely(m->gc_pending))
            rt_gc_suspend_self();
    }
}

void
rt_note_clear(Note *n)
{
    atomic_store_explicit(&n->key, 0, memory_order_relaxed);
}

void
rt_note_wakeup(Note *n)
{
    uint32_t old = atomic_exchange_explicit(&n->key, 1, memory_order_release);
    if (old != 0)
        rt_throw("notewakeup - double wakeup");
    rt_os_futexwake(&n->key, 1);
}

void
rt_note_sleep(Note *n)
{
    while (atomic_load_explicit(&n->key, memory_order_acquire) == 0)
        rt_os_futexsleep(&n->key, 0, -1);
}

bool
rt_note_tsleep(Note *n, int64_t ns)
{
    if (ns < 0) {
        rt_note_sleep(n);
        return true;
    }
    int64_t deadline = rt_nanotime() + ns;
    while (atomic_load_explicit(&n->key, memory_order_acquire) == 0) {
        int64_t left = deadline - rt_nanotime();
        if (left <= 0)
            return atomic_load_explicit(&n->key, memory_order_acquire) != 0;
        rt_os_futexsleep(&n->key, 0, left);
    }
    return true;
}
