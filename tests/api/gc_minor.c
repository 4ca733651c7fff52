// gc_minor.c: minor cycles (src/gc/gen.c). A minor cycle
// does not trace what survived the last cycle (a medium one, what survived
// the last full cycle); it finds the young objects that old ones point to
// through the pages written since. Two goroutines
// keep hanging fresh chains of young objects off old objects only (a big
// pointer array on its own span, and the nodes of an old tree), then drop
// the references from their stacks, while they churn garbage that drives
// the cycles. Asserts that every chain is intact when read back (freed
// slots are poisoned in debug builds; ctest also runs it under gccheckmark,
// which fails on any reachable object left unmarked), that minor cycles ran
// (none with GODEBUG=gcgen=0), and that old objects that die are freed by a
// later full cycle: the goal falls back once the tree is cut up and dropped.
#include "../gc_tree.h"
#include "../harness.h"
#include "export_test.h"

#include <gort.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct Link {
    struct Link *next;
    uint64_t v;
} Link;

enum { NSLOT = 1 << 15, CHAIN = 3, NWORKERS = 2, TEMP_DEPTH = 6, MIN_CYCLES = 8 };

static Node *tree;   // old: built before the cycles start
static Link **slots; // old: NSLOT pointers on a large span
static int tree_depth;
static atomic_int bad;
static gort_waitgroup wg;
static uint32_t gc0; // num_gc when the workers start

// The node at position path (bits pick left or right) at depth d.
static Node *
tree_at(uint64_t path, int d)
{
    Node *n = tree;
    for (int i = 0; i < d && n != NULL; i++)
        n = (path >> i) & 1 ? n->r : n->l;
    return n;
}

// A fresh chain whose values derive from tag; the caller stores it in an
// old object and keeps no other reference.
static __attribute__((noinline)) Link *
chain(uint64_t tag)
{
    Link *head = NULL;
    for (int k = CHAIN - 1; k >= 0; k--) {
        Link *l = gort_new(Link);
        l->v = tag * 8 + (uint64_t)k;
        l->next = head;
        head = l;
    }
    return head;
}

static bool
chain_ok(const Link *l, uint64_t tag)
{
    for (int k = 0; k < CHAIN; k++, l = l->next)
        if (l == NULL || l->v != tag * 8 + (uint64_t)k)
            return false;
    return l == NULL;
}

// Garbage: a short-lived tree, checked.
static __attribute__((noinline)) void
churn_once(uint64_t seed)
{
    uint64_t next = seed;
    Node *t = tree_build(TEMP_DEPTH, &next);
    uint64_t count = 0;
    if (tree_sum(t, &count) != tree_expect_sum(seed, count) || count != (2u << TEMP_DEPTH) - 1)
        atomic_fetch_add(&bad, 1);
}

// Reads back every chain worker k owns.
static void
check_chains(uint64_t k, const uint64_t *tags, const uint64_t *ttags)
{
    for (uint64_t j = k; j < NSLOT; j += NWORKERS) {
        if (tags[j] != 0 && !chain_ok(slots[j], tags[j]))
            atomic_fetch_add(&bad, 1);
        if (ttags[j] != 0 && !chain_ok(tree_at(j, tree_depth)->hang, ttags[j]))
            atomic_fetch_add(&bad, 1);
    }
}

// Whether the workers have run enough: their rounds, and at least
// MIN_CYCLES cycles (a scaled-down run may not reach them in its rounds;
// it goes on, up to 64 times longer).
static bool
enough(long r, long rounds)
{
    if (r < rounds)
        return false;
    if (r >= rounds * 64 || r % 256 != 0)
        return r >= rounds * 64;
    gort_memstats m;
    gort_read_memstats(&m);
    return m.num_gc >= gc0 + MIN_CYCLES;
}

// Worker k owns slots k, k + NWORKERS, ... and the tree paths with the same
// residue: it replaces a chain, churns, and reads every chain it owns back.
static void
worker(void *arg)
{
    uint64_t k = (uint64_t)(uintptr_t)arg;
    long rounds = harness_scaled(60000);
    uint64_t *tags = calloc(NSLOT, sizeof(uint64_t));
    uint64_t *ttags = calloc(NSLOT, sizeof(uint64_t));
    uint64_t gen = 1;
    for (long r = 0; !enough(r, rounds); r++) {
        uint64_t i = (uint64_t)(r * 7919) % (NSLOT / NWORKERS) * NWORKERS + k;
        uint64_t tag = (k << 56) | gen++;
        slots[i] = chain(tag);
        tags[i] = tag;
        Node *n = tree_at(i, tree_depth);
        tag = (k << 56) | gen++;
        n->hang = chain(tag);
        ttags[i] = tag;
        churn_once((uint64_t)r << 20);
        if (r % 4096 == 4095)
            check_chains(k, tags, ttags);
    }
    check_chains(k, tags, ttags);
    free(tags);
    free(ttags);
    gort_waitgroup_done(&wg);
}

static void
cut(Node *n)
{
    while (n != NULL) {
        Node *l = n->l, *r = n->r;
        n->l = n->r = n->hang = NULL;
        cut(l);
        n = r;
    }
}

static gort_memstats before, after;
static uint32_t minors;
static uint64_t tree_bytes;
static gort_waitgroup phase;

// The old data and the workers live on this goroutine, which exits before
// the data is dropped: no stale word of its stack can keep the tree.
static void
phase1(void *arg)
{
    (void)arg;
    uint64_t next = 1;
    tree_depth = 17; // 256 K nodes of 32 bytes: 8 MiB, twice the minimum goal
    tree = tree_build(tree_depth, &next);
    slots = gort_alloc(NSLOT * sizeof(Link *));
    uint64_t count = 0;
    tree_sum(tree, &count);
    tree_bytes = count * sizeof(Node);
    gort_read_memstats(&before);
    uint32_t minor0 = rt_gc_minor_cycles();
    gc0 = before.num_gc;
    gort_waitgroup_add(&wg, NWORKERS);
    for (uintptr_t k = 0; k < NWORKERS; k++)
        gort_go(worker, (void *)k);
    gort_waitgroup_wait(&wg);
    gort_read_memstats(&after);
    minors = rt_gc_minor_cycles() - minor0;
    // Cut every link (writes to old objects), so that a stale word left
    // somewhere (conservative roots) keeps a node, not the whole tree.
    cut(tree);
    tree = NULL;
    slots = NULL;
    gort_waitgroup_done(&phase);
}

static void
test_minor(void)
{
    uint32_t medium0 = rt_gc_medium_cycles();
    gort_waitgroup_add(&phase, 1);
    gort_go(phase1, NULL);
    gort_waitgroup_wait(&phase);
    fprintf(stderr, "    %u cycles, %u minor; tree %llu KiB\n", after.num_gc - before.num_gc,
            minors, (unsigned long long)tree_bytes >> 10);
    CHECK_EQ(atomic_load(&bad), 0);
    CHECK(after.num_gc >= before.num_gc + MIN_CYCLES);
    const char *d = getenv("GODEBUG");
    if (d != NULL && strstr(d, "gcgen=0") != NULL)
        CHECK_EQ(minors, 0);
    else if (rt_gc_concurrent_enabled())
        CHECK(minors > 0);
    else
        CHECK_EQ(minors, 0); // stop-the-world cycles are all full

    // The old tree and array are dropped: a full cycle must come and free
    // them, and the goal fall below what the tree alone took.
    bool fell = false;
    for (long r = 0; r < 2000000 && !fell; r++) {
        churn_once((uint64_t)r << 20);
        if (r % 256 == 0) {
            gort_memstats m;
            gort_read_memstats(&m);
            fell = m.next_gc < tree_bytes;
            if (m.num_gc > after.num_gc + 120)
                break;
        }
    }
    fprintf(stderr, "    goal %llu KiB with the tree, fell below %llu KiB: %s\n",
            (unsigned long long)after.next_gc >> 10, (unsigned long long)tree_bytes >> 10,
            fell ? "yes" : "no");
    CHECK(fell);
    // Medium cycles (pre-marking what the last full cycle kept) come after
    // 16 minor ones; the full-size run has room for several.
    uint32_t mediums = rt_gc_medium_cycles() - medium0;
    fprintf(stderr, "    %u medium cycles\n", mediums);
    if (d != NULL && strstr(d, "gcgen=0") != NULL)
        CHECK_EQ(mediums, 0);
    else if (rt_gc_concurrent_enabled() && harness_scaled(10) == 10)
        CHECK(mediums > 0);
}

int
main(void)
{
    RUN(test_minor);
    return harness_summary();
}
