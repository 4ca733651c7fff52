// select_send_closed.c: a select whose chosen send case is on a closed
// channel panics.
#include <gort.h>

int
main(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    gort_chan_close(c);
    int v = 1;
    gort_case cs = {.chan = c, .dir = GORT_SEND, .elem = &v};
    gort_select(&cs, 1, false); // panic: send on closed channel
    return 0;
}
