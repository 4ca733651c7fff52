// rw_unlock_unlocked.c: Unlock of an RWMutex that is not write-locked is a
// fatal error, as in Go.
#include <gort.h>

int
main(void)
{
    static gort_rwmutex m;
    gort_rwmutex_unlock(&m); // fatal error: sync: Unlock of unlocked RWMutex
    return 0;
}
