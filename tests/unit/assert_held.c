// assert_held.c: the debug tiers are compiled in (GORT_DEBUG >= 2 and
// GORT_TESTING, the debug preset): rt_assert_held passes while the lock is
// held, and throws (Go's way: message, goroutine dump, exit 2) on a free
// one. ctest expects the exit status and the message.
#include "export_test.h"

#include <gort.h>
#include <stdio.h>

int
main(void)
{
    if (rt_test_debug_level() < 2) {
        fprintf(stderr, "assert_held: built at GORT_DEBUG %d, not 2\n", rt_test_debug_level());
        return 1;
    }
    rt_test_assert_held(false); // held: passes
    fprintf(stderr, "assert_held: held lock passes\n");
    rt_test_assert_held(true); // free: must throw
    fprintf(stderr, "assert_held: a free lock passed rt_assert_held\n");
    return 1;
}
