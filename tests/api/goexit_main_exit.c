// goexit_main_exit.c: main calling gort_goexit ends goroutine 1 only; the
// program goes on until another goroutine calls gort_exit(0).
#include <gort.h>
#include <stdio.h>

static void
later(void *arg)
{
    (void)arg;
    gort_sleep(20 * 1000 * 1000);
    fprintf(stderr, "goexit_main_exit: goroutine ran after main's goexit, %d goroutine(s)\n",
            gort_num_goroutine());
    gort_exit(0);
}

int
main(void)
{
    gort_go(later, NULL);
    gort_goexit();
    fprintf(stderr, "goexit_main_exit: main continued after goexit: wrong\n");
    return 1;
}
