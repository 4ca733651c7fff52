// syscall.c: system calls (Go's entersyscall/exitsyscall), the goroutine's
// errno, locked threads and getaddrinfo.
//
// gort_syscall_enter (an asm stub, src/arch/<arch>/asm.S) records the
// caller's callee-saved registers and sp in the G, marks the G G_SYSCALL and
// leaves its P in P_SYSCALL, detached from the M but remembered in m->oldp,
// with p->syscalltick bumped: no hand-off, no wake-up, so a short call costs
// two stores and a CAS. sysmon's retake takes a P that stays in P_SYSCALL
// past a tick (CAS P_SYSCALL -> P_IDLE) and hands it on (rt_handoffp, Go's
// handoffp), so the other goroutines run while this thread blocks.
// gort_syscall_exit's fast path wins its P back with one CAS (P_SYSCALL ->
// P_RUNNING), else takes an idle P; else (on g0, rt_exitsyscall_park) the
// goroutine goes to the global run queue and the thread parks.
// gort_syscall_enter_block hands the P off at once.
//
// Between enter and exit the goroutine stays on its thread and nothing
// switches it out: it is G_SYSCALL (the preemption handler leaves it
// alone) and its M has no P. No signal is sent into the call:
// m->preempt_pending is RT_M_INSYSCALL there, and every sender claims it
// from 0 first (rt_signal_claim, rt_preempt_m). A stop of the world does
// not wait for the call: it CASes P_SYSCALL -> P_GCSTOP and the collector
// scans the goroutine from the saved sp and registers; an exit while the
// world is stopped finds no P and waits in the scheduler for the restart.
// Between enter and exit, code must not store heap pointers into the heap
// nor call gort: it only makes the call (Go's rule for its own syscalls).
//
// errno belongs to the goroutine: mcall (proc.c) saves it in the G at every
// switch-out and execute puts it back on the thread that runs the G next;
// enter and exit keep it as the caller left it.
//
// gort_lock_os_thread nests (Go 1.10+): m->lockedext counts, m->lockedg and
// g->lockedm wire the pair; the scheduler (proc.c: schedule, stoplockedm,
// startlockedm) runs a locked G only on its M and nothing else there. A
// locked goroutine that exits unwires its thread, which goes back to the
// pool (Go ends the thread instead).
#include "rt.h"
#include "sched/sched.h"

#include <errno.h>
#include <netdb.h>

enum { ENTER_SPIN = 64 };

bool
rt_signal_claim(M *mp)
{
    uint32_t zero = 0;
    return atomic_compare_exchange_strong_explicit(&mp->preempt_pending, &zero, 1,
                                                   memory_order_acq_rel, memory_order_relaxed);
}

void
rt_signal_done(M *mp)
{
    uint32_t one = 1;
    atomic_compare_exchange_strong_explicit(&mp->preempt_pending, &one, 0, memory_order_acq_rel,
                                            memory_order_relaxed);
}

// Ends the runtime's critical section of enter/exit: a collector suspension
// asked for meanwhile is taken now (or found moot: no P running here).
static inline void
unlocks(M *m)
{
    if (--m->locks == 0 && rt_unlikely(m->gc_pending))
        rt_gc_suspend_self();
}

void
rt_entersyscall(const uintptr_t *regs, uintptr_t sp, int block)
{
    int e = errno;
    M *m = rt_m();
    G *gp = m != NULL ? m->curg : NULL;
    if (gp == NULL)
        return; // not a goroutine (a thread gort does not run): a plain call
    if (atomic_load_explicit(&gp->status, memory_order_relaxed) != G_RUNNING || m->p == NULL)
        rt_throw("entersyscall inconsistent");
    m->locks++;
    // Close the thread to signals; one already in flight is taken first
    // (its handler sees m->locks and defers, or finds nothing to do).
    for (int i = 0;; i++) {
        uint32_t zero = 0;
        if (atomic_compare_exchange_weak_explicit(&m->preempt_pending, &zero, RT_M_INSYSCALL,
                                                  memory_order_seq_cst, memory_order_relaxed))
            break;
        if (i < ENTER_SPIN)
            rt_arch_pause();
        else
            rt_os_usleep(1);
    }
    for (int i = 0; i < RT_ARCH_NCALLEE; i++)
        gp->syscallregs[i] = regs[i];
    gp->syscallsp = sp;
    gp->syscallpc = ((const uintptr_t *)sp)[-1]; // gort_syscall_enter's return address
    gp->waitsince = atomic_load_explicit(&rt_sched.coarse_now, memory_order_relaxed); // dumps
    P *pp = m->p;
    atomic_fetch_add_explicit(&pp->syscalltick, 1, memory_order_relaxed);
    // Release: the collector reads syscallsp/regs once it sees G_SYSCALL.
    atomic_store_explicit(&gp->status, G_SYSCALL, memory_order_release);
    m->p = NULL;
    RT_STORE(pp->m, NULL);
    if (block) {
        m->oldp = NULL;
        atomic_store_explicit(&pp->status, P_IDLE, memory_order_seq_cst);
        rt_handoffp(pp);
    } else {
        m->oldp = pp;
        // seq_cst, as the stoppers' gcwaiting store then status loads: one
        // of the two sides stops the P.
        atomic_store_explicit(&pp->status, P_SYSCALL, memory_order_seq_cst);
        if (atomic_load_explicit(&rt_sched.sysmonwait, memory_order_relaxed))
            rt_sysmon_wake();
        if (atomic_load_explicit(&rt_sched.gcwaiting, memory_order_seq_cst))
            rt_entersyscall_gcwait(pp);
    }
    unlocks(m);
    errno = e;
}

void
gort_syscall_exit(void)
{
    int e = errno;
    M *m = rt_m();
    G *gp = m != NULL ? m->curg : NULL;
    if (gp == NULL)
        return;
    if (atomic_load_explicit(&gp->status, memory_order_relaxed) != G_SYSCALL)
        rt_throw("exitsyscall: syscall frame is no longer valid");
    m->locks++;
    P *oldp = m->oldp;
    m->oldp = NULL;
    uint32_t s = P_SYSCALL;
    bool have = false;
    if (oldp != NULL &&
        atomic_compare_exchange_strong_explicit(&oldp->status, &s, P_RUNNING, memory_order_seq_cst,
                                                memory_order_relaxed)) {
        m->p = oldp;
        RT_STORE(oldp->m, m);
        have = true;
    } else {
        have = rt_exitsyscall_pidle();
    }
    if (have) {
        atomic_fetch_add_explicit(&m->p->syscalltick, 1, memory_order_relaxed);
        atomic_store_explicit(&gp->status, G_RUNNING, memory_order_release);
        atomic_store_explicit(&m->preempt_pending, 0, memory_order_seq_cst);
        unlocks(m);
        errno = e;
        // A stop-the-world is pending: stop here rather than run until the
        // next safe point (under TSan there is no signal to bring us there).
        if (atomic_load_explicit(&rt_sched.gcwaiting, memory_order_relaxed))
            rt_gosched();
        return;
    }
    // No P (the world is stopped, or sysmon gave ours away and none idles).
    atomic_store_explicit(&m->preempt_pending, 0, memory_order_seq_cst);
    m->locks--;
    errno = e;
    rt_exitsyscall_park(); // saves errno in the G; whichever M runs it restores it
}

// Not inlinable (another unit, noinline): each call reads the errno of the
// thread the goroutine is on now.
RT_NOINLINE int
gort_errno(void)
{
    return errno;
}

void
gort_lock_os_thread(void)
{
    M *m = rt_m();
    G *gp = m != NULL ? m->curg : NULL;
    if (gp == NULL)
        return;
    if (m->lockedext + 1 == 0)
        rt_throw("LockOSThread nesting overflow");
    m->lockedext++;
    m->lockedg = gp;
    gp->lockedm = m;
}

void
gort_unlock_os_thread(void)
{
    M *m = rt_m();
    G *gp = m != NULL ? m->curg : NULL;
    if (gp == NULL || m->lockedext == 0)
        return; // as Go: unlocking an unlocked goroutine does nothing
    if (--m->lockedext == 0) {
        m->lockedg = NULL;
        gp->lockedm = NULL;
    }
}

int
gort_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                 struct addrinfo **res)
{
    // A lookup may take seconds (DNS): give the P away at once.
    gort_syscall_enter_block();
    int r = getaddrinfo(node, service, hints, res);
    gort_syscall_exit();
    return r;
}
