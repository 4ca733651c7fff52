// timer_heap.c: the timer heap of src/time/timer.c, white-box
// (export_test.h, GORT_TESTING): pushes with random whens (duplicates
// included), removals at arbitrary places while it grows, then pops from
// the root. The hook checks the heap's shape after every change (it throws
// if broken); here: the pops come out in order, and what was popped and
// what was removed are together exactly what was pushed.
#include "../harness.h"
#include "export_test.h"

#include <gort.h>
#include <stdlib.h>

enum { N = 5000, NREMOVE = 1500 };

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int
cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void
test_heap_order(void)
{
    static int64_t whens[N], out[N], gone[N], all[N];
    static int remove[NREMOVE];
    for (int i = 0; i < N; i++)
        whens[i] = 1 + (int64_t)(next_rand() % 1000); // many equal whens
    for (int i = 0; i < NREMOVE; i++)
        remove[i] = (int)(next_rand() % 100000);
    int k = rt_test_timer_heap(whens, N, remove, NREMOVE, out, gone);
    CHECK_EQ(k, N - NREMOVE);
    int sorted = 1;
    for (int i = 1; i < k; i++)
        sorted &= out[i - 1] <= out[i];
    CHECK(sorted);
    // popped + removed == pushed, as multisets
    for (int i = 0; i < k; i++)
        all[i] = out[i];
    for (int i = 0; i < NREMOVE; i++)
        all[k + i] = gone[i];
    qsort(all, N, sizeof all[0], cmp64);
    qsort(whens, N, sizeof whens[0], cmp64);
    int same = 1;
    for (int i = 0; i < N; i++)
        same &= all[i] == whens[i];
    CHECK(same);
}

static void
test_empty_and_one(void)
{
    int64_t w = 42, out = 0, gone = 0;
    CHECK_EQ(rt_test_timer_heap(&w, 0, NULL, 0, &out, &gone), 0);
    CHECK_EQ(rt_test_timer_heap(&w, 1, NULL, 0, &out, &gone), 1);
    CHECK_EQ(out, 42);
    int r = 0;
    CHECK_EQ(rt_test_timer_heap(&w, 1, &r, 1, &out, &gone), 0); // pushed, then removed
    CHECK_EQ(gone, 42);
}

int
main(void)
{
    RUN(test_heap_order);
    RUN(test_empty_and_one);
    return harness_summary();
}
