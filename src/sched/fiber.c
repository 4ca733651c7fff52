// fiber.c: what the stack-switch annotations need out of line.
//
// fiber.h has the overview: ASan and TSan are told of every switch between
// g0 and a goroutine from the function that makes it (always_inline there),
// valgrind has the red zone under the target's sp made addressable first.
// Here: the flag that says valgrind runs, and the TSan fiber hand-back at
// process exit.
//
// Locks: none. rt_sched_valgrind is written once by rt_procinit, before any
// M but m0 exists, and only read afterwards.
#include "sched/fiber.h"

bool rt_sched_valgrind; // [const] after rt_procinit

// The process is about to exit from a goroutine (main returned): under
// TSan, hand the thread its own fiber back so that TSan's exit-time work
// runs in the thread's context, not in a goroutine's. Not instrumented: an
// instrumented function would push its entry on the goroutine's shadow
// stack and pop it at return from the thread's (empty) one, leaving that
// one's position below its start, where exit's atexit wrappers then write.
RT_G0_NORETURN_FN void
rt_sched_before_exit(void)
{
#if RT_TSAN
    __tsan_switch_to_fiber(rt_m()->san_fiber, 0);
#endif
}
