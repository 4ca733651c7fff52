// deadlock_select.c: main parks forever in an empty select (Go's select {}),
// after its only other goroutine has finished.
#include <gort.h>

static void
quick(void *arg)
{
    (void)arg;
}

int
main(void)
{
    gort_go(quick, NULL);
    gort_sleep(5 * 1000 * 1000);
    gort_select(NULL, 0, true); // fatal error: all goroutines are asleep - deadlock!
    return 0;
}
