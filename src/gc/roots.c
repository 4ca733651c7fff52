// roots.c: memory outside the gort heap that the collector must scan.
//
// See gc.h. gort_add_roots records [start, start + size) in an off-heap
// table (mapped with rt_os_map, doubled when full; never malloc); the
// collector walks it with rt_gc_roots_foreach and scans each range
// conservatively. gort_remove_roots drops every registered range that lies
// inside the given one, as Boehm's GC_remove_roots does.
//
// Globals: the writable PT_LOAD segments (data, bss) of the executable and
// of every loaded shared object, listed by rt_os_data_segments
// (src/os/linux/symtab.c, with dl_iterate_phdr). The walk runs before the
// world stops, since it takes the dynamic loader's lock, which a stopped
// thread may hold; the ranges are kept in an off-heap table. rt_mheap (heap metadata, no heap
// objects) and the statics the collector names (rt_gc_noscan_static) are
// cut out of them.
//
// Locking: roots.lock guards the table; a leaf. segs is [owner] the cycle's
// starter: written by it just before it stops the world (cycles are one at
// a time), read with the world stopped.
#include "gc/gc.h"

typedef struct RootRange {
    uintptr_t start;
    uintptr_t size;
} RootRange;

static struct {
    Lock lock;      // guards the fields below
    RootRange *tab; // [lock]
    uintptr_t n;    // [lock]
    uintptr_t cap;  // [lock]
} roots;

void
gort_add_roots(void *start, size_t size)
{
    if (start == NULL || size == 0)
        return;
    if ((uintptr_t)start + size < (uintptr_t)start)
        rt_panic("gort_add_roots: range wraps around the address space");
    rt_lock(&roots.lock);
    if (roots.n == roots.cap) {
        uintptr_t cap = roots.cap ? roots.cap * 2 : 256;
        RootRange *t = rt_os_map(cap * sizeof(RootRange));
        if (t == NULL) {
            rt_unlock(&roots.lock);
            rt_throw("gort_add_roots: out of memory");
        }
        for (uintptr_t i = 0; i < roots.n; i++)
            t[i] = roots.tab[i];
        if (roots.tab != NULL)
            rt_os_unmap(roots.tab, roots.cap * sizeof(RootRange));
        roots.tab = t;
        roots.cap = cap;
    }
    roots.tab[roots.n++] = (RootRange){(uintptr_t)start, size};
    rt_unlock(&roots.lock);
}

void
gort_remove_roots(void *start, size_t size)
{
    uintptr_t lo = (uintptr_t)start, hi = lo + size;
    rt_lock(&roots.lock);
    uintptr_t j = 0;
    for (uintptr_t i = 0; i < roots.n; i++) {
        RootRange r = roots.tab[i];
        if (r.start >= lo && r.start + r.size <= hi)
            continue;
        roots.tab[j++] = r;
    }
    roots.n = j;
    rt_unlock(&roots.lock);
}

void
rt_gc_roots_foreach(void (*fn)(uintptr_t start, uintptr_t size, void *arg), void *arg)
{
    rt_lock(&roots.lock);
    for (uintptr_t i = 0; i < roots.n; i++)
        fn(roots.tab[i].start, roots.tab[i].size, arg);
    rt_unlock(&roots.lock);
}

void
gort_keep_alive(const void *p)
{
    // An opaque use: the compiler must assume the asm reads p (and memory),
    // so p stays live in a register or slot up to this call, even inlined.
    __asm__ volatile("" : : "r"(p) : "memory");
}

// ---- Data segments -------------------------------------------------------------------

typedef struct Seg {
    uintptr_t lo, hi;
} Seg;

static struct {
    Seg *tab; // rt_os_map'd
    uintptr_t n;
    uintptr_t cap;
} segs;

static void
seg_add(uintptr_t lo, uintptr_t hi)
{
    if (lo >= hi)
        return;
    if (segs.n == segs.cap)
        rt_gc_table_grow((uintptr_t **)(void *)&segs.tab, &segs.cap, segs.n,
                         sizeof(Seg) / sizeof(uintptr_t), 256, "gc: cannot map the segment table");
    segs.tab[segs.n++] = (Seg){lo, hi};
}

// The runtime's own statics that hold heap addresses as numbers, not as
// references (heap metadata, the collector's heap bounds), cut out of the
// data segments: a stale address there would keep its object alive.
// Sorted by lo; [const] after the first cycle (rt_gc_noscan_static).
static struct {
    uintptr_t lo, hi;
} noscan[4];
static uint32_t nnoscan;

void
rt_gc_noscan_static(const void *p, size_t n)
{
    uintptr_t lo = (uintptr_t)p, hi = lo + n;
    for (uint32_t i = 0; i < nnoscan; i++)
        if (noscan[i].lo == lo)
            return; // registered already
    if (nnoscan == sizeof noscan / sizeof noscan[0])
        rt_throw("gc: too many unscanned statics");
    uint32_t i = nnoscan++;
    for (; i > 0 && noscan[i - 1].lo > lo; i--)
        noscan[i] = noscan[i - 1];
    noscan[i].lo = lo;
    noscan[i].hi = hi;
}

// One writable segment [lo, hi) of a loaded object, less the unscanned statics.
static void
segment_cb(uintptr_t lo, uintptr_t hi, void *arg)
{
    (void)arg;
    for (uint32_t k = 0; k < nnoscan; k++) {
        if (noscan[k].lo < lo || noscan[k].hi > hi)
            continue; // not in this segment
        seg_add(lo, noscan[k].lo);
        lo = noscan[k].hi;
    }
    seg_add(lo, hi);
}

void
rt_gc_data_segments_update(void)
{
    rt_gc_noscan_static(&rt_mheap, sizeof rt_mheap);
    segs.n = 0;
    rt_os_data_segments(segment_cb, NULL);
}

void
rt_gc_data_segments_foreach(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
    for (uintptr_t i = 0; i < segs.n; i++)
        fn(segs.tab[i].lo, segs.tab[i].hi, arg);
}
