// export_test.h: the runtime's internals that tests reach, declared once
// (as Go's export_test.go exports its guts to the runtime's own tests).
//
// Tests include this header (tests/CMakeLists.txt puts src/ on their
// include path) instead of declaring internals themselves. The first part
// is always in the library; the second only when it is built with
// GORT_TESTING (the debug preset), for the white-box tests in tests/unit.
#ifndef GORT_EXPORT_TEST_H
#define GORT_EXPORT_TEST_H

#include <stdbool.h>
#include <stdint.h>

// ---- always built -----------------------------------------------------------
uint64_t rt_gc_assist_marked(void);           // bytes assists marked since start (assist.c)
bool rt_gc_concurrent_enabled(void);          // cycles may mark concurrently (conc.c)
bool rt_gc_marking(void);                     // a concurrent mark is running (conc.c)
uint32_t rt_gc_minor_cycles(void);            // minor cycles since start (gen.c)
uint32_t rt_gc_medium_cycles(void);           // medium cycles since start (gen.c)
extern _Atomic int64_t rt_gc_force_period_ns; // forced-GC period (pacer.c)
int rt_os_cgroup_cpu_max(const char *dir, const char *stop); // CPUs a cgroup v2 quota allows

// ---- GORT_TESTING only --------------------------------------------------------
// Builds a timer heap (src/time/timer.c) of n timers with these whens on a P
// of its own, checking the heap's shape after every change; removes the
// timers at the indexes in remove[0..nremove) as it goes (each taken modulo
// the heap's size then; their whens go to gone), then pops the rest from the
// root into out. Returns how many were popped. A broken heap throws.
int rt_test_timer_heap(const int64_t *whens, int n, const int *remove, int nremove, int64_t *out,
                       int64_t *gone);
// Run queues (src/sched/runq.c) on Ps of the test's own, with stand-in Gs
// named by ids 0 .. 511: put (next: into runnext), get (runnext first, then
// the ring's head; -1 if empty), steal half of another P's (returns one to
// run, -1 if none), and the length (ring plus runnext).
void *rt_test_p_new(void);
void rt_test_runqput(void *p, int id, bool next);
int rt_test_runqget(void *p);
int rt_test_runqsteal(void *to, void *from);
int rt_test_runqlen(void *p);
// Whether the library was built with GORT_TESTING and at which GORT_DEBUG.
int rt_test_debug_level(void);
// Takes a runtime Lock, checks rt_assert_held on it, releases it; then, if
// unheld is true, checks rt_assert_held on the free lock (which throws in
// a GORT_DEBUG >= 2 build).
void rt_test_assert_held(bool unheld);

#endif
