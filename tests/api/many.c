// many.c: thousands of goroutines at once (run at GOMAXPROCS=1 and 2).
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>

#define N 5000
static atomic_int started, finished;
static atomic_long total;
static int n; // N, scaled (harness_scaled)

static void
worker(void *arg)
{
    gort_chan *gate = arg;
    atomic_fetch_add(&started, 1);
    long v = 0;
    gort_chan_recv(gate, &v); // all block here together
    gort_yield();
    atomic_fetch_add(&total, v);
    atomic_fetch_add(&finished, 1);
}

static void
test_many_blocked(void)
{
    gort_chan *gate = gort_chan_make(sizeof(long), 0);
    for (int i = 0; i < n; i++)
        gort_go(worker, gate);
    CHECK_EQ(gort_num_goroutine(), n + 1);
    int64_t deadline = gort_nanotime() + 60000 * MS;
    while (atomic_load(&started) < n && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    CHECK_EQ(atomic_load(&started), n);
    for (long i = 1; i <= n / 2; i++)
        gort_chan_send(gate, &i); // wake half of them one by one
    gort_chan_close(gate);        // and the rest at once
    while (gort_num_goroutine() > 1 && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    CHECK_EQ(gort_num_goroutine(), 1);
    CHECK_EQ(atomic_load(&finished), n);
    CHECK_EQ(atomic_load(&total), (long)(n / 2) * (n / 2 + 1) / 2);
}

// Goroutines that spawn goroutines: a binary tree 12 levels deep.
static gort_waitgroup tree_wg;
static atomic_int leaves;
static void
tree(void *arg)
{
    intptr_t depth = (intptr_t)arg;
    if (depth == 0) {
        atomic_fetch_add(&leaves, 1);
    } else {
        gort_waitgroup_add(&tree_wg, 2);
        gort_go(tree, (void *)(depth - 1));
        gort_go(tree, (void *)(depth - 1));
    }
    gort_waitgroup_done(&tree_wg);
}

static void
test_spawn_tree(void)
{
    gort_waitgroup_add(&tree_wg, 1);
    gort_go(tree, (void *)(intptr_t)12);
    gort_waitgroup_wait(&tree_wg);
    CHECK_EQ(atomic_load(&leaves), 1 << 12);
}

int
main(void)
{
    n = (int)harness_scaled(N);
    RUN(test_many_blocked);
    RUN(test_spawn_tree);
    return harness_summary();
}
