// foreign_segv.c: a segfault in a thread gort did not start (a pthread of
// the program's own, with no SIGSEGV handler of its own) is reported as Go
// reports a signal outside Go code, not as a fault of the runtime:
// "SIGSEGV: segmentation violation", "PC=... m=-1 sigcode=...", exit 2.
#include <gort.h>
#include <pthread.h>
#include <stdint.h>

static volatile uintptr_t bad = 16; // an address nothing maps

static void *
crash(void *arg)
{
    (void)arg;
    *(volatile int *)bad = 1; // SIGSEGV on this thread
    return NULL;
}

int
main(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, crash, NULL) != 0)
        return 1;
    pthread_join(t, NULL);
    return 0; // not reached
}
