// preempt_libc.c: goroutines that spend nearly all their time inside gort's
// calls or inside libc are preempted too (src/sched/preempt.c), so main's
// short sleeps end while they spin. Each phase starts 4 spinners (more than
// GOMAXPROCS, 1 or 2), then main sleeps 1 ms several times; before the
// return trap and the entry-point checks main stayed on a run queue for
// ever and the test timed out. The verdict is completion; the worst wake-up
// latency is printed for the record, since a bound in milliseconds would
// depend on the machine's load.
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_THREAD__)
#define NO_SIGNALS 1 // no async preemption under TSan: only gort's entry points preempt
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define NO_SIGNALS 1
#endif
#endif
#ifndef NO_SIGNALS
#define NO_SIGNALS 0
#endif

enum { NSPIN = 4, BUF = 16 << 10 };

typedef enum { W_ALLOC, W_MEMSET, W_MEMCPY, W_STRLEN, W_MIX } Work;

static const char *const names[] = {"gort_alloc + memset(48)", "memset", "memcpy", "strlen",
                                    "gort calls and libc"};

static atomic_int phase;   // the phase that spinners of it keep running in
static atomic_int running; // spinners not yet returned
static atomic_long rounds; // loop rounds done, all spinners
static gort_mutex mu;
static volatile size_t bufsize = BUF; // volatile: libc is called, not inlined

typedef struct {
    Work w;
    int ph;
    char *a, *b;
    volatile size_t sink; // keeps strlen's result alive
} Spin;

static void
spinner(void *arg)
{
    Spin *s = arg;
    long n = 0;
    while (atomic_load_explicit(&phase, memory_order_relaxed) == s->ph) {
        switch (s->w) {
        case W_ALLOC:
            memset(gort_alloc(48), 1, 48); // the loop of issue 10
            break;
        case W_MEMSET:
            memset(s->a, 1, bufsize);
            break;
        case W_MEMCPY:
            memcpy(s->b, s->a, bufsize);
            break;
        case W_STRLEN: {
            // 1 KiB: under ASan strlen is an interceptor that is no leaf, and
            // only signals that land in this loop preempt it (sysmon.c).
            const char *volatile p = s->a + BUF - 1024;
            s->sink = strlen(p);
            break;
        }
        case W_MIX: {
            char *o = gort_alloc_noscan(bufsize);
            memcpy(o, s->a, bufsize);
            const char *volatile p = s->a;
            s->sink = strlen(p);
            gort_mutex_lock(&mu);
            s->sink += (size_t)o[1];
            gort_mutex_unlock(&mu);
            break;
        }
        }
        n++;
    }
    atomic_fetch_add(&rounds, n);
    free(s->a);
    free(s->b);
    free(s);
    atomic_fetch_sub(&running, 1);
}

static void
run_phase(Work w)
{
    int ph = atomic_load(&phase);
    atomic_store(&rounds, 0);
    atomic_store(&running, NSPIN);
    for (int i = 0; i < NSPIN; i++) {
        Spin *s = calloc(1, sizeof *s);
        s->w = w;
        s->ph = ph;
        s->a = malloc(BUF + 1);
        s->b = malloc(BUF + 1);
        memset(s->a, 'a', BUF);
        s->a[BUF] = 0;
        gort_go(spinner, s);
    }
    long nsleep = harness_scaled(20);
    int64_t worst = 0;
    for (long i = 0; i < nsleep; i++) {
        int64_t t0 = gort_nanotime();
        gort_sleep(1 * MS); // ends only if a spinner is preempted
        int64_t late = gort_nanotime() - t0 - 1 * MS;
        if (late > worst)
            worst = late;
    }
    fprintf(stderr, "    %-24s GOMAXPROCS=%d: %ld sleeps of 1 ms, worst wake-up %.1f ms late\n",
            names[w], gort_gomaxprocs(0), nsleep, (double)worst / 1e6);
    // The spinners stop at the phase change; waiting for them needs them
    // preempted too. Bounded by the test's timeout.
    atomic_fetch_add(&phase, 1);
    while (atomic_load(&running) != 0)
        gort_sleep(1 * MS);
    CHECK(atomic_load(&rounds) > 0);
}

int
main(void)
{
    run_phase(W_ALLOC);
    run_phase(W_MIX);
    if (NO_SIGNALS) {
        fprintf(stderr, "    libc-only loops skipped: no preemption signal under TSan\n");
    } else {
        run_phase(W_MEMSET);
        run_phase(W_MEMCPY);
        run_phase(W_STRLEN);
    }
    CHECK_EQ(gort_num_goroutine(), 1);
    return harness_summary();
}
