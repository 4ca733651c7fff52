// deadlock_locked.c: every goroutine blocks for good, one of them locked to
// its thread: that thread waits for its goroutine and counts as idle
// (sched.nmidlelocked), so the deadlock is still found.
#include <gort.h>

static void
locked(void *arg)
{
    gort_lock_os_thread();
    int v;
    gort_chan_recv(arg, &v);
}

int
main(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_go(locked, c);
    gort_lock_os_thread();
    int v;
    gort_chan_recv(c, &v); // fatal error: all goroutines are asleep - deadlock!
    return 0;
}
