// panic_goroutine.c: a panic in another goroutine ends the whole program.
#include <gort.h>

static void
boom(void *arg)
{
    (void)arg;
    gort_panic("boom in goroutine %s", "two");
}

int
main(void)
{
    gort_go(boom, NULL);
    gort_chan_recv(gort_chan_make(0, 0), NULL); // never returns
    return 0;
}
