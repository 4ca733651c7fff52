// mem_sys.c: gort_read_memstats' page figures read true (issue 10, part 5).
// heap_sys is the heap mapped ready for use, grown in steps of at most 4 MiB
// as the heap is used, not the 64 MiB arena reserved at once: a program with
// a 5 MB heap sees heap_sys near 5 MB. Go's identities hold throughout:
// heap_alloc <= heap_sys - heap_idle (in use), heap_released <= heap_idle <=
// heap_sys. Every verdict is a byte count, independent of the machine's speed.
#include "../harness.h"

#include <gort.h>
#include <stdio.h>

#define MiB ((uint64_t)1 << 20)

static gort_memstats ms; // large: off the stack

static void
identities(void)
{
    CHECK(ms.heap_sys >= ms.heap_alloc);
    CHECK(ms.heap_idle <= ms.heap_sys);
    CHECK(ms.heap_released <= ms.heap_idle);
    CHECK(ms.heap_sys - ms.heap_idle >= ms.heap_alloc); // in-use pages hold the objects
}

enum { N = 5000, SZ = 1024 }; // 5 MB live
static void *keep[N];

// A ~5 MB heap reports a heap_sys within a few MiB of it (two 4 MiB steps
// of slack for partly used spans), not a whole arena.
static void
test_small_heap(void)
{
    for (int i = 0; i < N; i++)
        keep[i] = gort_alloc(SZ);
    gort_read_memstats(&ms);
    fprintf(stderr, "    5 MB heap: heap_alloc %llu, heap_sys %llu, idle %llu, released %llu\n",
            (unsigned long long)ms.heap_alloc, (unsigned long long)ms.heap_sys,
            (unsigned long long)ms.heap_idle, (unsigned long long)ms.heap_released);
    identities();
    CHECK(ms.heap_alloc >= (uint64_t)N * SZ);
    CHECK(ms.heap_sys <= ms.heap_alloc + 8 * MiB);
    CHECK(ms.heap_sys < 64 * MiB);
}

// As the heap grows by 1 MiB objects, heap_sys follows it, never jumping by
// more than the object plus one 4 MiB step; after a collection frees them
// the identities still hold (the freed pages are idle, not gone).
static void
test_growth(void)
{
    enum { K = 40 };
    static void *big[K];
    gort_read_memstats(&ms);
    uint64_t prev = ms.heap_sys;
    for (int i = 0; i < K; i++) {
        big[i] = gort_alloc_noscan(MiB);
        gort_read_memstats(&ms);
        identities();
        CHECK(ms.heap_sys <= prev + MiB + 4 * MiB);
        prev = ms.heap_sys;
    }
    CHECK(ms.heap_sys <= ms.heap_alloc + 12 * MiB);
    for (int i = 0; i < K; i++)
        gort_keep_alive(big[i]);
    for (int i = 0; i < K; i++)
        big[i] = NULL;
    gort_gc();
    gort_gc();
    gort_read_memstats(&ms);
    identities();
    CHECK(ms.heap_idle >= 30 * MiB); // the 1 MiB objects' pages
}

int
main(void)
{
    RUN(test_small_heap);
    RUN(test_growth);
    for (int i = 0; i < N; i++)
        gort_keep_alive(keep[i]);
    return harness_summary();
}
