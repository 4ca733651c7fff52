// gc_gomaxprocs.c: collections (forced and triggered by allocation) while
// main changes GOMAXPROCS over and over: the two kinds of stop-the-world
// must take turns, not wait for each other.
#include "../harness.h"

#include <gort.h>

static _Atomic(void *) sink; // written by every churner: atomic, not a data race
static atomic_int stop;

static void
churn(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        for (int i = 0; i < 1000; i++)
            atomic_store_explicit(&sink, gort_alloc(64), memory_order_relaxed);
        gort_yield();
    }
}

static void
test_gomaxprocs_and_gc(void)
{
    int old = gort_gomaxprocs(0);
    for (int i = 0; i < 4; i++)
        gort_go(churn, NULL);
    gort_memstats a, b;
    gort_read_memstats(&a);
    for (int k = 0; k < 1000; k++) {
        gort_gomaxprocs(1 + k % 4);
        if (k % 50 == 0)
            gort_gc();
    }
    atomic_store(&stop, 1);
    gort_gomaxprocs(old);
    gort_read_memstats(&b);
    CHECK(b.num_gc >= a.num_gc + 20);
}

int
main(void)
{
    RUN(test_gomaxprocs_and_gc);
    return harness_summary();
}
