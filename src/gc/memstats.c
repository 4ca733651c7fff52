// memstats.c: gort_read_memstats.
//
// See gc.h. Figures come from the allocator as Go defines them: page
// figures from rt_mheap, object counters summed over every MCache (each
// written only by its P with plain stores, read relaxed here, so the sum is
// a consistent-enough snapshot without stopping the world). As Go does, tiny
// allocations count in both mallocs and frees: the 16-byte block they share
// is the object. GC figures come from rt_gc, written by each cycle with the world stopped
// and read racily here (the pause ring may show a cycle in progress).
#include "gc/gc.h"

#include <string.h>

void
gort_read_memstats(gort_memstats *out)
{
    HeapStats hs;
    rt_mheap_read_stats(&hs);
    memset(out, 0, sizeof *out);
    out->heap_sys = hs.heap_sys;
    out->heap_idle = hs.heap_idle;
    out->heap_released = hs.heap_released;
    out->mallocs = hs.nmalloc + hs.ntiny;
    out->frees = hs.nfree + hs.ntiny;
    out->heap_objects = out->mallocs - out->frees;
    out->total_alloc = hs.total_alloc;
    out->heap_alloc = hs.total_alloc - hs.total_free;
    out->next_gc = rt_gc_heap_goal();
    out->num_gc = atomic_load(&rt_gc.num_gc);
    out->num_forced_gc = atomic_load(&rt_gc.num_forced_gc);
    out->last_gc_ns = (uint64_t)atomic_load(&rt_gc.last_gc_ns);
    out->pause_total_ns = atomic_load(&rt_gc.pause_total_ns);
    _Static_assert(RT_NELEM(out->pause_ns) == GC_PAUSE_RING &&
                           sizeof out->pause_ns == sizeof rt_gc.pause_ns,
                   "gort_memstats.pause_ns is the pause ring");
    memcpy(out->pause_ns, rt_gc.pause_ns, sizeof out->pause_ns);
    int64_t total = rt_nanotime() - rt_starttime;
    int32_t np = atomic_load(&rt_gomaxprocs);
    if (total > 0 && np > 0)
        out->gc_cpu_fraction = (double)atomic_load(&rt_gc.cpu_ns) / ((double)total * (double)np);
}
