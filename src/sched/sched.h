// sched.h: what the scheduler's files share (internal to src/sched).
//
// rt.h has the types (G, M, P, Sched) and the scheduler's interface to the
// other subsystems; proc.c's top tells the scheduler as a whole. The files:
//
//   proc.c     G/M/P: goroutine creation and exit, M creation and parking,
//              P ownership and the idle lists, the scheduler loop, park and
//              ready, the system-call and locked-thread hand-offs, stop and
//              start the world, GOMAXPROCS, the public API
//   runq.c     the run queues: each P's lock-free ring and runnext, the
//              global queue
//   gcstop.c   the collector's stop-the-world by signals, and the stack scan
//              it allows
//   sudog.c    the sudog cache (sudog.h: the Sudog, shared with src/chan and
//              src/sync)
//   fiber.c    the stack switches told to ASan, TSan and valgrind (fiber.h:
//              the always-inline part, included here)
//   syscall.c  system calls, the goroutine's errno, locked threads
//   sysmon.c   sysmon: retake, preemption requests, the default GOMAXPROCS
//   preempt.c  preemption at gort's entry points, the return trap
//
// Below, the prototypes shared between these files, grouped by the file that
// defines them, with what each needs held.
#ifndef GORT_SCHED_SCHED_H
#define GORT_SCHED_SCHED_H

#include "rt.h"
#include "sched/fiber.h"

// ---- proc.c ---------------------------------------------------------------

// The idle P list (sched.lock held). rt_pidleput throws if pp has work.
void rt_pidleput(P *pp);
P *rt_pidleget(void);
// Wakes an idle P to run work if there is an idle P and no spinning M.
void rt_wakep(void);
// worldsema: one stop-the-world at a time (rt_stop_the_world and the
// collector's rt_gc_stop_world). On a user goroutine; yields until it wins.
void rt_world_acquire(void);
// The end of both start-the-world kinds: hands each P of runnable (linked
// by link) to an M, drops the m->locks the stopper raised, releases
// worldsema and wakes a spinning M. sched.lock not held.
void rt_start_world_tail(M *m, P *runnable);
// A P taken from a system call (sysmon's retake, gort_syscall_enter_block),
// or given up by an M that must sleep: starts an M for it when there is work,
// else idles it (Go's handoffp). pp is owned by no M.
void rt_handoffp(P *pp);
// gort_syscall_exit's slow path, for exitsyscall: on g0, runs the goroutine on
// an idle P, or queues it globally and parks the thread.
void rt_exitsyscall_park(void);
// Takes an idle P for the calling M (exitsyscall's second chance); false if none.
bool rt_exitsyscall_pidle(void);
// gort_syscall_enter found a stop-the-world pending: stop pp (P_SYSCALL).
void rt_entersyscall_gcwait(P *pp);
// Sets GOMAXPROCS to n (stop the world, resize). On a user goroutine.
void rt_gomaxprocs_set(int32_t n);

// ---- runq.c ---------------------------------------------------------------
// (runq.c's top tells the queues; the static inline ones below are theirs.)

// Puts gp (G_RUNNABLE) on pp's queue; next: in runnext, so that it runs
// right after the caller. Only pp's owner puts.
void rt_runqput(P *pp, G *gp, bool next);
// Steals half of p2's Gs into pp's queue (pp's owner); returns one of them
// to run, or NULL. steal_runnext: take p2's runnext when its ring is empty.
G *rt_runqsteal(P *pp, P *p2, bool steal_runnext);
// The global queue (sched.lock held). rt_globrunqget takes a fair share of
// it (at most max if max > 0, and half a ring), returns the first and puts
// the rest on pp's queue; NULL if the queue is empty.
G *rt_globrunqget(P *pp, int32_t max);

// Puts gp (G_RUNNABLE) at the global queue's tail; sched.lock held.
static inline void
globrunqput(G *gp)
{
    san_release_g(gp);
    gp->schedlink = NULL;
    if (rt_sched.runq_tail)
        rt_sched.runq_tail->schedlink = gp;
    else
        rt_sched.runq_head = gp;
    rt_sched.runq_tail = gp;
    atomic_fetch_add_explicit(&rt_sched.runqsize, 1, memory_order_relaxed);
}

// True if pp has nothing queued, runnext included; any thread, no lock (a
// consistent snapshot of head, tail and runnext).
static inline bool
runqempty(P *pp)
{
    for (;;) {
        uint32_t head = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
        uint32_t tail = atomic_load_explicit(&pp->runqtail, memory_order_acquire);
        G *next = atomic_load_explicit(&pp->runnext, memory_order_acquire);
        if (tail == atomic_load_explicit(&pp->runqtail, memory_order_acquire))
            return head == tail && next == NULL;
    }
}

// A P taken back after a stop of the world, sched.lock held: idle if its
// run queue is empty, else onto *runnable (linked through P.link) for the
// caller to start an M for it.
static inline void
p_idle_or_runnable(P *pp, P **runnable)
{
    rt_assert_held(&rt_sched.lock);
    if (runqempty(pp)) {
        rt_pidleput(pp);
    } else {
        atomic_store_explicit(&pp->status, P_IDLE, memory_order_relaxed);
        pp->link = *runnable;
        *runnable = pp;
    }
}

// Takes a G off pp's queue (runnext first), or NULL; *inherit: it came from
// runnext and inherits the time slice.
static inline G *
runqget(P *pp, bool *inherit)
{
    G *next = atomic_load_explicit(&pp->runnext, memory_order_relaxed);
    if (next && atomic_compare_exchange_strong_explicit(
                        &pp->runnext, &next, NULL, memory_order_acq_rel, memory_order_relaxed)) {
        *inherit = true;
        return next;
    }
    for (;;) {
        uint32_t h = atomic_load_explicit(&pp->runqhead, memory_order_acquire);
        uint32_t t = atomic_load_explicit(&pp->runqtail, memory_order_relaxed);
        RT_ASSERT_INVARIANT(t - h <= RUNQ_SIZE); // the owner reads its own tail
        if (t == h)
            return NULL;
        G *gp = atomic_load_explicit(&pp->runq[h % RUNQ_SIZE], memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&pp->runqhead, &h, h + 1, memory_order_release,
                                                  memory_order_relaxed)) {
            *inherit = false;
            return gp;
        }
    }
}

// ---- gcstop.c -------------------------------------------------------------

// A P was marked P_GCSTOP: wakes the collector's stopper if it sleeps.
// Signal-safe; any lock may be held.
void rt_gcstop_notify(void);

// ---- sysmon.c -------------------------------------------------------------

// sysmon's loop: runs on its own M without a P (started by rt_sysmon_start).
void rt_sysmon(void);
// GODEBUG=schedtrace: one SCHED line; detailed: a line for every P, M and
// live G.
void rt_schedtrace(bool detailed);

#endif // GORT_SCHED_SCHED_H
