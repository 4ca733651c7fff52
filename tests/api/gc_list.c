// gc_list.c: a 10M-node linked list is marked without recursion or overflow
// (an explicit, growable mark stack) and in linear time, kept while
// reachable and freed when not.
#include "../harness.h"

#include <gort.h>
#include <stdint.h>
#include <string.h>

enum { N = 10 * 1000 * 1000 };

typedef struct Node {
    struct Node *next;
    uint64_t v;
} Node;

static Node *volatile head;

// Every (N / NSAMPLE)th node's address, complemented (a number, not a
// pointer): if the dropped list is kept, gort_gc_why tells what keeps it.
enum { NSAMPLE = 64 };
static uintptr_t sample[NSAMPLE];

static __attribute__((noinline)) void
build(void)
{
    Node *h = NULL;
    for (uint64_t i = 0; i < N; i++) {
        Node *x = gort_new(Node);
        x->v = i;
        x->next = h;
        h = x;
        if (i % (N / NSAMPLE) == 0)
            sample[i / (N / NSAMPLE)] = ~(uintptr_t)x;
    }
    head = h;
}

static __attribute__((noinline)) int
verify(void)
{
    uint64_t want = N;
    for (Node *x = head; x != NULL; x = x->next)
        if (x->v != --want)
            return 0;
    return want == 0;
}

static __attribute__((noinline)) void
clobber_stack(void)
{
    volatile char buf[16384];
    memset((char *)buf, 0, sizeof buf);
    __asm__ volatile("" : : "r"(buf) : "memory"); // the clearing is not dead
}

// Builds, collects, verifies and drops the list on its own goroutine, whose
// stack is gone once it exits: no stale copy of a list pointer can stay in
// main's frames or registers and keep a tail of the list alive (the
// collector is conservative).
static gort_memstats with_list;
static int list_ok;

static void
long_list_owner(void *arg)
{
    build();
    int64_t t0 = gort_nanotime();
    gort_gc();
    int64_t dt = gort_nanotime() - t0;
    fprintf(stderr, "    gc with a %d-node list: %.1f ms\n", N, (double)dt / 1e6);
    list_ok = verify();
    gort_read_memstats(&with_list);
    head = NULL;
    clobber_stack();
    gort_chan_send((gort_chan *)arg, NULL);
}

static void
test_long_list(void)
{
    gort_chan *done = gort_chan_make(0, 0);
    gort_go(long_list_owner, done);
    gort_chan_recv(done, NULL);
    // Let the owner finish exiting: until it is dead its stack is a root,
    // and a list pointer left in one of its frames would keep a tail alive.
    while (gort_num_goroutine() > 1)
        gort_yield();
    CHECK(list_ok);
    CHECK(with_list.heap_alloc >= (uint64_t)N * sizeof(Node));
    // The collection: gort_gc_why runs one and explains the list's first
    // node (its tail, kept by any pointer into the list); it must be
    // unreachable, and if not the report names the root that keeps it.
    gort_memstats b;
    CHECK_EQ(gort_gc_why((const void *)~sample[0]), 0);
    gort_read_memstats(&b);
    CHECK(b.heap_alloc < with_list.heap_alloc / 4);
}

// A list built through a large array of roots, back to front, so the mark
// stack holds many entries at once.
static void
test_wide(void)
{
    enum { W = 1 << 20 };
    Node **arr = gort_alloc(W * sizeof(Node *));
    for (int i = 0; i < W; i++) {
        arr[i] = gort_new(Node);
        arr[i]->v = (uint64_t)i;
    }
    gort_gc();
    int ok = 1;
    for (int i = 0; i < W; i++)
        ok &= arr[i]->v == (uint64_t)i;
    CHECK(ok);
    gort_keep_alive(arr);
}

int
main(void)
{
    RUN(test_long_list);
    RUN(test_wide);
    return harness_summary();
}
