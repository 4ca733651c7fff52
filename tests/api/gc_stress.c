// gc_stress.c: many goroutines allocate, link, send and check heap data while
// collections run (GOMAXPROCS=2 in ctest; run also under gcstress and
// gccheckmark). Every structure is verified after the storm: a freed object
// that was still reachable would show as a wrong checksum or a crash.
#include "../gc_tree.h"
#include "../harness.h"

#include <gort.h>
#include <stdint.h>
#include <string.h>

enum { NWORKERS = 16, ROUNDS = 60 };

typedef struct Msg {
    Node *t;
    uint64_t sum;
    char *blob; // noscan payload with a known pattern
    size_t nblob;
} Msg;

static gort_chan *pipe_ch;
static gort_waitgroup wg;  // consumers and the collector
static gort_waitgroup pwg; // producers
static atomic_int bad;
static atomic_int nfinal;

// Sum of v over the tree (gc_tree.h).
static uint64_t
sum_tree(const Node *t)
{
    uint64_t count = 0;
    return tree_sum(t, &count);
}

static void
on_final(void *p)
{
    (void)p;
    atomic_fetch_add(&nfinal, 1);
}

static void
producer(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    for (int r = 0; r < ROUNDS; r++) {
        uint64_t v = id * 1000000 + (uint64_t)r * 1000;
        Msg *m = gort_new(Msg);
        m->t = tree_build(6 + (int)(id % 4), &v);
        m->sum = sum_tree(m->t);
        m->nblob = 100 + (size_t)(r * 37 % 3000);
        m->blob = gort_alloc_noscan(m->nblob);
        memset(m->blob, (int)(id + (uintptr_t)r) & 0xff, m->nblob);
        if (r % 7 == 0)
            gort_set_finalizer(m, on_final);
        // Garbage in between, of all sizes (tiny, small, large).
        for (int k = 0; k < 50; k++)
            (void)gort_alloc((size_t)(k * 131 % 2000) + 1);
        if (r % 20 == 0)
            (void)gort_alloc(100000);
        gort_chan_send(pipe_ch, &m);
    }
    gort_waitgroup_done(&pwg);
}

static void
consumer(void *arg)
{
    (void)arg;
    Msg *keep[8] = {0};
    for (;;) {
        Msg *m = NULL;
        if (!gort_chan_recv(pipe_ch, &m))
            break;
        // Hold a few for a while so they cross collections.
        int slot = (int)(m->sum % 8);
        Msg *old = keep[slot];
        keep[slot] = m;
        if (old != NULL) {
            if (sum_tree(old->t) != old->sum)
                atomic_fetch_add(&bad, 1);
            char c = old->blob[0];
            for (size_t i = 0; i < old->nblob; i++)
                if (old->blob[i] != c)
                    atomic_fetch_add(&bad, 1);
        }
    }
    for (int i = 0; i < 8; i++)
        if (keep[i] != NULL && sum_tree(keep[i]->t) != keep[i]->sum)
            atomic_fetch_add(&bad, 1);
    gort_waitgroup_done(&wg);
}

static atomic_int stop_gc;

static void
collector(void *arg)
{
    (void)arg;
    // At least 6 cycles, however soon the producers are done (on a loaded
    // machine they may finish before this goroutine ran many times).
    for (int n = 0; n < 6 || !atomic_load(&stop_gc); n++) {
        gort_gc();
        gort_sleep(2 * MS);
    }
    gort_waitgroup_done(&wg);
}

static void
test_storm(void)
{
    gort_memstats a, b;
    gort_read_memstats(&a);
    pipe_ch = gort_chan_make(sizeof(Msg *), 4);
    gort_waitgroup_add(&pwg, NWORKERS);
    for (uintptr_t i = 0; i < NWORKERS; i++)
        gort_go(producer, (void *)i);
    gort_waitgroup_add(&wg, 3);
    gort_go(collector, NULL);
    gort_go(consumer, NULL);
    gort_go(consumer, NULL);
    gort_waitgroup_wait(&pwg);
    gort_chan_close(pipe_ch);
    atomic_store(&stop_gc, 1);
    gort_waitgroup_wait(&wg);
    CHECK_EQ(atomic_load(&bad), 0);
    gort_gc();
    gort_gc();
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (atomic_load(&nfinal) == 0 && gort_nanotime() < deadline)
        gort_sleep(MS);
    CHECK(atomic_load(&nfinal) > 0);
    gort_read_memstats(&b);
    CHECK(b.num_gc > a.num_gc + 5);
    CHECK(b.frees > a.frees);
}

int
main(void)
{
    RUN(test_storm);
    return harness_summary();
}
