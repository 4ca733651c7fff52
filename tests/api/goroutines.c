// goroutines.c: gort_go, gort_go_stack, gort_yield, gort_goexit, gort_goid,
// gort_num_goroutine and gort_gomaxprocs (contract: "Goroutines").
#define _GNU_SOURCE
#include "../harness.h"

#include <gort.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static int num_at_start;

// Waits (parking, not spinning) until *v reaches want or 10 s pass.
static void
wait_for(atomic_int *v, int want)
{
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (atomic_load(v) < want && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
}

// ---- gort_go ------------------------------------------------------------
static atomic_int ran;
static void
set_flag(void *arg)
{
    CHECK(arg == (void *)&ran);
    atomic_fetch_add(&ran, 1);
}

static void
test_go_runs(void)
{
    gort_go(set_flag, &ran);
    wait_for(&ran, 1);
    CHECK_EQ(atomic_load(&ran), 1);
    for (int i = 0; i < 100; i++)
        gort_go(set_flag, &ran);
    wait_for(&ran, 101);
    CHECK_EQ(atomic_load(&ran), 101);
}

// ---- gort_go_stack: a 4 MiB stack holds 3 MiB of locals ---------------------
static atomic_int big_done;
static atomic_long big_sum;
static void
big_frame(void *arg)
{
    (void)arg;
    volatile unsigned char buf[3 << 20];
    for (size_t i = 0; i < sizeof buf; i += 512)
        buf[i] = (unsigned char)(i >> 9);
    long sum = 0;
    for (size_t i = 0; i < sizeof buf; i += 512)
        sum += buf[i];
    atomic_store(&big_sum, sum);
    atomic_store(&big_done, 1);
}

static void
test_go_stack(void)
{
    long want = 0;
    for (size_t i = 0; i < (3u << 20); i += 512)
        want += (unsigned char)(i >> 9);
    gort_go_stack(big_frame, NULL, 4u << 20);
    wait_for(&big_done, 1);
    CHECK_EQ(atomic_load(&big_done), 1);
    CHECK_EQ(atomic_load(&big_sum), want);
}

// An ordinary goroutine has room for a modest frame and for stdio.
static atomic_int mid_done;
static void
mid_frame(void *arg)
{
    (void)arg;
    volatile char buf[32 << 10];
    memset((char *)buf, 'x', sizeof buf);
    char line[64];
    snprintf(line, sizeof line, "%d %.3f %s", 42, 2.5, "ok");
    CHECK(strcmp(line, "42 2.500 ok") == 0);
    CHECK(buf[sizeof buf - 1] == 'x');
    atomic_store(&mid_done, 1);
}

static void
test_default_stack(void)
{
    gort_go(mid_frame, NULL);
    wait_for(&mid_done, 1);
    CHECK_EQ(atomic_load(&mid_done), 1);
}

// ---- gort_yield ----------------------------------------------------------
// With one P, two goroutines that yield in turn interleave.
static atomic_int turn_log[64];
static atomic_int turn_n;
static atomic_int turners_done;
static void
turner(void *arg)
{
    int id = (int)(intptr_t)arg;
    for (int i = 0; i < 16; i++) {
        int n = atomic_fetch_add(&turn_n, 1);
        if (n < 64)
            atomic_store(&turn_log[n], id);
        gort_yield();
    }
    atomic_fetch_add(&turners_done, 1);
}

static void
test_yield(void)
{
    int old = gort_gomaxprocs(1);
    gort_go(turner, (void *)(intptr_t)1);
    gort_go(turner, (void *)(intptr_t)2);
    wait_for(&turners_done, 2);
    CHECK_EQ(atomic_load(&turners_done), 2);
    CHECK_EQ(atomic_load(&turn_n), 32);
    // Without yield doing its job one goroutine would run all 16 steps
    // before the other starts: count how often the turn changed hands.
    int switches = 0;
    for (int i = 1; i < 32; i++)
        switches += atomic_load(&turn_log[i]) != atomic_load(&turn_log[i - 1]);
    CHECK(switches >= 16);
    gort_gomaxprocs(old);
    // gort_yield from main alone simply returns.
    for (int i = 0; i < 1000; i++)
        gort_yield();
    CHECK(1);
}

// ---- gort_goexit ------------------------------------------------------------
static atomic_int exit_before, exit_after;
static gort_chan *exit_hold;

static void
deep_exit(int depth)
{
    if (depth > 0)
        deep_exit(depth - 1);
    else
        gort_goexit();
    atomic_store(&exit_after, 1); // never reached
}

static void
exiter(void *arg)
{
    (void)arg;
    gort_chan_recv(exit_hold, NULL); // hold until main has counted us
    atomic_store(&exit_before, 1);
    deep_exit(5);
    atomic_store(&exit_after, 1); // never reached
}

static void
test_goexit(void)
{
    int base = gort_num_goroutine();
    exit_hold = gort_chan_make(0, 0);
    gort_go(exiter, NULL);
    gort_go(exiter, NULL);
    gort_yield();
    CHECK_EQ(gort_num_goroutine(), base + 2);
    gort_chan_close(exit_hold);
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (gort_num_goroutine() > base && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    CHECK_EQ(gort_num_goroutine(), base);
    CHECK_EQ(atomic_load(&exit_before), 1);
    CHECK_EQ(atomic_load(&exit_after), 0);
}

// ---- gort_goid ------------------------------------------------------------
#define NID 200
static int64_t ids[NID];
static atomic_int ids_done;
static gort_chan *id_hold;
static void
record_id(void *arg)
{
    ids[(intptr_t)arg] = gort_goid();
    atomic_fetch_add(&ids_done, 1);
    gort_chan_recv(id_hold, NULL); // stay alive so ids cannot be reused
}

static int
cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void
test_goid(void)
{
    CHECK_EQ(gort_goid(), 1);
    id_hold = gort_chan_make(0, 0);
    for (intptr_t i = 0; i < NID; i++)
        gort_go(record_id, (void *)i);
    wait_for(&ids_done, NID);
    CHECK_EQ(atomic_load(&ids_done), NID);
    qsort(ids, NID, sizeof ids[0], cmp64);
    int distinct = 1, positive = 1;
    for (int i = 0; i < NID; i++) {
        positive &= ids[i] > 1;
        if (i > 0 && ids[i] == ids[i - 1])
            distinct = 0;
    }
    CHECK(positive);
    CHECK(distinct);
    gort_chan_close(id_hold);
    CHECK_EQ(gort_goid(), 1);
}

// ---- gort_num_goroutine ------------------------------------------------------
static void
block_on(void *arg)
{
    gort_chan_recv((gort_chan *)arg, NULL);
}

static void
test_num_goroutine(void)
{
    CHECK_EQ(num_at_start, 1);
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (gort_num_goroutine() > 1 && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    CHECK_EQ(gort_num_goroutine(), 1);
    gort_chan *c = gort_chan_make(0, 0);
    for (int i = 0; i < 50; i++)
        gort_go(block_on, c);
    CHECK_EQ(gort_num_goroutine(), 51);
    gort_chan_close(c);
    while (gort_num_goroutine() > 1 && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    CHECK_EQ(gort_num_goroutine(), 1);
}

// ---- gort_gomaxprocs --------------------------------------------------------
static void
test_gomaxprocs(void)
{
    const char *env = getenv("GOMAXPROCS");
    int want;
    if (env != NULL && atoi(env) > 0) {
        want = atoi(env);
    } else {
        cpu_set_t set;
        CPU_ZERO(&set);
        want = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
    }
    CHECK_EQ(gort_gomaxprocs(0), want);
    CHECK_EQ(gort_gomaxprocs(-1), want); // n < 1 only queries
    CHECK_EQ(gort_gomaxprocs(3), want);  // returns the previous value
    CHECK_EQ(gort_gomaxprocs(0), 3);
    CHECK_EQ(gort_gomaxprocs(1), 3);
    CHECK_EQ(gort_gomaxprocs(0), 1);
    // Goroutines still run after a resize.
    atomic_store(&ran, 0);
    for (int i = 0; i < 10; i++)
        gort_go(set_flag, &ran);
    wait_for(&ran, 10);
    CHECK_EQ(atomic_load(&ran), 10);
    CHECK_EQ(gort_gomaxprocs(want), 1);
    CHECK_EQ(gort_gomaxprocs(0), want);
}

int
main(void)
{
    num_at_start = gort_num_goroutine();
    RUN(test_num_goroutine);
    RUN(test_go_runs);
    RUN(test_go_stack);
    RUN(test_default_stack);
    RUN(test_yield);
    RUN(test_goexit);
    RUN(test_goid);
    RUN(test_gomaxprocs);
    return harness_summary();
}
