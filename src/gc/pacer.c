// pacer.c: GOGC, GOMEMLIMIT, the heap goal, gort_gc.
//
// See gc.h. Settings follow Go: GOGC is a percentage or "off" (-1), an
// unparsable value means 100; GOMEMLIMIT uses Go's byte syntax ("512MiB")
// or "off", and a malformed value is fatal, as in Go. Setters return the
// previous value; a negative memory limit only queries.
#include <string.h>

#include "gc/gc.h"

GCState rt_gc = {.percent = GC_DEFAULT_PERCENT, .memory_limit = INT64_MAX};

static int32_t
read_gogc(void)
{
    const char *p = rt_getenv("GOGC");
    if (p == NULL || *p == 0)
        return GC_DEFAULT_PERCENT;
    if (strcmp(p, "off") == 0)
        return -1;
    // Go's atoi32: optional sign, digits only, no overflow.
    const char *q = p;
    bool neg = false;
    if (*q == '-' || *q == '+')
        neg = *q++ == '-';
    if (*q == 0)
        return GC_DEFAULT_PERCENT;
    int64_t v = 0;
    for (; *q; q++) {
        if (*q < '0' || *q > '9')
            return GC_DEFAULT_PERCENT;
        v = v * 10 + (*q - '0');
        if (v > INT32_MAX)
            return GC_DEFAULT_PERCENT;
    }
    v = neg ? -v : v;
    return v < 0 ? -1 : (int32_t)v;
}

static int64_t
read_gomemlimit(void)
{
    const char *p = rt_getenv("GOMEMLIMIT");
    if (p == NULL || *p == 0 || strcmp(p, "off") == 0)
        return INT64_MAX;
    int64_t v = rt_parse_bytes(p);
    if (v < 0) {
        rt_printf("GOMEMLIMIT=%s\n", p);
        rt_throw("malformed GOMEMLIMIT; see `go doc runtime/debug.SetMemoryLimit`");
    }
    return v;
}

void
rt_gc_init(void)
{
    rt_lock(&rt_gc.lock);
    atomic_store(&rt_gc.percent, read_gogc());
    atomic_store(&rt_gc.memory_limit, read_gomemlimit());
    rt_unlock(&rt_gc.lock);
}

uint64_t
rt_gc_heap_goal(void)
{
    int32_t pct = atomic_load(&rt_gc.percent);
    int64_t limit = atomic_load(&rt_gc.memory_limit);
    uint64_t goal = UINT64_MAX;
    if (pct >= 0) {
        uint64_t marked = atomic_load(&rt_gc.heap_marked);
        goal = marked + marked * (uint64_t)pct / 100;
        uint64_t min = GC_HEAP_MINIMUM * (uint64_t)pct / 100;
        if (goal < min)
            goal = min;
    }
    // TODO(issue 3): Go's memory-limit goal subtracts non-heap memory and a
    // headroom; until the pacer lands the limit itself caps the goal.
    if (limit != INT64_MAX && (uint64_t)limit < goal)
        goal = (uint64_t)limit;
    return goal;
}

void
gort_gc(void)
{
    // TODO(issue 3): run a full collection (runtime.GC) and count it in
    // rt_gc.num_gc / num_forced_gc. No collector exists yet, so this returns
    // without collecting or pretending to have collected.
}

int
gort_set_gc_percent(int percent)
{
    rt_lock(&rt_gc.lock);
    int32_t old = atomic_load(&rt_gc.percent);
    atomic_store(&rt_gc.percent, percent < 0 ? -1 : percent);
    rt_unlock(&rt_gc.lock);
    return old;
}

int64_t
gort_set_memory_limit(int64_t bytes)
{
    rt_lock(&rt_gc.lock);
    int64_t old = atomic_load(&rt_gc.memory_limit);
    if (bytes >= 0)
        atomic_store(&rt_gc.memory_limit, bytes);
    rt_unlock(&rt_gc.lock);
    return old;
}
