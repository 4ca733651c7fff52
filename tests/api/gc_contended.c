// gc_contended.c: collections finish while another process takes a core.
// ctest runs it under tests/contended.sh: a busy loop pinned to one of the
// CPUs at nice -20, so a mark worker or the goroutine a cycle waits for is
// often off its core for whole time slices. Asserts that concurrent cycles
// (driven by two goroutines' allocation, with a live tree to mark) and a
// blocking gort_gc() all complete, and that the live data is intact. The
// only bound is ctest's timeout (minutes); nothing depends on speed.
#include "../gc_tree.h"
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

enum { LIVE_DEPTH = 17, TEMP_DEPTH = 8, BUF = 32 << 10, NCHURN = 2, CYCLES = 6 };

static Node *live;
static atomic_int bad;
static uint32_t start_gc;
static gort_waitgroup wg;

static void
churn(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg;
    for (long r = 0;; r++) {
        if (r % 16 == 0) {
            gort_memstats m;
            gort_read_memstats(&m);
            if (m.num_gc >= start_gc + CYCLES)
                break;
        }
        char *b = gort_alloc_noscan(BUF);
        memset(b, (int)(r & 0xff), BUF);
        uint64_t first = seed, count = 0;
        Node *t = tree_build(TEMP_DEPTH, &seed);
        if (tree_sum(t, &count) != tree_expect_sum(first, count) ||
            (unsigned char)b[BUF - 1] != (r & 0xff))
            atomic_fetch_add(&bad, 1);
    }
    gort_waitgroup_done(&wg);
}

static void
test_cycles_finish(void)
{
    uint64_t next = 1;
    live = tree_build(LIVE_DEPTH, &next);
    gort_memstats a, b;
    gort_read_memstats(&a);
    start_gc = a.num_gc;
    gort_waitgroup_add(&wg, NCHURN);
    for (uintptr_t k = 0; k < NCHURN; k++)
        gort_go(churn, (void *)((k + 1) << 40));
    gort_waitgroup_wait(&wg);
    gort_gc(); // a blocking full cycle too
    gort_read_memstats(&b);
    fprintf(stderr, "    %u cycles\n", b.num_gc - a.num_gc);
    CHECK(b.num_gc >= a.num_gc + CYCLES + 1);
    CHECK_EQ(atomic_load(&bad), 0);
    uint64_t count = 0;
    CHECK_EQ(tree_sum(live, &count), tree_expect_sum(1, count));
    CHECK_EQ(count, (2u << LIVE_DEPTH) - 1);
    gort_keep_alive(live);
}

int
main(void)
{
    RUN(test_cycles_finish);
    return harness_summary();
}
