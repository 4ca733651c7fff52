// net_conns.c: 10,000 concurrent echo connections on GOMAXPROCS threads.
//
// This process is the server: an echo goroutine per connection. The clients
// are a second copy of this program (spawned with GORT_NET_CONNS_CLIENT=ADDR,
// so that each side holds 10,000 descriptors under the 20,000 limit): it
// dials every connection, makes one round trip on each, prints "ready", and
// on a byte from its stdin makes a second round trip on all of them at once,
// each from a goroutine of its own, checks every echo and exits 0.
//
// While the 10,000 connections sit idle the server prints its RSS per
// connection and its thread count, and asserts the count: no thread per
// connection, at most GOMAXPROCS + 4 threads (the Ps' threads, sysmon, one
// spare, the sanitizers' own). The count is sized from RLIMIT_NOFILE's hard
// limit when that is lower than 10,000 plus a margin, and divided by
// GORT_TEST_SCALE (harness_scaled).
#define _GNU_SOURCE // pipe2
#include "../harness.h"
#include "../net_util.h"

#include <gort.h>
#include <stdatomic.h>

enum { CONNS = 10000, MSG = 64 };

static atomic_int served;      // server goroutines that ended
static atomic_int round_trips; // client round trips checked
static gort_waitgroup wg;
static const char *server_addr;

static void
echo_conn(void *arg)
{
    gort_fd *c = arg;
    char buf[MSG];
    for (;;) {
        ssize_t n = gort_fd_read(c, buf, sizeof buf);
        if (n <= 0 || !net_write_all(c, buf, (size_t)n))
            break;
    }
    gort_fd_close(c);
    atomic_fetch_add(&served, 1);
}

static void
accept_loop(void *ln)
{
    net_accept_loop(ln, echo_conn);
}

// ---- the client process ------------------------------------------------------

static bool
round_trip(gort_fd *c, int seq)
{
    char msg[MSG], back[MSG];
    for (int i = 0; i < MSG; i++)
        msg[i] = (char)(seq + i);
    return net_write_all(c, msg, MSG) && net_read_full(c, back, MSG) && memcmp(msg, back, MSG) == 0;
}

static void
second_trip(void *arg)
{
    gort_fd *c = arg;
    if (round_trip(c, 2))
        atomic_fetch_add(&round_trips, 1);
    gort_waitgroup_done(&wg);
}

static int
client_main(int n)
{
    gort_fd **conns = gort_alloc(sizeof(gort_fd *) * (size_t)n);
    for (int i = 0; i < n; i++) {
        conns[i] = gort_dial("tcp", server_addr, gort_nanotime() + 120 * NET_SEC);
        if (conns[i] == NULL || !round_trip(conns[i], 1)) {
            fprintf(stderr, "client: connection %d: %s\n", i, strerror(gort_errno()));
            return 1;
        }
    }
    printf("ready %d threads %ld\n", n, net_proc_status("Threads"));
    fflush(stdout);
    gort_fd *in = gort_fd_open(0);
    char b;
    if (gort_fd_read(in, &b, 1) != 1)
        return 1;
    gort_waitgroup_add(&wg, n);
    for (int i = 0; i < n; i++)
        gort_go(second_trip, conns[i]);
    gort_waitgroup_wait(&wg);
    int ok = atomic_load(&round_trips);
    for (int i = 0; i < n; i++)
        gort_fd_close(conns[i]);
    printf("done %d\n", ok);
    fflush(stdout);
    return ok == n ? 0 : 1;
}

// ---- the server process ------------------------------------------------------

int
main(void)
{
    long limit = net_raise_nofile();
    int n = (int)harness_scaled(CONNS);
    if (limit > 0 && n > limit - 200) {
        fprintf(stderr, "RLIMIT_NOFILE hard limit %ld: %ld connections instead of %d\n", limit,
                limit - 200, n);
        n = (int)(limit - 200);
    }
    server_addr = getenv("GORT_NET_CONNS_CLIENT");
    if (server_addr != NULL)
        return client_main(n);

    int procs = gort_gomaxprocs(0);
    gort_fd *ln = gort_listen("tcp", "127.0.0.1:0");
    CHECK(ln != NULL);
    if (ln == NULL)
        return harness_summary();
    char addr[128];
    gort_fd_local_addr(ln, addr, sizeof addr);
    gort_go(accept_loop, ln);
    long rss0 = net_proc_status("VmRSS");

    char env[160];
    snprintf(env, sizeof env, "GORT_NET_CONNS_CLIENT=%s", addr);
    putenv(env);
    int in[2];
    CHECK(pipe2(in, O_CLOEXEC) == 0);
    NetChild client;
    char self[] = "/proc/self/exe";
    char *argv[] = {self, NULL};
    CHECK(net_spawn(&client, argv, in[0], false));
    close(in[0]);
    gort_fd *to_client = gort_fd_open(in[1]);

    // Wait for "ready": all connections made, one round trip each.
    char line[256];
    size_t got = 0;
    gort_fd_set_read_deadline(client.out, gort_nanotime() + 600 * NET_SEC);
    while (got < sizeof line - 1 && memchr(line, '\n', got) == NULL) {
        ssize_t k = gort_fd_read(client.out, line + got, sizeof line - 1 - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    line[got] = 0;
    int ready = 0;
    long client_threads = 0;
    CHECK(sscanf(line, "ready %d threads %ld", &ready, &client_threads) == 2);
    CHECK_EQ(ready, n);

    long rss = net_proc_status("VmRSS"), threads = net_proc_status("Threads");
    printf("%d idle connections: server RSS %ld KiB (%.1f KiB per connection over %ld KiB "
           "before), server threads %ld, client threads %ld, GOMAXPROCS %d\n",
           n, rss, (double)(rss - rss0) / n, rss0, threads, client_threads, procs);
    CHECK(threads <= procs + 4);
    CHECK(client_threads <= procs + 4);
    CHECK_EQ(gort_num_goroutine(), n + 2); // main, the accept loop, one per connection

    // All at once: a round trip on every connection, then the client closes.
    CHECK(net_write_all(to_client, "x", 1));
    gort_fd_set_read_deadline(client.out, gort_nanotime() + 600 * NET_SEC);
    got = 0;
    while (got < sizeof line - 1 && memchr(line, '\n', got) == NULL) {
        ssize_t k = gort_fd_read(client.out, line + got, sizeof line - 1 - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    line[got] = 0;
    int done = -1;
    CHECK(sscanf(line, "done %d", &done) == 1);
    CHECK_EQ(done, n);
    int st = net_wait(&client, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    printf("server threads after the burst: %ld\n", net_proc_status("Threads"));
    CHECK(net_proc_status("Threads") <= procs + 4);

    // Every server goroutine sees end of file and ends.
    int64_t until = gort_nanotime() + 120 * NET_SEC;
    while (atomic_load(&served) < n && gort_nanotime() < until)
        gort_sleep(10 * MS);
    CHECK_EQ(atomic_load(&served), n);
    gort_fd_close(to_client);
    gort_fd_close(ln);
    return harness_summary();
}
