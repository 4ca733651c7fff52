// net_reset.c: clients that reset their connection mid-response never crash
// the server.
//
// The server answers each "GET\n" with a 4 MiB response (more than a
// reader that stopped reading leaves room for), written in one
// gort_fd_write. RESETS clients, WAVE at a time, send the request, read a
// little of the answer (so that the server is parked in its write with the
// socket buffers full) and close with SO_LINGER 0: the kernel sends a RST.
// Every third client resets before sending anything, every third right after
// its request, without reading. The server's write must fail with EPIPE or
// ECONNRESET (never SIGPIPE: the process would die), its read see end of
// file or ECONNRESET; every server goroutine must end; and afterwards a
// normal client must still get the whole response, byte for byte.
#define _GNU_SOURCE // pipe2 (net_util.h)
#include "../harness.h"
#include "../net_util.h"

#include <gort.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <sys/socket.h>

enum { RESETS = 1000, WAVE = 50, RESPONSE = 4 << 20 };

static char *response; // [const] after main's setup: RESPONSE bytes
static atomic_int ended, write_failed, full_writes, unexpected;
static gort_waitgroup wave;
static char addr[128];

static void
serve(void *arg)
{
    gort_fd *c = arg;
    char req[4];
    errno = 0;
    if (net_read_full(c, req, 4) && memcmp(req, "GET\n", 4) == 0) {
        ssize_t w = gort_fd_write(c, response, RESPONSE);
        if (w == RESPONSE) {
            atomic_fetch_add(&full_writes, 1);
        } else {
            int e = gort_errno();
            atomic_fetch_add(&write_failed, 1);
            if (e != EPIPE && e != ECONNRESET) {
                atomic_fetch_add(&unexpected, 1);
                fprintf(stderr, "write: %zd, %s\n", w, strerror(e));
            }
        }
    } else {
        int e = gort_errno();
        // end of file (0) or a reset before the request
        if (e != 0 && e != ECONNRESET && e != EPIPE) {
            atomic_fetch_add(&unexpected, 1);
            fprintf(stderr, "read: %s\n", strerror(e));
        }
    }
    gort_fd_close(c);
    atomic_fetch_add(&ended, 1);
}

static void
accept_loop(void *ln)
{
    net_accept_loop(ln, serve);
}

static void
resetter(void *arg)
{
    int kind = (int)(intptr_t)arg % 3;
    gort_fd *c = gort_dial("tcp", addr, gort_nanotime() + 120 * NET_SEC);
    CHECK(c != NULL);
    if (c != NULL) {
        if (kind > 0)
            CHECK(net_write_all(c, "GET\n", 4));
        if (kind == 2) {
            char b[4096];
            gort_fd_set_read_deadline(c, gort_nanotime() + 120 * NET_SEC);
            CHECK(net_read_full(c, b, sizeof b));
        }
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        CHECK(setsockopt(gort_fd_sysfd(c), SOL_SOCKET, SO_LINGER, &l, sizeof l) == 0);
        gort_fd_close(c); // a RST, not a FIN
    }
    gort_waitgroup_done(&wave);
}

int
main(void)
{
    int resets = (int)harness_scaled(RESETS);
    response = gort_alloc_noscan(RESPONSE);
    for (size_t i = 0; i < RESPONSE; i++)
        response[i] = (char)(i * 31 % 253);
    gort_add_roots(&response, sizeof response);
    gort_fd *ln = gort_listen("tcp", "127.0.0.1:0");
    CHECK(ln != NULL);
    if (ln == NULL)
        return harness_summary();
    gort_fd_local_addr(ln, addr, sizeof addr);
    gort_go(accept_loop, ln);

    for (int i = 0; i < resets; i += WAVE) {
        int n = resets - i < WAVE ? resets - i : WAVE;
        gort_waitgroup_add(&wave, n);
        for (int k = 0; k < n; k++)
            gort_go(resetter, (void *)(intptr_t)(i + k));
    }
    gort_waitgroup_wait(&wave);
    int64_t until = gort_nanotime() + 120 * NET_SEC;
    while (atomic_load(&ended) < resets && gort_nanotime() < until)
        gort_sleep(10 * MS);
    printf("%d resets: %d writes failed, %d completed (into the socket buffers before the "
           "reset)\n",
           resets, atomic_load(&write_failed), atomic_load(&full_writes));
    CHECK_EQ(atomic_load(&ended), resets);
    CHECK_EQ(atomic_load(&unexpected), 0);
    CHECK(atomic_load(&write_failed) > 0); // the readers' resets hit a parked write

    // The server still serves.
    gort_fd *c = gort_dial("tcp", addr, gort_nanotime() + 120 * NET_SEC);
    CHECK(c != NULL);
    if (c != NULL) {
        char *got = gort_alloc_noscan(RESPONSE);
        gort_fd_set_read_deadline(c, gort_nanotime() + 120 * NET_SEC);
        CHECK(net_write_all(c, "GET\n", 4));
        CHECK(net_read_full(c, got, RESPONSE));
        CHECK(memcmp(got, response, RESPONSE) == 0);
        gort_fd_close(c);
    }
    gort_fd_close(ln);
    return harness_summary();
}
