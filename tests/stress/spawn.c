// spawn.c: spawn and wait for 100k goroutines, all alive at once, then in
// waves so that dead goroutines are reused.
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>

#define N 100000
static gort_waitgroup wg;
static atomic_long sum;
static long n; // N, scaled (harness_scaled)

static void
add_one(void *arg)
{
    atomic_fetch_add(&sum, (long)(intptr_t)arg);
    gort_waitgroup_done(&wg);
}

static void
test_all_at_once(void)
{
    atomic_store(&sum, 0);
    gort_waitgroup_add(&wg, n);
    for (intptr_t i = 1; i <= n; i++)
        gort_go(add_one, (void *)i);
    gort_waitgroup_wait(&wg);
    CHECK_EQ(atomic_load(&sum), n * (n + 1) / 2);
}

static void
test_waves(void)
{
    atomic_store(&sum, 0);
    long per_wave = n / 100 > 0 ? n / 100 : 1;
    for (int wave = 0; wave < 100; wave++) {
        gort_waitgroup_add(&wg, per_wave);
        for (long i = 0; i < per_wave; i++)
            gort_go(add_one, (void *)(intptr_t)1);
        gort_waitgroup_wait(&wg);
    }
    CHECK_EQ(atomic_load(&sum), 100 * per_wave);
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (gort_num_goroutine() > 1 && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    CHECK_EQ(gort_num_goroutine(), 1);
}

int
main(void)
{
    n = harness_scaled(N);
    int64_t t0 = gort_nanotime();
    RUN(test_all_at_once);
    RUN(test_waves);
    fprintf(stderr, "    %.2f s at GOMAXPROCS=%d\n", (gort_nanotime() - t0) / 1e9,
            gort_gomaxprocs(0));
    return harness_summary();
}
