// buffered.c: one goroutine sends N ints through a channel of capacity 1024,
// main receives and sums them. Usage: buffered [N=10000000]. Go twin:
// go/buffered.go.
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

static gort_chan *c;
static long n;

static void
producer(void *arg)
{
    (void)arg;
    for (long i = 0; i < n; i++)
        gort_chan_send(c, &i);
    gort_chan_close(c);
}

int
main(int argc, char **argv)
{
    n = argc > 1 ? atol(argv[1]) : 10000000;
    c = gort_chan_make(sizeof(long), 1024);
    gort_go(producer, NULL);
    long v, sum = 0;
    while (gort_chan_recv(c, &v))
        sum += v;
    printf("buffered: sum %ld\n", sum);
    return sum == n * (n - 1) / 2 ? 0 : 1;
}
