// pingpong.c: 10k goroutines ping-ponging through channels: 5000 pairs
// exchange a counter over unbuffered channels, then a ring of 10000
// goroutines passes a token around.
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>

#define NPAIRS 5000
#define ROUNDS 100
#define RING   10000
#define LAPS   10

typedef struct {
    gort_chan *ping, *pong;
} Pair;

static gort_waitgroup wg;
static atomic_int bad;
static int npairs, nring; // NPAIRS and RING, scaled (harness_scaled)

static void
pinger(void *arg)
{
    Pair *p = arg;
    for (int i = 0; i < ROUNDS; i++) {
        int v = i, w = -1;
        gort_chan_send(p->ping, &v);
        if (!gort_chan_recv(p->pong, &w) || w != i + 1)
            atomic_store(&bad, 1);
    }
    gort_chan_close(p->ping);
    gort_waitgroup_done(&wg);
}

static void
ponger(void *arg)
{
    Pair *p = arg;
    int v;
    while (gort_chan_recv(p->ping, &v)) {
        v++;
        gort_chan_send(p->pong, &v);
    }
    gort_waitgroup_done(&wg);
}

static void
test_pairs(void)
{
    static Pair pairs[NPAIRS];
    gort_waitgroup_add(&wg, 2 * npairs);
    for (int i = 0; i < npairs; i++) {
        pairs[i].ping = gort_chan_make(sizeof(int), 0);
        pairs[i].pong = gort_chan_make(sizeof(int), 0);
        gort_go(ponger, &pairs[i]);
        gort_go(pinger, &pairs[i]);
    }
    gort_waitgroup_wait(&wg);
    CHECK_EQ(atomic_load(&bad), 0);
}

// ---- ring ------------------------------------------------------------------------
static gort_chan *ring[RING + 1];

static void
ring_node(void *arg)
{
    intptr_t i = (intptr_t)arg;
    long tok;
    while (gort_chan_recv(ring[i], &tok)) {
        tok++;
        gort_chan_send(ring[i + 1], &tok);
    }
    gort_chan_close(ring[i + 1]);
}

static void
test_ring(void)
{
    for (int i = 0; i <= nring; i++)
        ring[i] = gort_chan_make(sizeof(long), 0);
    for (intptr_t i = 0; i < nring; i++)
        gort_go(ring_node, (void *)i);
    long tok = 0;
    for (int lap = 0; lap < LAPS; lap++) {
        gort_chan_send(ring[0], &tok);
        CHECK(gort_chan_recv(ring[nring], &tok));
    }
    CHECK_EQ(tok, (long)nring * LAPS);
    gort_chan_close(ring[0]);
    CHECK(!gort_chan_recv(ring[nring], &tok)); // the close went all the way round
}

int
main(void)
{
    npairs = (int)harness_scaled(NPAIRS);
    nring = (int)harness_scaled(RING);
    int64_t t0 = gort_nanotime();
    RUN(test_pairs);
    RUN(test_ring);
    fprintf(stderr, "    %.2f s at GOMAXPROCS=%d\n", (gort_nanotime() - t0) / 1e9,
            gort_gomaxprocs(0));
    return harness_summary();
}
