// gc_pacer.c: GOGC and the memory limit decide when cycles run.
#include "../harness.h"

#include <gort.h>
#include <stdint.h>
#include <string.h>

static void *volatile sink;

static void
garbage(size_t bytes, size_t each)
{
    for (size_t n = 0; n < bytes; n += each)
        sink = gort_alloc(each);
    sink = NULL;
}

static void
test_gogc_default_collects(void)
{
    int old = gort_set_gc_percent(100);
    gort_gc();
    gort_memstats a, b;
    gort_read_memstats(&a);
    garbage(64 << 20, 128);
    gort_read_memstats(&b);
    CHECK(b.num_gc >= a.num_gc + 4);              // 64 MB through a 4 MB goal
    CHECK(b.heap_sys - b.heap_idle < (32 << 20)); // in use: garbage is reused, not kept
    CHECK(b.next_gc >= (4 << 20) - (1 << 20));
    gort_set_gc_percent(old);
}

static void
test_gogc_off(void)
{
    if (harness_gcstress()) {
        fprintf(stderr, "    skipped: gcstress collects with GOGC=off too\n");
        return;
    }
    int old = gort_set_gc_percent(-1);
    gort_memstats a, b;
    gort_read_memstats(&a);
    garbage(48 << 20, 256);
    gort_read_memstats(&b);
    CHECK_EQ(b.num_gc, a.num_gc); // no automatic cycle
    CHECK(b.heap_alloc >= a.heap_alloc + (40 << 20));
    gort_gc(); // gort_gc still collects
    gort_read_memstats(&b);
    CHECK_EQ(b.num_gc, a.num_gc + 1);
    CHECK(b.heap_alloc < a.heap_alloc + (8 << 20));
    gort_set_gc_percent(old);
}

static void
test_memory_limit(void)
{
    int old = gort_set_gc_percent(-1);
    int64_t oldlim = gort_set_memory_limit(48 << 20);
    gort_gc();
    gort_memstats a, b;
    gort_read_memstats(&a);
    garbage(400 << 20, 512);
    gort_read_memstats(&b);
    CHECK(b.num_gc >= a.num_gc + 4); // the limit forces cycles with GOGC=off
    CHECK(b.heap_sys - b.heap_released <= (64 << 20));
    CHECK(b.next_gc <= (48 << 20));
    CHECK_EQ(gort_set_memory_limit(oldlim), 48 << 20);
    gort_set_gc_percent(old);
}

static void
test_gogc_large_percent(void)
{
    int old = gort_set_gc_percent(400);
    gort_gc();
    gort_memstats a, b;
    gort_read_memstats(&a);
    CHECK(a.next_gc >= (16 << 20) - (1 << 20)); // 4 MB x 400/100
    garbage(64 << 20, 64);
    gort_read_memstats(&b);
    CHECK(b.num_gc > a.num_gc);
    if (!harness_gcstress()) // its cycles come whatever the goal
        CHECK(b.num_gc <= a.num_gc + 6);
    gort_set_gc_percent(old);
}

int
main(void)
{
    RUN(test_gogc_default_collects);
    RUN(test_gogc_off);
    RUN(test_memory_limit);
    RUN(test_gogc_large_percent);
    return harness_summary();
}
