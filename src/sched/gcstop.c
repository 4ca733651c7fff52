// gcstop.c: the collector's stop-the-world, by signals.
//
// rt_gc_stop_world sets gcwaiting (Ms that enter the scheduler stop there,
// in gcstopm, as for rt_stop_the_world) and sends every M still running a
// goroutine a suspension request (SIGURG with m->gc_suspend_req). Its
// handler, wherever the thread is (user code, libc, a blocking system
// call), saves the interrupted sp and registers in the M, marks its P
// stopped and sleeps on sched.gc_epoch until the world restarts; an M
// holding a runtime Lock is not suspended inside it but at its last unlock
// (rt_gc_suspend_self). The stopper waits until all Ps are stopped,
// repeating the request every 100 us to 1 ms in case a signal raced with a
// scheduler transition (see gcstop below). A suspended M keeps its P
// (pp->m stays set). A P in a system call is stopped by the stopper itself
// (P_SYSCALL -> P_GCSTOP), its M never signalled. rt_gc_start_world bumps
// gc_epoch, which wakes every suspended M, and hands the stopped Ps nobody
// holds to Ms (or to the idle list). rt_gc_scan_stacks, in between, gives
// the collector each goroutine's and thread's live stack and registers.
//
// Invariants: the world is stopped when every P is P_GCSTOP. An M that
// suspends itself saves its sp and registers before it publishes P_GCSTOP
// and clears them only after it published P_RUNNING again, so a stopper
// that counts its P stopped finds them valid. The stopper holds worldsema
// (rt_world_acquire) and keeps m->locks raised from the stop to the
// restart, so it is never suspended itself.
//
// Locks: sched.lock while the stopper takes the idle Ps and while the
// restart gives them back (with gcsuspend and gcwaiting changed under it).
// The rest is atomics: the stopper and a suspending M meet on P.status and
// sched.gcsuspend, both seq_cst (a Dekker pair, see gc_wait_epoch); the
// handler takes no lock. m->gc_sp and m->gc_regs are the M's own and read
// only with the world stopped ([stw] for the collector), as are rt_allm's
// and rt_allg's lists in rt_gc_scan_stacks.
#include "sched/sched.h"

enum { GC_STOP_RESIGNAL_NS = 100 * 1000, GC_STOP_RESIGNAL_MAX_NS = 1000 * 1000 };

// The stopper does not poll: after a few PAUSEs and one yield it sleeps on
// gcstop.seq, which an M that marks its P stopped bumps (rt_gcstop_notify,
// signal-safe) when the stopper sleeps, until the next resignal. The
// resignal period doubles from 100 us to 1 ms: on a loaded machine the M is
// usually waiting for a CPU, not for another signal.
static struct {
    _Atomic uint32_t seq;   // [atomic] futex: a P reached P_GCSTOP
    _Atomic uint32_t sleep; // [atomic] the stopper sleeps (or is about to) on seq
} gcstop;

void
rt_gcstop_notify(void)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&gcstop.sleep, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&gcstop.seq, 1, memory_order_seq_cst);
        rt_os_futexwake(&gcstop.seq, 1);
    }
}

static bool
gcstop_all(int32_t np)
{
    for (int32_t i = 0; i < np; i++)
        if (atomic_load_explicit(&rt_allp[i]->status, memory_order_seq_cst) != P_GCSTOP)
            return false;
    return true;
}

// One round of the stopper's wait (spins counts the rounds), until `until`.
static void
gcstop_wait(int32_t np, int spins, int64_t until)
{
    enum { ACTIVE = 50 };
    if (spins < ACTIVE && rt_ncpu > 1) {
        rt_arch_pause();
        return;
    }
    if (spins <= ACTIVE) {
        rt_os_osyield();
        return;
    }
    atomic_fetch_add_explicit(&gcstop.sleep, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    uint32_t v = atomic_load_explicit(&gcstop.seq, memory_order_relaxed);
    int64_t left = until - rt_nanotime();
    if (left > 0 && !gcstop_all(np))
        rt_os_futexsleep(&gcstop.seq, v, left);
    atomic_fetch_sub_explicit(&gcstop.sleep, 1, memory_order_relaxed);
}

// The P is marked running again before gcsuspend is checked (seq_cst on both
// sides, as Dekker): a stop that began before this M was scheduled after
// the last restart either sees P_RUNNING and signals again, or is seen here
// and the M stays stopped with its saved registers (still valid: it has not
// run). Without this, a stopper could count the stale P_GCSTOP of an M that
// had not woken yet, and the M would then run during the next mark.
//
// Each round reads the epoch, publishes P_GCSTOP, and only then looks at
// gcsuspend: the M never sleeps on an epoch whose restart is already past
// (it would hold its P through every later stop of the world).
static void
gc_wait_epoch(M *m, P *pp)
{
    for (;;) {
        uint32_t epoch = atomic_load_explicit(&rt_sched.gc_epoch, memory_order_seq_cst);
        atomic_store_explicit(&pp->status, P_GCSTOP, memory_order_seq_cst);
        rt_gcstop_notify();
        if (atomic_load_explicit(&rt_sched.gcsuspend, memory_order_seq_cst)) {
            while (atomic_load_explicit(&rt_sched.gc_epoch, memory_order_acquire) == epoch)
                rt_os_futexsleep(&rt_sched.gc_epoch, epoch, -1);
        }
        atomic_store_explicit(&pp->status, P_RUNNING, memory_order_seq_cst);
        if (!atomic_load_explicit(&rt_sched.gcsuspend, memory_order_seq_cst))
            break;
    }
    m->gc_sp = 0;
    // The saved registers are stale now. m0 is a global, scanned with the
    // data segments: a heap address left here would keep its object (and
    // all it reaches) alive for good.
    for (int i = 0; i < RT_ARCH_NGREG; i++)
        m->gc_regs[i] = 0;
}

void
rt_gc_suspend(M *m, uintptr_t sp, const uintptr_t *regs)
{
    atomic_store_explicit(&m->gc_suspend_req, 0, memory_order_relaxed);
    if (!atomic_load_explicit(&rt_sched.gcsuspend, memory_order_acquire))
        return;
    if (m->locks > 0) {
        m->gc_pending = true;
        return;
    }
    P *pp = m->p;
    if (pp == NULL || pp->m != m ||
        atomic_load_explicit(&pp->status, memory_order_relaxed) != P_RUNNING)
        return; // between Ps: the scheduler stops it (gcstopm)
    for (int i = 0; i < RT_ARCH_NGREG; i++)
        m->gc_regs[i] = regs[i];
    m->gc_sp = sp;
    gc_wait_epoch(m, pp);
}

void
rt_gc_suspend_self(void)
{
    M *m = rt_m();
    m->gc_pending = false;
    if (!atomic_load_explicit(&rt_sched.gcsuspend, memory_order_acquire))
        return;
    P *pp = m->p;
    if (pp == NULL || pp->m != m ||
        atomic_load_explicit(&pp->status, memory_order_relaxed) != P_RUNNING)
        return;
    // Spill every callee-saved register into this frame: scanning from sp
    // up then covers whatever the callers keep in registers.
    __builtin_unwind_init();
    for (int i = 0; i < RT_ARCH_NGREG; i++)
        m->gc_regs[i] = 0;
    m->gc_sp = rt_arch_getsp();
    gc_wait_epoch(m, pp);
}

void
rt_gc_stop_world(void)
{
    rt_world_acquire();
    M *m = rt_m();
    m->locks++;
    rt_lock(&rt_sched.lock);
    atomic_store_explicit(&rt_sched.gcsuspend, 1, memory_order_seq_cst);
    atomic_store_explicit(&rt_sched.gcwaiting, 1, memory_order_seq_cst);
    atomic_store_explicit(&m->p->status, P_GCSTOP, memory_order_relaxed);
    for (P *pp; (pp = rt_pidleget()) != NULL;)
        atomic_store_explicit(&pp->status, P_GCSTOP, memory_order_relaxed);
    rt_unlock(&rt_sched.lock);
    // m->locks stays raised until rt_gc_start_world: this M is never
    // suspended itself.

    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    int64_t last_signal = 0, period = GC_STOP_RESIGNAL_NS;
    for (int spins = 0;; spins++) {
        bool all = true;
        int64_t now = rt_nanotime();
        bool resignal = now - last_signal >= period;
        for (int32_t i = 0; i < np; i++) {
            P *pp = rt_allp[i];
            // seq_cst: pairs with gc_wait_epoch's store-then-check.
            uint32_t st = atomic_load_explicit(&pp->status, memory_order_seq_cst);
            if (st == P_GCSTOP)
                continue;
            // A P in a system call stops without its M, which is never
            // signalled there: the goroutine is scanned from what
            // gort_syscall_enter saved, and its exit waits for the restart.
            if (st == P_SYSCALL &&
                atomic_compare_exchange_strong_explicit(
                        &pp->status, &st, P_GCSTOP, memory_order_seq_cst, memory_order_relaxed)) {
                atomic_fetch_add_explicit(&pp->syscalltick, 1, memory_order_relaxed);
                continue;
            }
            all = false;
            M *mp = RT_LOAD(pp->m);
            if (resignal && mp && mp != m && RT_LOAD(mp->tid)) {
                atomic_store_explicit(&mp->gc_suspend_req, 1, memory_order_release);
                // A signal already in flight carries the request; none is
                // sent into the system-call path.
                if (rt_signal_claim(mp))
                    rt_signal_gc_suspend(mp);
            }
        }
        if (all)
            break;
        if (resignal) {
            if (last_signal != 0 && period < GC_STOP_RESIGNAL_MAX_NS)
                period *= 2;
            last_signal = now;
        }
        gcstop_wait(np, spins, last_signal + period);
    }
}

void
rt_gc_start_world(void)
{
    M *m = rt_m();
    rt_lock(&rt_sched.lock);
    atomic_store_explicit(&rt_sched.gcsuspend, 0, memory_order_seq_cst);
    atomic_store_explicit(&rt_sched.gcwaiting, 0, memory_order_seq_cst);
    atomic_fetch_add_explicit(&rt_sched.gc_epoch, 1, memory_order_release);
    rt_os_futexwake(&rt_sched.gc_epoch, 0x7fffffff);
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    P *runnable = NULL;
    for (int32_t i = np - 1; i >= 0; i--) {
        P *pp = rt_allp[i];
        if (pp == m->p || RT_LOAD(pp->m) != NULL)
            continue; // ours, or held by a suspended M that restarts it
        if (atomic_load_explicit(&pp->status, memory_order_relaxed) != P_GCSTOP)
            continue;
        p_idle_or_runnable(pp, &runnable);
    }
    atomic_store_explicit(&m->p->status, P_RUNNING, memory_order_relaxed);
    rt_unlock(&rt_sched.lock);
    rt_start_world_tail(m, runnable);
}

void
rt_gc_scan_stacks(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg, uintptr_t self_sp)
{
    M *self = rt_m();
    G *me = self->curg;
    // Threads: registers of suspended Ms, and g0 stacks they were using.
    for (M *mp = atomic_load_explicit(&rt_allm, memory_order_acquire); mp; mp = mp->alllink) {
        if (mp->gc_sp == 0)
            continue;
        fn((uintptr_t)mp->gc_regs, (uintptr_t)(mp->gc_regs + RT_ARCH_NGREG), arg);
        uintptr_t sp = mp->gc_sp;
        if (sp > mp->g0_stack_lo && sp <= mp->g0_stack_hi)
            fn(sp - RT_ARCH_REDZONE, mp->g0_stack_hi, arg);
    }
    for (G *gp = rt_allg; gp; gp = gp->alllink) {
        uint32_t st = atomic_load_explicit(&gp->status, memory_order_acquire);
        if (st == G_DEAD || st == G_IDLE || gp->stack_lo == 0 || !gp->started)
            continue;
        uintptr_t lo = gp->sched.sp;
        if (st == G_SYSCALL) {
            // Its thread runs on in the kernel or libc below this sp: scan
            // the callers' frames and the registers saved at the call.
            fn((uintptr_t)gp->syscallregs, (uintptr_t)(gp->syscallregs + RT_ARCH_NCALLEE), arg);
            lo = gp->syscallsp;
        } else if (gp == me && self_sp != 0) {
            lo = self_sp;
        } else if (gp == me) {
            __builtin_unwind_init();
            lo = rt_arch_getsp();
        } else if (gp->m && gp->m->gc_sp > gp->stack_lo && gp->m->gc_sp <= gp->stack_hi &&
                   gp->m->curg == gp) {
            lo = gp->m->gc_sp - RT_ARCH_REDZONE;
        }
        if (lo < gp->stack_lo)
            lo = gp->stack_lo;
        if (lo < gp->stack_hi)
            fn(lo, gp->stack_hi, arg);
    }
}
