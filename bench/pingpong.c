// pingpong.c: N round trips of an int between two goroutines over two
// unbuffered channels. Usage: pingpong [N=10000000]. Go twin: go/pingpong.go.
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

static gort_chan *ping, *pong;

static void
ponger(void *arg)
{
    (void)arg;
    long v;
    while (gort_chan_recv(ping, &v)) {
        v++;
        gort_chan_send(pong, &v);
    }
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    ping = gort_chan_make(sizeof(long), 0);
    pong = gort_chan_make(sizeof(long), 0);
    gort_go(ponger, NULL);
    long v = 0;
    for (long i = 0; i < n; i++) {
        gort_chan_send(ping, &v);
        gort_chan_recv(pong, &v);
    }
    gort_chan_close(ping);
    printf("pingpong: %ld round trips\n", v);
    return v == n ? 0 : 1;
}
