// gcpause.c: collector pauses under a large live heap. Keeps LIVE_MB of small
// pointerful objects live (a pointer array of slots, each a list of 4 64-byte
// nodes {next, seed, pos, check, pad[4]}, bench/churn_lists.h), then churns: CHURN_MB/256 times, a random slot's list
// is replaced by a new one, so about CHURN_MB is allocated while the live set
// stays constant. Prints a check line (a walk of the final live set) and
// "# " lines with the collector's own figures, read from gort_read_memstats:
// num_gc, gc_cpu_fraction and the per-cycle stop-the-world pauses (pause_ns
// ring, the last 256 cycles).
// Usage: gcpause [LIVE_MB=1024] [CHURN_MB=4096]. Twins: go/gcpause.go,
// alt/gcpause_boehm.c.
#include <gort.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CHURN_NEW() gort_new(Node)
#include "churn_lists.h"

int
main(int argc, char **argv)
{
    long live_mb = argc > 1 ? atol(argv[1]) : 1024;
    long churn_mb = argc > 2 ? atol(argv[2]) : 4096;
    long nslots = (live_mb << 20) / (LIST * (long)sizeof(Node));
    long nchurn = (churn_mb << 20) / (LIST * (long)sizeof(Node));

    Node **slots = gort_alloc(sizeof(Node *) * (size_t)nslots);
    for (long s = 0; s < nslots; s++)
        slots[s] = churn_list((uint64_t)s);
    for (long k = 0; k < nchurn; k++)
        slots[churn_rand() % (uint64_t)nslots] = churn_list((uint64_t)(nslots + k));

    uint64_t check = 0, nodes = 0;
    for (long s = 0; s < nslots; s++)
        for (Node *n = slots[s]; n; n = n->next, nodes++)
            check += n->seed + n->pos;
    printf("gcpause: %ld slots, %ld replaced, %llu live nodes, check %llu\n", nslots, nchurn,
           (unsigned long long)nodes, (unsigned long long)check);

    gort_memstats ms;
    gort_read_memstats(&ms);
    printf("# num_gc=%u\n# gc_cpu_fraction=%.6f\n# pause_total_ns=%llu\n", ms.num_gc,
           ms.gc_cpu_fraction, (unsigned long long)ms.pause_total_ns);
    printf("# pauses_ns=");
    uint32_t first = ms.num_gc > 256 ? ms.num_gc - 256 : 0;
    for (uint32_t i = first; i < ms.num_gc; i++)
        printf("%s%llu", i == first ? "" : ",", (unsigned long long)ms.pause_ns[i % 256]);
    printf("\n");
    return nodes == (uint64_t)nslots * LIST ? 0 : 1;
}
