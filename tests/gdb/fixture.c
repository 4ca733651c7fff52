// fixture.c: goroutines parked in known states, for the gdb extension's test
// (tests/gdb/run.sh). Each goroutine blocks in a function named after its
// state; main waits until all of them are parked, then calls checkpoint(),
// where gdb stops (or, with an argument "core", dumps core there by abort).
#include <gort.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static gort_chan *chrecv, *chsel1, *chsel2;
static gort_mutex mu;
static atomic_int started;

__attribute__((noinline)) void
fixture_chan_recv(void *arg)
{
    (void)arg;
    int v;
    atomic_fetch_add(&started, 1);
    gort_chan_recv(chrecv, &v);
}

__attribute__((noinline)) void
fixture_mutex(void *arg)
{
    (void)arg;
    atomic_fetch_add(&started, 1);
    gort_mutex_lock(&mu); // main holds it
    gort_mutex_unlock(&mu);
}

__attribute__((noinline)) void
fixture_sleep(void *arg)
{
    (void)arg;
    atomic_fetch_add(&started, 1);
    gort_sleep((int64_t)3600 * 1000000000);
}

__attribute__((noinline)) void
fixture_select(void *arg)
{
    (void)arg;
    int a, b;
    gort_case cs[2] = {{chsel1, GORT_RECV, &a, false}, {chsel2, GORT_RECV, &b, false}};
    atomic_fetch_add(&started, 1);
    gort_select(cs, 2, true);
}

__attribute__((noinline)) void
checkpoint(void)
{
    __asm__ volatile("" ::: "memory");
}

int
main(int argc, char **argv)
{
    chrecv = gort_chan_make(sizeof(int), 0);
    chsel1 = gort_chan_make(sizeof(int), 0);
    chsel2 = gort_chan_make(sizeof(int), 1);
    gort_mutex_lock(&mu);
    gort_go(fixture_chan_recv, NULL);
    gort_go(fixture_mutex, NULL);
    gort_go(fixture_sleep, NULL);
    gort_go(fixture_select, NULL);
    // Wait until each is parked: started, then enough time for it to block
    // (the test checks the states themselves; a goroutine found still
    // runnable fails it, so wait generously by polling the channel).
    while (atomic_load(&started) < 4)
        gort_sleep(1000000);
    gort_sleep(200000000);
    checkpoint();
    if (argc > 1 && strcmp(argv[1], "core") == 0)
        abort();
    return 0;
}
