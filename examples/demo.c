// demo.c: a tour of gort. main() runs as goroutine 1 on gort's scheduler.
//
//   1. a pipeline: gen -> 4 square workers (fan-out) -> sum (fan-in), the
//      stages joined by channels, the workers by a WaitGroup that closes the
//      output when the last one is done;
//   2. select with a timeout: gort_after() races a slow goroutine;
//   3. a burst of 10000 goroutines counting under a mutex;
//   4. 8 CPU-bound goroutines on GOMAXPROCS Ps, long enough (~0.5 s) for
//      schedtrace to show busy Ps and queued goroutines.
//
// Run it with `make demo`, which sets GODEBUG=boottrace=1,schedtrace=100 to
// show the boot sequence and the scheduler's state every 100 ms.
#include <gort.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

enum { N = 100000, WORKERS = 4, BURST = 10000, CRUNCHERS = 8, CRUNCH_LIMIT = 2000000 };

typedef struct {
    gort_chan *in, *out;
    gort_waitgroup *wg;
} Stage;

static void
gen(void *arg)
{
    gort_chan *out = arg;
    for (int64_t i = 1; i <= N; i++)
        gort_chan_send(out, &i);
    gort_chan_close(out);
}

static void
square(void *arg)
{
    Stage *s = arg;
    int64_t v;
    while (gort_chan_recv(s->in, &v)) {
        v *= v;
        gort_chan_send(s->out, &v);
    }
    gort_waitgroup_done(s->wg);
}

static void
closer(void *arg)
{
    Stage *s = arg;
    gort_waitgroup_wait(s->wg);
    gort_chan_close(s->out);
}

static void
pipeline(void)
{
    static gort_waitgroup wg;
    gort_chan *nums = gort_chan_make(sizeof(int64_t), 64);
    gort_chan *squares = gort_chan_make(sizeof(int64_t), 64);
    Stage *s = gort_new(Stage);
    *s = (Stage){.in = nums, .out = squares, .wg = &wg};

    int64_t t0 = gort_nanotime();
    gort_go(gen, nums);
    gort_waitgroup_add(&wg, WORKERS);
    for (int i = 0; i < WORKERS; i++)
        gort_go(square, s);
    gort_go(closer, s);

    int64_t sum = 0, v, n = 0;
    while (gort_chan_recv(squares, &v)) {
        sum += v;
        n++;
    }
    int64_t want = (int64_t)N * (N + 1) * (2 * N + 1) / 6;
    printf("pipeline: %" PRId64 " squares summed to %" PRId64 " (%s) in %.1f ms\n", n, sum,
           sum == want ? "correct" : "WRONG", (double)(gort_nanotime() - t0) / 1e6);
}

static void
slow(void *arg)
{
    gort_sleep(200 * 1000 * 1000); // 200 ms
    int64_t v = 42;
    gort_chan_send(arg, &v);
}

static void
timeouts(void)
{
    gort_chan *reply = gort_chan_make(sizeof(int64_t), 1);
    gort_go(slow, reply);
    for (int round = 0; round < 2; round++) {
        int64_t v = 0, fired = 0;
        int64_t wait_ms = round == 0 ? 50 : 500;
        gort_case cases[2] = {
                {.chan = reply, .dir = GORT_RECV, .elem = &v},
                {.chan = gort_after(wait_ms * 1000 * 1000), .dir = GORT_RECV, .elem = &fired},
        };
        switch (gort_select(cases, 2, true)) {
        case 0:
            printf("select: reply %" PRId64 " arrived within %" PRId64 " ms\n", v, wait_ms);
            break;
        case 1:
            printf("select: timed out after %" PRId64 " ms, still waiting\n", wait_ms);
            break;
        }
    }
}

static gort_mutex mu;
static gort_waitgroup burst_wg;
static int64_t counter;

static void
count(void *arg)
{
    (void)arg;
    gort_mutex_lock(&mu);
    counter++;
    gort_mutex_unlock(&mu);
    gort_waitgroup_done(&burst_wg);
}

static void
burst(void)
{
    int64_t t0 = gort_nanotime();
    gort_waitgroup_add(&burst_wg, BURST);
    for (int i = 0; i < BURST; i++)
        gort_go(count, NULL);
    gort_waitgroup_wait(&burst_wg);
    printf("burst: %d goroutines counted to %" PRId64 " in %.1f ms\n", BURST, counter,
           (double)(gort_nanotime() - t0) / 1e6);
}

typedef struct {
    int64_t lo, hi, nprimes;
    gort_waitgroup *wg;
} Crunch;

static void
crunch(void *arg)
{
    Crunch *c = arg;
    for (int64_t n = c->lo; n < c->hi; n++) {
        bool prime = n > 1;
        for (int64_t d = 2; d * d <= n && prime; d++)
            prime = n % d != 0;
        c->nprimes += prime;
    }
    gort_waitgroup_done(c->wg);
}

static void
compute(void)
{
    static gort_waitgroup wg;
    Crunch *parts = gort_alloc(CRUNCHERS * sizeof(Crunch));
    int64_t t0 = gort_nanotime(), total = 0;
    gort_waitgroup_add(&wg, CRUNCHERS);
    for (int i = 0; i < CRUNCHERS; i++) {
        parts[i] = (Crunch){.lo = (int64_t)i * CRUNCH_LIMIT / CRUNCHERS,
                            .hi = (int64_t)(i + 1) * CRUNCH_LIMIT / CRUNCHERS,
                            .wg = &wg};
        gort_go(crunch, &parts[i]);
    }
    gort_waitgroup_wait(&wg);
    for (int i = 0; i < CRUNCHERS; i++)
        total += parts[i].nprimes;
    printf("compute: %d goroutines found %" PRId64 " primes below %d in %.1f ms\n", CRUNCHERS,
           total, CRUNCH_LIMIT, (double)(gort_nanotime() - t0) / 1e6);
}

int
main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0); // interleave with the runtime's traces

    printf("demo: main is goroutine %" PRId64 ", GOMAXPROCS=%d\n", gort_goid(), gort_gomaxprocs(0));
    pipeline();
    timeouts();
    burst();
    compute();
    printf("demo: %d goroutines left at exit\n", gort_num_goroutine());
    return 0;
}
