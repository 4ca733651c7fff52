// stack.c: goroutine stacks.
//
// Stacks do not grow: each goroutine gets a fixed stack (the default,
// GORT_STACK_SIZE or 256 KiB, or the size given to gort_go_stack), with a
// guard zone below it that faults. Memory is mapped MAP_NORESERVE and
// committed on first touch, so a goroutine that uses one page of its stack
// costs one page of RSS whatever the stack's size.
//
// Default-size stacks are carved from chunks of CHUNK_NSTACKS slots:
//
//   chunk: | guard | stack 0 | guard | stack 1 | ... | guard | stack 63 |
//
// The guard zone is installed with rt_os_guard (MADV_GUARD_INSTALL: page
// table markers, no VMA per stack, so a million stacks fit under
// vm.max_map_count); a chunk is one mapping. Chunks are never unmapped.
// Free default stacks live in two tiers, as in Go:
//
//   P.stackcache[32]   per-P, owner only, no lock; refilled from and drained
//                      to the global cache STACK_BATCH stacks at a time;
//   global cache       batches of STACK_BATCH stacks under stacks.lock:
//                      "dirty" (freed by goroutines, may hold committed
//                      pages; newest first, stamped with the push time) and
//                      "clean" (never touched, or pages already released).
//
// Allocation prefers dirty batches (their pages are warm), then clean ones,
// then carves a new chunk. rt_stack_scavenge (sysmon) takes dirty batches
// idle for more than SCAVENGE_AGE off the tail of the dirty list, returns
// their pages with rt_os_release and moves them to the clean list. Stacks in
// P caches are not scavenged (at most 32 per P; rt_stack_cache_flush drains
// one when a P is destroyed).
//
// Other sizes get a mapping of their own (guard included), unmapped on free.
// A default stack is recognised by its size: stack_hi - stack_lo equals
// rt_stack_default exactly; own mappings keep 16 bytes above stack_hi for the
// Valgrind stack id, so their usable size (a page multiple less 16) never
// equals it.
//
// Locking: stacks.lock guards the global cache and the batch-node free list;
// it is a leaf lock (rt_os_* calls only). Callers run on g0 (or sysmon) with
// rt_m()->p held, or no P at all (then the global cache is used directly).
#include "core/debugvars.h"
#include "rt.h"
#include "sanitize.h"

#include <stdatomic.h>
#include <string.h>

enum {
    STACK_MIN = 16 << 10,      // smallest stack handed out
    STACK_DEFAULT = 256 << 10, // without GORT_STACK_SIZE
    STACK_GUARD = 64 << 10,    // guard zone below each stack: VA only, catches frames < 64 KiB
    CHUNK_NSTACKS = 64,        // default stacks per chunk mapping
    STACK_CLEAR_TOP = 1024,    // bytes at the top of a freed default stack cleared for the next
    STACK_BATCH = 16,          // global <-> P transfer unit (half of P.stackcache)
    OWN_TOP = 16,              // own mappings: Valgrind id above stack_hi
};
#define SCAVENGE_AGE    ((int64_t)5 * 1000 * 1000 * 1000) // ns idle before release
#define SCAVENGE_BUDGET ((int64_t)10 * 1000 * 1000) // ns of work per call (~1% of sysmon at 1/s)

size_t rt_stack_default = STACK_DEFAULT;

// A batch of free default-size stacks in the global cache. Each entry is a
// stack's stack_lo. Nodes are never freed, only recycled.
typedef struct StackBatch {
    struct StackBatch *next;
    struct StackBatch *prev; // dirty list only
    int64_t when;            // nanotime when pushed (dirty list)
    int32_t n;
    uintptr_t stk[STACK_BATCH];
} StackBatch;

static struct {
    Lock lock;              // guards every field below
    StackBatch *dirty;      // [lock] newest first
    StackBatch *dirty_tail; // [lock] oldest
    StackBatch *clean;      // [lock] singly linked
    StackBatch *freenodes;  // [lock] unused batch nodes
    uintptr_t carve;        // [lock] next uncarved slot of the current chunk
    uintptr_t carve_end;    // [lock]
    size_t guard;           // [const] guard zone bytes
    size_t slot;            // [const] guard + default stack
    size_t pagesize;        // [const]
    // Statistics, for debugging.
    uint64_t nchunks;     // [lock]
    uint64_t nreleased;   // [lock] stacks whose pages were returned
    _Atomic int64_t nown; // [atomic] live stacks with their own mapping
} stacks;

static size_t
round_page(size_t n)
{
    size_t ps = stacks.pagesize;
    return (n + ps - 1) & ~(ps - 1);
}

void
rt_stack_init(void)
{
    stacks.pagesize = rt_os_pagesize();
    size_t size = STACK_DEFAULT;
    const char *s = rt_getenv("GORT_STACK_SIZE");
    if (s != NULL && s[0] != '\0') {
        int64_t v = rt_parse_bytes(s);
        if (v > 0 && (uint64_t)v <= ((uint64_t)1 << 40))
            size = (size_t)v;
        else
            rt_printf("runtime: ignoring GORT_STACK_SIZE=%s (want a size like 256KiB)\n", s);
    }
    size = round_page(size);
    if (size < STACK_MIN)
        size = STACK_MIN;
    rt_stack_default = size;
    stacks.guard = round_page(STACK_GUARD);
    stacks.slot = stacks.guard + size;
}

// ---- global cache (stacks.lock held) ----------------------------------------

static StackBatch *
node_get(void)
{
    StackBatch *b = stacks.freenodes;
    if (b == NULL) {
        size_t n = 64 << 10;
        char *p = rt_os_map(n);
        if (p == NULL)
            rt_throw("stack: out of memory for cache nodes");
        for (size_t off = 0; off + sizeof(StackBatch) <= n; off += sizeof(StackBatch)) {
            StackBatch *nb = (StackBatch *)(p + off);
            nb->next = stacks.freenodes;
            stacks.freenodes = nb;
        }
        b = stacks.freenodes;
    }
    stacks.freenodes = b->next;
    b->next = b->prev = NULL;
    b->n = 0;
    b->when = 0;
    return b;
}

static void
node_put(StackBatch *b)
{
    b->next = stacks.freenodes;
    stacks.freenodes = b;
}

static void
dirty_push(StackBatch *b, int64_t now)
{
    b->when = now;
    b->prev = NULL;
    b->next = stacks.dirty;
    if (stacks.dirty != NULL)
        stacks.dirty->prev = b;
    else
        stacks.dirty_tail = b;
    stacks.dirty = b;
}

static StackBatch *
dirty_pop(void)
{
    StackBatch *b = stacks.dirty;
    if (b == NULL)
        return NULL;
    stacks.dirty = b->next;
    if (stacks.dirty != NULL)
        stacks.dirty->prev = NULL;
    else
        stacks.dirty_tail = NULL;
    return b;
}

static StackBatch *
dirty_pop_tail(void)
{
    StackBatch *b = stacks.dirty_tail;
    if (b == NULL)
        return NULL;
    stacks.dirty_tail = b->prev;
    if (stacks.dirty_tail != NULL)
        stacks.dirty_tail->next = NULL;
    else
        stacks.dirty = NULL;
    return b;
}

// Maps a new chunk and installs its guards. Called with stacks.lock held:
// it is rare (once per CHUNK_NSTACKS stacks) and about 1 µs per guard.
static void
chunk_new(void)
{
    size_t n = stacks.slot * CHUNK_NSTACKS;
    char *p = rt_os_map(n);
    if (p == NULL)
        rt_throw("stack: out of memory (mmap of a stack chunk failed)");
    for (int i = 0; i < CHUNK_NSTACKS; i++) {
        char *slot = p + (size_t)i * stacks.slot;
        if (rt_os_guard(slot, stacks.guard) != 0)
            rt_throw("stack: cannot install guard page");
        if (rt_valgrind_running()) // default stacks are never unmapped, never deregistered
            rt_valgrind_stack_register((uintptr_t)slot + stacks.guard,
                                       (uintptr_t)slot + stacks.slot);
    }
    stacks.carve = (uintptr_t)p;
    stacks.carve_end = (uintptr_t)p + n;
    stacks.nchunks++;
}

// Fills out[] with up to max free default stacks; returns how many (>= 1).
static int
global_get(uintptr_t *out, int max)
{
    rt_lock(&stacks.lock);
    // Take from the head batch in place: the dirty list stays ordered by age.
    StackBatch **head = stacks.dirty != NULL ? &stacks.dirty : &stacks.clean;
    StackBatch *b = *head;
    int n = 0;
    if (b != NULL) {
        n = b->n < max ? b->n : max;
        memcpy(out, &b->stk[b->n - n], (size_t)n * sizeof(uintptr_t));
        b->n -= n;
        if (b->n == 0) {
            if (head == &stacks.dirty)
                dirty_pop();
            else
                stacks.clean = b->next;
            node_put(b);
        }
    } else {
        while (n < max) {
            if (stacks.carve == stacks.carve_end)
                chunk_new();
            out[n++] = stacks.carve + stacks.guard;
            stacks.carve += stacks.slot;
        }
    }
    rt_unlock(&stacks.lock);
    return n;
}

static void
global_put(const uintptr_t *stk, int n, int64_t now)
{
    rt_lock(&stacks.lock);
    while (n > 0) {
        StackBatch *b = node_get();
        int k = n < STACK_BATCH ? n : STACK_BATCH;
        memcpy(b->stk, stk, (size_t)k * sizeof(uintptr_t));
        b->n = k;
        dirty_push(b, now);
        stk += k;
        n -= k;
    }
    rt_unlock(&stacks.lock);
}

// ---- allocation --------------------------------------------------------------

static uintptr_t
default_alloc(void)
{
    M *mp = rt_m();
    P *pp = mp != NULL ? mp->p : NULL;
    if (pp == NULL) {
        uintptr_t s;
        global_get(&s, 1);
        return s;
    }
    if (pp->nstackcache == 0) {
        uintptr_t tmp[STACK_BATCH];
        int n = global_get(tmp, STACK_BATCH);
        for (int i = 0; i < n; i++)
            pp->stackcache[i] = (void *)tmp[i];
        pp->nstackcache = n;
    }
    return (uintptr_t)pp->stackcache[--pp->nstackcache];
}

static void
default_free(uintptr_t lo)
{
    M *mp = rt_m();
    P *pp = mp != NULL ? mp->p : NULL;
    if (pp == NULL) {
        global_put(&lo, 1, rt_nanotime());
        return;
    }
    int cap = (int)RT_NELEM(pp->stackcache);
    if (pp->nstackcache == cap) {
        // Keep the most recently freed (warmest) half.
        uintptr_t tmp[STACK_BATCH];
        for (int i = 0; i < STACK_BATCH; i++)
            tmp[i] = (uintptr_t)pp->stackcache[i];
        memmove(&pp->stackcache[0], &pp->stackcache[STACK_BATCH],
                (size_t)(cap - STACK_BATCH) * sizeof(void *));
        pp->nstackcache = cap - STACK_BATCH;
        global_put(tmp, STACK_BATCH, rt_nanotime());
    }
    pp->stackcache[pp->nstackcache++] = (void *)lo;
}

static size_t
want_size(const G *gp)
{
    if (gp->stack_size == 0)
        return rt_stack_default;
    size_t size = round_page(gp->stack_size);
    if (size < STACK_MIN)
        size = STACK_MIN;
    if (size < gp->stack_size) // overflow in rounding
        rt_throw("stack: size too large");
    return size;
}

void
rt_stack_alloc(G *gp)
{
    size_t size = want_size(gp);
    if (size == rt_stack_default) {
        uintptr_t lo = default_alloc();
        gp->stack_lo = lo;
        gp->stack_hi = lo + size;
        return;
    }
    size_t total = stacks.guard + size;
    if (total < size)
        rt_throw("stack: size too large");
    char *p = rt_os_map(total);
    if (p == NULL)
        rt_throw("stack: out of memory (mmap of a goroutine stack failed)");
    if (rt_os_guard(p, stacks.guard) != 0)
        rt_throw("stack: cannot install guard page");
    // Usable [lo, hi) = [p + guard, end - OWN_TOP): hi - lo is never a
    // multiple of the page size, so never rt_stack_default.
    uintptr_t lo = (uintptr_t)p + stacks.guard;
    uintptr_t hi = (uintptr_t)p + total - OWN_TOP;
    unsigned id = 0;
    if (rt_valgrind_running())
        id = rt_valgrind_stack_register(lo, hi);
    *(unsigned *)hi = id;
    atomic_fetch_add_explicit(&stacks.nown, 1, memory_order_relaxed);
    gp->stack_lo = lo;
    gp->stack_hi = hi;
}

// Zeroes the RT_STACK_CLEAR_DEAD bytes of dead stack just below the
// caller's frame, as a frame of its own (so that no signal frame can be
// there). Frames pushed there later find zeros, not older frames' words,
// in slots they do not write.
RT_NOINLINE void
rt_stack_clear_dead(void)
{
    volatile uintptr_t dead[RT_STACK_CLEAR_DEAD / sizeof(uintptr_t)];
    for (size_t i = 0; i < sizeof dead / sizeof dead[0]; i++)
        dead[i] = 0;
}

void
rt_stack_free(G *gp)
{
    uintptr_t lo = gp->stack_lo, hi = gp->stack_hi;
    if (lo == 0)
        return;
    gp->stack_lo = gp->stack_hi = 0;
#if RT_ASAN
    // Frames left by a goroutine that did not return normally stay poisoned.
    __asan_unpoison_memory_region((const void *)lo, hi - lo);
#endif
    if (hi - lo == rt_stack_default) {
        // The next goroutine on this stack puts its first frames here, and
        // they live as long as it does: slots it never writes would keep
        // this goroutine's last pointers alive (the collector is
        // conservative). Clear them. The rest of the stack holds frames
        // that come and go; mcall clears the registers (asm.S).
        if (rt_valgrind_running()) {
            // Memcheck holds the dead goroutine's stack below its last sp as
            // unaddressable: make the top writable for the clearing.
            rt_valgrind_make_undefined((void *)(hi - STACK_CLEAR_TOP), STACK_CLEAR_TOP);
        }
        memset((void *)(hi - STACK_CLEAR_TOP), 0, STACK_CLEAR_TOP);
        default_free(lo);
        return;
    }
    unsigned id = *(unsigned *)hi;
    if (rt_valgrind_running())
        rt_valgrind_stack_deregister(id);
    uintptr_t base = lo - stacks.guard;
    rt_os_unmap((void *)base, hi + OWN_TOP - base);
    atomic_fetch_sub_explicit(&stacks.nown, 1, memory_order_relaxed);
}

// Moves all of pp's cached stacks to the global cache (pp is being
// destroyed, or its owner wants them scavengeable). Caller owns pp.
void
rt_stack_cache_flush(P *pp)
{
    int n = pp->nstackcache;
    if (n == 0)
        return;
    uintptr_t tmp[RT_NELEM(pp->stackcache)];
    for (int i = 0; i < n; i++)
        tmp[i] = (uintptr_t)pp->stackcache[i];
    pp->nstackcache = 0;
    global_put(tmp, n, rt_nanotime());
}

// Returns the pages of default stacks idle in the global cache for longer
// than SCAVENGE_AGE. Called by sysmon (no P), about once a second. Works for
// at most SCAVENGE_BUDGET per call (about 5k stacks); the lock is dropped
// around each batch's madvise calls.
void
rt_stack_scavenge(int64_t now)
{
    size_t size = rt_stack_default;
    int64_t start = rt_nanotime();
    for (;;) {
        rt_lock(&stacks.lock);
        StackBatch *b = stacks.dirty_tail;
        if (b == NULL || now - b->when < SCAVENGE_AGE) {
            rt_unlock(&stacks.lock);
            return;
        }
        dirty_pop_tail();
        rt_unlock(&stacks.lock);
        for (int k = 0; k < b->n; k++)
            (void)rt_os_release((void *)b->stk[k], size); // refused: stays resident, harmless
        rt_lock(&stacks.lock);
        stacks.nreleased += (uint64_t)b->n;
        b->next = stacks.clean;
        stacks.clean = b;
        rt_unlock(&stacks.lock);
        if (rt_nanotime() - start > SCAVENGE_BUDGET)
            return;
    }
}

// For the signal handler: does a fault at addr (with stack pointer sp) mean
// that gp ran off the bottom of its stack? True if either lies in the guard
// zone below gp's stack, or sp lies below stack_lo by less than the guard
// plus a page (a frame that skipped the guard). Async-signal-safe.
bool
rt_stack_guard_hit(G *gp, uintptr_t addr, uintptr_t sp)
{
    if (gp == NULL || gp->stack_lo == 0)
        return false;
    uintptr_t lo = gp->stack_lo;
    size_t guard = stacks.guard != 0 ? stacks.guard : STACK_GUARD;
    uintptr_t glo = lo - guard - (stacks.pagesize ? stacks.pagesize : 4096);
    if (addr < lo && addr >= glo)
        return true;
    return sp < lo && sp >= glo;
}
