// gc_assist.c: mark assists (src/gc/assist.c). A live tree of
// 2^19 nodes makes each concurrent mark take a while; two goroutines
// allocate far faster than one marker can mark (64 KiB noscan buffers, and
// short-lived trees whose sums they check), so a goroutine past its
// allowance must mark too. Asserts that assists marked something (unless
// GODEBUG=gcassist=0, where they must not), that the live tree and every
// short-lived tree are intact (ctest also runs it under gccheckmark), and
// that the cycles ran. ctest runs it with GODEBUG=gcgen=0: a minor cycle
// does not trace the old tree, and its marker rarely falls behind.
//
// Whether a given cycle needs an assist depends on how the kernel shares
// the cores between the marker thread and the allocating goroutines' Ms:
// its time slices are milliseconds, as long as a whole mark here, and on a
// loaded machine the marker may run through a mark while both allocating
// threads wait for a core (45 cycles without one assist were seen so). So
// the churn goes on until assists have marked something, bounded by
// ASSIST_WAIT_S of wall time (minutes), not by a number of cycles: a
// runtime whose assists never run fails at the bound.
#include "../gc_tree.h"
#include "../harness.h"
#include "export_test.h"

#include <gort.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { LIVE_DEPTH = 18, TEMP_DEPTH = 8, BUF = 64 << 10, NCHURN = 2, ASSIST_WAIT_S = 100 };

static Node *live;
static atomic_int bad;
static uint32_t start_gc;
static uint64_t start_assist;
static int64_t deadline;
static gort_waitgroup wg;

// Whether this run's settings promise assists: concurrent cycles (decided
// at the first one), GODEBUG neither gcassist=0 nor gcstress (whose cycles
// come before the pacer's goal, which assists pace to).
static bool
assists_expected(void)
{
    const char *d = getenv("GODEBUG");
    return !harness_gcstress() && !(d != NULL && strstr(d, "gcassist=0") != NULL) &&
           rt_gc_concurrent_enabled();
}

// The churn's end: its rounds done, more than 4 cycles run, and assists
// seen where they are expected; or the deadline, whichever is first.
static bool
churn_done(long r, long rounds)
{
    if (r < rounds)
        return false;
    if (gort_nanotime() > deadline)
        return true;
    gort_memstats m;
    gort_read_memstats(&m);
    if (m.num_gc <= start_gc + 4)
        return false;
    return !assists_expected() || rt_gc_assist_marked() > start_assist;
}

static void
churn(void *arg)
{
    uint64_t seed = (uint64_t)(uintptr_t)arg * 1000003;
    long rounds = harness_scaled(5000);
    for (long r = 0;; r++) {
        if (r % 64 == 0 && churn_done(r, rounds))
            break;
        char *b = gort_alloc_noscan(BUF);
        memset(b, (int)(r & 0xff), BUF);
        uint64_t first = seed, count = 0;
        Node *t = tree_build(TEMP_DEPTH, &seed);
        if (tree_sum(t, &count) != tree_expect_sum(first, count) ||
            count != (2u << TEMP_DEPTH) - 1 || (unsigned char)b[BUF - 1] != (r & 0xff))
            atomic_fetch_add(&bad, 1);
    }
    gort_waitgroup_done(&wg);
}

static void
test_assist(void)
{
    uint64_t next = 1;
    live = tree_build(LIVE_DEPTH, &next);
    gort_memstats a, b;
    gort_read_memstats(&a);
    start_gc = a.num_gc;
    uint64_t before = start_assist = rt_gc_assist_marked();
    int64_t t0 = gort_nanotime();
    deadline = t0 + (int64_t)ASSIST_WAIT_S * 1000 * MS;
    gort_waitgroup_add(&wg, NCHURN);
    for (uintptr_t k = 0; k < NCHURN; k++)
        gort_go(churn, (void *)((k + 1) << 40));
    gort_waitgroup_wait(&wg);
    gort_read_memstats(&b);
    CHECK_EQ(atomic_load(&bad), 0);
    CHECK(b.num_gc > a.num_gc + 4);
    uint64_t count = 0;
    CHECK_EQ(tree_sum(live, &count), tree_expect_sum(1, count));
    CHECK_EQ(count, (2u << LIVE_DEPTH) - 1);
    uint64_t assisted = rt_gc_assist_marked() - before;
    fprintf(stderr, "    %u cycles in %.1f s, assists marked %llu KiB\n", b.num_gc - a.num_gc,
            (double)(gort_nanotime() - t0) / 1e9, (unsigned long long)assisted >> 10);
    const char *d = getenv("GODEBUG");
    if (harness_gcstress()) {
        // Its cycles come before the pacer's, whose goal assists pace to.
    } else if (d != NULL && strstr(d, "gcassist=0") != NULL) {
        CHECK_EQ(assisted, 0);
    } else if (rt_gc_concurrent_enabled()) {
        CHECK(assisted > 0);
    } else {
        CHECK_EQ(assisted, 0); // stop-the-world cycles: nothing to assist
    }
    gort_keep_alive(live);
}

int
main(void)
{
    RUN(test_assist);
    return harness_summary();
}
