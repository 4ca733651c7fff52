// runq.c: the run queues, local (one per P) and global.
//
// Each P owns a lock-free ring of RUNQ_SIZE (256) runnable Gs plus a
// runnext slot (Go's runq and runnext). rt_runqput with next set puts the G
// in runnext, and whatever was there goes to the ring's tail: a G readied
// by the running G runs next, inheriting the time slice (so ping-pong pairs
// stay on one P). runqget takes runnext first, then the ring's head. A
// full ring moves half of itself, plus the G being put, to the global queue
// (runqputslow). A thief (rt_runqsteal) grabs half of a victim's ring into
// its own; on its last pass it takes the victim's runnext when the ring is
// empty (after a 3 us grace if the victim runs: it is likely to run it).
//
// The global queue is a FIFO of Gs linked through schedlink, under
// sched.lock: overflow, yielded Gs, Gs readied where there is no P.
// rt_globrunqget takes a fair share of it (size / GOMAXPROCS + 1, no more
// than max nor half a ring), returns the first and puts the rest on the
// caller's ring. schedule() looks at it first every 61st tick, so it cannot
// starve.
//
// Invariants of a ring: 0 <= runqtail - runqhead <= RUNQ_SIZE (the indices
// run freely and wrap; a slot is runq[i % RUNQ_SIZE]); the slots in
// [runqhead, runqtail) hold the queued Gs in order; runnext is a G that is
// in no slot. Only the owner writes runqtail and the slots past it; anyone
// advances runqhead, with a CAS, after having read the slots it takes.
// Every G put on a queue is G_RUNNABLE.
//
// Three of the operations are static inline in sched.h, not here: runqget
// and globrunqput, for the scheduler loop and the yield path (a call to
// runqget in another file, which gets the address of schedule's local
// `inherit`, would keep schedule's last call from compiling to a jump:
// see proc.c), and runqempty, which several files use.
//
// Locks: a ring is lock-free: the owner (the M holding the P) puts, anyone
// takes. The owner publishes a slot with a release store of runqtail; a
// taker reads head and tail with acquire loads, then the slots, then
// releases them by its CAS of runqhead. runnext changes only by exchange
// or CAS. The global queue's head and tail are guarded by sched.lock;
// sched.runqsize is written under it and read without it (a stale size
// only costs a look).
#include "sched/sched.h"
#if GORT_TESTING
#include "export_test.h"
#endif

// ---- Local run queue (lock-free; owner puts, anyone takes) ------------------

// Moves half of the full local queue plus gp to the global queue.
static bool
runqputslow(P *pp, G *gp, uint32_t head, uint32_t tail)
{
    G *batch[RUNQ_SIZE / 2 + 1];
    uint32_t n = (tail - head) / 2;
    if (n != RUNQ_SIZE / 2)
        rt_throw("runqputslow: queue is not full");
    for (uint32_t i = 0; i < n; i++)
        batch[i] = atomic_load_explicit(&pp->runq[(head + i) % RUNQ_SIZE], memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&pp->runqhead, &head, head + n,
                                                 memory_order_release, memory_order_relaxed))
        return false;
    batch[n] = gp;
    for (uint32_t i = 0; i < n; i++)
        batch[i]->schedlink = batch[i + 1];
    batch[n]->schedlink = NULL;
    rt_lock(&rt_sched.lock);
    if (rt_sched.runq_tail)
        rt_sched.runq_tail->schedlink = batch[0];
    else
        rt_sched.runq_head = batch[0];
    rt_sched.runq_tail = batch[n];
    atomic_fetch_add_explicit(&rt_sched.runqsize, (int32_t)n + 1, memory_order_relaxed);
    rt_unlock(&rt_sched.lock);
    return true;
}

void
rt_runqput(P *pp, G *gp, bool next)
{
    san_release_g(gp);
    if (next) {
        G *old = atomic_exchange_explicit(&pp->runnext, gp, memory_order_acq_rel);
        if (old == NULL)
            return;
        gp = old;
    }
    for (;;) {
        uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
        RT_ASSERT_INVARIANT(t - h <= RUNQ_SIZE);
        if (t - h < RUNQ_SIZE) {
            atomic_store_explicit(&pp->runq[t % RUNQ_SIZE], gp, memory_order_relaxed);
            atomic_store_explicit(&pp->runqtail, t + 1, memory_order_release);
            return;
        }
        if (runqputslow(pp, gp, h, t))
            return;
    }
}

// Grabs half of pp's queue into batch[bhead...]; returns how many.
static uint32_t
runqgrab(P *pp, _Atomic(G *) *batch, uint32_t bhead, bool steal_runnext)
{
    for (;;) {
        uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_acquire);
        uint32_t n = t - h;
        n = n - n / 2;
        if (n == 0) {
            if (steal_runnext) {
                G *next = atomic_load_explicit(&pp->runnext, memory_order_acquire);
                if (next) {
                    // The victim is likely to run it very soon (it is about
                    // to block or yield): give it a moment, as Go does.
                    if (atomic_load_explicit(&pp->status, memory_order_relaxed) == P_RUNNING)
                        rt_os_usleep(3);
                    if (!atomic_compare_exchange_strong_explicit(&pp->runnext, &next, NULL,
                                                                 memory_order_acq_rel,
                                                                 memory_order_relaxed))
                        continue;
                    atomic_store_explicit(&batch[bhead % RUNQ_SIZE], next, memory_order_relaxed);
                    return 1;
                }
            }
            return 0;
        }
        if (n > RUNQ_SIZE / 2)
            continue; // inconsistent read of h and t
        for (uint32_t i = 0; i < n; i++) {
            G *g = atomic_load_explicit(&pp->runq[(h + i) % RUNQ_SIZE], memory_order_relaxed);
            atomic_store_explicit(&batch[(bhead + i) % RUNQ_SIZE], g, memory_order_relaxed);
        }
        if (atomic_compare_exchange_strong_explicit(&pp->runqhead, &h, h + n, memory_order_release,
                                                    memory_order_relaxed))
            return n;
    }
}

// Steals half of p2's Gs into pp's queue; returns one of them to run.
G *
rt_runqsteal(P *pp, P *p2, bool steal_runnext)
{
    uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
    uint32_t n = runqgrab(p2, pp->runq, t, steal_runnext);
    if (n == 0)
        return NULL;
    n--;
    G *gp = atomic_load_explicit(&pp->runq[(t + n) % RUNQ_SIZE], memory_order_relaxed);
    if (n > 0)
        atomic_store_explicit(&pp->runqtail, t + n, memory_order_release);
    return gp;
}

// ---- Global run queue (sched.lock) ---------------------------------------------

G *
rt_globrunqget(P *pp, int32_t max)
{
    rt_assert_held(&rt_sched.lock);
    int32_t size = atomic_load_explicit(&rt_sched.runqsize, memory_order_relaxed);
    if (size == 0)
        return NULL;
    int32_t n = size / atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed) + 1;
    if (n > size)
        n = size;
    if (max > 0 && n > max)
        n = max;
    if (n > RUNQ_SIZE / 2)
        n = RUNQ_SIZE / 2;
    atomic_fetch_sub_explicit(&rt_sched.runqsize, n, memory_order_relaxed);
    G *gp = rt_sched.runq_head;
    rt_sched.runq_head = gp->schedlink;
    while (--n > 0) {
        G *g = rt_sched.runq_head;
        rt_sched.runq_head = g->schedlink;
        rt_runqput(pp, g, false);
    }
    if (rt_sched.runq_head == NULL)
        rt_sched.runq_tail = NULL;
    return gp;
}

#if GORT_TESTING
// export_test.h: Ps and Gs of the test's own, never scheduled; a G stands
// for its goid. Only the local ring and runnext are used (the test stays
// within RUNQ_SIZE, below which nothing reaches the global queue).
enum { TEST_NG = 2 * RUNQ_SIZE };
static G *test_gs; // TEST_NG fake Gs, mapped at the first rt_test_p_new

void *
rt_test_p_new(void)
{
    if (test_gs == NULL) {
        test_gs = rt_os_map(TEST_NG * sizeof(G));
        if (test_gs == NULL)
            rt_throw("runq test: out of memory");
        for (int i = 0; i < TEST_NG; i++)
            test_gs[i].goid = i;
    }
    P *pp = rt_os_map(sizeof(P));
    if (pp == NULL)
        rt_throw("runq test: out of memory");
    atomic_store_explicit(&pp->status, P_IDLE, memory_order_relaxed);
    return pp;
}

void
rt_test_runqput(void *p, int id, bool next)
{
    if (id < 0 || id >= TEST_NG)
        rt_throw("runq test: bad id");
    rt_runqput(p, &test_gs[id], next);
}

int
rt_test_runqget(void *p)
{
    bool inherit;
    G *gp = runqget(p, &inherit);
    return gp ? (int)gp->goid : -1;
}

int
rt_test_runqsteal(void *to, void *from)
{
    G *gp = rt_runqsteal(to, from, true);
    return gp ? (int)gp->goid : -1;
}

int
rt_test_runqlen(void *p)
{
    P *pp = p;
    return (int)(atomic_load_explicit(&pp->runqtail, memory_order_relaxed) -
                 atomic_load_explicit(&pp->runqhead, memory_order_relaxed)) +
           (atomic_load_explicit(&pp->runnext, memory_order_relaxed) != NULL);
}
#endif
