// sysmon.c: the system monitor, on its own M without a P.
//
// Go's rule for its sleep: 20 us while something happens, doubling after 50
// idle rounds (about 1 ms) up to 10 ms. When every P is idle it sleeps on
// sched.sysmonnote until the next timer (or 1 minute) and pidleget() wakes it
// when a P gets busy again, so an idle program uses no CPU.
//
// Each round it:
//   - refreshes sched.coarse_now (wait ages in goroutine dumps);
//   - retakes: a P whose schedtick has not moved for 10 ms runs one
//     goroutine too long; sysmon asks its M to preempt it (SIGURG, see
//     src/os/linux/signal.c), and retries each round until it moves,
//     every 200 us for the first 40 ms of the goroutine's run (a signal
//     that found it inside libc may find it in its own code next time);
//     a P left in P_SYSCALL by gort_syscall_enter is taken from the call
//     and handed to another M (rt_handoffp) with Go's rules: not in the
//     round after its syscalltick moved (a call that short was not worth
//     it), and not while it has no work, some P idles or an M spins and
//     the call is under 10 ms old;
//   - starts an M when a timer is due and a P is idle but nobody looks;
//   - polls the network when nobody did for 10 ms (src/netpoll/netpoll.h);
//   - prints GODEBUG=schedtrace lines;
//   - returns long-idle cached goroutine stacks to the OS;
//   - about once a second, re-reads the CPU limit (affinity mask, cgroup
//     v2 quota: rt_os_cpu_limit) and, when the default GOMAXPROCS is in
//     force and the limit changed, has the updater goroutine resize (it
//     stops the world, which sysmon, without a P, cannot).
#include "core/debugvars.h"
#include "gc/gc.h" // rt_gc_sysmon_tick
#include "netpoll/netpoll.h"
#include "rt.h"
#include "sched/sched.h"

enum {
    FORCE_PREEMPT_NS = 10 * 1000 * 1000,
    // A request the handler could not act on (the goroutine was in libc
    // outside a leaf, see preempt.c) is sent again this often while the
    // goroutine has run less than RETRY_WINDOW_NS: a later signal may land
    // in its own code or at a trap point. Beyond that (a blocking call,
    // say), the normal backoff.
    PREEMPT_RETRY_US = 200,
    PREEMPT_RETRY_WINDOW_NS = 40 * 1000 * 1000,
    SYSCALL_RETAKE_NS = 10 * 1000 * 1000,
    SYSMON_MIN_US = 20,
    SYSMON_MAX_US = 10 * 1000,
    STACK_SCAVENGE_NS = 1000 * 1000 * 1000,
    NETPOLL_NS = 10 * 1000 * 1000,
    MAXPROCS_CHECK_NS = 1000 * 1000 * 1000,
};

static int64_t lasttrace;
static bool preempt_retry; // [owner] sysmon: retake asked for a quick retry

// ---- GOMAXPROCS from the CPU limit (Go 1.25's updateMaxProcsGoroutine) ----

static struct {
    Lock lock;          // guards g's hand-off: the fields tagged [lock]
    G *g;               // [lock] the updater goroutine, or NULL
    bool idle;          // [lock] g is parked, waiting for sysmon
    int32_t want;       // [lock] what g is to apply
    _Atomic bool user;  // [atomic] GOMAXPROCS or gort_gomaxprocs set it: never update
    _Atomic int source; // [atomic] RT_CPU_* of the last reading
} maxprocs;

static int32_t
maxprocs_read(void)
{
    int src;
    int n = rt_os_cpu_limit(&src);
    atomic_store_explicit(&maxprocs.source, src, memory_order_relaxed);
    return n < 1 ? 1 : n > 1024 ? 1024 : n;
}

int32_t
rt_maxprocs_default(void)
{
    return maxprocs_read();
}

void
rt_maxprocs_user_set(void)
{
    atomic_store_explicit(&maxprocs.user, true, memory_order_relaxed);
}

static void
maxprocs_main(void *arg)
{
    (void)arg;
    for (;;) {
        rt_lock(&maxprocs.lock);
        maxprocs.idle = true;
        rt_parkunlock(&maxprocs.lock, WAIT_UPDATE_MAXPROCS);
        rt_lock(&maxprocs.lock);
        int32_t n = maxprocs.want;
        rt_unlock(&maxprocs.lock);
        if (!atomic_load_explicit(&maxprocs.user, memory_order_relaxed) && n >= 1 &&
            n != atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed))
            rt_gomaxprocs_set(n);
    }
}

void
rt_maxprocs_start(void)
{
    if (atomic_load_explicit(&maxprocs.user, memory_order_relaxed))
        return;
    G *gp = rt_newproc(maxprocs_main, NULL, 0, true, 0);
    rt_lock(&maxprocs.lock);
    maxprocs.g = gp;
    rt_unlock(&maxprocs.lock);
}

// Sysmon, about once a second.
static void
maxprocs_check(void)
{
    if (atomic_load_explicit(&maxprocs.user, memory_order_relaxed))
        return;
    int32_t n = maxprocs_read();
    if (n == atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed))
        return;
    rt_lock(&maxprocs.lock);
    G *gp = maxprocs.idle ? maxprocs.g : NULL;
    if (gp != NULL) {
        maxprocs.idle = false;
        maxprocs.want = n;
    }
    rt_unlock(&maxprocs.lock);
    if (gp != NULL)
        rt_ready(gp, false);
}

static const char *
maxprocs_source(void)
{
    if (atomic_load_explicit(&maxprocs.user, memory_order_relaxed))
        return "set";
    switch (atomic_load_explicit(&maxprocs.source, memory_order_relaxed)) {
    case RT_CPU_AFFINITY:
        return "affinity";
    case RT_CPU_CGROUP:
        return "cgroup";
    default:
        return "cpus";
    }
}

// A P in a system call: take it (Go's rules, above). True if retaken.
static bool
retake_syscall(P *pp, int64_t now)
{
    uint32_t t = atomic_load_explicit(&pp->syscalltick, memory_order_relaxed);
    if (pp->sysmon_syscalltick != t) {
        pp->sysmon_syscalltick = t;
        pp->sysmon_syscallwhen = now;
        return false;
    }
    if (runqempty(pp) &&
        atomic_load_explicit(&rt_sched.nmspinning, memory_order_relaxed) +
                        atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed) >
                0 &&
        pp->sysmon_syscallwhen + SYSCALL_RETAKE_NS > now)
        return false;
    uint32_t s = P_SYSCALL;
    if (!atomic_compare_exchange_strong_explicit(&pp->status, &s, P_IDLE, memory_order_seq_cst,
                                                 memory_order_relaxed))
        return false; // the call returned, or the world stopped it
    atomic_fetch_add_explicit(&pp->syscalltick, 1, memory_order_relaxed);
    rt_handoffp(pp);
    return true;
}

// Preempts goroutines that have run for more than 10 ms, and takes Ps from
// system calls. Returns how many Ps it took back from calls; preemption
// requests do not count, as in Go, so a steady stream of them does not
// keep sysmon at its shortest sleep.
static int
retake(int64_t now)
{
    int n = 0;
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_acquire);
    for (int32_t i = 0; i < np; i++) {
        P *pp = __atomic_load_n(&rt_allp, __ATOMIC_ACQUIRE)[i];
        if (pp == NULL)
            continue;
        uint32_t st = atomic_load_explicit(&pp->status, memory_order_relaxed);
        if (st == P_SYSCALL) {
            // Its M is in the call: never signalled, only relieved of its P.
            if (retake_syscall(pp, now))
                n++;
            continue;
        }
        if (st != P_RUNNING)
            continue;
        uint32_t t = RT_LOAD(pp->schedtick);
        if (atomic_load_explicit(&pp->sysmontick, memory_order_relaxed) != t) {
            atomic_store_explicit(&pp->sysmontick, t, memory_order_relaxed);
            pp->sysmonwhen = now;
            continue;
        }
        if (pp->sysmonwhen + FORCE_PREEMPT_NS > now)
            continue;
        M *mp = RT_LOAD(pp->m);
        if (mp == NULL)
            continue;
        G *gp = RT_LOAD(mp->curg);
        if (gp == NULL)
            continue;
        atomic_store_explicit(&gp->preempt, true, memory_order_relaxed);
        if (!rt_debug.asyncpreemptoff) {
            rt_preempt_m(mp);
            if (now - pp->sysmonwhen < PREEMPT_RETRY_WINDOW_NS)
                preempt_retry = true;
        }
    }
    return n;
}

static bool
all_idle(void)
{
    return atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed) ==
           atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
}

void
rt_sysmon_wake(void)
{
    rt_lock(&rt_sched.lock);
    if (atomic_load_explicit(&rt_sched.sysmonwait, memory_order_relaxed)) {
        atomic_store_explicit(&rt_sched.sysmonwait, 0, memory_order_relaxed);
        rt_note_wakeup(&rt_sched.sysmonnote);
    }
    rt_unlock(&rt_sched.lock);
}

void
rt_sysmon(void)
{
    int idle = 0;
    int64_t delay = 0;
    int64_t last_scavenge = rt_nanotime(), last_maxprocs = last_scavenge;
    lasttrace = rt_nanotime();
    for (;;) {
        if (idle == 0)
            delay = SYSMON_MIN_US;
        else if (idle > 50)
            delay *= 2;
        if (delay > SYSMON_MAX_US)
            delay = SYSMON_MAX_US;
        rt_os_usleep(preempt_retry && delay > PREEMPT_RETRY_US ? PREEMPT_RETRY_US : delay);
        preempt_retry = false;
        int64_t now = rt_nanotime();
        atomic_store_explicit(&rt_sched.coarse_now, now, memory_order_relaxed);

        if (rt_debug.schedtrace <= 0 && all_idle() &&
            !atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed)) {
            rt_lock(&rt_sched.lock);
            // A concurrent mark's marker that finished wakes sysmon under
            // this lock (rt_sysmon_wake); one that finished before is seen
            // here, so that its cycle is ended now, not at the next timer.
            if (all_idle() && !rt_gc_mark_done()) {
                atomic_store_explicit(&rt_sched.sysmonwait, 1, memory_order_relaxed);
                rt_unlock(&rt_sched.lock);
                int64_t sleep = 60LL * 1000 * 1000 * 1000;
                int64_t next = rt_timers_next();
                if (next != 0 && next - now < sleep)
                    sleep = next - now > 0 ? next - now : 0;
                // The CPU limit is re-read even while the program is idle.
                if (!atomic_load_explicit(&maxprocs.user, memory_order_relaxed) &&
                    sleep > MAXPROCS_CHECK_NS)
                    sleep = MAXPROCS_CHECK_NS;
                rt_note_tsleep(&rt_sched.sysmonnote, sleep);
                rt_lock(&rt_sched.lock);
                atomic_store_explicit(&rt_sched.sysmonwait, 0, memory_order_relaxed);
                rt_note_clear(&rt_sched.sysmonnote);
                rt_unlock(&rt_sched.lock);
                idle = 0;
                delay = SYSMON_MIN_US;
                now = rt_nanotime();
                atomic_store_explicit(&rt_sched.coarse_now, now, memory_order_relaxed);
            } else {
                rt_unlock(&rt_sched.lock);
            }
        }

        rt_gc_sysmon_poll(); // a concurrent mark that nobody allocates to end
        // Nobody polled the network for 10 ms (every M busy): look, and
        // queue what became ready (Go's sysmon netpoll).
        int64_t lastpoll = atomic_load_explicit(&rt_netpoll_lastpoll, memory_order_relaxed);
        if (rt_netpoll_inited() && lastpoll != 0 && lastpoll + NETPOLL_NS < now &&
            atomic_compare_exchange_strong(&rt_netpoll_lastpoll, &lastpoll, now)) {
            // From the poll until the goroutines it readies are queued they
            // are neither waiters nor runnable anywhere: sysmon counts as a
            // running M meanwhile (as Go's incidlelocked(-1) around its
            // injectglist), or the last M to stop would find no work, no
            // waiter and nobody running, and report a deadlock (seen: api.net
            // under load, "all goroutines are asleep" with them runnable).
            // Counted before the poll: it takes the waiters off the count.
            int32_t n;
            rt_lock(&rt_sched.lock);
            rt_sched.nmidlelocked--;
            rt_unlock(&rt_sched.lock);
            G *list = rt_netpoll(0, &n);
            if (list) {
                rt_sched_injectglist(list, n);
                idle = 0;
            }
            rt_lock(&rt_sched.lock);
            rt_sched.nmidlelocked++;
            // An M that stopped meanwhile did not judge: judge for it.
            if (list == NULL)
                rt_checkdead();
            rt_unlock(&rt_sched.lock);
        }

        if (retake(now) > 0)
            idle = 0;
        else
            idle++;

        // A due timer on a P whose M is busy elsewhere: get an idle P on it.
        int64_t next = rt_timers_next();
        if (next != 0 && next <= now &&
            atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed) > 0)
            rt_wakep();

        if (rt_debug.schedtrace > 0 && lasttrace + (int64_t)rt_debug.schedtrace * 1000000 <= now) {
            lasttrace = now;
            rt_schedtrace(rt_debug.scheddetail > 0);
        }
        if (now - last_maxprocs >= MAXPROCS_CHECK_NS) {
            last_maxprocs = now;
            maxprocs_check();
        }
        if (now - last_scavenge >= STACK_SCAVENGE_NS) {
            last_scavenge = now;
            rt_stack_scavenge(now);
            rt_gc_sysmon_tick(now); // forced GC after 2 minutes without one
        }
    }
}

static const char *
pstatus_str(uint32_t s)
{
    switch (s) {
    case P_IDLE:
        return "idle";
    case P_RUNNING:
        return "running";
    case P_SYSCALL:
        return "syscall";
    case P_GCSTOP:
        return "gcstop";
    default:
        return "dead";
    }
}

// Prints Go's "SCHED" line, and with detail a line per P, M and G. Reads
// without locks: the figures are a snapshot, as in Go.
void
rt_schedtrace(bool detailed)
{
    int64_t now = rt_nanotime();
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_acquire);
    int32_t nthreads = rt_sched.mcount;
    rt_printf("SCHED %lldms: gomaxprocs=%d idleprocs=%d threads=%d spinningthreads=%d "
              "needspinning=0 idlethreads=%d runqueue=%d",
              (long long)((now - rt_starttime) / 1000000), np,
              atomic_load_explicit(&rt_sched.npidle, memory_order_relaxed), nthreads,
              atomic_load_explicit(&rt_sched.nmspinning, memory_order_relaxed), rt_sched.nmidle,
              atomic_load_explicit(&rt_sched.runqsize, memory_order_relaxed));
    // Which limit set GOMAXPROCS (gort's addition): the affinity mask, the
    // cgroup quota, all CPUs, or the GOMAXPROCS variable / gort_gomaxprocs.
    rt_printf(" gomaxprocslimit=%s", maxprocs_source());
    if (!detailed) {
        rt_printf(" [");
        for (int32_t i = 0; i < np; i++) {
            P *pp = __atomic_load_n(&rt_allp, __ATOMIC_ACQUIRE)[i];
            uint32_t n = atomic_load_explicit(&pp->runqtail, memory_order_relaxed) -
                         atomic_load_explicit(&pp->runqhead, memory_order_relaxed);
            if (atomic_load_explicit(&pp->runnext, memory_order_relaxed))
                n++;
            rt_printf(i ? " %u" : "%u", n);
        }
        rt_printf("]\n");
        return;
    }
    rt_printf("\n");
    for (int32_t i = 0; i < np; i++) {
        P *pp = __atomic_load_n(&rt_allp, __ATOMIC_ACQUIRE)[i];
        M *mp = RT_LOAD(pp->m);
        uint32_t n = atomic_load_explicit(&pp->runqtail, memory_order_relaxed) -
                     atomic_load_explicit(&pp->runqhead, memory_order_relaxed);
        rt_printf("  P%d: status=%u (%s) schedtick=%u syscalltick=%u m=%lld runqsize=%u "
                  "gfreecnt=%d timerslen=%d\n",
                  pp->id, atomic_load_explicit(&pp->status, memory_order_relaxed),
                  pstatus_str(atomic_load_explicit(&pp->status, memory_order_relaxed)),
                  pp->schedtick, atomic_load_explicit(&pp->syscalltick, memory_order_relaxed),
                  mp ? (long long)mp->id : -1LL, n, pp->ngfree, pp->ntimers);
    }
    for (M *mp = atomic_load_explicit(&rt_allm, memory_order_acquire); mp; mp = mp->alllink) {
        P *pp = mp->p;
        G *gp = RT_LOAD(mp->curg);
        G *lg = RT_LOAD(mp->lockedg);
        rt_printf("  M%lld: p=%d curg=%lld mallocing=0 throwing=0 preemptoff= locks=%d "
                  "dying=0 spinning=%s blocked=false lockedg=%lld%s\n",
                  (long long)mp->id, pp ? pp->id : -1, gp ? (long long)gp->goid : -1LL, mp->locks,
                  mp->spinning ? "true" : "false", lg ? (long long)lg->goid : -1LL,
                  mp->is_sysmon ? " (sysmon)" : "");
    }
    for (G *gp = rt_allg; gp; gp = gp->alllink) {
        uint32_t st = atomic_load_explicit(&gp->status, memory_order_relaxed);
        if (st == G_DEAD || st == G_IDLE)
            continue;
        M *mp = gp->m;
        M *lm = RT_LOAD(gp->lockedm);
        rt_printf("  G%lld: status=%u(%s) m=%lld lockedm=%lld\n", (long long)gp->goid, st,
                  st == G_WAITING ? rt_waitreason_str(gp->waitreason) : "",
                  mp ? (long long)mp->id : -1LL, lm ? (long long)lm->id : -1LL);
    }
}
