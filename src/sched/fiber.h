// fiber.h: the scheduler's stack switches told to the sanitizers and to
// valgrind (internal to src/sched; fiber.c holds the valgrind flag and the
// TSan hand-back at exit).
//
// ASan and TSan must be told about every stack switch, from the function
// that performs it: a TSan fiber switch followed by a return would pop the
// new fiber's shadow stack, hence always_inline. g0 frames are
// abandoned at each switch to a goroutine, so g0 is a fiber that "dies" every
// time (NULL fake-stack save); goroutines are resumed where they left off.
//
// Invariants. Every switch is bracketed: the side that leaves calls
// san_to_g0 (mcall) or san_to_g (execute) just before the switch routine,
// and the side that arrives calls san_on_g0 (the g0 function mcall runs) or
// san_on_g (back in mcall, or goentry at a goroutine's first run) first.
// Every path that makes a G runnable releases on the G's address
// (san_release_g: rt_runqput, globrunqput) and execute acquires there
// (san_acquire_g) before the switch to it.
//
// Locks: none. What these touch is the switching M's and G's own ([owner]
// san_fiber, san_fake_stack, the g0 stack bounds); rt_sched_valgrind is
// [const] after rt_procinit.
#ifndef GORT_SCHED_FIBER_H
#define GORT_SCHED_FIBER_H

#include "rt.h"
#include "sanitize.h"

#define RT_ALWAYS_INLINE inline __attribute__((always_inline))

// The functions g0 enters and never returns from (mcall targets, schedule,
// execute, thread start) would leave one TSan shadow-stack entry each per
// switch and overflow it: they are not instrumented under TSan.
#if RT_TSAN && defined(__clang__)
#define RT_G0_NORETURN_FN __attribute__((disable_sanitizer_instrumentation))
#else
#define RT_G0_NORETURN_FN
#endif

// Valgrind (memcheck) keeps [sp - red zone, sp) addressable by marking it
// as sp moves down, and marks what lies below a rising sp no-access. A jump
// to another stack (every goroutine stack and g0 stack is registered with
// rt_valgrind_stack_register, so it is seen as a switch) marks nothing: the
// red zone under the target's sp may still be no-access from frames that
// returned there long ago (g0 re-enters at the same sp on every mcall), and
// the switch code's first push would be an invalid write. Make it
// addressable before each switch. rt_sched_valgrind is set once at boot;
// hidden, so that the switch paths test it with one PC-relative load, not
// through the GOT.
extern bool rt_sched_valgrind __attribute__((visibility("hidden"))); // [const] after rt_procinit

// Out of line: the client request takes the address of a local, which
// would keep execute() from reaching rt_arch_gogo with a jump. Static (a
// copy in each file that switches; unused elsewhere): its callers then
// keep the registers it does not use across the call, mcall's context
// switch among them.
static RT_NOINLINE RT_UNUSED void
vg_mark_redzone(uintptr_t sp)
{
    rt_valgrind_make_undefined((const void *)(sp - RT_ARCH_REDZONE), RT_ARCH_REDZONE);
}

static RT_ALWAYS_INLINE void
vg_stack_switch(uintptr_t sp)
{
    if (rt_unlikely(rt_sched_valgrind))
        vg_mark_redzone(sp);
}

static RT_ALWAYS_INLINE void
san_to_g0(M *m, G *gp, bool dying)
{
    vg_stack_switch(m->g0->sched.sp);
#if RT_ASAN
    __sanitizer_start_switch_fiber(dying ? NULL : &gp->san_fake_stack, (const void *)m->g0_stack_lo,
                                   (size_t)(m->g0_stack_hi - m->g0_stack_lo));
#endif
#if RT_TSAN
    __tsan_switch_to_fiber(m->san_fiber, 0);
#endif
    (void)m;
    (void)gp;
    (void)dying;
}

enum { ASAN_G0_CLEAR = 64 << 10 };

static RT_ALWAYS_INLINE void
san_on_g0(void)
{
#if RT_ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
    // g0's frames are abandoned at every switch to a goroutine, never
    // returned from, so ASan never unpoisons their redzones: clear the
    // shadow of the part of g0's stack the scheduler uses before reusing it.
    M *m = rt_m();
    uintptr_t top = m->g0->sched.sp, lo = top - (uintptr_t)ASAN_G0_CLEAR;
    if (lo < m->g0_stack_lo)
        lo = m->g0_stack_lo;
    __asan_unpoison_memory_region((void *)lo, top - lo);
#endif
}

static RT_ALWAYS_INLINE void
san_to_g(M *m, G *gp)
{
    vg_stack_switch(gp->sched.sp);
#if RT_ASAN
    __sanitizer_start_switch_fiber(NULL, (const void *)gp->stack_lo,
                                   (size_t)(gp->stack_hi - gp->stack_lo));
#endif
#if RT_TSAN
    if (!gp->san_fiber)
        gp->san_fiber = __tsan_create_fiber(0);
    __tsan_switch_to_fiber(gp->san_fiber, 0);
#endif
    (void)m;
    (void)gp;
}

static RT_ALWAYS_INLINE void
san_on_g(G *gp)
{
#if RT_ASAN
    __sanitizer_finish_switch_fiber(gp->san_fake_stack, NULL, NULL);
#endif
    (void)gp;
}

// TSan: a G changes hands between Ms through the lock-free run queues, and
// the scheduler code that takes it off them (schedule, findrunnable, execute
// and everything inlined there) is not instrumented (RT_G0_NORETURN_FN), so
// TSan sees neither the acquire loads that take a G nor, for a G created on
// one M and run on another, any edge from rt_newproc's writes (gp->fn,
// gp->arg, gp->stack_size) to its first run. Every path that makes a G
// runnable (rt_runqput, globrunqput) releases on the G's address; execute
// acquires there before switching to it, and the fiber switch carries that
// on to the goroutine.
static RT_ALWAYS_INLINE void
san_release_g(G *gp)
{
#if RT_TSAN
    __tsan_release(gp);
#endif
    (void)gp;
}

static RT_ALWAYS_INLINE void
san_acquire_g(G *gp)
{
#if RT_TSAN
    __tsan_acquire(gp);
#endif
    (void)gp;
}

// A new M's thread (minit): TSan's fiber for g0 is the thread's own, and
// every switch between this g0 and a goroutine must be seen by valgrind as
// a stack switch (see vg_stack_switch), m0's main-thread stack included.
// Ms never exit, so the registration is never undone.
static RT_ALWAYS_INLINE void
san_minit(M *m)
{
#if RT_TSAN
    m->san_fiber = __tsan_get_current_fiber();
#endif
    if (rt_sched_valgrind)
        rt_valgrind_stack_register(m->g0_stack_lo, m->g0_stack_hi);
}

// gp is dead (goexit0). A TSan fiber is a thread to TSan, which has a
// limited number of them: keep one per live goroutine, not one per
// descriptor.
static RT_ALWAYS_INLINE void
san_gdead(G *gp)
{
#if RT_TSAN
    if (gp->san_fiber) {
        __tsan_destroy_fiber(gp->san_fiber);
        gp->san_fiber = NULL;
    }
#endif
    (void)gp;
}

#endif // GORT_SCHED_FIBER_H
