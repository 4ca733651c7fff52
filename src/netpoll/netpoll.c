// netpoll.c: poll descriptors, their wait semaphores and deadlines.
//
// See netpoll.h for the design. PollDescs are carved from persistent memory
// in blocks of PD_BLOCK and never freed; pdtab[idx >> PD_BLOCK_SHIFT] finds a
// block, so an epoll tag (idx << 32 | fdseq) maps back to its PollDesc with
// shifts and masks only.
#include "netpoll/netpoll.h"

#include "time/timer.h"

#include <errno.h>

enum {
    PD_NIL = 0,
    PD_READY = 1,
    PD_WAIT = 2,
    PD_BLOCK_SHIFT = 8,
    PD_BLOCK = 1 << PD_BLOCK_SHIFT, // PollDescs per block
    PD_MAX_BLOCKS = 1 << 14,        // up to 4M descriptors at once
    // info bits
    PDI_CLOSING = 1,
    PDI_RD_EXPIRED = 2,
    PDI_WD_EXPIRED = 4,
};

// A deadline timer: the Timer's arg points here, to find the PollDesc, the
// directions it stands for and the seqs this arming belongs to. When both
// deadlines are the same instant (gort_fd_set_deadline, a server's usual
// call) the read timer stands for both and the write timer is stopped, as
// Go's pollDesc does: one timer on the heap a connection, not two.
typedef struct PDTimer {
    Timer t;       // [lock: pd->lock] armed and reset under it
    PollDesc *pd;  // [const]
    int dirs;      // [lock: pd->lock] PD_READ, PD_WRITE or both
    uint32_t rseq; // [lock: pd->lock] pd->rseq when armed, if dirs has PD_READ
    uint32_t wseq; // [lock: pd->lock] pd->wseq when armed, if dirs has PD_WRITE
} PDTimer;

struct PollDesc {
    PollDesc *link;            // [lock: pdcache.lock] free list
    uint32_t idx;              // [const] slot in pdtab
    _Atomic uint32_t fdseq;    // [atomic] changes when freed: stale events ignored
    int fd;                    // [owner] the gort_fd holding it
    _Atomic uintptr_t rg;      // [atomic] read semaphore: PD_NIL, PD_READY, PD_WAIT or G *
    _Atomic uintptr_t wg;      // [atomic] write semaphore
    _Atomic uint32_t info;     // [atomic] PDI_* bits; written under lock
    _Atomic uint32_t dualwait; // [atomic] the rg waiter also waits for writability
    Lock lock;                 // guards the fields below
    bool closing;              // [lock]
    int64_t rd;                // [lock] read deadline: 0 none, -1 expired
    int64_t wd;                // [lock] write deadline
    uint32_t rseq;             // [lock] changes of rd (and closes)
    uint32_t wseq;             // [lock] changes of wd (and closes)
    PDTimer rt;                // [lock] read deadline timer
    PDTimer wt;                // [lock] write deadline timer
};

static struct {
    Lock lock;             // guards free, nblocks and pdtab growth
    PollDesc *free;        // [lock]
    uint32_t nblocks;      // [lock]
    _Atomic uint32_t init; // [atomic] 0, 1: being set up, 2: ready
} pdcache;
static PollDesc *_Atomic pdtab[PD_MAX_BLOCKS]; // [atomic] blocks, published once

_Atomic int64_t rt_netpoll_lastpoll;  // [atomic] see netpoll.h
_Atomic int64_t rt_netpoll_polluntil; // [atomic]
static _Atomic int32_t nwaiters;      // [atomic] goroutines parked on descriptors

static void deadline_fire(void *arg, int64_t now);

// The last waiter left without the poller's help (a deadline, a close, a
// look by another M): an M blocked in the poller with no timer to wake it
// would then block for nothing, and, counted as running, keep rt_checkdead
// from ever seeing a deadlock. Break its wait so it re-decides.
static void
poller_recheck(void)
{
    if (atomic_load(&nwaiters) == 0 && atomic_load(&rt_netpoll_lastpoll) == 0 &&
        atomic_load(&rt_netpoll_polluntil) == 0)
        rt_os_netpoll_break();
}

// ---- setup ---------------------------------------------------------------------

bool
rt_netpoll_inited(void)
{
    return atomic_load_explicit(&pdcache.init, memory_order_acquire) == 2;
}

void
rt_netpoll_init(void)
{
    if (rt_netpoll_inited())
        return;
    rt_lock(&pdcache.lock);
    if (atomic_load_explicit(&pdcache.init, memory_order_relaxed) == 0) {
        int e = rt_os_netpoll_init();
        if (e < 0) {
            rt_printf("runtime: netpollinit failed with %d\n", -e);
            rt_throw("runtime: netpollinit failed");
        }
        atomic_store_explicit(&rt_netpoll_lastpoll, rt_nanotime(), memory_order_relaxed);
        atomic_store_explicit(&pdcache.init, 2, memory_order_release);
    }
    rt_unlock(&pdcache.lock);
    // An M may be sleeping until the next timer on its futex (the timer
    // sleeper of a program without descriptors): wake it, so that it goes
    // back through findrunnable and blocks in the poller instead.
    rt_sched_timer_wake(0);
}

static PollDesc *
pd_lookup(uint32_t idx)
{
    uint32_t b = idx >> PD_BLOCK_SHIFT;
    if (b >= PD_MAX_BLOCKS)
        return NULL;
    PollDesc *blk = atomic_load_explicit(&pdtab[b], memory_order_acquire);
    return blk ? &blk[idx & (PD_BLOCK - 1)] : NULL;
}

static PollDesc *
pd_alloc(void)
{
    rt_lock(&pdcache.lock);
    if (pdcache.free == NULL) {
        if (pdcache.nblocks == PD_MAX_BLOCKS)
            rt_throw("netpoll: too many descriptors");
        PollDesc *blk = rt_persistentalloc(sizeof(PollDesc) * PD_BLOCK, RT_CACHE_LINE);
        uint32_t b = pdcache.nblocks++;
        for (uint32_t i = PD_BLOCK; i-- > 0;) {
            PollDesc *pd = &blk[i];
            pd->idx = (b << PD_BLOCK_SHIFT) | i;
            atomic_store_explicit(&pd->fdseq, 1, memory_order_relaxed);
            pd->rt.pd = pd;
            pd->rt.t.f = deadline_fire;
            pd->rt.t.arg = &pd->rt;
            pd->wt.pd = pd;
            pd->wt.t.f = deadline_fire;
            pd->wt.t.arg = &pd->wt;
            pd->link = pdcache.free;
            pdcache.free = pd;
        }
        atomic_store_explicit(&pdtab[b], blk, memory_order_release);
    }
    PollDesc *pd = pdcache.free;
    pdcache.free = pd->link;
    pd->link = NULL;
    rt_unlock(&pdcache.lock);
    return pd;
}

static uint64_t
pd_tag(PollDesc *pd)
{
    return (uint64_t)pd->idx << 32 | atomic_load_explicit(&pd->fdseq, memory_order_relaxed);
}

PollDesc *
rt_netpoll_open(int fd, int *err)
{
    rt_netpoll_init();
    PollDesc *pd = pd_alloc();
    rt_lock(&pd->lock);
    pd->fd = fd;
    pd->closing = false;
    pd->rd = pd->wd = 0;
    pd->rseq++;
    pd->wseq++;
    atomic_store(&pd->info, 0);
    atomic_store(&pd->dualwait, 0);
    atomic_store(&pd->rg, PD_NIL);
    atomic_store(&pd->wg, PD_NIL);
    rt_unlock(&pd->lock);
    int e = rt_os_netpoll_open(fd, pd_tag(pd));
    if (e < 0) {
        rt_netpoll_free(pd);
        *err = -e;
        return NULL;
    }
    return pd;
}

void
rt_netpoll_close(PollDesc *pd)
{
    if (!pd->closing)
        rt_throw("netpoll: close without evict");
    uintptr_t r = atomic_load(&pd->rg), w = atomic_load(&pd->wg);
    if (r > PD_WAIT || w > PD_WAIT)
        rt_throw("netpoll: close with a blocked goroutine");
    rt_os_netpoll_close(pd->fd); // an error (EBADF: closed by its owner) changes nothing
}

void
rt_netpoll_free(PollDesc *pd)
{
    // From here on, events tagged with the old fdseq are stale.
    uint32_t s = atomic_load_explicit(&pd->fdseq, memory_order_relaxed) + 1;
    if (s == 0)
        s = 1; // a tag is never 0 (the break's)
    atomic_store_explicit(&pd->fdseq, s, memory_order_release);
    rt_lock(&pdcache.lock);
    pd->link = pdcache.free;
    pdcache.free = pd;
    rt_unlock(&pdcache.lock);
}

// ---- the semaphores ------------------------------------------------------------

static int
checkerr(PollDesc *pd, int mode)
{
    uint32_t i = atomic_load(&pd->info);
    if (i & PDI_CLOSING)
        return ECANCELED;
    if (((mode & PD_READ) && (i & PDI_RD_EXPIRED)) || ((mode & PD_WRITE) && (i & PDI_WD_EXPIRED)))
        return ETIMEDOUT;
    return 0;
}

static void
publish_info(PollDesc *pd)
{
    uint32_t i = 0;
    if (pd->closing)
        i |= PDI_CLOSING;
    if (pd->rd < 0)
        i |= PDI_RD_EXPIRED;
    if (pd->wd < 0)
        i |= PDI_WD_EXPIRED;
    atomic_store(&pd->info, i);
}

// Takes the waiter out of *gpp. ioready: readiness (leave READY), else an
// error (leave NIL). Returns the parked G, or NULL.
static G *
unblock(_Atomic uintptr_t *gpp, bool ioready)
{
    for (;;) {
        uintptr_t old = atomic_load(gpp);
        if (old == PD_READY)
            return NULL;
        if (old == PD_NIL && !ioready)
            return NULL; // nobody waits: an error is re-checked by the next waiter
        uintptr_t nw = ioready ? PD_READY : PD_NIL;
        if (atomic_compare_exchange_strong(gpp, &old, nw)) {
            if (old <= PD_WAIT)
                return NULL;
            atomic_fetch_sub(&nwaiters, 1);
            return (G *)old;
        }
    }
}

static bool
block_commit(G *gp, void *arg)
{
    _Atomic uintptr_t *gpp = arg;
    uintptr_t w = PD_WAIT;
    atomic_fetch_add(&nwaiters, 1);
    if (atomic_compare_exchange_strong(gpp, &w, (uintptr_t)gp))
        return true;
    atomic_fetch_sub(&nwaiters, 1);
    return false; // a notifier came first: run on
}

int
rt_netpoll_check(PollDesc *pd, int mode)
{
    return checkerr(pd, mode);
}

int
rt_netpoll_reset(PollDesc *pd, int mode)
{
    int e = checkerr(pd, mode);
    if (e)
        return e;
    if (mode & PD_READ)
        atomic_store(&pd->rg, PD_NIL);
    if (mode & PD_WRITE)
        atomic_store(&pd->wg, PD_NIL);
    return 0;
}

int
rt_netpoll_wait(PollDesc *pd, int mode)
{
    bool fresh;
    return rt_netpoll_wait_fresh(pd, mode, &fresh);
}

int
rt_netpoll_wait_fresh(PollDesc *pd, int mode, bool *fresh)
{
    *fresh = false;
    int e = checkerr(pd, mode);
    if (e)
        return e;
    bool dual = mode == (PD_READ | PD_WRITE);
    _Atomic uintptr_t *gpp = (mode & PD_READ) ? &pd->rg : &pd->wg;
    if (dual) {
        atomic_store(&pd->dualwait, 1);
        // Pairs with the notifier's store to wg then load of dualwait.
        uintptr_t w = PD_READY;
        if (atomic_compare_exchange_strong(&pd->wg, &w, PD_NIL)) {
            atomic_store(&pd->dualwait, 0);
            return 0;
        }
    }
    for (;;) {
        uintptr_t old = atomic_load(gpp);
        if (old == PD_READY) {
            atomic_store(gpp, PD_NIL);
            if (dual)
                atomic_store(&pd->dualwait, 0);
            return 0;
        }
        if (old != PD_NIL)
            rt_throw("runtime: double wait");
        if (atomic_compare_exchange_strong(gpp, &old, PD_WAIT))
            break;
    }
    // Re-check after publishing PD_WAIT: the notifiers (evict, deadlines)
    // store the state first and then look at rg/wg.
    if (checkerr(pd, mode) == 0)
        rt_park(block_commit, (void *)gpp, WAIT_IO);
    uintptr_t old = atomic_exchange(gpp, PD_NIL);
    if (dual)
        atomic_store(&pd->dualwait, 0);
    if (old > PD_WAIT)
        rt_throw("runtime: corrupted polldesc");
    if (old == PD_READY) {
        // Reported after PD_WAIT was published, and epoll looks at the
        // descriptor again when it reports: ready then, not an old edge.
        *fresh = true;
        return 0;
    }
    e = checkerr(pd, mode);
    return e; // 0: a spurious wake-up; the caller retries its I/O
}

// ---- deadlines -----------------------------------------------------------------

// Takes the waiters of the expired directions into wake (pd->lock held,
// the expired state published): the reader, the writer, and a reader that
// also waits for writability (dualwait) when the write side expired.
static void
unblock_expired(PollDesc *pd, bool r, bool w, G *wake[3])
{
    if (r)
        wake[0] = unblock(&pd->rg, false);
    if (w) {
        wake[1] = unblock(&pd->wg, false);
        if (atomic_load(&pd->dualwait) && wake[0] == NULL)
            wake[2] = unblock(&pd->rg, false);
    }
}

// Readies the waiters a deadline or its change woke (no locks held).
static void
ready_waiters(G *wake[3])
{
    for (int i = 0; i < 3; i++)
        if (wake[i])
            rt_ready(wake[i], false);
    if (wake[0] || wake[1] || wake[2])
        poller_recheck();
}

static void
arm(PollDesc *pd, PDTimer *pt, int64_t d, int dirs)
{
    if (d > 0) {
        pt->dirs = dirs;
        pt->rseq = pd->rseq;
        pt->wseq = pd->wseq;
        rt_timer_reset(&pt->t, d);
    } else {
        rt_timer_del(&pt->t);
    }
}

// Arms the timers for rd and wd after either changed (pd->lock held).
static void
arm_deadlines(PollDesc *pd)
{
    if (pd->rd > 0 && pd->rd == pd->wd) {
        arm(pd, &pd->rt, pd->rd, PD_READ | PD_WRITE);
        rt_timer_del(&pd->wt.t);
        return;
    }
    arm(pd, &pd->rt, pd->rd, PD_READ);
    arm(pd, &pd->wt, pd->wd, PD_WRITE);
}

void
rt_netpoll_set_deadline(PollDesc *pd, int64_t d, int mode)
{
    G *wake[3] = {NULL, NULL, NULL};
    rt_lock(&pd->lock);
    if (pd->closing) {
        rt_unlock(&pd->lock);
        return;
    }
    if (d > 0 && d <= rt_nanotime())
        d = -1;
    bool changed = false;
    if ((mode & PD_READ) && d != pd->rd) {
        pd->rd = d;
        pd->rseq++;
        changed = true;
    }
    if ((mode & PD_WRITE) && d != pd->wd) {
        pd->wd = d;
        pd->wseq++;
        changed = true;
    }
    if (changed)
        arm_deadlines(pd);
    publish_info(pd);
    unblock_expired(pd, pd->rd < 0, pd->wd < 0, wake);
    rt_unlock(&pd->lock);
    ready_waiters(wake);
}

// A deadline timer fired (g0 or sysmon, no locks held).
static void
deadline_fire(void *arg, int64_t now)
{
    PDTimer *pt = arg;
    PollDesc *pd = pt->pd;
    G *wake[3] = {NULL, NULL, NULL};
    rt_lock(&pd->lock);
    bool live = !pd->closing;
    bool rexp = live && (pt->dirs & PD_READ) && pt->rseq == pd->rseq && pd->rd > 0 && pd->rd <= now;
    bool wexp =
            live && (pt->dirs & PD_WRITE) && pt->wseq == pd->wseq && pd->wd > 0 && pd->wd <= now;
    if (rexp)
        pd->rd = -1;
    if (wexp)
        pd->wd = -1;
    // The state first, then the waiters: a waiter that publishes PD_WAIT
    // re-checks the state (rt_netpoll_wait).
    if (rexp || wexp)
        publish_info(pd);
    unblock_expired(pd, rexp, wexp, wake);
    rt_unlock(&pd->lock);
    ready_waiters(wake);
}

void
rt_netpoll_evict(PollDesc *pd)
{
    rt_lock(&pd->lock);
    if (pd->closing)
        rt_throw("netpoll: evict twice");
    pd->closing = true;
    pd->rseq++;
    pd->wseq++;
    publish_info(pd);
    G *r = unblock(&pd->rg, false);
    G *w = unblock(&pd->wg, false);
    rt_timer_del(&pd->rt.t);
    rt_timer_del(&pd->wt.t);
    rt_unlock(&pd->lock);
    if (r)
        rt_ready(r, false);
    if (w)
        rt_ready(w, false);
    if (r || w)
        poller_recheck();
}

// ---- polling -------------------------------------------------------------------

typedef struct ReadyList {
    G *head;
    int32_t n;
} ReadyList;

static void
push(ReadyList *l, G *gp)
{
    if (gp == NULL)
        return;
    gp->schedlink = l->head;
    l->head = gp;
    l->n++;
}

static void
ready_cb(uint64_t tag, int mode, void *arg)
{
    ReadyList *l = arg;
    PollDesc *pd = pd_lookup((uint32_t)(tag >> 32));
    if (pd == NULL || atomic_load_explicit(&pd->fdseq, memory_order_acquire) != (uint32_t)tag)
        return; // an event of a descriptor closed since
    G *r = NULL;
    if (mode & RT_OS_POLL_READ)
        r = unblock(&pd->rg, true);
    if (mode & RT_OS_POLL_WRITE) {
        push(l, unblock(&pd->wg, true));
        // Pairs with the dual waiter's store to dualwait then load of wg.
        if (r == NULL && atomic_load(&pd->dualwait))
            r = unblock(&pd->rg, true);
    }
    push(l, r);
}

G *
rt_netpoll(int64_t delay, int32_t *n)
{
    *n = 0;
    if (!rt_netpoll_inited())
        return NULL;
    ReadyList l = {NULL, 0};
    rt_os_netpoll_wait(delay, ready_cb, &l);
    if (delay == 0 && l.n > 0)
        poller_recheck();
    *n = l.n;
    return l.head;
}

void
rt_netpoll_break(void)
{
    if (rt_netpoll_inited())
        rt_os_netpoll_break();
}

int32_t
rt_netpoll_waiters(void)
{
    return atomic_load_explicit(&nwaiters, memory_order_relaxed);
}
