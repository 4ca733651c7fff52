// net_emfile.c: descriptor exhaustion in accept backs off and recovers.
//
// An echo server's accept loop does what net/http's Serve does on EMFILE:
// sleep 5 ms, doubling to 1 s, and try again. The test lowers RLIMIT_NOFILE
// to a little above what is open, fills the rest with descriptors of
// /dev/null, and dials one connection with the one descriptor it frees: the
// kernel completes the handshake, and the server's accept fails with EMFILE.
// Then, for EXHAUSTED seconds:
//   - gort_accept must return the error rather than spin inside: the
//     process's CPU time over that stretch stays under half its wall time
//     (a spinning accept burns a whole core; a failure here means CPU was
//     spent, whatever the machine's load), and the accept loop saw at most
//     MAX_TRIES failures (the backoff's schedule allows about a dozen);
//   - a connection accepted before keeps working.
// Once the descriptors are closed the server must accept the waiting
// connection and echo on it, and on a new one: it recovered.
#define _GNU_SOURCE // pipe2 (net_util.h)
#include "../harness.h"
#include "../net_util.h"

#include <gort.h>
#include <stdatomic.h>
#include <sys/time.h>

enum { MAX_FILLERS = 1 << 16, MAX_TRIES = 40 };
#define EXHAUSTED (2 * NET_SEC)

static atomic_int emfile; // accept failures with EMFILE or ENFILE
static atomic_int other;  // other accept failures
static int fillers[MAX_FILLERS];

static void
echo_conn(void *arg)
{
    gort_fd *c = arg;
    char buf[256];
    for (;;) {
        ssize_t n = gort_fd_read(c, buf, sizeof buf);
        if (n <= 0 || !net_write_all(c, buf, (size_t)n))
            break;
    }
    gort_fd_close(c);
}

static void
accept_loop(void *arg)
{
    gort_fd *ln = arg;
    int64_t backoff = 0;
    for (;;) {
        gort_fd *c = gort_accept(ln);
        if (c != NULL) {
            backoff = 0;
            gort_go(echo_conn, c);
            continue;
        }
        int e = gort_errno();
        if (e == ECANCELED)
            return;
        atomic_fetch_add(e == EMFILE || e == ENFILE ? &emfile : &other, 1);
        backoff = backoff == 0 ? 5 * MS : backoff * 2;
        if (backoff > NET_SEC)
            backoff = NET_SEC;
        gort_sleep(backoff);
    }
}

static bool
echo_once(gort_fd *c, const char *msg)
{
    char back[64];
    size_t n = strlen(msg);
    gort_fd_set_read_deadline(c, gort_nanotime() + 120 * NET_SEC);
    return net_write_all(c, msg, n) && net_read_full(c, back, n) && memcmp(back, msg, n) == 0;
}

static double
cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int
main(void)
{
    gort_fd *ln = gort_listen("tcp", "127.0.0.1:0");
    CHECK(ln != NULL);
    if (ln == NULL)
        return harness_summary();
    char addr[128];
    gort_fd_local_addr(ln, addr, sizeof addr);
    gort_go(accept_loop, ln);
    gort_fd *a = gort_dial("tcp", addr, gort_nanotime() + 120 * NET_SEC);
    CHECK(a != NULL && echo_once(a, "before"));

    // Exhaust the descriptors: the limit a little above the highest open
    // one, the gaps and the rest filled with /dev/null.
    struct rlimit old;
    getrlimit(RLIMIT_NOFILE, &old);
    int top = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct rlimit low = {.rlim_cur = (rlim_t)top + 16, .rlim_max = old.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int nfill = 0;
    fillers[nfill++] = top;
    for (;;) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            break;
        fillers[nfill++] = fd;
    }
    CHECK_EQ(gort_errno(), EMFILE);
    close(fillers[--nfill]); // one for the client's socket
    gort_fd *b = gort_dial("tcp", addr, gort_nanotime() + 120 * NET_SEC);
    CHECK(b != NULL);

    // The server runs into EMFILE.
    int64_t until = gort_nanotime() + 120 * NET_SEC;
    while (atomic_load(&emfile) == 0 && gort_nanotime() < until)
        gort_sleep(5 * MS);
    CHECK(atomic_load(&emfile) > 0);
    int tries0 = atomic_load(&emfile);
    double cpu0 = cpu_seconds();
    int64_t t0 = gort_nanotime();
    while (gort_nanotime() - t0 < EXHAUSTED)
        gort_sleep(50 * MS);
    CHECK(a != NULL && echo_once(a, "during")); // accepted connections keep working
    double cpu = cpu_seconds() - cpu0, wall = (double)(gort_nanotime() - t0) / 1e9;
    int tries = atomic_load(&emfile) - tries0;
    printf("descriptors exhausted for %.2f s: %d accept failures, %.3f s CPU\n", wall, tries, cpu);
    CHECK(tries <= MAX_TRIES);
    CHECK(cpu < wall / 2);
    CHECK_EQ(atomic_load(&other), 0);

    // Free them: the waiting connection is accepted and served, and new ones.
    for (int i = 0; i < nfill; i++)
        close(fillers[i]);
    CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0);
    CHECK(b != NULL && echo_once(b, "after"));
    gort_fd *c = gort_dial("tcp", addr, gort_nanotime() + 120 * NET_SEC);
    CHECK(c != NULL && echo_once(c, "new"));
    if (a != NULL)
        gort_fd_close(a);
    if (b != NULL)
        gort_fd_close(b);
    if (c != NULL)
        gort_fd_close(c);
    gort_fd_close(ln);
    return harness_summary();
}
