// stack_overflow.c: unbounded recursion on goroutine 1 (or, with the
// argument "goroutine", on another goroutine) overflows the stack: Go's
// "goroutine stack exceeds" and "fatal error: stack overflow".
#include <gort.h>
#include <stdlib.h>
#include <string.h>

static int (*volatile recurse_ptr)(int);

__attribute__((noinline)) static int
recurse(int n)
{
    volatile char frame[256];
    frame[0] = (char)n;
    frame[255] = (char)n;
    return recurse_ptr(n + 1) + frame[0] + frame[255]; // not a tail call
}

static void
overflow(void *arg)
{
    (void)arg;
    recurse_ptr(0);
}

int
main(void)
{
    recurse_ptr = recurse;
    const char *where = getenv("GORT_TEST_WHERE");
    if (where != NULL && strcmp(where, "goroutine") == 0) {
        gort_go(overflow, NULL);
        gort_chan_recv(gort_chan_make(0, 0), NULL);
    }
    overflow(NULL);
    return 0;
}
