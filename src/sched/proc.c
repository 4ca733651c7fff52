// proc.c: the G/M/P scheduler.
//
// A goroutine (G) runs on an OS thread (M) that holds a processor (P); there
// are GOMAXPROCS Ps. Each P owns a lock-free ring of 256 runnable Gs plus a
// runnext slot: a G readied by the running G goes to runnext and runs next,
// inheriting the time slice (so ping-pong pairs stay on one P). Overflow and
// yielded Gs go to the global queue under sched.lock, which every P checks
// each 61st tick so it cannot starve (the queues: runq.c).
//
// schedule() runs on the M's g0 stack: it takes the next G from the global
// queue (every 61 ticks), the local runq, or findrunnable(), which also
// checks the global queue, runs expired timers, steals half of a random
// victim's queue (4 passes; the last one also takes runnext), and finally
// gives up the P and parks the M on its futex Note, until the next timer if
// it is the timer sleeper. At most half of the busy Ps' worth of Ms spin
// looking for work; an M that stops spinning with work found wakes another
// (wakep), so threads ramp up one at a time.
//
// Goroutine stacks are taken at first run, not at creation: a G that has not
// started costs only its descriptor, and stacks of dead Gs go back to the P's
// cache at once (src/mem/stack.c). G descriptors are never freed: dead Gs
// wait on per-P and global free lists, as in Go.
//
// Here: the switches (mcall, execute), G bookkeeping, the idle P and M
// lists, P ownership, M creation and parking, deadlock detection, the
// scheduler loop, park/ready/yield/exit, the scheduler's side of system
// calls and locked threads, stop and start the world, GOMAXPROCS and the
// public API. The rest of the scheduler has files of its own (sched.h lists
// them and what they share): the run queues (runq.c), the collector's
// stop-the-world by signals (gcstop.c), the sudog cache (sudog.c), the
// stack switches told to the sanitizers and valgrind (fiber.h, fiber.c),
// system calls (syscall.c), sysmon (sysmon.c) and preemption (preempt.c).
//
// Locks: sched.lock guards the idle M and P lists and the global queue;
// sched.gflock the global free Gs; rt_allglock the allg list. Lock order:
// sched.lock before gflock and allglock (docs/locking.md).
#include "netpoll/netpoll.h"
#include "rt.h"
#include "sanitize.h"
#include "sched/fiber.h"
#include "sched/sched.h"
#include "time/timer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    GFREE_LOCAL_MAX = 64,
    GFREE_BATCH = 32,
    GOID_BATCH = 16,
    STEAL_TRIES = 4,
    MAX_GOMAXPROCS = 1024,
    // schedule() takes from the global run queue first on every this many
    // ticks (Go's 61, for fairness): two goroutines that keep readying each
    // other could otherwise hold the local queue and starve the global one.
    GLOBRUNQ_CHECK_TICKS = 61,
};

Sched rt_sched;
P **rt_allp;
_Atomic int32_t rt_gomaxprocs;
int32_t rt_ncpu = 1;
G *rt_allg;
Lock rt_allglock;
_Atomic(M *) rt_allm;
M rt_m0;
G rt_g0;
__thread void *rt_tls_m __attribute__((tls_model("initial-exec")));

static int32_t allplen;  // [stw] Ps allocated in rt_allp (>= gomaxprocs)
static int32_t newprocs; // [stw] GOMAXPROCS to apply at the next start-the-world

// schedule, execute and the g0 functions that end in them never return, but
// are not declared noreturn: their last calls must compile to jumps (sibling
// calls; gcc never tail-calls a noreturn function). Then g0 pushes nothing
// on the CPU's return-stack predictor between a goroutine's switch out and
// the next one's switch in, and the resumed goroutine's returns are
// predicted from the entries its peer pushed on the way into the same
// runtime path (a ping-pong pair returns through identical frames). With
// calls, each switch cost four or five mispredicted returns. Nor may they
// pass the address of a local to a function of another file: gcc then
// cannot tell that the local is dead at the last call, and makes it a call
// (hence runqget, which fills schedule's `inherit`, is inline in sched.h).
static void schedule(void);
static void execute(G *gp, bool inherit);
static G *findrunnable(bool *inherit);
static void stopm(void);
static void startm(P *pp, bool spinning);
static void gcstopm(void);
static void stoplockedm(void);
static void startlockedm(G *gp);
static P *procresize(int32_t nprocs);
static void acquirep(P *pp);
static P *releasep(void);

// ---- Switching ---------------------------------------------------------------

// Switches from the current goroutine to g0 and runs fn(gp) there; fn must
// not return (it ends in schedule() or execute()).
static RT_ALWAYS_INLINE void
mcall(void (*fn)(G *), bool dying)
{
    M *m = rt_m();
    G *gp = m->curg;
    // errno belongs to the goroutine: kept here while it is switched out,
    // put back on whichever thread runs it next (execute).
    gp->goerrno = *m->errnop;
    san_to_g0(m, gp, dying);
    rt_arch_mcall(&gp->sched, m->g0->sched.sp, (void (*)(void *))fn, gp, &m->fpctl);
    san_on_g(gp);
}

// First frame of every goroutine (entered from rt_arch_gostart).
static void
goentry(void *arg)
{
    G *gp = arg;
    san_on_g(gp);
    gp->fn(gp->arg);
    rt_goexit1();
}

// ---- Random numbers (wyrand) ------------------------------------------------

uint32_t
rt_fastrand(void)
{
    M *m = rt_m();
    m->fastrand += 0xa0761d6478bd642fULL;
    __uint128_t t = (__uint128_t)m->fastrand * (m->fastrand ^ 0xe7037ed1a0b428dbULL);
    return (uint32_t)((uint64_t)(t >> 64) ^ (uint64_t)t);
}

// ---- G bookkeeping -------------------------------------------------------------

static void
allgadd(G *gp)
{
    rt_lock(&rt_allglock);
    gp->alllink = rt_allg;
    rt_allg = gp;
    rt_unlock(&rt_allglock);
}

static void
gfput(P *pp, G *gp)
{
    gp->schedlink = pp->gfree;
    pp->gfree = gp;
    pp->ngfree++;
    if (pp->ngfree >= GFREE_LOCAL_MAX) {
        rt_lock(&rt_sched.gflock);
        while (pp->ngfree > GFREE_LOCAL_MAX - GFREE_BATCH) {
            G *g = pp->gfree;
            pp->gfree = g->schedlink;
            pp->ngfree--;
            g->schedlink = rt_sched.gfree;
            RT_STORE(rt_sched.gfree, g);
            rt_sched.ngfree++;
        }
        rt_unlock(&rt_sched.gflock);
    }
}

static G *
gfget(P *pp)
{
    // The global list is peeked at without gflock (a stale answer only
    // costs an allocation or a lock round trip): its writers store the head
    // with RT_STORE so that the peek is a well-defined relaxed race.
    if (pp->gfree == NULL && RT_LOAD(rt_sched.gfree) != NULL) {
        rt_lock(&rt_sched.gflock);
        while (pp->ngfree < GFREE_BATCH && rt_sched.gfree) {
            G *g = rt_sched.gfree;
            RT_STORE(rt_sched.gfree, g->schedlink);
            rt_sched.ngfree--;
            g->schedlink = pp->gfree;
            pp->gfree = g;
            pp->ngfree++;
        }
        rt_unlock(&rt_sched.gflock);
    }
    G *gp = pp->gfree;
    if (gp) {
        pp->gfree = gp->schedlink;
        pp->ngfree--;
    }
    return gp;
}

static int64_t
newgoid(P *pp)
{
    if (pp->goidcache == pp->goidcacheend) {
        pp->goidcache = atomic_fetch_add(&rt_sched.goidgen, GOID_BATCH) + 1;
        pp->goidcacheend = pp->goidcache + GOID_BATCH;
    }
    return pp->goidcache++;
}

G *
rt_newproc(void (*fn)(void *), void *arg, size_t stack_size, bool sys, uintptr_t callerpc)
{
    M *m = rt_m();
    P *pp = m->p;
    m->locks++;
    G *gp = gfget(pp);
    if (gp == NULL) {
        gp = rt_persistentalloc(sizeof(G), RT_CACHE_LINE);
        allgadd(gp);
    } else if (gp->stack_lo && gp->stack_size != stack_size) {
        rt_stack_free(gp);
    }
    gp->fn = fn;
    gp->arg = arg;
    gp->stack_size = stack_size;
    gp->is_system = sys;
    gp->started = false;
    atomic_store_explicit(&gp->preempt, false, memory_order_relaxed);
    RT_STORE(gp->m, NULL);
    gp->param = NULL;
    gp->waiting = NULL;
    gp->waitreason = WAIT_ZERO;
    gp->goerrno = 0;
    gp->lockedm = NULL;
    gp->goid = newgoid(pp);
    gp->parent_goid = m->curg ? m->curg->goid : 0;
    gp->gopc = callerpc;
    if (sys)
        atomic_fetch_add_explicit(&rt_sched.ngsys, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&rt_sched.ngoroutines, 1, memory_order_relaxed);
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    rt_runqput(pp, gp, true);
    if (atomic_load_explicit(&rt_sched.main_started, memory_order_relaxed))
        rt_wakep();
    m->locks--;
    return gp;
}

int
rt_gcount(void)
{
    return atomic_load_explicit(&rt_sched.ngoroutines, memory_order_relaxed) -
           atomic_load_explicit(&rt_sched.ngsys, memory_order_relaxed);
}

// ---- Idle P and M lists (sched.lock) ---------------------------------------------

void
rt_pidleput(P *pp)
{
    if (!runqempty(pp))
        rt_throw("pidleput: P has non-empty run queue");
    atomic_store_explicit(&pp->status, P_IDLE, memory_order_relaxed);
    pp->link = rt_sched.pidle;
    rt_sched.pidle = pp;
    atomic_fetch_add_explicit(&rt_sched.npidle, 1, memory_order_relaxed);
}

P *
rt_pidleget(void)
{
    P *pp = rt_sched.pidle;
    if (pp) {
        rt_sched.pidle = pp->link;
        atomic_fetch_sub_explicit(&rt_sched.npidle, 1, memory_order_relaxed);
        if (atomic_load_explicit(&rt_sched.sysmonwait, memory_order_relaxed)) {
            atomic_store_explicit(&rt_sched.sysmonwait, 0, memory_order_relaxed);
            rt_note_wakeup(&rt_sched.sysmonnote);
        }
    }
    return pp;
}

static void
mput(M *mp)
{
    mp->schedlink = rt_sched.midle;
    rt_sched.midle = mp;
    rt_sched.nmidle++;
}

static M *
mget(void)
{
    M *mp = rt_sched.midle;
    if (mp) {
        rt_sched.midle = mp->schedlink;
        rt_sched.nmidle--;
    }
    return mp;
}

// Removes mp from the idle list if it is there.
static bool
mremove(M *mp)
{
    for (M **pm = &rt_sched.midle; *pm; pm = &(*pm)->schedlink) {
        if (*pm == mp) {
            *pm = mp->schedlink;
            rt_sched.nmidle--;
            return true;
        }
    }
    return false;
}

// ---- P ownership ---------------------------------------------------------------

static void
acquirep(P *pp)
{
    M *m = rt_m();
    if (m->p || pp->m)
        rt_throw("acquirep: invalid P state");
    m->p = pp;
    RT_STORE(pp->m, m);
    atomic_store_explicit(&pp->status, P_RUNNING, memory_order_relaxed);
}

static P *
releasep(void)
{
    M *m = rt_m();
    P *pp = m->p;
    if (pp == NULL || pp->m != m)
        rt_throw("releasep: invalid P state");
    m->p = NULL;
    RT_STORE(pp->m, NULL);
    atomic_store_explicit(&pp->status, P_IDLE, memory_order_relaxed);
    return pp;
}

// ---- M creation and parking -----------------------------------------------------

static void *mstart_thread(void *arg);

static M *
allocm(void)
{
    M *mp = rt_persistentalloc(sizeof(M), RT_CACHE_LINE);
    mp->g0 = rt_persistentalloc(sizeof(G), RT_CACHE_LINE);
    mp->g0->is_system = true;
    mp->fastrand = (uint64_t)rt_nanotime() * 0x9e3779b97f4a7c15ULL ^ (uintptr_t)mp;
    rt_lock(&rt_sched.lock);
    mp->id = rt_sched.mnext++;
    rt_sched.mcount++;
    rt_unlock(&rt_sched.lock);
    M *old = atomic_load_explicit(&rt_allm, memory_order_relaxed);
    do {
        mp->alllink = old;
    } while (!atomic_compare_exchange_weak_explicit(&rt_allm, &old, mp, memory_order_release,
                                                    memory_order_relaxed));
    return mp;
}

// Starts a new M; it runs fn (sysmon) or schedules with nextp.
static M *
newm(bool sysmon, P *nextp, bool spinning)
{
    M *mp = allocm();
    mp->is_sysmon = sysmon;
    mp->nextp = nextp;
    mp->spinning = spinning;
    int e = errno; // may run on a goroutine on its way to park: errno is its own
    int err = rt_os_newosproc(mstart_thread, mp, NULL);
    if (err < 0)
        rt_fatal("newosproc: cannot create thread (errno %d)", -err);
    errno = e;
    return mp;
}

static void
minit(M *m)
{
    rt_arch_tls_set(m);
    // The address is fixed for the thread: mcall and execute move a
    // goroutine's errno with a plain load and store, no libc call.
    m->errnop = &errno;
    RT_STORE(m->tid, rt_os_gettid()); // the collector's stopper peeks at it
    rt_os_thread_stack(&m->g0_stack_lo, &m->g0_stack_hi);
    uintptr_t sp = rt_arch_getsp();
    if (m->g0_stack_hi == 0 || sp < m->g0_stack_lo || sp > m->g0_stack_hi) {
        m->g0_stack_hi = sp + 1024;
        m->g0_stack_lo = sp - (64 << 10);
    }
    // mcall resets g0 to just below this point: everything above is the
    // thread's start-up frames, never returned to.
    m->g0->sched.sp = (sp - 512) & ~(uintptr_t)15;
    m->g0->stack_lo = m->g0_stack_lo;
    m->g0->stack_hi = m->g0_stack_hi;
    m->g0->m = m;
    m->fpctl = rt_arch_fpctl_read();
    san_minit(m);
    rt_signal_minit(m);
}

static RT_G0_NORETURN_FN void *
mstart_thread(void *arg)
{
    M *m = arg;
    minit(m);
    if (m->is_sysmon) {
        rt_sysmon();
        return NULL;
    }
    P *pp = m->nextp;
    m->nextp = NULL;
    acquirep(pp);
    schedule();
    __builtin_unreachable();
}

RT_G0_NORETURN_FN void
rt_mstart(void)
{
    M *m = rt_m();
    minit(m);
    schedule();
    __builtin_unreachable();
}

// Parks the current M until startm hands it a P.
static void
stopm(void)
{
    M *m = rt_m();
    if (m->p)
        rt_throw("stopm holding p");
    rt_lock(&rt_sched.lock);
    mput(m);
    rt_checkdead();
    rt_unlock(&rt_sched.lock);
    rt_note_sleep(&m->park);
    rt_note_clear(&m->park);
    acquirep(m->nextp);
    m->nextp = NULL;
}

// Like stopm, but wakes by `until` at the latest to run timers. Returns false
// when it timed out without being handed a P.
static bool
stopm_timed(int64_t until)
{
    M *m = rt_m();
    rt_lock(&rt_sched.lock);
    mput(m);
    rt_sched.timed_sleeper = m;
    m->timed_until = until;
    rt_checkdead();
    rt_unlock(&rt_sched.lock);
    bool woken = rt_note_tsleep(&m->park, until - rt_nanotime());
    if (!woken) {
        rt_lock(&rt_sched.lock);
        if (rt_sched.timed_sleeper == m)
            rt_sched.timed_sleeper = NULL;
        m->timed_until = 0;
        bool was_idle = mremove(m);
        rt_unlock(&rt_sched.lock);
        if (was_idle)
            return false;
        // Someone took us off the idle list and will wake us: wait for it.
        rt_note_sleep(&m->park);
    }
    rt_note_clear(&m->park);
    if (m->nextp == NULL)
        return false;
    acquirep(m->nextp);
    m->nextp = NULL;
    return true;
}

// Starts an M (idle or new) to run pp; pp NULL: take an idle P.
static void startm1(P *pp, bool spinning);

// The M that hands a P to another M must not be stopped by the collector
// (rt_gc_stop_world) half way: the P would be in transit to an M that is
// never woken or created, and the stop would wait for it forever. Holding
// m->locks defers the suspension until the hand-off is done.
static void
startm(P *pp, bool spinning)
{
    M *self = rt_m();
    if (self != NULL)
        self->locks++;
    atomic_signal_fence(memory_order_seq_cst);
    startm1(pp, spinning);
    atomic_signal_fence(memory_order_seq_cst);
    if (self != NULL)
        self->locks--;
}

static void
startm1(P *pp, bool spinning)
{
    rt_lock(&rt_sched.lock);
    if (pp == NULL) {
        pp = rt_pidleget();
        if (pp == NULL) {
            rt_unlock(&rt_sched.lock);
            if (spinning)
                atomic_fetch_sub_explicit(&rt_sched.nmspinning, 1, memory_order_relaxed);
            return;
        }
    }
    M *mp = mget();
    if (mp) {
        if (rt_sched.timed_sleeper == mp) {
            rt_sched.timed_sleeper = NULL;
            mp->timed_until = 0;
        }
    }
    rt_unlock(&rt_sched.lock);
    if (mp == NULL) {
        newm(false, pp, spinning);
        return;
    }
    if (mp->spinning || mp->nextp)
        rt_throw("startm: m is spinning or has a P");
    mp->spinning = spinning;
    mp->nextp = pp;
    rt_note_wakeup(&mp->park);
}

void
rt_wakep(void)
{
    if (atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed) == 0)
        return;
    if (atomic_load_explicit(&rt_sched.nmspinning, memory_order_relaxed) != 0)
        return;
    int32_t z = 0;
    if (!atomic_compare_exchange_strong_explicit(&rt_sched.nmspinning, &z, 1, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return;
    startm(NULL, true);
}

static void
resetspinning(void)
{
    M *m = rt_m();
    m->spinning = false;
    int32_t n = atomic_fetch_sub_explicit(&rt_sched.nmspinning, 1, memory_order_acq_rel) - 1;
    if (n < 0)
        rt_throw("findrunnable: negative nmspinning");
    // We found work; another M may find more.
    rt_wakep();
}

void
rt_sched_timer_wake(int64_t when)
{
    if (!atomic_load_explicit(&rt_sched.main_started, memory_order_relaxed))
        return;
    // An M blocked in the poller until a later time (or until an event):
    // break its wait, so that it re-computes the next timer (Go's
    // wakeNetPoller).
    if (rt_netpoll_inited() &&
        atomic_load_explicit(&rt_netpoll_lastpoll, memory_order_acquire) == 0) {
        int64_t until = atomic_load_explicit(&rt_netpoll_polluntil, memory_order_relaxed);
        if (until == 0 || until > when) {
            rt_netpoll_break();
            return;
        }
    }
    M *wake = NULL;
    rt_lock(&rt_sched.lock);
    M *ts = rt_sched.timed_sleeper;
    if (ts && ts->timed_until > when && mremove(ts)) {
        rt_sched.timed_sleeper = NULL;
        ts->timed_until = 0;
        wake = ts;
    }
    rt_unlock(&rt_sched.lock);
    if (wake) {
        // It wakes without a P and takes an idle one if any is left.
        wake->nextp = NULL;
        rt_note_wakeup(&wake->park);
        return;
    }
    if (ts == NULL)
        rt_wakep();
}

// ---- Deadlock detection (sched.lock held) -----------------------------------------

void
rt_checkdead(void)
{
    // Ms not idle, not sysmon: they may still ready something.
    // An M in a system call counts as running (its goroutine will come back);
    // an M waiting for its locked goroutine does not (Go's nmidlelocked).
    int32_t run = rt_sched.mcount - rt_sched.nmidle - rt_sched.nmidlelocked - 1; // - sysmon
    if (!atomic_load_explicit(&rt_sched.main_started, memory_order_relaxed))
        return;
    if (run > 0)
        return;
    if (run < 0) {
        // sysmon not started yet or accounting skew: not a verdict.
        return;
    }
    if (atomic_load_explicit(&rt_sched.runqsize, memory_order_relaxed) > 0)
        return;
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    for (int32_t i = 0; i < np; i++)
        if (!runqempty(rt_allp[i]))
            return;
    if (rt_timers_pending())
        return;
    if (rt_netpoll_waiters() > 0)
        return; // a descriptor may become ready
    if (atomic_load_explicit(&rt_sched.main_goexited, memory_order_acquire) && rt_gcount() == 0)
        rt_fatal("no goroutines (main called runtime.Goexit) - deadlock!");
    rt_fatal("all goroutines are asleep - deadlock!");
}

// ---- The scheduler loop ------------------------------------------------------------

static RT_G0_NORETURN_FN void
execute(G *gp, bool inherit)
{
    M *m = rt_m();
    P *pp = m->p;
    san_acquire_g(gp);
    RT_STORE(m->curg, gp);
    RT_STORE(gp->m, m);
    atomic_store_explicit(&gp->preempt, false, memory_order_relaxed);
    atomic_store_explicit(&gp->status, G_RUNNING, memory_order_relaxed);
    if (!inherit)
        RT_STORE(pp->schedtick, pp->schedtick + 1);
    if (!gp->started) {
        gp->started = true;
        if (gp->stack_lo == 0)
            rt_stack_alloc(gp);
        rt_arch_gobuf_init(&gp->sched, gp->stack_hi, goentry, gp);
    }
    *m->errnop = gp->goerrno;
    san_to_g(m, gp);
    rt_arch_gogo(&gp->sched, &m->fpctl);
}

static bool
run_timers(P *pp, int64_t *now)
{
    int64_t w = atomic_load_explicit(&pp->timer0when, memory_order_relaxed);
    if (w == 0)
        return false;
    if (*now == 0)
        *now = rt_nanotime();
    if (w > *now)
        return false;
    rt_timers_run(pp, *now);
    return true;
}

// Runs every P's due timers, on behalf of whoever watches the clock (the
// timer sleeper, the M blocked in the poller): the timers may sit on an idle
// P that nobody else looks at.
static void
run_all_timers(void)
{
    int64_t now = 0;
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    for (int32_t i = 0; i < np; i++)
        run_timers(rt_allp[i], &now);
}

static G *
stealwork(int64_t *now, bool *inherit)
{
    M *m = rt_m();
    P *pp = m->p;
    int32_t n = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    for (int i = 0; i < STEAL_TRIES; i++) {
        bool last = i == STEAL_TRIES - 1;
        uint32_t start = rt_fastrandn((uint32_t)n);
        for (int32_t k = 0; k < n; k++) {
            P *p2 = rt_allp[(start + (uint32_t)k) % (uint32_t)n];
            if (p2 == pp)
                continue;
            if (atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed))
                return NULL;
            if (last && run_timers(p2, now)) {
                G *gp = runqget(pp, inherit);
                if (gp)
                    return gp;
            }
            if (atomic_load_explicit(&p2->status, memory_order_relaxed) != P_IDLE ||
                !runqempty(p2)) {
                G *gp = rt_runqsteal(pp, p2, last);
                if (gp) {
                    *inherit = false;
                    return gp;
                }
            }
        }
    }
    return NULL;
}

// Queues the goroutines of list (linked by schedlink, still G_WAITING, n of
// them), as Go's injectglist: without a P all go to the global queue and an
// M starts for each idle P they can use; with one, as many as there are idle
// Ps go to the global queue (and Ms start for them), the rest to this P.
void
rt_sched_injectglist(G *list, int32_t n)
{
    if (list == NULL)
        return;
    for (G *gp = list; gp; gp = gp->schedlink) {
        uint32_t w = G_WAITING;
        if (!atomic_compare_exchange_strong_explicit(&gp->status, &w, G_RUNNABLE,
                                                     memory_order_acq_rel, memory_order_relaxed))
            rt_throw("injectglist: bad g->status");
    }
    M *m = rt_m();
    P *pp = m ? m->p : NULL;
    int32_t nglob = n;
    if (pp) {
        int32_t idle = atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed);
        nglob = idle < n ? idle : n;
    }
    if (nglob > 0) {
        rt_lock(&rt_sched.lock);
        for (int32_t i = 0; i < nglob; i++) {
            G *gp = list;
            list = gp->schedlink;
            globrunqput(gp);
        }
        rt_unlock(&rt_sched.lock);
        for (int32_t i = 0; i < nglob; i++) {
            if (atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed) == 0)
                break;
            startm(NULL, false);
        }
    }
    while (list) {
        G *gp = list;
        list = gp->schedlink;
        rt_runqput(pp, gp, false);
    }
}

// The first goroutine of a poll's list runs here; the rest are queued.
static G *
netpoll_take(G *list, int32_t n)
{
    if (list == NULL)
        return NULL;
    G *gp = list;
    rt_sched_injectglist(gp->schedlink, n - 1);
    uint32_t w = G_WAITING;
    if (!atomic_compare_exchange_strong_explicit(&gp->status, &w, G_RUNNABLE, memory_order_acq_rel,
                                                 memory_order_relaxed))
        rt_throw("findrunnable: bad g->status from netpoll");
    return gp;
}

static G *
findrunnable(bool *inherit)
{
    M *m = rt_m();
top:;
    P *pp = m->p;
    if (atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed)) {
        gcstopm();
        goto top;
    }
    int64_t now = 0;
    run_timers(pp, &now);
    G *gp = runqget(pp, inherit);
    if (gp)
        return gp;
    if (atomic_load_explicit(&rt_sched.runqsize, memory_order_relaxed) > 0) {
        rt_lock(&rt_sched.lock);
        gp = rt_globrunqget(pp, 0);
        rt_unlock(&rt_sched.lock);
        if (gp) {
            *inherit = false;
            return gp;
        }
    }
    // Goroutines whose descriptors are ready, before stealing (a look; none
    // when an M blocks in the poller: it will see them).
    if (rt_netpoll_inited() && rt_netpoll_waiters() > 0 &&
        atomic_load_explicit(&rt_netpoll_lastpoll, memory_order_relaxed) != 0) {
        int32_t n;
        G *list = rt_netpoll(0, &n);
        if (list) {
            *inherit = false;
            return netpoll_take(list, n);
        }
    }
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    int32_t busy = np - atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed);
    if (m->spinning ||
        2 * atomic_load_explicit(&rt_sched.nmspinning, memory_order_relaxed) < busy) {
        if (!m->spinning) {
            m->spinning = true;
            atomic_fetch_add_explicit(&rt_sched.nmspinning, 1, memory_order_relaxed);
        }
        gp = stealwork(&now, inherit);
        if (gp)
            return gp;
    } else if (np > 1) {
        // Not allowed to spin, but expired timers of other Ps must run.
        for (int32_t i = 0; i < np; i++)
            if (rt_allp[i] != pp)
                run_timers(rt_allp[i], &now);
        gp = runqget(pp, inherit);
        if (gp)
            return gp;
    }

    // Nothing to do: give up the P.
    rt_lock(&rt_sched.lock);
    if (atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed)) {
        rt_unlock(&rt_sched.lock);
        goto top;
    }
    if (atomic_load_explicit(&rt_sched.runqsize, memory_order_relaxed) > 0) {
        gp = rt_globrunqget(pp, 0);
        rt_unlock(&rt_sched.lock);
        *inherit = false;
        return gp;
    }
    if (!runqempty(pp)) {
        rt_unlock(&rt_sched.lock);
        goto top;
    }
    releasep();
    rt_pidleput(pp);
    rt_unlock(&rt_sched.lock);

    bool was_spinning = m->spinning;
    if (m->spinning) {
        m->spinning = false;
        if (atomic_fetch_sub_explicit(&rt_sched.nmspinning, 1, memory_order_acq_rel) <= 0)
            rt_throw("findrunnable: negative nmspinning");
    }
    // Re-check every queue: work may have been readied while we were
    // dropping the P and nobody else was spinning to see it.
    np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    bool work = atomic_load_explicit(&rt_sched.runqsize, memory_order_relaxed) > 0;
    for (int32_t i = 0; i < np && !work; i++)
        if (!runqempty(rt_allp[i]))
            work = true;
    if (work) {
        rt_lock(&rt_sched.lock);
        P *p2 = rt_pidleget();
        rt_unlock(&rt_sched.lock);
        if (p2) {
            acquirep(p2);
            if (was_spinning) {
                m->spinning = true;
                atomic_fetch_add_explicit(&rt_sched.nmspinning, 1, memory_order_relaxed);
            }
            goto top;
        }
    }
    int64_t next = rt_timers_next();
    if (rt_netpoll_inited()) {
        // With a poller, the M with nothing to run blocks in it until the
        // next timer, and an I/O event or rt_netpoll_break ends the wait.
        if ((rt_netpoll_waiters() > 0 || next != 0) &&
            atomic_exchange_explicit(&rt_netpoll_lastpoll, 0, memory_order_acq_rel) != 0) {
            atomic_store_explicit(&rt_netpoll_polluntil, next, memory_order_release);
            if (m->p)
                rt_throw("findrunnable: netpoll with p");
            if (m->spinning)
                rt_throw("findrunnable: netpoll with spinning");
            int64_t delay = -1;
            if (next != 0) {
                delay = next - rt_nanotime();
                if (delay < 0)
                    delay = 0;
            }
            int32_t n;
            G *list = rt_netpoll(delay, &n);
            atomic_store_explicit(&rt_netpoll_polluntil, 0, memory_order_relaxed);
            atomic_store_explicit(&rt_netpoll_lastpoll, rt_nanotime(), memory_order_release);
            rt_lock(&rt_sched.lock);
            P *p2 = rt_pidleget();
            rt_unlock(&rt_sched.lock);
            if (p2 == NULL) {
                rt_sched_injectglist(list, n);
                stopm();
                goto top;
            }
            acquirep(p2);
            run_all_timers(); // as the timer sleeper does
            if (list) {
                *inherit = false;
                return netpoll_take(list, n);
            }
            goto top;
        }
        if (next != 0) {
            // Another M polls: make sure it wakes for our timer.
            int64_t until = atomic_load_explicit(&rt_netpoll_polluntil, memory_order_relaxed);
            if (until == 0 || until > next)
                rt_netpoll_break();
        }
        stopm();
        goto top;
    }
    if (next != 0) {
        bool sleeper_free;
        rt_lock(&rt_sched.lock);
        sleeper_free = rt_sched.timed_sleeper == NULL || rt_sched.timed_sleeper->timed_until > next;
        rt_unlock(&rt_sched.lock);
        if (sleeper_free) {
            if (!stopm_timed(next)) {
                // Timed out (a timer is due) or woken without a P.
                rt_lock(&rt_sched.lock);
                P *p2 = rt_pidleget();
                rt_unlock(&rt_sched.lock);
                if (p2 == NULL) {
                    stopm();
                    goto top;
                }
                acquirep(p2);
            }
            run_all_timers();
            goto top;
        }
    }
    stopm();
    goto top;
}

static RT_G0_NORETURN_FN void
schedule(void)
{
    M *m = rt_m();
    if (m->locks)
        rt_throw("schedule: holding locks");
    RT_ASSERT_INVARIANT(rt_arch_getsp() >= m->g0_stack_lo && rt_arch_getsp() < m->g0_stack_hi);
    RT_STORE(m->curg, NULL);
    if (m->lockedg) {
        // Our locked goroutine stopped running: this thread waits for it.
        stoplockedm();
        execute(m->lockedg, false);
        return;
    }
top:;
    P *pp = m->p;
    if (atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed)) {
        gcstopm();
        goto top;
    }
    G *gp = NULL;
    bool inherit = false;
    int64_t now = 0;
    run_timers(pp, &now);
    if (pp->schedtick % GLOBRUNQ_CHECK_TICKS == 0 &&
        atomic_load_explicit(&rt_sched.runqsize, memory_order_relaxed)) {
        rt_lock(&rt_sched.lock);
        gp = rt_globrunqget(pp, 1);
        rt_unlock(&rt_sched.lock);
    }
    if (gp == NULL)
        gp = runqget(pp, &inherit);
    if (gp == NULL)
        gp = findrunnable(&inherit);
    if (m->spinning)
        resetspinning();
    if (rt_unlikely(gp->lockedm != NULL)) {
        // It runs only on its own thread: hand it our P, wait for another.
        startlockedm(gp);
        goto top;
    }
    execute(gp, inherit);
}

// ---- Park, ready, yield, exit -------------------------------------------------------

static RT_G0_NORETURN_FN void
park_m(G *gp)
{
    san_on_g0();
    M *m = rt_m();
    atomic_store_explicit(&gp->status, G_WAITING, memory_order_release);
    RT_STORE(m->curg, NULL);
    RT_STORE(gp->m, NULL);
    bool (*fn)(G *, void *) = m->waitunlockf;
    if (fn) {
        void *arg = m->waitlock;
        m->waitunlockf = NULL;
        m->waitlock = NULL;
        if (!fn(gp, arg)) {
            uint32_t w = G_WAITING;
            if (atomic_compare_exchange_strong_explicit(
                        &gp->status, &w, G_RUNNABLE, memory_order_acq_rel, memory_order_relaxed)) {
                execute(gp, true);
                return;
            }
        }
    }
    schedule();
}

void
rt_park(bool (*unlockf)(G *gp, void *arg), void *arg, uint8_t reason)
{
    M *m = rt_m();
    G *gp = m->curg;
    if (gp == NULL)
        rt_throw("park on g0");
    RT_ASSERT_INVARIANT(rt_arch_getsp() >= gp->stack_lo && rt_arch_getsp() < gp->stack_hi);
    m->waitunlockf = unlockf;
    m->waitlock = arg;
    gp->waitreason = reason;
    gp->waitsince = atomic_load_explicit(&rt_sched.coarse_now, memory_order_relaxed);
    mcall(park_m, false);
}

static bool
parkunlock_c(G *gp, void *arg)
{
    (void)gp;
    rt_unlock(arg);
    return true;
}

void
rt_parkunlock(Lock *l, uint8_t reason)
{
    rt_park(parkunlock_c, l, reason);
}

void
rt_ready(G *gp, bool next)
{
    uint32_t w = G_WAITING;
    if (!atomic_compare_exchange_strong_explicit(&gp->status, &w, G_RUNNABLE, memory_order_acq_rel,
                                                 memory_order_relaxed)) {
        rt_printf("runtime: goroutine %lld status %u\n", (long long)gp->goid, w);
        rt_throw("bad g->status in ready");
    }
    M *m = rt_m();
    P *pp = m ? m->p : NULL;
    if (pp) {
        rt_runqput(pp, gp, next);
    } else {
        rt_lock(&rt_sched.lock);
        globrunqput(gp);
        rt_unlock(&rt_sched.lock);
    }
    rt_wakep();
}

static RT_G0_NORETURN_FN void
gosched_m(G *gp)
{
    san_on_g0();
    M *m = rt_m();
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    RT_STORE(m->curg, NULL);
    RT_STORE(gp->m, NULL);
    rt_lock(&rt_sched.lock);
    globrunqput(gp);
    rt_unlock(&rt_sched.lock);
    schedule();
}

void
rt_gosched(void)
{
    mcall(gosched_m, false);
}

void
rt_async_preempt2(uintptr_t *ret)
{
    M *m = rt_m();
    G *gp = m->curg;
    if (gp == NULL)
        return;
    if (*ret == 0 && !rt_preempt_trap_fire(gp, ret))
        return; // the return trap (src/sched/preempt.c), with nothing to do
    atomic_store_explicit(&gp->preempt, false, memory_order_relaxed);
    mcall(gosched_m, false);
}

static RT_G0_NORETURN_FN void
goexit0(G *gp)
{
    san_on_g0();
    M *m = rt_m();
    P *pp = m->p;
    atomic_store_explicit(&gp->status, G_DEAD, memory_order_release);
    RT_STORE(m->curg, NULL);
    RT_STORE(gp->m, NULL);
    if (gp->is_system)
        atomic_fetch_sub_explicit(&rt_sched.ngsys, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&rt_sched.ngoroutines, 1, memory_order_relaxed);
    gp->fn = NULL;
    gp->arg = NULL;
    gp->param = NULL;
    gp->waiting = NULL;
    gp->trap_slot = 0; // a trap left armed by a frame that never returned
    gp->trap_ret = 0;
    if (gp->lockedm) {
        // A locked goroutine exits: Go ends its thread; gort unwires it and
        // keeps the thread (README, docs/netpoll.md).
        gp->lockedm = NULL;
        m->lockedg = NULL;
        m->lockedext = 0;
    }
    if (gp->stack_lo)
        rt_stack_free(gp);
    san_gdead(gp);
    gfput(pp, gp);
    schedule();
}

void
rt_goexit1(void)
{
    G *gp = rt_getg();
    if (gp->goid == 1)
        atomic_store_explicit(&rt_sched.main_goexited, true, memory_order_release);
    mcall(goexit0, true);
    __builtin_unreachable();
}

// ---- System calls and locked threads -----------------------------------------------
//
// The goroutine side of a system call (enter, the exit fast paths) is in
// src/sched/syscall.c; the parts that need the scheduler's own lists are here.

// Go's handoffp: pp was taken from an M that blocks (in a system call, or
// waiting for its locked goroutine). Work for it, local or global: an M runs
// it. Nobody spinning or idle: a spinning M takes it to look for work.
// Otherwise it goes idle (or stops, if the world is stopping); its timers
// are left to the timer sleeper.
void
rt_handoffp(P *pp)
{
    M *self = rt_m();
    if (self != NULL)
        self->locks++;
    atomic_signal_fence(memory_order_seq_cst);
    if (!runqempty(pp) || atomic_load_explicit(&rt_sched.runqsize, memory_order_relaxed) != 0) {
        startm1(pp, false);
        goto out;
    }
    if (atomic_load_explicit(&rt_sched.nmspinning, memory_order_relaxed) +
                atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed) ==
        0) {
        int32_t z = 0;
        if (atomic_compare_exchange_strong_explicit(&rt_sched.nmspinning, &z, 1,
                                                    memory_order_acq_rel, memory_order_relaxed)) {
            startm1(pp, true);
            goto out;
        }
    }
    rt_lock(&rt_sched.lock);
    if (atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed)) {
        atomic_store_explicit(&pp->status, P_GCSTOP, memory_order_release);
        if (!atomic_load_explicit(&rt_sched.gcsuspend, memory_order_relaxed) &&
            --rt_sched.stopwait == 0)
            rt_note_wakeup(&rt_sched.stopnote);
        rt_unlock(&rt_sched.lock);
        goto out;
    }
    if (atomic_load_explicit(&rt_sched.runqsize, memory_order_relaxed) != 0) {
        rt_unlock(&rt_sched.lock);
        startm1(pp, false);
        goto out;
    }
    // The last running P, goroutines parked on descriptors and nobody
    // blocked in the poller: start an M on pp to poll (Go's handoffp rule).
    if (rt_netpoll_waiters() > 0 &&
        atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed) ==
                atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed) - 1 &&
        atomic_load_explicit(&rt_netpoll_lastpoll, memory_order_relaxed) != 0) {
        rt_unlock(&rt_sched.lock);
        startm1(pp, false);
        goto out;
    }
    int64_t when = atomic_load_explicit(&pp->timer0when, memory_order_relaxed);
    rt_pidleput(pp);
    rt_unlock(&rt_sched.lock);
    if (when != 0)
        rt_sched_timer_wake(when);
out:
    atomic_signal_fence(memory_order_seq_cst);
    if (self != NULL)
        self->locks--;
}

bool
rt_exitsyscall_pidle(void)
{
    if (atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed) == 0)
        return false;
    rt_lock(&rt_sched.lock);
    P *pp = rt_pidleget();
    rt_unlock(&rt_sched.lock);
    if (pp == NULL)
        return false;
    acquirep(pp);
    return true;
}

// exitsyscall0 (on g0): no P came back to the goroutine. Run it on an idle
// P if one appeared, else queue it globally and park this thread; a locked
// goroutine's thread waits for it instead (a P is handed to it).
static RT_G0_NORETURN_FN void
exitsyscall0(G *gp)
{
    san_on_g0();
    M *m = rt_m();
    atomic_store_explicit(&gp->status, G_RUNNABLE, memory_order_release);
    RT_STORE(m->curg, NULL);
    RT_STORE(gp->m, NULL);
    rt_lock(&rt_sched.lock);
    P *pp = atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed) ? NULL : rt_pidleget();
    if (pp == NULL)
        globrunqput(gp);
    rt_unlock(&rt_sched.lock);
    if (pp != NULL) {
        acquirep(pp);
        execute(gp, false);
        return;
    }
    if (m->lockedg == gp) {
        stoplockedm();
        execute(gp, false);
        return;
    }
    stopm();
    schedule();
}

void
rt_exitsyscall_park(void)
{
    mcall(exitsyscall0, false);
}

// The M of a locked goroutine that stopped running: give its P away and
// sleep until startlockedm hands it one with the goroutine runnable.
static void
stoplockedm(void)
{
    M *m = rt_m();
    if (m->p) {
        m->locks++;
        P *pp = releasep();
        rt_handoffp(pp);
        m->locks--;
    }
    rt_lock(&rt_sched.lock);
    rt_sched.nmidlelocked++;
    rt_checkdead();
    rt_unlock(&rt_sched.lock);
    rt_note_sleep(&m->park);
    rt_note_clear(&m->park);
    rt_lock(&rt_sched.lock);
    rt_sched.nmidlelocked--;
    rt_unlock(&rt_sched.lock);
    P *pp = m->nextp;
    m->nextp = NULL;
    acquirep(pp);
}

// We took gp, which may run only on gp->lockedm: give that M our P and park.
static void
startlockedm(G *gp)
{
    M *m = rt_m();
    M *mp = gp->lockedm;
    if (mp == m)
        rt_throw("startlockedm: locked to me");
    if (mp->nextp)
        rt_throw("startlockedm: m has p");
    m->locks++;
    P *pp = releasep();
    mp->nextp = pp;
    rt_note_wakeup(&mp->park);
    m->locks--;
    stopm();
}

// ---- Stop the world ---------------------------------------------------------------

static void
preemptall(void)
{
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    M *self = rt_m();
    for (int32_t i = 0; i < np; i++) {
        P *pp = rt_allp[i];
        if (atomic_load_explicit(&pp->status, memory_order_relaxed) != P_RUNNING)
            continue;
        M *mp = RT_LOAD(pp->m);
        if (mp == NULL || mp == self)
            continue;
        G *gp = RT_LOAD(mp->curg);
        if (gp) {
            atomic_store_explicit(&gp->preempt, true, memory_order_relaxed);
            rt_preempt_m(mp);
        }
    }
}

// rt_stop_the_world (sched.lock held): every P in P_SYSCALL goes to
// P_GCSTOP and counts down stopwait.
static void
stop_syscall_ps(void)
{
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    for (int32_t i = 0; i < np; i++) {
        uint32_t s = P_SYSCALL;
        if (atomic_compare_exchange_strong_explicit(&rt_allp[i]->status, &s, P_GCSTOP,
                                                    memory_order_seq_cst, memory_order_relaxed)) {
            atomic_fetch_add_explicit(&rt_allp[i]->syscalltick, 1, memory_order_relaxed);
            rt_sched.stopwait--;
        }
    }
}

// gort_syscall_enter saw gcwaiting after it left pp in P_SYSCALL: stop pp
// unless the stopper or sysmon took it already.
void
rt_entersyscall_gcwait(P *pp)
{
    rt_lock(&rt_sched.lock);
    uint32_t s = P_SYSCALL;
    if (atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed) &&
        atomic_compare_exchange_strong_explicit(&pp->status, &s, P_GCSTOP, memory_order_seq_cst,
                                                memory_order_relaxed)) {
        atomic_fetch_add_explicit(&pp->syscalltick, 1, memory_order_relaxed);
        if (!atomic_load_explicit(&rt_sched.gcsuspend, memory_order_relaxed) &&
            --rt_sched.stopwait == 0)
            rt_note_wakeup(&rt_sched.stopnote);
    }
    rt_unlock(&rt_sched.lock);
}

// An M that sees gcwaiting gives up its P and parks.
static void
gcstopm(void)
{
    M *m = rt_m();
    if (m->spinning) {
        m->spinning = false;
        atomic_fetch_sub_explicit(&rt_sched.nmspinning, 1, memory_order_relaxed);
    }
    rt_lock(&rt_sched.lock);
    // gcwaiting was read without the lock: the stop may be over already.
    // (A collector stop suspends an M wherever it is, findrunnable included,
    // and restarts the world with this M still on its way here; stopping
    // its P now would leave it stopped for good with no one to restart it.)
    // Start-the-world clears gcwaiting under sched.lock.
    if (!atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed)) {
        rt_unlock(&rt_sched.lock);
        return;
    }
    P *pp = releasep();
    // Release: the collector's stopper polls the status without sched.lock
    // and then reads this M's state (gc_sp, curg) and this P's.
    atomic_store_explicit(&pp->status, P_GCSTOP, memory_order_release);
    rt_gcstop_notify();
    // stopwait counts only for rt_stop_the_world; the collector's stopper
    // watches the Ps' status instead (gcstop_wait).
    if (!atomic_load_explicit(&rt_sched.gcsuspend, memory_order_relaxed) &&
        --rt_sched.stopwait == 0)
        rt_note_wakeup(&rt_sched.stopnote);
    rt_unlock(&rt_sched.lock);
    stopm();
}

// worldsema (Go's): one stop-the-world at a time. A collector stop and a
// gort_gomaxprocs stop running together would each wait for the other's P
// forever. The loser yields until the winner restarts the world; while it
// yields it is an ordinary goroutine, so the winner stops it like any other.
static _Atomic uint32_t worldsema;

void
rt_world_acquire(void)
{
    uint32_t zero = 0;
    while (!atomic_compare_exchange_weak_explicit(&worldsema, &zero, 1, memory_order_acquire,
                                                  memory_order_relaxed)) {
        zero = 0;
        rt_gosched();
    }
}

static void
world_release(void)
{
    atomic_store_explicit(&worldsema, 0, memory_order_release);
}

void
rt_stop_the_world(const char *why)
{
    (void)why;
    rt_world_acquire();
    M *m = rt_m();
    m->locks++;
    rt_lock(&rt_sched.lock);
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    rt_sched.stopwait = np;
    atomic_store_explicit(&rt_sched.gcwaiting, 1, memory_order_seq_cst);
    preemptall();
    atomic_store_explicit(&m->p->status, P_GCSTOP, memory_order_relaxed);
    rt_sched.stopwait--;
    for (P *pp; (pp = rt_pidleget()) != NULL;) {
        atomic_store_explicit(&pp->status, P_GCSTOP, memory_order_relaxed);
        rt_sched.stopwait--;
    }
    // Ps left in system calls stop now; their Ms find out at exit. (One
    // that enters a call later stops its P itself: gort_syscall_enter.)
    stop_syscall_ps();
    bool wait = rt_sched.stopwait > 0;
    rt_unlock(&rt_sched.lock);
    if (wait) {
        for (;;) {
            if (rt_note_tsleep(&rt_sched.stopnote, 100 * 1000))
                break;
            preemptall();
        }
        rt_note_clear(&rt_sched.stopnote);
    }
    if (rt_sched.stopwait != 0)
        rt_throw("stoptheworld: not stopped");
}

// The end of both start-the-world kinds: hands each P that has work to an
// M, lets the next stopper in, and wakes a spinning M for what is queued.
void
rt_start_world_tail(M *m, P *runnable)
{
    while (runnable) {
        P *pp = runnable;
        runnable = pp->link;
        pp->link = NULL;
        startm(pp, false);
    }
    m->locks--;
    world_release();
    rt_wakep();
}

void
rt_start_the_world(void)
{
    M *m = rt_m();
    rt_lock(&rt_sched.lock);
    int32_t np = newprocs ? newprocs : atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    newprocs = 0;
    P *runnable = procresize(np);
    atomic_store_explicit(&rt_sched.gcwaiting, 0, memory_order_seq_cst);
    rt_unlock(&rt_sched.lock);
    rt_start_world_tail(m, runnable);
}

// ---- GOMAXPROCS ----------------------------------------------------------------

static void
pinit(P *pp, int32_t id)
{
    pp->id = id;
    pp->mcache = rt_mcache_new();
    atomic_store_explicit(&pp->status, P_GCSTOP, memory_order_relaxed);
}

static void
pdestroy(P *pp, P *to)
{
    // Move its runnable Gs to the global queue.
    bool inh;
    for (G *gp; (gp = runqget(pp, &inh)) != NULL;)
        globrunqput(gp);
    rt_timers_move(pp, to);
    rt_stack_cache_flush(pp);
    rt_lock(&rt_sched.gflock);
    while (pp->gfree) {
        G *g = pp->gfree;
        pp->gfree = g->schedlink;
        g->schedlink = rt_sched.gfree;
        RT_STORE(rt_sched.gfree, g);
        rt_sched.ngfree++;
    }
    pp->ngfree = 0;
    rt_unlock(&rt_sched.gflock);
    atomic_store_explicit(&pp->status, P_DEAD, memory_order_relaxed);
}

// Changes the number of Ps with the world stopped (sched.lock held). Returns
// the list (through link) of Ps with local work, to be started.
static P *
procresize(int32_t nprocs)
{
    M *m = rt_m();
    int32_t old = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    if (nprocs > allplen) {
        P **na = rt_persistentalloc(sizeof(P *) * (size_t)nprocs, 8);
        for (int32_t i = 0; i < allplen; i++)
            na[i] = rt_allp[i];
        for (int32_t i = allplen; i < nprocs; i++) {
            na[i] = rt_persistentalloc(sizeof(P), RT_CACHE_LINE);
            pinit(na[i], i);
        }
        __atomic_store_n(&rt_allp, na, __ATOMIC_RELEASE); // sysmon reads it unlocked
        allplen = nprocs;
    }
    for (int32_t i = old; i < nprocs; i++)
        if (atomic_load_explicit(&rt_allp[i]->status, memory_order_relaxed) == P_DEAD)
            atomic_store_explicit(&rt_allp[i]->status, P_GCSTOP, memory_order_relaxed);
    for (int32_t i = nprocs; i < old; i++)
        pdestroy(rt_allp[i], rt_allp[0]);
    atomic_store_explicit(&rt_gomaxprocs, nprocs, memory_order_release);

    if (m->p && m->p->id >= nprocs) {
        RT_STORE(m->p->m, NULL);
        m->p = NULL;
    }
    if (m->p == NULL) {
        P *pp = rt_allp[0];
        RT_STORE(pp->m, NULL);
        acquirep(pp);
    } else {
        atomic_store_explicit(&m->p->status, P_RUNNING, memory_order_relaxed);
    }
    // Rebuild the idle list from scratch.
    rt_sched.pidle = NULL;
    atomic_store_explicit(&rt_sched.npidle, 0, memory_order_relaxed);
    P *runnable = NULL;
    for (int32_t i = nprocs - 1; i >= 0; i--) {
        P *pp = rt_allp[i];
        if (pp == m->p)
            continue;
        RT_STORE(pp->m, NULL);
        p_idle_or_runnable(pp, &runnable);
    }
    return runnable;
}

void
rt_procinit(int32_t nprocs)
{
    rt_sched_valgrind = rt_valgrind_running(); // before any M but m0 exists
    rt_lock(&rt_sched.lock);
    procresize(nprocs);
    rt_unlock(&rt_sched.lock);
}

// ---- sync support -----------------------------------------------------------------

bool
rt_sync_canspin(int iter)
{
    // Spin only a few times, only on a multicore machine with more than one
    // P, when some other P is running and our local queue is empty.
    if (iter >= 4 || rt_ncpu <= 1)
        return false;
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    if (np <= atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed) +
                      atomic_load_explicit(&rt_sched.nmspinning, memory_order_relaxed) + 1)
        return false;
    P *pp = rt_m()->p;
    return pp && runqempty(pp);
}

void
rt_sync_dospin(void)
{
    for (int i = 0; i < 30; i++)
        rt_arch_pause();
}

// ---- Public API ---------------------------------------------------------------------

void
gort_go(void (*fn)(void *arg), void *arg)
{
    rt_newproc(fn, arg, 0, false, (uintptr_t)__builtin_return_address(0));
}

void
gort_go_stack(void (*fn)(void *arg), void *arg, size_t stack_bytes)
{
    if (rt_unlikely(stack_bytes > rt_malloc_max()))
        rt_out_of_memory(stack_bytes); // a stack no machine could hold
    rt_newproc(fn, arg, stack_bytes, false, (uintptr_t)__builtin_return_address(0));
}

void
gort_yield(void)
{
    rt_gosched();
}

void
gort_goexit(void)
{
    rt_goexit1();
}

int64_t
gort_goid(void)
{
    G *gp = rt_getg();
    return gp ? gp->goid : 0;
}

int
gort_num_goroutine(void)
{
    return rt_gcount();
}

int
gort_gomaxprocs(int n)
{
    int prev = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    if (n >= 1)
        rt_maxprocs_user_set(); // Go 1.25: the program's own setting stays
    if (n < 1 || n == prev)
        return prev;
    rt_gomaxprocs_set(n);
    return prev;
}

void
rt_gomaxprocs_set(int32_t n)
{
    if (n > MAX_GOMAXPROCS)
        n = MAX_GOMAXPROCS;
    rt_stop_the_world("GOMAXPROCS");
    newprocs = n;
    rt_start_the_world();
}

void
gort_exit(int code)
{
    fflush(NULL);
    rt_exit(code);
}

void
rt_sysmon_start(void)
{
    newm(true, NULL, false);
}
