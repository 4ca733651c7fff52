// gc_trace.c: GODEBUG=gctrace=1 prints one line per cycle in Go's format, and
// gort_read_memstats reports the cycle (ctest runs this with gctrace=1).
#include "../harness.h"
#include "export_test.h"

#include <gort.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *LINE_RE =
        "^gc [0-9]+ @[0-9]+\\.[0-9]{3}s [0-9]+%: "
        "[0-9.]+\\+[0-9.]+\\+[0-9.]+ ms clock, "
        "[0-9.]+\\+[0-9.]+/[0-9.]+/[0-9.]+\\+[0-9.]+ ms cpu, "
        "[0-9]+->[0-9]+->[0-9]+ MB, [0-9]+ MB goal, [0-9]+ MB stacks, [0-9]+ MB globals, "
        "[0-9]+ P( \\(forced\\))?$";

static void *volatile sink;

// Runs fn with stderr redirected to a file; returns what was written.
static char *
capture(void (*fn)(void))
{
    char path[] = "/tmp/gort_gctraceXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    fn();
    dup2(saved, 2);
    close(saved);
    off_t n = lseek(fd, 0, SEEK_END);
    char *buf = calloc(1, (size_t)n + 1);
    CHECK(pread(fd, buf, (size_t)n, 0) == n);
    close(fd);
    return buf;
}

static void
forced(void)
{
    gort_gc();
}

// Trace lines written so far to fd 2 (the capture file).
static int
lines_so_far(void)
{
    static char buf[1 << 16];
    int n = 0, at_start = 1;
    ssize_t k;
    for (off_t off = 0; (k = pread(2, buf, sizeof buf, off)) > 0; off += k)
        for (ssize_t i = 0; i < k; i++) {
            n += at_start && buf[i] == 'g';
            at_start = buf[i] == '\n';
        }
    return n;
}

static void
automatic(void)
{
    gort_memstats a, m;
    gort_read_memstats(&a);
    for (int i = 0; i < 400000; i++) // ~25 MB of garbage: several cycles
        sink = gort_alloc(64);
    // A concurrent mark still running ends in the background (sysmon, the
    // forcegc goroutine), which counts it in num_gc before it prints its
    // line: wait for both, so that the caller's counts agree whatever the
    // threads' speed. Bounded: a cycle that never ends, or never prints,
    // fails the caller's checks after 60 s.
    int64_t deadline = gort_nanotime() + 60000 * MS;
    for (;;) {
        gort_read_memstats(&m);
        if (gort_nanotime() > deadline ||
            (!rt_gc_marking() && lines_so_far() >= (int)(m.num_gc - a.num_gc)))
            break;
        gort_sleep(MS);
    }
}

static int
check_lines(char *text, int *nforced)
{
    regex_t re;
    CHECK_EQ(regcomp(&re, LINE_RE, REG_EXTENDED | REG_NOSUB), 0);
    int n = 0;
    *nforced = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (strncmp(l, "gc ", 3) != 0)
            continue;
        n++;
        if (regexec(&re, l, 0, NULL, 0) != 0) {
            fprintf(stderr, "bad gctrace line: %s\n", l);
            CHECK(0);
        }
        if (strstr(l, " (forced)"))
            (*nforced)++;
    }
    regfree(&re);
    return n;
}

static void
test_forced_line(void)
{
    gort_memstats a, b;
    gort_read_memstats(&a);
    char *out = capture(forced);
    gort_read_memstats(&b);
    int nf = 0;
    int n = check_lines(out, &nf);
    CHECK_EQ(n, 1);
    CHECK_EQ(nf, 1);
    CHECK_EQ(b.num_gc, a.num_gc + 1);
    CHECK_EQ(b.num_forced_gc, a.num_forced_gc + 1);
    CHECK(b.pause_total_ns > a.pause_total_ns);
    CHECK(b.pause_ns[(b.num_gc + 255) % 256] > 0);
    CHECK(b.last_gc_ns > a.last_gc_ns);
    CHECK(b.gc_cpu_fraction > 0 && b.gc_cpu_fraction < 1);
    free(out);
}

static void
test_automatic_lines(void)
{
    gort_memstats a, b;
    gort_read_memstats(&a);
    char *out = capture(automatic);
    gort_read_memstats(&b);
    int nf = 0;
    int n = check_lines(out, &nf);
    CHECK(n >= 2);
    CHECK_EQ(nf, 0);
    CHECK_EQ((int)(b.num_gc - a.num_gc), n);
    CHECK_EQ(b.num_forced_gc, a.num_forced_gc);
    free(out);
}

int
main(void)
{
    const char *d = getenv("GODEBUG");
    if (d == NULL || strstr(d, "gctrace=1") == NULL) {
        fprintf(stderr, "run with GODEBUG=gctrace=1\n");
        return 1;
    }
    RUN(test_forced_line);
    RUN(test_automatic_lines);
    return harness_summary();
}
