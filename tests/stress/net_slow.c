// net_slow.c: 1,000 slow clients, each sending a byte a second of a request
// that never ends, are closed by the server's read deadline, while normal
// clients doing request/answer round trips all complete meanwhile.
//
// The server speaks a line protocol: "ping\n" is answered "pong\n". Before
// each request it sets a read deadline DEADLINE ahead and does not move it
// while the request trickles in (httphello's rule); on ETIMEDOUT it counts
// the timeout and closes. A slow client writes one byte, then waits for an
// answer with a 1 s read deadline of its own (its pacing); end of file or a
// reset means the server closed it. Verdicts: every slow client was closed
// (within 120 s, far past DEADLINE), the server timed out exactly as many
// connections as there were slow clients (no normal client ever met the
// deadline: each of their requests is written at once, and DEADLINE is
// seconds), every normal round trip was answered correctly, and all
// goroutines end. How fast the normal clients went is the benchmark's
// business (bench/run_net.py), not this test's.
#define _GNU_SOURCE // pipe2 (net_util.h)
#include "../harness.h"
#include "../net_util.h"

#include <gort.h>
#include <stdatomic.h>

enum { SLOW = 1000, NORMAL = 50, ROUNDS = 200 };
#define DEADLINE (3 * NET_SEC)

static atomic_int timeouts;     // server: connections closed at their deadline
static atomic_int slow_closed;  // slow clients that saw the server close
static atomic_int normal_ok;    // normal clients whose every round trip was right
static atomic_int server_ended; // server connection goroutines that ended
static gort_waitgroup clients;
static char addr[128];

static void
serve(void *arg)
{
    gort_fd *c = arg;
    char line[64];
    for (;;) {
        gort_fd_set_read_deadline(c, gort_nanotime() + DEADLINE);
        size_t n = 0;
        bool eol = false;
        while (!eol && n < sizeof line) {
            ssize_t k = gort_fd_read(c, line + n, sizeof line - n);
            if (k <= 0) {
                if (k < 0 && gort_errno() == ETIMEDOUT)
                    atomic_fetch_add(&timeouts, 1);
                goto done;
            }
            n += (size_t)k;
            eol = memchr(line, '\n', n) != NULL;
        }
        if (!eol || n != 5 || memcmp(line, "ping\n", 5) != 0)
            break; // one request at a time, as the clients send them
        if (!net_write_all(c, "pong\n", 5))
            break;
    }
done:
    gort_fd_close(c);
    atomic_fetch_add(&server_ended, 1);
}

static void
accept_loop(void *ln)
{
    net_accept_loop(ln, serve);
}

static void
slow_client(void *arg)
{
    (void)arg;
    gort_fd *c = gort_dial("tcp", addr, gort_nanotime() + 120 * NET_SEC);
    CHECK(c != NULL);
    if (c != NULL) {
        int64_t until = gort_nanotime() + 120 * NET_SEC;
        bool closed = false;
        while (!closed && gort_nanotime() < until) {
            if (gort_fd_write(c, "s", 1) != 1) {
                closed = true; // EPIPE or ECONNRESET: the server is gone
                break;
            }
            gort_fd_set_read_deadline(c, gort_nanotime() + NET_SEC);
            char b[8];
            ssize_t k = gort_fd_read(c, b, sizeof b);
            CHECK(k <= 0); // never an answer: the line never ends
            if (k == 0 || (k < 0 && gort_errno() != ETIMEDOUT))
                closed = true;
        }
        CHECK(closed);
        if (closed)
            atomic_fetch_add(&slow_closed, 1);
        gort_fd_close(c);
    }
    gort_waitgroup_done(&clients);
}

static void
normal_client(void *arg)
{
    (void)arg;
    gort_fd *c = gort_dial("tcp", addr, gort_nanotime() + 120 * NET_SEC);
    CHECK(c != NULL);
    bool ok = c != NULL;
    for (int i = 0; ok && i < ROUNDS; i++) {
        char b[5];
        ok = net_write_all(c, "ping\n", 5) && net_read_full(c, b, 5) && memcmp(b, "pong\n", 5) == 0;
    }
    CHECK(ok);
    if (ok)
        atomic_fetch_add(&normal_ok, 1);
    if (c != NULL)
        gort_fd_close(c);
    gort_waitgroup_done(&clients);
}

int
main(void)
{
    net_raise_nofile();
    int slow = (int)harness_scaled(SLOW), normal = (int)harness_scaled(NORMAL);
    int base = gort_num_goroutine();
    gort_fd *ln = gort_listen("tcp", "127.0.0.1:0");
    CHECK(ln != NULL);
    if (ln == NULL)
        return harness_summary();
    gort_fd_local_addr(ln, addr, sizeof addr);
    gort_go(accept_loop, ln);

    gort_waitgroup_add(&clients, slow + normal);
    for (int i = 0; i < slow; i++)
        gort_go(slow_client, NULL);
    gort_sleep(200 * MS); // most slow clients connected before the normal ones start
    int64_t t0 = gort_nanotime();
    for (int i = 0; i < normal; i++)
        gort_go(normal_client, NULL);
    gort_waitgroup_wait(&clients);
    printf("%d slow clients closed by the deadline, %d normal clients x %d round trips; "
           "%.1f s\n",
           atomic_load(&slow_closed), atomic_load(&normal_ok), ROUNDS,
           (double)(gort_nanotime() - t0) / 1e9);
    CHECK_EQ(atomic_load(&slow_closed), slow);
    CHECK_EQ(atomic_load(&normal_ok), normal);

    // Every server goroutine ends; the timeouts were the slow clients'.
    int64_t until = gort_nanotime() + 120 * NET_SEC;
    while (atomic_load(&server_ended) < slow + normal && gort_nanotime() < until)
        gort_sleep(10 * MS);
    CHECK_EQ(atomic_load(&server_ended), slow + normal);
    CHECK_EQ(atomic_load(&timeouts), slow);
    gort_fd_close(ln);
    until = gort_nanotime() + 60 * NET_SEC;
    while (gort_num_goroutine() > base && gort_nanotime() < until)
        gort_sleep(10 * MS);
    CHECK_EQ(gort_num_goroutine(), base);
    return harness_summary();
}
