// deadlock_after_io.c: a program that used the network poller (a goroutine
// parked on a pipe until a close woke it) and then deadlocks on a channel:
// the M that blocked in the poller must not hide the deadlock.
#define _GNU_SOURCE
#include <fcntl.h>
#include <gort.h>
#include <unistd.h>

static gort_fd *r;
static gort_chan *done;

static void
reader(void *arg)
{
    (void)arg;
    char b;
    gort_fd_read(r, &b, 1); // parks until the close below: ECANCELED
    int one = 1;
    gort_chan_send(done, &one);
}

int
main(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return 1;
    r = gort_fd_open(p[0]);
    done = gort_chan_make(sizeof(int), 0);
    gort_go(reader, NULL);
    // No timers at all: the reader parks, and at GOMAXPROCS=2 the idle M
    // blocks in the poller with nothing to wake it but an event.
    for (int i = 0; i < 20000; i++)
        gort_yield();
    gort_fd_close(r);
    int v;
    gort_chan_recv(done, &v);
    gort_chan *never = gort_chan_make(sizeof(int), 0);
    gort_chan_recv(never, &v); // fatal error: all goroutines are asleep - deadlock!
    return 0;
}
