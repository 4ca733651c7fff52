// close_closed.c: closing a channel twice panics.
#include <gort.h>

int
main(void)
{
    gort_chan *c = gort_chan_make(0, 0);
    gort_chan_close(c);
    gort_chan_close(c); // panic: close of closed channel
    return 0;
}
