// spawn.c: start N goroutines that each mark a WaitGroup done, wait for all.
// Usage: spawn [N=1000000]. Go twin: go/spawn.go.
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

static gort_waitgroup wg;

static void
worker(void *arg)
{
    (void)arg;
    gort_waitgroup_done(&wg);
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    gort_waitgroup_add(&wg, (int)n);
    for (long i = 0; i < n; i++)
        gort_go(worker, NULL);
    gort_waitgroup_wait(&wg);
    printf("spawn: %ld goroutines\n", n);
    return 0;
}
