// gc_forced.c: the forced collection. A program that allocates too little to
// reach the trigger still gets a cycle once none ran for the force period
// (2 minutes, as Go's forcegcperiod; shortened here through the runtime's
// internal variable, as Go's own tests shorten theirs). sysmon readies the
// forcegc goroutine, which runs the cycle (and, where cycles mark
// concurrently, sysmon and forcegc also end it, as nobody allocates); a
// cycle forced by time is not counted in num_forced_gc, which counts
// gort_gc calls only. With GOGC=off no forced cycle runs.
#include "../harness.h"
#include "export_test.h"

#include <gort.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static atomic_int finalized;

static void
count_final(void *p)
{
    (void)p;
    atomic_fetch_add(&finalized, 1);
}

enum { NOBJ = 100 };

static gort_waitgroup wg;

static void
make_garbage(void *arg)
{
    (void)arg;
    // On a goroutine of its own, so no stale word of ours keeps them alive.
    for (int i = 0; i < NOBJ; i++)
        gort_set_finalizer(gort_alloc(64), count_final);
    gort_waitgroup_done(&wg);
}

static void
test_period(void)
{
    const char *gogc = getenv("GOGC");
    bool off = gogc != NULL && strcmp(gogc, "off") == 0;
    gort_memstats a, b;
    gort_read_memstats(&a);
    // Garbage with finalizers: only a collection can run them (a few may be
    // kept by stray words: the collector is conservative).
    gort_waitgroup_add(&wg, 1);
    gort_go(make_garbage, NULL);
    gort_waitgroup_wait(&wg);
    atomic_store(&rt_gc_force_period_ns, 300 * MS);
    // sysmon checks the period about once a second. Up to 60 s where
    // cycles are expected (a loaded machine delays sysmon); with GOGC=off
    // the 6 s window in which none may come.
    for (int i = 0; i < (off ? 60 : 600); i++) {
        gort_sleep(100 * MS);
        gort_read_memstats(&b);
        if (!off && b.num_gc >= a.num_gc + 2 && atomic_load(&finalized) >= NOBJ / 2)
            break;
    }
    atomic_store(&rt_gc_force_period_ns, (int64_t)120 * 1000 * MS);
    gort_read_memstats(&b);
    if (off && harness_gcstress()) {
        // gcstress collects with GOGC=off too; what is left to check is
        // that no cycle counted as forced (below).
    } else if (off) {
        CHECK_EQ(b.num_gc, a.num_gc);
        CHECK_EQ(atomic_load(&finalized), 0);
    } else {
        CHECK(b.num_gc >= a.num_gc + 2);
        CHECK(atomic_load(&finalized) >= NOBJ / 2);
    }
    CHECK_EQ(b.num_forced_gc, a.num_forced_gc);
}

int
main(void)
{
    RUN(test_period);
    return harness_summary();
}
