// gc.h: the garbage collector's state and interfaces (overview).
//
// What is here now: the public memory-management API that does not need a
// collector, done honestly, and the state the collector will run on.
//
//   pacer.c      GOGC / GOMEMLIMIT (read by rt_gc_init at boot with Go's
//                syntax), gort_set_gc_percent, gort_set_memory_limit, the
//                heap goal (4 MiB x GOGC/100 before the first cycle), and
//                gort_gc, which does nothing yet.
//   roots.c      gort_add_roots / gort_remove_roots: an off-heap table of
//                memory ranges outside the heap that the collector will scan
//                conservatively; gort_keep_alive.
//   finalizer.c  gort_set_finalizer: records the finalizer as a special on
//                the object's span (Go's mspan.specials), where the sweeper
//                will find it.
//   memstats.c   gort_read_memstats from the allocator's true figures.
//
// What is to come (issue 3), following Go (../shared/go-runtime.md, 3):
// mark-sweep over the spans of src/mem. Marking sets gcmark_bits through
// rt_find_object (interior pointers, magic division) and the arenas'
// page_marks; noscan span classes are never scanned. Roots: goroutine
// stacks and saved registers, the program's data/bss, the ranges of roots.c,
// the finalizer specials. Sweeping turns mark bits into alloc bits
// (malloc.h's sweepgen states), queues finalizers of dead objects and gives
// empty spans back with rt_mheap_free; the pacer triggers cycles from
// rt_mheap.heap_live and the goal; the scavenger calls rt_mheap_scavenge.
//
// Locking: gc.lock guards the settings' writers; readers load atomically.
// roots.lock guards the root table (a leaf).
#ifndef GORT_GC_GC_H
#define GORT_GC_GC_H

#include "mem/malloc.h"

enum { GC_DEFAULT_PERCENT = 100 };
#define GC_HEAP_MINIMUM ((uint64_t)4 << 20) // Go's defaultHeapMinimum at GOGC=100

typedef struct GCState {
    Lock lock;                   // serialises setters
    _Atomic int32_t percent;     // [atomic, written under lock] GOGC; -1 = off
    _Atomic int64_t memory_limit; // [atomic, written under lock] bytes; INT64_MAX = none
    _Atomic uint64_t heap_marked; // [atomic] live heap after the last cycle (0: none yet)
    _Atomic uint32_t num_gc;      // [atomic] completed cycles
    _Atomic uint32_t num_forced_gc; // [atomic] cycles started by gort_gc
} GCState;

extern GCState rt_gc;

// The heap size at which the next cycle should finish: max(heap_marked x
// (1 + GOGC/100), 4 MiB x GOGC/100), capped by the memory limit;
// UINT64_MAX when GOGC=off and there is no limit.
uint64_t rt_gc_heap_goal(void);

// Root ranges for the collector: calls fn for each registered range, with
// roots.lock held (fn must not call gort_add_roots/gort_remove_roots).
void rt_gc_roots_foreach(void (*fn)(uintptr_t start, uintptr_t size, void *arg), void *arg);

#endif // GORT_GC_GC_H
