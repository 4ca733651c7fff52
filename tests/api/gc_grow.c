// gc_grow.c: the heap grows into new arenas while concurrent marks run,
// and the only references to the new objects are stored into a big array
// that the marker scanned before. The concurrent marker takes its view of
// the heap's bounds at STW 1; a pointer into an arena mapped after that must
// still reach mark termination (src/gc/mark.c, mark_word). Before it did,
// bench/gcpause lost list nodes in about one run of three.
//
// bench/gcpause in small (bench/churn_lists.h): 128 MiB of lists of four
// 64-byte nodes in a big array, replaced at random; marks are long enough
// that the heap grows while they run. Every list is checked whole at the
// end: each node's seed, position and check word. Without
// the fix this failed about one run in six (and under gccheckmark, which
// ctest runs too, as often); it is a net, not a proof.
#include "../harness.h"

#include <gort.h>
#include <stdint.h>

#define CHURN_NEW() gort_new(Node)
#include "../../bench/churn_lists.h"

static void
test_lists_while_growing(void)
{
    long nslots = harness_scaled(1L << 19), nchurn = 4 * nslots;
    Node **slots = gort_alloc(sizeof(Node *) * (size_t)nslots);
    for (long s = 0; s < nslots; s++)
        slots[s] = churn_list((uint64_t)s);
    for (long k = 0; k < nchurn; k++)
        slots[churn_rand() % (uint64_t)nslots] = churn_list((uint64_t)(nslots + k));
    long bad = 0;
    for (long s = 0; s < nslots; s++)
        bad += !churn_list_ok(slots[s]);
    CHECK_EQ(bad, 0);
}

int
main(void)
{
    RUN(test_lists_while_growing);
    return harness_summary();
}
