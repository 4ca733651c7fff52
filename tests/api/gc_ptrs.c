// gc_ptrs.c: gort_alloc_ptrs / gort_new_ptrs (gort.h, Memory): the
// collector scans only an object's first ptr_bytes.
//
// A live holder object keeps one target through a pointer inside its
// pointer prefix and another through a pointer in its tail: the first must
// survive every collection, the second must be freed (its finalizer runs).
// The same for small holders (per-slot table), large holders (> 32 KiB),
// and a slot reused by gort_alloc after a gort_alloc_ptrs object died there
// (scanned whole again). A conservative collector may keep an object through
// a stray word, so the "freed" checks collect until the finalizer has run,
// with a generous bound, and are skipped under AddressSanitizer as in
// gc_basic.c.
#include "../harness.h"

#include <gort.h>
#include <stdint.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define STRICT_FREE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define STRICT_FREE 0
#endif
#endif
#ifndef STRICT_FREE
#define STRICT_FREE 1
#endif

typedef struct Holder {
    void *head;       // scanned
    void *keep;       // scanned: last pointer field
    uint64_t num[4];  // not scanned
    void *hidden;     // a pointer the program chose to hide from the collector
    uint64_t more[9]; // 128 bytes in all
} Holder;
_Static_assert(sizeof(Holder) == 128, "Holder is one 128-byte size class");

typedef struct Target {
    uint64_t magic;
    uint64_t pad[3];
} Target;

enum { MAGIC = 0x60727470 };

// Each check's targets carry its number in pad[0]: a finalizer counts only
// the current check's (an earlier check's kept target dies later).
static atomic_int fin_kept, fin_hidden;
static _Atomic uint64_t round_no;
static void *volatile holder_root; // the holder is reachable from a global

static void
final_kept(void *p)
{
    if (((Target *)p)->pad[0] == atomic_load(&round_no))
        atomic_fetch_add(&fin_kept, 1);
}
static void
final_hidden(void *p)
{
    if (((Target *)p)->pad[0] == atomic_load(&round_no))
        atomic_fetch_add(&fin_hidden, 1);
}

static __attribute__((noinline)) void
clobber_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

// Fills h's keep and tail slots with fresh targets that have finalizers.
// Separate frame: no copy of the target pointers stays in the caller's.
static __attribute__((noinline)) void
fill(void **keep, void **hidden)
{
    Target *k = gort_new(Target), *t = gort_new(Target);
    k->magic = MAGIC;
    t->magic = MAGIC;
    k->pad[0] = t->pad[0] = atomic_load(&round_no);
    gort_set_finalizer(k, final_kept);
    gort_set_finalizer(t, final_hidden);
    *keep = k;
    *hidden = t;
}

// Collects until the hidden target's finalizer ran (or about 10 s).
static void
collect_until_hidden_freed(void)
{
    for (int i = 0; i < 1000 && atomic_load(&fin_hidden) == 0; i++) {
        clobber_stack();
        gort_gc();
        gort_sleep(10 * MS);
    }
}

static void
check_holder(void **keep, void **hidden)
{
    atomic_fetch_add(&round_no, 1);
    atomic_store(&fin_kept, 0);
    atomic_store(&fin_hidden, 0);
    fill(keep, hidden);
    collect_until_hidden_freed();
    if (STRICT_FREE)
        CHECK_EQ(atomic_load(&fin_hidden), 1); // the tail was not scanned
    CHECK_EQ(atomic_load(&fin_kept), 0);       // the prefix was
    CHECK_EQ(((Target *)*keep)->magic, MAGIC);
}

static void
test_small(void)
{
    Holder *h = gort_new_ptrs(Holder, keep);
    CHECK(h != NULL);
    holder_root = h;
    check_holder(&h->keep, &h->hidden);
    holder_root = NULL;
}

static void
test_large(void)
{
    enum { N = 100000 };
    void **big = gort_alloc_ptrs(N * sizeof(void *), 16 * sizeof(void *));
    holder_root = big;
    check_holder(&big[15], &big[N - 7]);
    holder_root = NULL;
}

// Holders of gort_alloc_ptrs die; gort_alloc then reuses their slots and
// must be scanned over the whole object.
static __attribute__((noinline)) void
make_dead_holders(int n)
{
    for (int i = 0; i < n; i++) {
        Holder *h = gort_new_ptrs(Holder, keep);
        h->num[0] = (uint64_t)i;
    }
}

static void
test_reuse_by_gort_alloc(void)
{
    enum { NDEAD = 2000, NLIVE = 2000 };
    make_dead_holders(NDEAD);
    clobber_stack();
    gort_gc();
    gort_gc();
    // Plain objects now, most of them in the freed slots: their tails hold
    // the only pointers to their targets.
    static Holder *live[NLIVE];
    for (int i = 0; i < NLIVE; i++) {
        live[i] = gort_new(Holder);
        Target *t = gort_new(Target);
        t->magic = MAGIC + (uint64_t)i;
        live[i]->hidden = t;
        live[i]->more[8] = (uint64_t)(uintptr_t)t;
    }
    clobber_stack();
    for (int k = 0; k < 3; k++) {
        gort_gc();
        make_dead_holders(NDEAD / 4); // churn: new tables, freed slots
    }
    int ok = 1;
    for (int i = 0; i < NLIVE; i++)
        ok &= ((Target *)live[i]->hidden)->magic == MAGIC + (uint64_t)i;
    CHECK(ok);
}

// Degenerate arguments: 0 is noscan (the target dies), size is gort_alloc.
static void
test_edges(void)
{
    void **a = gort_alloc_ptrs(64, 64), **b = gort_alloc_ptrs(64, 0);
    CHECK(a != NULL && b != NULL);
    unsigned char *z = gort_alloc_ptrs(200, 3);
    int zero = 1;
    for (int i = 0; i < 200; i++)
        zero &= z[i] == 0;
    CHECK(zero);
    holder_root = a;
    check_holder(&a[7], &b[0]); // a's last word is scanned, b not at all
    holder_root = NULL;
    gort_keep_alive(b);
    CHECK(gort_alloc_ptrs(0, 0) != NULL);
}

int
main(void)
{
    RUN(test_small);
    RUN(test_large);
    RUN(test_reuse_by_gort_alloc);
    RUN(test_edges);
    return harness_summary();
}
