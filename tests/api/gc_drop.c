// gc_drop.c: a big structure, built in either order and then dropped, is
// freed by the next full cycle: heap_alloc falls back to what it was before
// the build, within a margin, and gort_gc_why finds no root for its nodes.
// Built the way C builds them: a tree bottom-up (children, then the parent
// that points at them), a tree allocate-then-fill (the node, then its
// fields), and a list appended at its tail (the old tail mutated to point at
// the new node). Each is built and dropped from main's own stack and from a
// goroutine that has exited before the collection.
#include "../harness.h"

#include <gort.h>
#include <stdint.h>

typedef struct Node {
    struct Node *l, *r;
    long v;
} Node;

enum {
    DEPTH = 17,         // 2^18 - 1 nodes of 24 (32) bytes: 8 MiB
    LIST = 1 << 18,     // as many list nodes
    MARGIN = 512 << 10, // what may stay: the runtime's own, a few objects
    NSAMPLE = 8,        // nodes whose retention gort_gc_why checks
};

static uintptr_t sample[NSAMPLE]; // complemented node addresses (numbers)
static unsigned nsample;
static long counter;

static void
remember(Node *n)
{
    if (counter++ % ((1 << (DEPTH + 1)) / NSAMPLE) == 0 && nsample < NSAMPLE)
        sample[nsample++] = ~(uintptr_t)n;
}

static __attribute__((noinline)) Node *
bottom_up(int d)
{
    Node *l = NULL, *r = NULL;
    if (d > 0) {
        l = bottom_up(d - 1);
        r = bottom_up(d - 1);
    }
    Node *n = gort_new(Node);
    n->l = l;
    n->r = r;
    remember(n);
    return n;
}

static __attribute__((noinline)) Node *
fill(int d)
{
    Node *n = gort_new(Node);
    remember(n);
    if (d > 0) {
        n->l = fill(d - 1);
        n->r = fill(d - 1);
    }
    return n;
}

static __attribute__((noinline)) Node *
tail_list(int d)
{
    (void)d;
    Node *head = NULL, *tail = NULL;
    for (long i = 0; i < LIST; i++) {
        Node *x = gort_new(Node);
        x->v = i;
        if (tail != NULL)
            tail->r = x;
        else
            head = x;
        tail = x;
        remember(x);
    }
    return head;
}

static __attribute__((noinline)) long
count(const Node *n)
{
    long c = 0;
    for (; n != NULL; n = n->r) // down the right spine, the left subtrees recursively
        c += 1 + count(n->l);
    return c;
}

static Node *(*const builders[])(int) = {bottom_up, fill, tail_list};
static const char *const names[] = {"bottom-up tree", "allocate-then-fill tree", "tail list"};

static Node *volatile built; // the structure while it is kept
static uint64_t before, with;

// Builds, measures and drops; noinline so that its frames are below main's.
static __attribute__((noinline)) void
build_and_drop(int kind)
{
    nsample = 0;
    counter = 0;
    built = builders[kind](DEPTH);
    gort_gc();
    gort_memstats ms;
    gort_read_memstats(&ms);
    with = ms.heap_alloc;
    long want = kind == 2 ? LIST : (1L << (DEPTH + 1)) - 1;
    CHECK_EQ(count(built), want);
    built = NULL;
}

static gort_chan *done;

static void
owner(void *arg)
{
    build_and_drop((int)(intptr_t)arg);
    gort_chan_send(done, NULL);
}

static void
check_dropped(int kind, bool on_goroutine)
{
    fprintf(stderr, "    %s, %s\n", names[kind], on_goroutine ? "from a goroutine" : "from main");
    gort_gc();
    gort_memstats ms;
    gort_read_memstats(&ms);
    before = ms.heap_alloc;
    if (on_goroutine) {
        gort_go(owner, (void *)(intptr_t)kind);
        gort_chan_recv(done, NULL);
        while (gort_num_goroutine() > 1) // its stack is a root until it has exited
            gort_yield();
    } else {
        build_and_drop(kind);
    }
    CHECK(with >= before + ((uint64_t)LIST * sizeof(Node)) / 2);
    // The collection that must free it; each sampled node must be
    // unreachable (else the report names what keeps it).
    unsigned kept = 0;
    for (unsigned i = 0; i < nsample; i++)
        kept += gort_gc_why((const void *)~sample[i]) == 1;
    CHECK_EQ(kept, 0);
    gort_read_memstats(&ms);
    CHECK(ms.heap_alloc <= before + MARGIN);
    if (ms.heap_alloc > before + MARGIN)
        fprintf(stderr, "    heap_alloc %llu before, %llu with it, %llu after\n",
                (unsigned long long)before, (unsigned long long)with,
                (unsigned long long)ms.heap_alloc);
}

static void
test_main(void)
{
    for (int k = 0; k < 3; k++)
        check_dropped(k, false);
}

static void
test_goroutine(void)
{
    for (int k = 0; k < 3; k++)
        check_dropped(k, true);
}

int
main(void)
{
    done = gort_chan_make(0, 0);
    RUN(test_main);
    RUN(test_goroutine);
    return harness_summary();
}
