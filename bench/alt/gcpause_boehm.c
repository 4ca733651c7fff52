// gcpause_boehm.c: bench/gcpause.c on the Boehm collector (GC_MALLOC).
// Boehm's default collections are stop-the-world mark (then lazy sweeping by
// the allocator), so each collection's pause is timed with a monotonic clock
// in a GC_set_on_collection_event callback, from GC_EVENT_PRE_STOP_WORLD to
// GC_EVENT_POST_START_WORLD. The "# " lines give those pauses, their count,
// and gc_cpu_fraction = total pause time / wall time since GC_INIT (the STW
// share of the run: marker threads work only inside the pause; lazy sweeping
// inside allocation is not counted). GC_get_full_gc_total_time() (ms, Boehm's
// own figure) is printed as a cross-check.
#include <gc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHURN_NEW() GC_MALLOC(sizeof(Node))
#include "../churn_lists.h"

enum { MAX_PAUSES = 100000 };

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t stop_t0, pauses[MAX_PAUSES];
static long npauses, nstarts;

static void
on_event(GC_EventType e)
{
    if (e == GC_EVENT_START)
        nstarts++;
    else if (e == GC_EVENT_PRE_STOP_WORLD)
        stop_t0 = now_ns();
    else if (e == GC_EVENT_POST_START_WORLD && npauses < MAX_PAUSES)
        pauses[npauses++] = now_ns() - stop_t0;
}

int
main(int argc, char **argv)
{
    GC_start_performance_measurement();
    GC_INIT();
    GC_set_on_collection_event(on_event);
    int64_t start = now_ns();
    long live_mb = argc > 1 ? atol(argv[1]) : 1024;
    long churn_mb = argc > 2 ? atol(argv[2]) : 4096;
    long nslots = (live_mb << 20) / (LIST * (long)sizeof(Node));
    long nchurn = (churn_mb << 20) / (LIST * (long)sizeof(Node));

    Node **slots = GC_MALLOC(sizeof(Node *) * (size_t)nslots);
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

    int64_t wall = now_ns() - start, total = 0;
    for (long i = 0; i < npauses; i++)
        total += pauses[i];
    printf("# num_gc=%lu\n# collections_started=%ld\n", (unsigned long)GC_get_gc_no(), nstarts);
    printf("# gc_cpu_fraction=%.6f\n# pause_total_ns=%lld\n", (double)total / (double)wall,
           (long long)total);
    printf("# boehm_full_gc_total_ms=%lu\n", (unsigned long)GC_get_full_gc_total_time());
    printf("# pauses_ns=");
    for (long i = 0; i < npauses; i++)
        printf("%s%lld", i ? "," : "", (long long)pauses[i]);
    printf("\n");
    return nodes == (uint64_t)nslots * LIST ? 0 : 1;
}
