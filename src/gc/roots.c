// roots.c: memory outside the gort heap that the collector must scan.
//
// See gc.h. gort_add_roots records [start, start + size) in an off-heap
// table (mapped with rt_os_map, doubled when full; never malloc); the
// collector (issue 3) walks it with rt_gc_roots_foreach and scans each range
// conservatively. gort_remove_roots drops every registered range that lies
// inside the given one, as Boehm's GC_remove_roots does.
//
// Locking: roots.lock guards the table; a leaf.
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
