// rw_runlock_unlocked.c: RUnlock of an RWMutex that is not read-locked is a
// fatal error, as in Go.
#include <gort.h>

int
main(void)
{
    static gort_rwmutex m;
    gort_rwmutex_runlock(&m); // fatal error: sync: RUnlock of unlocked RWMutex
    return 0;
}
