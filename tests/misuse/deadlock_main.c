// deadlock_main.c: main alone blocks on a channel nobody will send on.
#include <gort.h>

int
main(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    int v;
    gort_chan_recv(c, &v); // fatal error: all goroutines are asleep - deadlock!
    return 0;
}
