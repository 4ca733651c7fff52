// preempt.c: a goroutine spinning in a tight loop (no calls) at GOMAXPROCS=1
// does not keep other goroutines, or main, from running: sysmon preempts it.
// Run with GOMAXPROCS=1 (tests/CMakeLists.txt); main also forces it.
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>

static volatile unsigned long spins[2];

static void
spin_forever(void *arg)
{
    volatile unsigned long *c = arg;
    for (;;)
        (*c)++; // no calls, no yields
}

static void
reply(void *arg)
{
    int v = 7;
    gort_chan_send((gort_chan *)arg, &v);
}

int
main(void)
{
    gort_gomaxprocs(1);
    CHECK_EQ(gort_gomaxprocs(0), 1);
    gort_go(spin_forever, (void *)&spins[0]);
    // The spinner takes the only P while main sleeps. Poll rather than
    // trust one sleep: on a loaded machine the spinner's thread may not get
    // a core within it, but a spinner that never runs fails after 30 s.
    int64_t deadline = gort_nanotime() + 30000 * MS;
    do
        gort_sleep(30 * MS);
    while (spins[0] == 0 && gort_nanotime() < deadline);
    unsigned long seen = spins[0];
    CHECK(seen > 0); // it did run, and main got the P back
    fprintf(stderr, "    spinner counted to %lu while main slept\n", seen);

    // Another goroutine gets to run while the spinner spins.
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_go(reply, c);
    int v = 0;
    CHECK(gort_chan_recv(c, &v));
    CHECK_EQ(v, 7);

    // Two spinners and main share the P.
    gort_go(spin_forever, (void *)&spins[1]);
    int64_t t0 = gort_nanotime();
    for (int i = 0; i < 5; i++) {
        gort_go(reply, c);
        CHECK(gort_chan_recv(c, &v));
    }
    // Both spinners make progress. Poll rather than trust one fixed sleep:
    // on a loaded machine a 10 ms time slice stretches, but a spinner that
    // is starved never gets here within 30 s.
    deadline = t0 + 30000 * MS;
    // The reply goroutines have sent but may not have exited yet: wait for
    // them too.
    while ((spins[1] == 0 || spins[0] <= seen || gort_num_goroutine() != 3) &&
           gort_nanotime() < deadline)
        gort_sleep(10 * MS);
    CHECK(spins[1] > 0);
    CHECK(spins[0] > seen);
    CHECK_EQ(gort_num_goroutine(), 3);
    // main returns while both spin: the process exits.
    return harness_summary();
}
