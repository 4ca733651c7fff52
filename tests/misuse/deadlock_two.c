// deadlock_two.c: a goroutine blocked forever on a channel while main is
// blocked too (on a waitgroup the goroutine will never release).
#include <gort.h>

static gort_waitgroup wg;

static void
stuck(void *arg)
{
    int v = 1;
    gort_chan_send((gort_chan *)arg, &v); // nobody receives
    gort_waitgroup_done(&wg);
}

int
main(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_waitgroup_add(&wg, 1);
    gort_go(stuck, c);
    gort_waitgroup_wait(&wg); // fatal error: all goroutines are asleep - deadlock!
    return 0;
}
