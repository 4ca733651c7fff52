// unlock_unlocked.c: unlocking an unlocked mutex is a fatal error.
#include <gort.h>

int
main(void)
{
    static gort_mutex m;
    gort_mutex_lock(&m);
    gort_mutex_unlock(&m);
    gort_mutex_unlock(&m); // fatal error: sync: unlock of unlocked mutex
    return 0;
}
