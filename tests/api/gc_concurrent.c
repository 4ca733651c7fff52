// gc_concurrent.c: marking while goroutines run (src/gc/conc.c). Mutators keep
// moving the only reference to objects between a big table that the marker
// scans early or late, fresh objects and the stack, which is what a concurrent
// mark without write tracking gets wrong: an object whose reference moved from
// a part not yet scanned to a part already scanned would be freed while
// reachable. Every object carries a checksum of its own address and a serial,
// checked on every read and at the end; ctest also runs this under gccheckmark,
// which re-marks with the world stopped at each mark termination and fails on
// anything reachable left unmarked, and with gcstoptheworld=1.
//
// Unless GODEBUG says gcconcurrent=0 or gcstoptheworld=1, where the kernel
// tracks writes (and not under TSan), the test also asserts
// that cycles do mark concurrently: the allocating goroutine itself sees a
// mark in progress between its allocations.
#include "../harness.h"
#include "export_test.h"

#include <gort.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { NCELLS = 1 << 16, NMUT = 4, FILLER = 48 };

typedef struct Box {
    uint64_t check; // address ^ serial ^ magic
    uint64_t serial;
    struct Box *next; // a second box hanging off this one, or NULL
    uint64_t pad[FILLER / 8];
} Box;

#define MAGIC 0x9e3779b97f4a7c15ULL

static Box **cells; // NCELLS pointers, one heap object (scanned in oblets)
static atomic_int bad;
static atomic_long serials;
static atomic_int seen_marking;
static uint32_t start_gc; // num_gc before the mutators start
static gort_waitgroup wg;

static Box *
new_box(void)
{
    Box *b = gort_new(Box);
    b->serial = (uint64_t)atomic_fetch_add(&serials, 1);
    b->check = (uint64_t)(uintptr_t)b ^ b->serial ^ MAGIC;
    for (int i = 0; i < FILLER / 8; i++)
        b->pad[i] = b->serial * 31 + (uint64_t)i;
    return b;
}

static void
verify(const Box *b)
{
    if (b == NULL)
        return;
    bool ok = b->check == ((uint64_t)(uintptr_t)b ^ b->serial ^ MAGIC);
    for (int i = 0; ok && i < FILLER / 8; i++)
        ok = b->pad[i] == b->serial * 31 + (uint64_t)i;
    if (!ok)
        atomic_fetch_add(&bad, 1);
}

// Verifies a chain; a freed box reused by another chain could make it loop,
// so the walk is bounded (chains grow by one box per displacement at most).
static long
walk(const Box *x)
{
    long n = 0;
    for (; x != NULL; x = x->next) {
        verify(x);
        if (++n > 1000000) {
            atomic_fetch_add(&bad, 1);
            break;
        }
    }
    return n;
}

static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void
mutator(void *arg)
{
    uint64_t s = (uint64_t)(uintptr_t)arg * 0x2545f4914f6cdd1dULL + 1;
    // At least the scaled rounds, and on until the churn ran three cycles
    // (sanitizer builds scale the rounds down) and, where marks are
    // concurrent, saw one: on a loaded machine a whole mark may run while
    // the mutators' threads wait for a core. Bounded by 50 times the rounds.
    long rounds = harness_scaled(400000);
    bool enough = false;
    for (long r = 0; r < rounds || !enough; r++) {
        if (r % 1024 == 0 && r >= rounds) {
            gort_memstats m;
            gort_read_memstats(&m);
            enough = (m.num_gc > start_gc + 2 &&
                      (atomic_load(&seen_marking) || !rt_gc_concurrent_enabled())) ||
                     r > 50 * rounds;
        }
        size_t i = rnd(&s) % NCELLS, j = rnd(&s) % NCELLS;
        Box *a = __atomic_exchange_n(&cells[i], NULL, __ATOMIC_ACQ_REL);
        verify(a);
        switch (rnd(&s) % 4) {
        case 0: // move the only reference to the far end of the table
            a = __atomic_exchange_n(&cells[j], a, __ATOMIC_ACQ_REL);
            verify(a);
            break;
        case 1: // hide it under a fresh box for a while
            if (a != NULL) {
                Box *f = new_box();
                f->next = a;
                a = f;
            }
            break;
        case 2: // unhook a box's tail into the table, drop the rest
            if (a != NULL && a->next != NULL) {
                Box *t = a->next;
                verify(t);
                a = t;
            }
            break;
        default: // replace with a fresh one (the old one becomes garbage)
            a = new_box();
            break;
        }
        if (a != NULL && a->next != NULL)
            verify(a->next);
        // Put back what we hold (a cell may have been refilled meanwhile:
        // then chain the displaced box behind ours, nothing is dropped).
        Box *old = __atomic_exchange_n(&cells[i], a, __ATOMIC_ACQ_REL);
        if (old != NULL) {
            verify(old);
            Box *f = new_box();
            f->next = old;
            Box *prev = __atomic_exchange_n(&cells[(i + 1) % NCELLS], f, __ATOMIC_ACQ_REL);
            verify(prev); // a box may be dropped here: garbage, not a check
        }
        if (rt_gc_marking())
            atomic_store(&seen_marking, 1);
        if (r % 4096 == 0)
            gort_yield();
    }
    gort_waitgroup_done(&wg);
}

static void
test_shuffle(void)
{
    cells = gort_alloc(NCELLS * sizeof(Box *));
    for (size_t i = 0; i < NCELLS; i++)
        cells[i] = new_box();
    gort_memstats a, b;
    gort_read_memstats(&a);
    start_gc = a.num_gc;
    gort_waitgroup_add(&wg, NMUT);
    for (uintptr_t k = 0; k < NMUT; k++)
        gort_go(mutator, (void *)(k + 1));
    gort_waitgroup_wait(&wg);
    gort_read_memstats(&b);
    CHECK_EQ(atomic_load(&bad), 0);
    long n = 0;
    for (size_t i = 0; i < NCELLS; i++)
        n += walk(cells[i]);
    CHECK_EQ(atomic_load(&bad), 0);
    CHECK(n >= NCELLS / 2);
    CHECK(b.num_gc > a.num_gc + 2); // the churn did run cycles meanwhile
    gort_gc();                      // a full cycle after a concurrent one
    for (size_t i = 0; i < NCELLS; i++)
        walk(cells[i]);
    CHECK_EQ(atomic_load(&bad), 0);
}

static void
test_concurrent_or_not(void)
{
    const char *d = getenv("GODEBUG");
    bool stw = d != NULL &&
               (strstr(d, "gcconcurrent=0") != NULL || strstr(d, "gcstoptheworld=1") != NULL);
    if (stw) {
        CHECK(!rt_gc_concurrent_enabled());
        CHECK_EQ(atomic_load(&seen_marking), 0);
    } else if (rt_gc_concurrent_enabled()) {
        CHECK_EQ(atomic_load(&seen_marking), 1);
    } else {
        fprintf(stderr, "    (this kernel or build marks with the world stopped)\n");
        CHECK_EQ(atomic_load(&seen_marking), 0);
    }
}

// A mark that nobody ends by allocating: the program stops allocating and
// sleeps; sysmon and the forcegc goroutine must end the cycle.
static void
test_idle_end(void)
{
    // Allocate until a cycle starts, then stop allocating.
    gort_memstats a;
    gort_read_memstats(&a);
    uint32_t start = a.num_gc;
    for (long i = 0; i < 100000000L && !rt_gc_marking(); i++) {
        gort_memstats m;
        new_box();
        if (i % 1024 == 0) {
            gort_read_memstats(&m);
            if (m.num_gc > start + 1 && !rt_gc_concurrent_enabled())
                break;
        }
    }
    if (!rt_gc_concurrent_enabled())
        return;
    CHECK(rt_gc_marking());
    int64_t deadline = gort_nanotime() + 60000 * MS; // sysmon may be slow on a loaded machine
    while (rt_gc_marking() && gort_nanotime() < deadline)
        gort_sleep(MS);
    CHECK(!rt_gc_marking());
    gort_memstats b;
    gort_read_memstats(&b);
    CHECK(b.num_gc > start);
}

int
main(void)
{
    RUN(test_shuffle);
    RUN(test_concurrent_or_not);
    RUN(test_idle_end);
    return harness_summary();
}
