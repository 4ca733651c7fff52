// select.c: gort_select (contract: "Channels", the select part).
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>
#include <string.h>

// ---- uniform choice among ready cases ------------------------------------------
// Four buffered channels always hold a value; 40000 selects. With a uniform
// choice each count is about 10000 and the chi-square statistic (3 degrees of
// freedom) stays below 35 except with probability ~1e-7; a choice biased
// 27/25/25/23 percent gives about 130, "always the first ready case" 120000.
// Go picks at random, so the chance that the next choice repeats the last one
// is 1/4; a round robin (uniform in the counts but not random) would give 0.
#define NU      4
#define NTRIALS 40000
static void
test_uniform(void)
{
    gort_chan *c[NU];
    gort_case cases[NU];
    int vals[NU];
    for (int i = 0; i < NU; i++) {
        c[i] = gort_chan_make(sizeof(int), 1);
        gort_chan_send(c[i], &i);
        cases[i] = (gort_case){.chan = c[i], .dir = GORT_RECV, .elem = &vals[i]};
    }
    long count[NU] = {0};
    long repeats = 0;
    int last = -1, bad = 0;
    for (int t = 0; t < NTRIALS; t++) {
        int k = gort_select(cases, NU, true);
        if (k < 0 || k >= NU || !cases[k].ok || vals[k] != k) {
            bad = 1;
            break;
        }
        count[k]++;
        repeats += k == last;
        last = k;
        gort_chan_send(c[k], &k); // ready again
    }
    CHECK(!bad);
    double chi2 = 0, e = NTRIALS / (double)NU;
    for (int i = 0; i < NU; i++) {
        chi2 += (count[i] - e) * (count[i] - e) / e;
        fprintf(stderr, "    case %d chosen %ld times\n", i, count[i]);
    }
    fprintf(stderr, "    chi2 = %.2f, repeats = %ld (expect ~%d)\n", chi2, repeats, NTRIALS / NU);
    CHECK(chi2 < 35.0);
    // repeats ~ Binomial(40000, 1/4): mean 10000, sd 87; allow +-1000.
    CHECK(repeats > NTRIALS / NU - 1000 && repeats < NTRIALS / NU + 1000);
}

// Two cases on the same channel are both chosen sometimes.
static void
test_same_channel_twice(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    int a, b, v = 5;
    gort_case cases[2] = {{.chan = c, .dir = GORT_RECV, .elem = &a},
                          {.chan = c, .dir = GORT_RECV, .elem = &b}};
    int count[2] = {0, 0};
    for (int t = 0; t < 1000; t++) {
        gort_chan_send(c, &v);
        int k = gort_select(cases, 2, true);
        if (k == 0 || k == 1)
            count[k]++;
    }
    CHECK(count[0] > 300);
    CHECK(count[1] > 300);
    CHECK_EQ(count[0] + count[1], 1000);
}

// ---- non-blocking ------------------------------------------------------------------
static void
test_nonblocking(void)
{
    gort_chan *u = gort_chan_make(sizeof(int), 0);
    gort_chan *b = gort_chan_make(sizeof(int), 1);
    int x = 3, y = 0;
    gort_case cases[2] = {{.chan = u, .dir = GORT_RECV, .elem = &y},
                          {.chan = u, .dir = GORT_SEND, .elem = &x}};
    CHECK_EQ(gort_select(cases, 2, false), -1); // nobody on the other side
    CHECK_EQ(gort_select(NULL, 0, false), -1);  // select { default: }

    gort_case r = {.chan = b, .dir = GORT_RECV, .elem = &y};
    CHECK_EQ(gort_select(&r, 1, false), -1); // empty buffer
    gort_case s = {.chan = b, .dir = GORT_SEND, .elem = &x};
    CHECK_EQ(gort_select(&s, 1, false), 0); // send case: room in the buffer
    CHECK_EQ(gort_chan_len(b), 1);
    CHECK_EQ(gort_select(&s, 1, false), -1); // full now
    y = 0;
    CHECK_EQ(gort_select(&r, 1, false), 0);
    CHECK(r.ok);
    CHECK_EQ(y, 3);
}

// ---- NULL channel cases ---------------------------------------------------------------
static void
test_nil_cases(void)
{
    int v = 1, w = 0;
    gort_case nils[2] = {{.chan = NULL, .dir = GORT_SEND, .elem = &v},
                         {.chan = NULL, .dir = GORT_RECV, .elem = &w}};
    CHECK_EQ(gort_select(nils, 2, false), -1);

    // A NULL case is never chosen, even when the others are ready.
    gort_chan *b = gort_chan_make(sizeof(int), 1);
    gort_case mix[3] = {{.chan = NULL, .dir = GORT_RECV, .elem = &w},
                        {.chan = b, .dir = GORT_RECV, .elem = &w},
                        {.chan = NULL, .dir = GORT_SEND, .elem = &v}};
    int bad = 0;
    for (int t = 0; t < 200; t++) {
        gort_chan_send(b, &t);
        w = -1;
        int k = gort_select(mix, 3, t % 2 == 0);
        bad |= k != 1 || w != t || !mix[1].ok;
    }
    CHECK(!bad);
}

// ---- recv ok flag on a closed channel -------------------------------------------------
static void
test_recv_closed(void)
{
    gort_chan *c = gort_chan_make(sizeof(long), 2);
    long one = 1;
    gort_chan_send(c, &one);
    gort_chan_close(c);
    long v = -1;
    gort_case r = {.chan = c, .dir = GORT_RECV, .elem = &v};
    CHECK_EQ(gort_select(&r, 1, false), 0);
    CHECK(r.ok);
    CHECK_EQ(v, 1);
    v = 99;
    r.ok = true;
    CHECK_EQ(gort_select(&r, 1, false), 0); // closed and drained: ready
    CHECK(!r.ok);
    CHECK_EQ(v, 0); // elem zeroed
    r.elem = NULL;
    r.ok = true;
    CHECK_EQ(gort_select(&r, 1, true), 0); // elem may be NULL
    CHECK(!r.ok);
}

// ---- send case ------------------------------------------------------------------------
static void
receive_into(void *arg)
{
    gort_chan **cs = arg;
    int v = 0;
    gort_chan_recv(cs[0], &v);
    gort_chan_send(cs[1], &v);
}

static void
test_send_case(void)
{
    // Blocking send case completes when a receiver arrives.
    gort_chan *cs[2] = {gort_chan_make(sizeof(int), 0), gort_chan_make(sizeof(int), 1)};
    gort_go(receive_into, cs);
    int v = 314, got = 0;
    gort_chan *never = gort_chan_make(sizeof(int), 0);
    gort_case cases[2] = {{.chan = never, .dir = GORT_RECV, .elem = &got},
                          {.chan = cs[0], .dir = GORT_SEND, .elem = &v}};
    CHECK_EQ(gort_select(cases, 2, true), 1);
    CHECK(gort_chan_recv(cs[1], &got));
    CHECK_EQ(got, 314);
}

// ---- blocking select wakes on any case ----------------------------------------------
typedef struct {
    gort_chan *c;
    int value;
    int close_it;
} Waker;

static void
wake_later(void *arg)
{
    Waker *w = arg;
    gort_sleep(5 * MS);
    if (w->close_it)
        gort_chan_close(w->c);
    else
        gort_chan_send(w->c, &w->value);
}

static void
test_blocking_wakes(void)
{
    enum { N = 3 };
    for (int which = 0; which < N; which++) {
        gort_chan *c[N];
        int v[N] = {0};
        gort_case cases[N];
        for (int i = 0; i < N; i++) {
            c[i] = gort_chan_make(sizeof(int), 0);
            cases[i] = (gort_case){.chan = c[i], .dir = GORT_RECV, .elem = &v[i]};
        }
        static Waker w;
        w = (Waker){.c = c[which], .value = 100 + which};
        gort_go(wake_later, &w);
        CHECK_EQ(gort_select(cases, N, true), which);
        CHECK(cases[which].ok);
        CHECK_EQ(v[which], 100 + which);
    }
    // Woken by close: ok false.
    gort_chan *a = gort_chan_make(sizeof(int), 0), *b = gort_chan_make(sizeof(int), 0);
    int va = 7, vb = 7;
    gort_case cases[2] = {{.chan = a, .dir = GORT_RECV, .elem = &va},
                          {.chan = b, .dir = GORT_RECV, .elem = &vb}};
    static Waker wc;
    wc = (Waker){.c = b, .close_it = 1};
    gort_go(wake_later, &wc);
    cases[1].ok = true;
    CHECK_EQ(gort_select(cases, 2, true), 1);
    CHECK(!cases[1].ok);
    CHECK_EQ(vb, 0);
}

// ---- many cases -------------------------------------------------------------------------
#define NMANY 200
static void
test_many_cases(void)
{
    static gort_chan *c[NMANY];
    static gort_case cases[NMANY];
    static int vals[NMANY];
    for (int i = 0; i < NMANY; i++) {
        c[i] = gort_chan_make(sizeof(int), 1);
        cases[i] = (gort_case){.chan = c[i], .dir = GORT_RECV, .elem = &vals[i]};
    }
    CHECK_EQ(gort_select(cases, NMANY, false), -1);
    int bad = 0;
    for (int k = 0; k < NMANY; k += 7) {
        gort_chan_send(c[k], &k);
        int got = gort_select(cases, NMANY, true);
        bad |= got != k || vals[k] != k;
    }
    CHECK(!bad);
    // Blocking, woken by a sender on one of many unbuffered channels.
    for (int i = 0; i < NMANY; i++) {
        c[i] = gort_chan_make(sizeof(int), 0);
        cases[i].chan = c[i];
    }
    static Waker w;
    w = (Waker){.c = c[NMANY - 3], .value = 4242};
    gort_go(wake_later, &w);
    CHECK_EQ(gort_select(cases, NMANY, true), NMANY - 3);
    CHECK_EQ(vals[NMANY - 3], 4242);
}

// ---- select between goroutines: every value delivered exactly once ---------------------
#define NSEL 4
#define PER  5000
static void
selecting_sender(void *arg)
{
    gort_chan **c = arg;
    gort_case cases[NSEL];
    int v;
    for (int i = 0; i < NSEL; i++)
        cases[i] = (gort_case){.chan = c[i], .dir = GORT_SEND, .elem = &v};
    for (v = 1; v <= PER; v++)
        gort_select(cases, NSEL, true);
}

static void
test_select_exchange(void)
{
    static gort_chan *c[NSEL];
    for (int i = 0; i < NSEL; i++)
        c[i] = gort_chan_make(sizeof(int), i % 2); // some buffered, some not
    gort_go(selecting_sender, c);
    gort_go(selecting_sender, c);
    int v[NSEL];
    gort_case cases[NSEL];
    for (int i = 0; i < NSEL; i++)
        cases[i] = (gort_case){.chan = c[i], .dir = GORT_RECV, .elem = &v[i]};
    long sum = 0;
    for (int n = 0; n < 2 * PER; n++) {
        int k = gort_select(cases, NSEL, true);
        if (k >= 0 && k < NSEL)
            sum += v[k];
    }
    CHECK_EQ(sum, 2L * PER * (PER + 1) / 2);
}

int
main(void)
{
    RUN(test_uniform);
    RUN(test_same_channel_twice);
    RUN(test_nonblocking);
    RUN(test_nil_cases);
    RUN(test_recv_closed);
    RUN(test_send_case);
    RUN(test_blocking_wakes);
    RUN(test_many_cases);
    RUN(test_select_exchange);
    return harness_summary();
}
