// goexit_main.c: main calls gort_goexit; when the other goroutines have
// finished, nothing is left to run: Go's
// "fatal error: no goroutines (main called runtime.Goexit) - deadlock!".
#include <gort.h>
#include <stdio.h>

static void
worker(void *arg)
{
    (void)arg;
    gort_sleep(20 * 1000 * 1000);
    fprintf(stderr, "goexit_main: worker finished\n");
}

int
main(void)
{
    gort_go(worker, NULL);
    gort_goexit();
    return 0;
}
