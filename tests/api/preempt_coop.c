// preempt_coop.c: with GODEBUG=asyncpreemptoff=1 a tight loop would never be
// preempted (as in Go, it would hang), so this checks only that a loop that
// yields cooperatively lets main and other goroutines run at GOMAXPROCS=1.
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>

static atomic_long spins;

static void
yield_loop(void *arg)
{
    (void)arg;
    for (;;) {
        atomic_fetch_add(&spins, 1);
        gort_yield();
    }
}

static void
reply(void *arg)
{
    int v = 9;
    gort_chan_send((gort_chan *)arg, &v);
}

int
main(void)
{
    gort_gomaxprocs(1);
    gort_go(yield_loop, NULL);
    gort_go(yield_loop, NULL);
    // Poll: on a loaded machine one sleep may end before the loops' thread
    // got a core; loops that never run fail after 30 s.
    int64_t deadline = gort_nanotime() + 30000 * MS;
    do
        gort_sleep(30 * MS);
    while (atomic_load(&spins) == 0 && gort_nanotime() < deadline);
    long seen = atomic_load(&spins);
    CHECK(seen > 0);
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    for (int i = 0; i < 10; i++) {
        gort_go(reply, c);
        int v = 0;
        CHECK(gort_chan_recv(c, &v));
        CHECK_EQ(v, 9);
    }
    deadline = gort_nanotime() + 30000 * MS;
    do
        gort_sleep(10 * MS);
    while (atomic_load(&spins) <= seen && gort_nanotime() < deadline);
    CHECK(atomic_load(&spins) > seen);
    return harness_summary();
}
