// mem.c: smoke test of the memory API (contract: "Memory"). Collection
// itself is not tested here.
#include "../harness.h"

#include <gort.h>
#include <stdlib.h>
#include <string.h>

static int
all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return 0;
    return 1;
}

typedef struct {
    unsigned char *p;
    size_t n;
} Obj;

static int
cmp_obj(const void *a, const void *b)
{
    const Obj *x = a, *y = b;
    return (x->p > y->p) - (x->p < y->p);
}

static const size_t sizes[] = {1,    7,    8,    16,    24,    100,    512,
                               1000, 4096, 8192, 32760, 32768, 100000, 1 << 20};
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define PER    20

// Objects are zeroed, usable over their whole size, and never overlap.
static void
check_alloc(void *(*alloc)(size_t))
{
    static Obj objs[NSIZES * PER];
    int n = 0, zero = 1, nonnull = 1;
    for (size_t s = 0; s < NSIZES; s++) {
        for (int k = 0; k < PER; k++) {
            unsigned char *p = alloc(sizes[s]);
            nonnull &= p != NULL;
            if (p == NULL)
                continue;
            zero &= all_zero(p, sizes[s]);
            memset(p, 0xA5 ^ k, sizes[s]); // dirty it: fresh objects must still come zeroed
            objs[n++] = (Obj){p, sizes[s]};
        }
    }
    CHECK(nonnull);
    CHECK(zero);
    qsort(objs, (size_t)n, sizeof objs[0], cmp_obj);
    int disjoint = 1;
    for (int i = 1; i < n; i++)
        disjoint &= objs[i - 1].p + objs[i - 1].n <= objs[i].p;
    CHECK(disjoint);
    // Contents survive other allocations.
    int intact = 1;
    for (int i = 0; i < n; i++)
        intact &= objs[i].p[0] == objs[i].p[objs[i].n - 1];
    CHECK(intact);
    // Pointer alignment for anything of pointer size or more.
    int aligned = 1;
    for (int i = 0; i < n; i++)
        if (objs[i].n >= 8)
            aligned &= ((uintptr_t)objs[i].p & 7) == 0;
    CHECK(aligned);
}

static void
test_alloc(void)
{
    check_alloc(gort_alloc);
    struct node {
        struct node *next;
        long v[4];
    } *nd = gort_new(struct node);
    CHECK(nd != NULL);
    CHECK(nd->next == NULL && nd->v[3] == 0);
}

static void
test_alloc_noscan(void)
{
    check_alloc(gort_alloc_noscan);
}

// What the environment asked for at boot: Go's syntax.
static int
boot_gc_percent(void)
{
    const char *e = getenv("GOGC");
    if (e == NULL || *e == '\0')
        return 100;
    if (strcmp(e, "off") == 0)
        return -1;
    return atoi(e);
}

static int64_t
boot_memory_limit(void)
{
    const char *e = getenv("GOMEMLIMIT");
    if (e == NULL || *e == '\0' || strcmp(e, "off") == 0)
        return INT64_MAX;
    char *end;
    int64_t n = strtoll(e, &end, 10);
    if (strcmp(end, "KiB") == 0)
        n <<= 10;
    else if (strcmp(end, "MiB") == 0)
        n <<= 20;
    else if (strcmp(end, "GiB") == 0)
        n <<= 30;
    return n;
}

static void
test_gc_percent(void)
{
    int boot = boot_gc_percent();
    CHECK_EQ(gort_set_gc_percent(50), boot); // returns the previous value
    CHECK_EQ(gort_set_gc_percent(-5), 50);   // any negative: off
    CHECK_EQ(gort_set_gc_percent(-1), -1);   // kept as -1
    CHECK_EQ(gort_set_gc_percent(200), -1);
    CHECK_EQ(gort_set_gc_percent(boot), 200);
}

static void
test_memory_limit(void)
{
    int64_t boot = boot_memory_limit();
    CHECK_EQ(gort_set_memory_limit(-1), boot); // < 0 only queries
    CHECK_EQ(gort_set_memory_limit(-1), boot);
    CHECK_EQ(gort_set_memory_limit((int64_t)1 << 40), boot);
    CHECK_EQ(gort_set_memory_limit(-1), (int64_t)1 << 40);
    CHECK_EQ(gort_set_memory_limit(boot), (int64_t)1 << 40);
    CHECK_EQ(gort_set_memory_limit(-1), boot);
}

static void
test_memstats(void)
{
    static gort_memstats a, b; // large: keep them off the stack
    gort_read_memstats(&a);
    enum { N = 1000, SZ = 64 };
    static void *keep[N];
    for (int i = 0; i < N; i++)
        keep[i] = gort_alloc(SZ);
    gort_read_memstats(&b);
    CHECK(b.mallocs >= a.mallocs + N);
    CHECK(b.total_alloc >= a.total_alloc + (uint64_t)N * SZ);
    CHECK(b.heap_alloc > 0);
    CHECK(b.heap_sys >= b.heap_alloc);
    CHECK_EQ(b.heap_objects, b.mallocs - b.frees);
    CHECK(b.frees <= b.mallocs);
    gort_keep_alive(keep);
    for (int i = 0; i < N; i++)
        gort_keep_alive(keep[i]);
}

int
main(void)
{
    RUN(test_alloc);
    RUN(test_alloc_noscan);
    RUN(test_gc_percent);
    RUN(test_memory_limit);
    RUN(test_memstats);
    return harness_summary();
}
