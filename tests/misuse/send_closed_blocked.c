// send_closed_blocked.c: a sender blocked on a channel panics when the
// channel is closed under it.
#include <gort.h>

static void
closer(void *arg)
{
    gort_sleep(10 * 1000 * 1000);
    gort_chan_close((gort_chan *)arg);
}

int
main(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_go(closer, c);
    int v = 1;
    gort_chan_send(c, &v); // blocks, then panic: send on closed channel
    return 0;
}
