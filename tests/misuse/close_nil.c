// close_nil.c: close of a NULL channel panics.
#include <gort.h>

int
main(void)
{
    gort_chan_close(NULL); // panic: close of nil channel
    return 0;
}
