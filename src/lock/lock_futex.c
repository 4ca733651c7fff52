// lock_futex.c: the runtime's Lock and Note on futexes.
//
// Lock: key 0 unlocked, 1 locked, 2 locked and someone may sleep. Lock spins
// briefly (active spinning with PAUSE, then a few sched_yields) before
// sleeping in the kernel; unlock wakes one sleeper only if key was 2. Holding
// a Lock raises m->locks so the M is not preempted asynchronously while it
// holds it (the lock would stay held while another goroutine ran there).
//
// Debug builds (GORT_DEBUG >= 2) keep the Locks each thread holds in a
// thread-local list, so that rt_assert_held can check a function's lock
// requirement and rt_unlock that the thread releases a Lock it holds
// (threads without an M, the mark workers, take Locks too).
//
// Note: key 0 clear, 1 woken. One thread sleeps, one wakes; the OS contract
// (os.h) lets futexsleep return spuriously, so sleepers loop.
#include "rt.h"
#if GORT_TESTING
#include "export_test.h"
#endif

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

#if GORT_DEBUG >= 2
// The Locks the calling thread holds, innermost last (Lock's size is fixed:
// gort_cond mirrors one, so the owner is kept here, not in the Lock). A
// select holds one Lock per channel, any number: past HELD_MAX the thread
// only counts them, and then cannot tell which ones it holds.
enum { HELD_MAX = 32 };
static __thread Lock *held[HELD_MAX];
static __thread int nheld, nuntracked;

static void
held_push(Lock *l)
{
    if (nheld == HELD_MAX)
        nuntracked++;
    else
        held[nheld++] = l;
}

static void
held_pop(Lock *l)
{
    for (int i = nheld - 1; i >= 0; i--) {
        if (held[i] == l) {
            for (; i + 1 < nheld; i++)
                held[i] = held[i + 1];
            nheld--;
            return;
        }
    }
    if (nuntracked > 0) {
        nuntracked--;
        return;
    }
    rt_throw("assertion failed: unlock of a Lock this thread does not hold");
}

void
rt_assert_held(Lock *l)
{
    for (int i = nheld - 1; i >= 0; i--)
        if (held[i] == l)
            return;
    if (nuntracked > 0)
        return; // among the untracked ones, perhaps
    if (atomic_load_explicit(&l->key, memory_order_relaxed) == 0)
        rt_throw("assertion failed: lock held (it is free)");
    rt_throw("assertion failed: lock held (by another thread)");
}
#define OWNER_SET(l)   held_push(l)
#define OWNER_CLEAR(l) held_pop(l)
#else
#define OWNER_SET(l)   ((void)(l))
#define OWNER_CLEAR(l) ((void)(l))
#endif

bool
rt_trylock(Lock *l)
{
    uint32_t z = 0;
    locks_inc();
    if (atomic_compare_exchange_strong_explicit(&l->key, &z, 1, memory_order_acquire,
                                                memory_order_relaxed)) {
        OWNER_SET(l);
        return true;
    }
    locks_dec();
    return false;
}

static inline __attribute__((always_inline)) void
lock_acquire(Lock *l)
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
rt_lock(Lock *l)
{
    lock_acquire(l);
    OWNER_SET(l);
}

void
rt_unlock(Lock *l)
{
    OWNER_CLEAR(l);
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

#if GORT_TESTING
// export_test.h.
int
rt_test_debug_level(void)
{
    return GORT_DEBUG;
}

void
rt_test_assert_held(bool unheld)
{
    static Lock l;
    rt_lock(&l);
    rt_assert_held(&l);
    rt_unlock(&l);
    if (unheld)
        rt_assert_held(&l);
}
#endif
