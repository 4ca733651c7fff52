// runq.c: the local run queues of src/sched/runq.c, white-box
// (export_test.h, GORT_TESTING), on Ps and Gs of the test's own: FIFO
// order, runnext first and the G it displaces to the tail, a full ring
// (RUNQ_SIZE, 256) without overflow, and a steal that takes half.
#include "../harness.h"
#include "export_test.h"

#include <gort.h>

enum { RING = 256 };

static void
test_fifo_and_runnext(void)
{
    void *p = rt_test_p_new();
    CHECK_EQ(rt_test_runqget(p), -1);
    for (int i = 0; i < 10; i++)
        rt_test_runqput(p, i, false);
    rt_test_runqput(p, 100, true); // runnext
    rt_test_runqput(p, 101, true); // displaces 100 to the tail
    CHECK_EQ(rt_test_runqlen(p), 12);
    CHECK_EQ(rt_test_runqget(p), 101);
    int ok = 1;
    for (int i = 0; i < 10; i++)
        ok &= rt_test_runqget(p) == i;
    CHECK(ok);
    CHECK_EQ(rt_test_runqget(p), 100);
    CHECK_EQ(rt_test_runqget(p), -1);
}

static void
test_full_ring(void)
{
    void *p = rt_test_p_new();
    for (int i = 0; i < RING; i++)
        rt_test_runqput(p, i, false);
    CHECK_EQ(rt_test_runqlen(p), RING);
    int ok = 1;
    for (int i = 0; i < RING; i++)
        ok &= rt_test_runqget(p) == i;
    CHECK(ok);
    CHECK_EQ(rt_test_runqlen(p), 0);
    // The indexes wrap: fill and drain again past the ring's end.
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < RING - 1; i++)
            rt_test_runqput(p, i, false);
        ok = 1;
        for (int i = 0; i < RING - 1; i++)
            ok &= rt_test_runqget(p) == i;
        CHECK(ok);
    }
}

static void
test_steal_half(void)
{
    void *a = rt_test_p_new(), *b = rt_test_p_new();
    for (int i = 0; i < 100; i++)
        rt_test_runqput(a, i, false);
    // b takes half of a's ring (50, the oldest), runs the last of them and
    // keeps the other 49.
    CHECK_EQ(rt_test_runqsteal(b, a), 49);
    CHECK_EQ(rt_test_runqlen(a), 50);
    CHECK_EQ(rt_test_runqlen(b), 49);
    int ok = 1;
    for (int i = 0; i < 49; i++)
        ok &= rt_test_runqget(b) == i;
    CHECK(ok);
    ok = 1;
    for (int i = 50; i < 100; i++)
        ok &= rt_test_runqget(a) == i;
    CHECK(ok);
    // An empty ring: the victim's runnext is taken.
    rt_test_runqput(a, 7, true);
    CHECK_EQ(rt_test_runqsteal(b, a), 7);
    CHECK_EQ(rt_test_runqsteal(b, a), -1);
}

int
main(void)
{
    RUN(test_fifo_and_runnext);
    RUN(test_full_ring);
    RUN(test_steal_half);
    return harness_summary();
}
