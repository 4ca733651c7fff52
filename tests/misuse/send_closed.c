// send_closed.c: send on a closed channel panics.
#include <gort.h>

int
main(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    gort_chan_close(c);
    int v = 1;
    gort_chan_send(c, &v); // panic: send on closed channel
    return 0;
}
