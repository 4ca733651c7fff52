// wg_negative.c: a waitgroup counter below zero panics.
#include <gort.h>

int
main(void)
{
    static gort_waitgroup wg;
    gort_waitgroup_add(&wg, 1);
    gort_waitgroup_done(&wg);
    gort_waitgroup_done(&wg); // panic: sync: negative WaitGroup counter
    return 0;
}
