// preempt.c: preemption of goroutines that live in gort's calls or in libc.
//
// Sysmon asks a goroutine that has run 10 ms to yield (gp->preempt, then
// SIGURG, see sysmon.c and src/os/linux/signal.c). The signal rewrites the
// interrupted context only where the pc is the program's own code: inside
// gort a lock or a half-made object may be held, and a goroutine is never
// moved at a point inside libc or another shared object (their locks and
// thread caches belong to the thread; docs/api contract). Two more ways
// reach the rest:
//
//   Entry points. gort's public calls test gp->preempt at a point where the
//   goroutine holds nothing (rt_preempt_point: one relaxed load, one branch
//   that is not taken): gort_alloc after the object is made, the channel,
//   select, sync and sleep calls on entry. A set flag yields the P
//   (rt_gosched) as Go's stack-check preemption does.
//
//   Return trap. A goroutine interrupted in libc (or another shared object)
//   before its current function has pushed anything -- memset, memcpy,
//   strlen and the other leaf string functions spend all their time so --
//   has its return address at sp. If that address lies in the program's own
//   text, just after a call instruction, the handler saves it in the G
//   (trap_ret, trap_slot) and writes rt_arch_preempt_trap in its place. The
//   goroutine runs on, on its thread, until the libc function returns into
//   the stub, which saves every register, puts the saved address back into
//   its own return slot (rt_preempt_trap_fire) and yields as an async
//   preemption does; it then returns to the caller with every register as
//   the libc function left it. Nothing is moved while inside libc.
//   The handler arms at most one trap per goroutine; a frame that was left
//   without returning (longjmp) is noticed when the goroutine is next seen
//   above the slot and the trap forgotten.
//
// Where no signal is sent (ThreadSanitizer builds, GODEBUG=asyncpreemptoff=1)
// and under Valgrind (signal.c) only the entry points preempt.
#include "rt.h"

void
rt_preempt_yield(void)
{
    M *m = rt_m();
    G *gp = m->curg;
    if (gp == NULL || m->locks != 0 || m->p == NULL)
        return;
    if (atomic_load_explicit(&gp->status, memory_order_relaxed) != G_RUNNING)
        return;
    atomic_store_explicit(&gp->preempt, false, memory_order_relaxed);
    rt_gosched();
}

bool
rt_preempt_trap_fire(G *gp, uintptr_t *ret)
{
    *ret = gp->trap_ret;
    gp->trap_ret = 0;
    gp->trap_slot = 0;
    M *m = rt_m();
    // A request met in the meantime (an entry point yielded) needs no second
    // yield; one held locks or no P cannot yield here.
    return atomic_load_explicit(&gp->preempt, memory_order_relaxed) && m->locks == 0 &&
           m->p != NULL;
}

bool
rt_preempt_trap_arm(G *gp, uintptr_t pc, uintptr_t sp)
{
    (void)pc;
    if (gp->trap_slot != 0)
        return false; // armed already
    uintptr_t *slot = rt_arch_leaf_ret_slot(sp);
    if ((uintptr_t)slot < sp || (uintptr_t)slot + sizeof(uintptr_t) > gp->stack_hi)
        return false;
    uintptr_t ret = *slot;
    // The program's own code, preceded by a call: a return address, not a
    // value the function keeps at sp.
    if (!rt_async_safe_pc(ret) || !rt_async_safe_pc(ret - 8) || !rt_arch_after_call(ret))
        return false;
    gp->trap_ret = ret;
    gp->trap_slot = (uintptr_t)slot;
    *slot = (uintptr_t)rt_arch_preempt_trap;
    return true;
}

void
rt_preempt_trap_forget(G *gp, uintptr_t sp)
{
    if (gp->trap_slot != 0 && sp > gp->trap_slot) {
        gp->trap_slot = 0;
        gp->trap_ret = 0;
    }
}
