// exit_call.c: gort_exit(3) from another goroutine ends the process with
// status 3 at once, while main is blocked.
#include <gort.h>
#include <stdio.h>

static void
exiter(void *arg)
{
    (void)arg;
    gort_sleep(10 * 1000 * 1000);
    fprintf(stderr, "exit_call: calling gort_exit(3)\n");
    gort_exit(3);
}

int
main(void)
{
    gort_go(exiter, NULL);
    gort_chan_recv(gort_chan_make(0, 0), NULL); // blocks until the exit
    fprintf(stderr, "exit_call: main resumed: wrong\n");
    return 0;
}
