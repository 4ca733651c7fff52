// select_storm.c: producers and consumers all select over the same set of
// channels (buffered and unbuffered), with timers and a quit channel mixed in;
// every value must be delivered exactly once.
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>

#define NCH   8
#define NPROD 50
#define NCONS 50
#define PER   10000

static gort_chan *chans[NCH];
static gort_chan *quit;
static gort_waitgroup prod_wg, cons_wg;
static atomic_long received_sum, received_n;
static long per; // PER, scaled (harness_scaled)

static void
producer(void *arg)
{
    long base = (long)(intptr_t)arg * per;
    long v;
    gort_case cases[NCH];
    for (int i = 0; i < NCH; i++)
        cases[i] = (gort_case){.chan = chans[i], .dir = GORT_SEND, .elem = &v};
    for (long i = 1; i <= per; i++) {
        v = base + i;
        if (gort_select(cases, NCH, false) < 0) // try first, then block
            gort_select(cases, NCH, true);
    }
    gort_waitgroup_done(&prod_wg);
}

static void
consumer(void *arg)
{
    (void)arg;
    long v[NCH + 2];
    gort_case cases[NCH + 2];
    for (int i = 0; i < NCH; i++)
        cases[i] = (gort_case){.chan = chans[i], .dir = GORT_RECV, .elem = &v[i]};
    cases[NCH] = (gort_case){.chan = quit, .dir = GORT_RECV, .elem = NULL};
    cases[NCH + 1] = (gort_case){.chan = NULL, .dir = GORT_RECV, .elem = &v[NCH + 1]};
    long sum = 0, n = 0;
    for (;;) {
        int k = gort_select(cases, NCH + 2, true);
        if (k == NCH)
            break;
        if (k >= 0 && k < NCH && cases[k].ok) {
            sum += v[k];
            n++;
        }
    }
    // Drain what is left in the buffers after quit.
    for (;;) {
        int k = gort_select(cases, NCH, false);
        if (k < 0)
            break;
        sum += v[k];
        n++;
    }
    atomic_fetch_add(&received_sum, sum);
    atomic_fetch_add(&received_n, n);
    gort_waitgroup_done(&cons_wg);
}

// Timers firing into the storm.
static void
timer_noise(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++) {
        int64_t t;
        gort_case cases[2] = {{.chan = gort_after(1000000), .dir = GORT_RECV, .elem = &t},
                              {.chan = quit, .dir = GORT_RECV, .elem = NULL}};
        if (gort_select(cases, 2, true) == 1)
            break;
    }
}

int
main(void)
{
    per = harness_scaled(PER);
    int64_t t0 = gort_nanotime();
    for (int i = 0; i < NCH; i++)
        chans[i] = gort_chan_make(sizeof(long), (size_t)(i % 3) * 4);
    quit = gort_chan_make(0, 0);
    gort_waitgroup_add(&prod_wg, NPROD);
    gort_waitgroup_add(&cons_wg, NCONS);
    for (int i = 0; i < NCONS; i++)
        gort_go(consumer, NULL);
    for (int i = 0; i < 4; i++)
        gort_go(timer_noise, NULL);
    for (intptr_t i = 0; i < NPROD; i++)
        gort_go(producer, (void *)i);
    gort_waitgroup_wait(&prod_wg);
    gort_chan_close(quit);
    gort_waitgroup_wait(&cons_wg);
    long total = (long)NPROD * per;
    CHECK_EQ(atomic_load(&received_n), total);
    CHECK_EQ(atomic_load(&received_sum), total * (total + 1) / 2);
    fprintf(stderr, "    %.2f s at GOMAXPROCS=%d\n", (gort_nanotime() - t0) / 1e9,
            gort_gomaxprocs(0));
    return harness_summary();
}
