// deadlock_nil_chan.c: main receives from a NULL channel: blocks forever.
#include <gort.h>

int
main(void)
{
    gort_chan_recv(NULL, NULL); // fatal error: all goroutines are asleep - deadlock!
    return 0;
}
