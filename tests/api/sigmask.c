// sigmask.c: every thread that runs goroutines has the signal mask the
// program had at boot, less gort's own signals (Go's initSigmask), so that a
// process-directed SIGTERM finds a thread to take it and a child started from
// any goroutine inherits the program's mask, not one that blocks everything.
#define _GNU_SOURCE
#include "../harness.h"

#include <gort.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

// SigBlk of the calling thread, from /proc/thread-self/status.
static unsigned long long
thread_sigblk(void)
{
    FILE *f = fopen("/proc/thread-self/status", "r");
    if (f == NULL)
        return ~0ull;
    char line[256];
    unsigned long long v = ~0ull;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "SigBlk: %llx", &v) == 1)
            break;
    fclose(f);
    return v;
}

static pid_t main_tid;
static unsigned long long main_mask;
static _Atomic int other_threads_seen;
static _Atomic int mismatches;

static void
probe(void *wg)
{
    // Spin a little so that the goroutines spread over the Ps' threads.
    static _Atomic unsigned long sink;
    for (int i = 0; i < 200000; i++)
        atomic_fetch_add_explicit(&sink, 1, memory_order_relaxed);
    if (gettid() != main_tid) {
        // No parking call between gettid and the read: the goroutine stays
        // on this thread (it is not preempted inside libc).
        unsigned long long m = thread_sigblk();
        atomic_fetch_add(&other_threads_seen, 1);
        if (m != main_mask) {
            atomic_fetch_add(&mismatches, 1);
            fprintf(stderr, "thread %d: SigBlk %016llx, main %016llx\n", (int)gettid(), m,
                    main_mask);
        }
    }
    gort_waitgroup_done(wg);
}

int
main(void)
{
    main_tid = gettid();
    main_mask = thread_sigblk();
    CHECK(main_mask != ~0ull);
    // SIGTERM stays open on m0 (the test did not block it).
    CHECK((main_mask & (1ull << (SIGTERM - 1))) == 0);
    int64_t deadline = gort_nanotime() + 60 * 1000000000ll;
    while (atomic_load(&other_threads_seen) == 0 && gort_nanotime() < deadline) {
        static gort_waitgroup wg;
        gort_waitgroup_add(&wg, 64);
        for (int i = 0; i < 64; i++)
            gort_go(probe, &wg);
        gort_waitgroup_wait(&wg);
    }
    CHECK(atomic_load(&other_threads_seen) > 0);
    CHECK_EQ(atomic_load(&mismatches), 0);
    return harness_summary();
}
