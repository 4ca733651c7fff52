// exit_return.c: main's return value is the exit status (7), and other
// goroutines, blocked or running, are not waited for.
#include <gort.h>
#include <stdio.h>

static void
block(void *arg)
{
    gort_chan_recv((gort_chan *)arg, NULL);
}

static void
busy(void *arg)
{
    (void)arg;
    for (;;)
        gort_yield();
}

static void
sleepy(void *arg)
{
    (void)arg;
    gort_sleep(60LL * 1000 * 1000 * 1000);
}

int
main(void)
{
    gort_chan *c = gort_chan_make(0, 0);
    for (int i = 0; i < 10; i++)
        gort_go(block, c);
    gort_go(busy, NULL);
    gort_go(sleepy, NULL);
    gort_yield();
    fprintf(stderr, "exit_return: %d goroutines, returning 7\n", gort_num_goroutine());
    return 7;
}
