// harness.h: the smallest test harness that does the job (after mimalloc's
// test/testhelper.h).
//
// CHECK(expr) and CHECK_EQ(a, b) record a failure with file:line and go on;
// they may be used from any goroutine, so the counts are atomic. RUN(fn)
// prints the name of each part to stderr before running it, so that a test
// that hangs or crashes shows where. A test's main ends with
// `return harness_summary();`, which prints "N passed, N failed" and returns
// nonzero when anything failed.
#ifndef GORT_TEST_HARNESS_H
#define GORT_TEST_HARNESS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_int harness_passed;
static atomic_int harness_failed;

static inline void
harness_fail(const char *file, int line, const char *what)
{
    atomic_fetch_add(&harness_failed, 1);
    fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
}

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        if (expr)                                                                                  \
            atomic_fetch_add(&harness_passed, 1);                                                  \
        else                                                                                       \
            harness_fail(__FILE__, __LINE__, #expr);                                               \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        if (check_a_ == check_b_) {                                                                \
            atomic_fetch_add(&harness_passed, 1);                                                  \
        } else {                                                                                   \
            harness_fail(__FILE__, __LINE__, #a " == " #b);                                        \
            fprintf(stderr, "    %lld != %lld\n", check_a_, check_b_);                             \
        }                                                                                          \
    } while (0)

#define RUN(fn)                                                                                    \
    do {                                                                                           \
        fprintf(stderr, "=== %s\n", #fn);                                                          \
        fn();                                                                                      \
    } while (0)

static inline int
harness_summary(void)
{
    int failed = atomic_load(&harness_failed);
    printf("%d passed, %d failed\n", atomic_load(&harness_passed), failed);
    fflush(stdout);
    return failed != 0;
}

#define MS ((int64_t)1000000) // nanoseconds in a millisecond

// harness_scaled(n): a workload size (goroutines, rounds) divided by
// GORT_TEST_SCALE, at least 1. tests/CMakeLists.txt sets GORT_TEST_SCALE
// only for sanitizer builds (and tools/mode-tests.py under valgrind and gcstress),
// where each goroutine and access costs far more; the release build runs at
// full size. Tests must derive every expected value from the scaled sizes.
static inline long
harness_scaled(long n)
{
    const char *s = getenv("GORT_TEST_SCALE");
    long d = s != NULL ? atol(s) : 1;
    if (d <= 1)
        return n;
    return n / d > 0 ? n / d : 1;
}

// harness_gcstress(): whether GODEBUG asks for a cycle every N allocations
// (gcstress=N, N > 0; tools/mode-tests.py runs the suite so). Those cycles
// come whatever the pacer says: tests skip their checks of how many cycles
// the pacer ran, or of what a cycle that did not run left in the heap.
static inline bool
harness_gcstress(void)
{
    bool on = false; // the last setting wins, as in the runtime's parser
    for (const char *p = getenv("GODEBUG"); p != NULL && *p != 0;) {
        if (strncmp(p, "gcstress=", 9) == 0)
            on = atol(p + 9) > 0;
        p = strchr(p, ',');
        p = p != NULL ? p + 1 : NULL;
    }
    return on;
}

#endif // GORT_TEST_HARNESS_H
