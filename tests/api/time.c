// time.c: nanotime, sleep, after and tickers (contract: "Time").
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
test_nanotime_monotonic(void)
{
    int64_t prev = gort_nanotime(), first = prev;
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        int64_t now = gort_nanotime();
        bad |= now < prev;
        prev = now;
    }
    CHECK(!bad);
    CHECK(first > 0);
    CHECK(prev > first); // the clock moves
}

static void
test_sleep_duration(void)
{
    int64_t t0 = gort_nanotime();
    gort_sleep(30 * MS);
    int64_t dt = gort_nanotime() - t0;
    CHECK(dt >= 30 * MS);
    CHECK(dt < 2000 * MS);
    t0 = gort_nanotime();
    gort_sleep(0); // returns at once, as do negative durations
    gort_sleep(-5 * MS);
    CHECK(gort_nanotime() - t0 < 500 * MS);
}

// ---- sleep parks the goroutine, not the thread ----------------------------------------
static atomic_long spins;
static atomic_int stop_spinner;
static void
cooperative_spinner(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop_spinner)) {
        atomic_fetch_add(&spins, 1);
        gort_yield();
    }
}

static int
os_threads(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "Threads:", 8) == 0)
            n = atoi(line + 8);
    fclose(f);
    return n;
}

static atomic_int sleepers_done;
static void
sleeper(void *arg)
{
    (void)arg;
    gort_sleep(200 * MS);
    atomic_fetch_add(&sleepers_done, 1);
}

static void
test_sleep_parks(void)
{
    int old = gort_gomaxprocs(1);
    // With one P, the spinner runs only if main's sleep gave the P up.
    gort_go(cooperative_spinner, NULL);
    int64_t until = gort_nanotime() + 30000 * MS; // a loaded machine may delay its thread
    do
        gort_sleep(50 * MS);
    while (atomic_load(&spins) == 0 && gort_nanotime() < until);
    CHECK(atomic_load(&spins) > 0);
    atomic_store(&stop_spinner, 1);

    // 500 goroutines asleep at once do not hold 500 threads.
    int64_t t0 = gort_nanotime();
    for (int i = 0; i < 500; i++)
        gort_go(sleeper, NULL);
    gort_sleep(100 * MS);
    int nthreads = os_threads();
    fprintf(stderr, "    %d OS threads while 500 goroutines sleep\n", nthreads);
    CHECK(nthreads > 0 && nthreads < 50);
    int64_t deadline = t0 + 60000 * MS;
    while (atomic_load(&sleepers_done) < 500 && gort_nanotime() < deadline)
        gort_sleep(5 * MS);
    CHECK_EQ(atomic_load(&sleepers_done), 500);
    // They slept at the same time, not one after another (that takes 100 s).
    CHECK(gort_nanotime() - t0 < 20000 * MS);
    gort_gomaxprocs(old);
}

// ---- after ---------------------------------------------------------------------------------
static void
test_after(void)
{
    int64_t t0 = gort_nanotime();
    gort_chan *c = gort_after(20 * MS);
    CHECK(c != NULL);
    CHECK_EQ(gort_chan_cap(c), 1);
    int64_t fired = 0;
    CHECK(gort_chan_recv(c, &fired));
    int64_t t1 = gort_nanotime();
    CHECK(fired >= t0 + 20 * MS); // the nanotime at firing
    CHECK(fired <= t1);
    CHECK(t1 - t0 >= 20 * MS);

    // The value waits in the buffer when nobody receives yet.
    gort_chan *d = gort_after(5 * MS);
    gort_sleep(50 * MS);
    CHECK_EQ(gort_chan_len(d), 1);
    int64_t v = 0;
    gort_case r = {.chan = d, .dir = GORT_RECV, .elem = &v};
    CHECK_EQ(gort_select(&r, 1, false), 0);
    CHECK(v > 0);
    CHECK_EQ(gort_select(&r, 1, false), -1); // fires only once

    // Timeouts with select: the earlier timer wins (the later one far
    // enough away that no stall of the machine lets both be ready).
    gort_chan *slow = gort_after(600000 * MS), *fast = gort_after(10 * MS);
    int64_t a, b;
    gort_case cases[2] = {{.chan = slow, .dir = GORT_RECV, .elem = &a},
                          {.chan = fast, .dir = GORT_RECV, .elem = &b}};
    CHECK_EQ(gort_select(cases, 2, true), 1);

    // after(0) fires promptly.
    t0 = gort_nanotime();
    CHECK(gort_chan_recv(gort_after(0), &v));
    CHECK(gort_nanotime() - t0 < 1000 * MS);
}

// Many timers fire in order of their deadlines.
static void
test_many_afters(void)
{
    enum { N = 50 };
    gort_chan *c[N];
    for (int i = 0; i < N; i++)
        c[i] = gort_after((int64_t)(N - i) * 2 * MS);
    int64_t prev = 0;
    int bad = 0;
    for (int i = N - 1; i >= 0; i--) {
        int64_t v = 0;
        gort_chan_recv(c[i], &v);
        bad |= v < prev;
        prev = v;
    }
    CHECK(!bad);
}

// ---- ticker ----------------------------------------------------------------------------------
static void
test_ticker_ticks(void)
{
    const int64_t period = 20 * MS;
    int64_t t0 = gort_nanotime();
    gort_ticker *t = gort_ticker_make(period);
    gort_chan *c = gort_ticker_chan(t);
    CHECK_EQ(gort_chan_cap(c), 1);
    // The i-th tick (from 1) fires no earlier than t0 + i periods: ticks
    // are re-armed a whole period on, and never come in a burst. (Not "each
    // a period after the last": a tick that fired late may be followed by
    // one on time.)
    int64_t prev = t0;
    int bad = 0;
    for (int i = 0; i < 5; i++) {
        int64_t v = 0;
        CHECK(gort_chan_recv(c, &v));
        int64_t now = gort_nanotime();
        bad |= v > now || v < prev || v < t0 + (i + 1) * period;
        prev = v;
    }
    CHECK(!bad);
    CHECK(prev - t0 >= 5 * period - period / 2);
    gort_ticker_stop(t);
}

static void
test_ticker_drops_late_ticks(void)
{
    const int64_t period = 10 * MS;
    gort_ticker *t = gort_ticker_make(period);
    gort_chan *c = gort_ticker_chan(t);
    gort_sleep(200 * MS); // about 20 ticks go by unread
    CHECK_EQ(gort_chan_len(c), 1);
    // The buffered one first (a select with the window ready too could pick
    // either if the machine stalled), then read for the next 30 ms: a
    // backlog would deliver ~20 ticks at once; with late ticks dropped we
    // see ~3 new ones (timers fire in deadline order, so at most 3 ticks
    // are due before the window, whatever the machine's speed).
    int64_t v;
    gort_case one = {.chan = c, .dir = GORT_RECV, .elem = &v};
    CHECK_EQ(gort_select(&one, 1, false), 0);
    int n = 1;
    gort_chan *window = gort_after(30 * MS);
    gort_case cases[2] = {{.chan = c, .dir = GORT_RECV, .elem = &v},
                          {.chan = window, .dir = GORT_RECV, .elem = &v}};
    while (gort_select(cases, 2, true) == 0)
        n++;
    fprintf(stderr, "    %d ticks in the 30 ms after a 200 ms pause\n", n);
    CHECK(n >= 1 && n <= 6);
    gort_ticker_stop(t);
}

static void
test_ticker_stop(void)
{
    const int64_t period = 5 * MS;
    gort_ticker *t = gort_ticker_make(period);
    gort_chan *c = gort_ticker_chan(t);
    int64_t v;
    CHECK(gort_chan_recv(c, &v));
    gort_ticker_stop(t);
    gort_case r = {.chan = c, .dir = GORT_RECV, .elem = &v};
    gort_select(&r, 1, false); // drain a tick that raced with stop
    gort_sleep(10 * period);
    CHECK_EQ(gort_chan_len(c), 0);           // no ticks after stop
    CHECK_EQ(gort_select(&r, 1, false), -1); // and the channel is not closed
}

int
main(void)
{
    RUN(test_nanotime_monotonic);
    RUN(test_sleep_duration);
    RUN(test_sleep_parks);
    RUN(test_after);
    RUN(test_many_afters);
    RUN(test_ticker_ticks);
    RUN(test_ticker_drops_late_ticks);
    RUN(test_ticker_stop);
    return harness_summary();
}
