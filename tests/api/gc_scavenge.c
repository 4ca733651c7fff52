// gc_scavenge.c: after a large heap is dropped, the scavenger gives the
// free pages back to the OS, so RSS follows the (now small) heap goal down.
#include "../harness.h"

#include <gort.h>
#include <string.h>

enum { NOBJ = 1000000, OBJ = 128 };

// ThreadSanitizer keeps its own shadow of every page the program touched,
// released or not: RSS says nothing about the scavenger there, only
// heap_released does.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

static void **volatile arr;

static long
rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = -1;
    fclose(f);
    return res * 4;
}

static long peak_kib;

// Builds and drops the big heap on its own goroutine, so that no stale copy
// of a pointer into it survives in main's frames (conservative collector).
static void
build_and_drop(void *done)
{
    arr = gort_alloc(sizeof(void *) * NOBJ);
    for (int i = 0; i < NOBJ; i++) {
        arr[i] = gort_alloc(OBJ);
        memset(arr[i], 1, OBJ);
    }
    peak_kib = rss_kib();
    arr = NULL;
    gort_chan_send(done, NULL);
}

int
main(void)
{
    gort_chan *done = gort_chan_make(0, 0);
    gort_go(build_and_drop, done);
    gort_chan_recv(done, NULL);
    gort_yield();
    fprintf(stderr, "    peak RSS %ld KiB\n", peak_kib);
    CHECK(peak_kib > (long)NOBJ * OBJ / 1024);
    // Keep allocating a little so that cycles (and their scavenging) run.
    for (int k = 0; k < 5; k++) {
        gort_gc();
        for (int i = 0; i < 10000; i++)
            (void)gort_alloc(64);
    }
    gort_memstats ms;
    gort_read_memstats(&ms);
    long after = rss_kib();
    fprintf(stderr, "    after: RSS %ld KiB, heap_idle %llu, heap_released %llu\n", after,
            (unsigned long long)ms.heap_idle, (unsigned long long)ms.heap_released);
    CHECK(ms.heap_released >= ms.heap_idle / 2);
    if (!UNDER_TSAN)
        CHECK(after < peak_kib / 3);
    return harness_summary();
}
