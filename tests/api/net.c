// net.c: gort_listen / gort_accept / gort_dial over TCP (IPv4 and IPv6) and
// Unix sockets: echo, EOF, EPIPE without SIGPIPE, refused dials, dial
// deadlines, close while parked in accept, address formats (contract:
// "System calls, file descriptors and the network").
#define _GNU_SOURCE
#include "../harness.h"

#include <errno.h>
#include <gort.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEC ((int64_t)1000000000)

static void
echo_conn(void *arg)
{
    gort_fd *c = arg;
    char buf[4096];
    ssize_t n;
    while ((n = gort_fd_read(c, buf, sizeof buf)) > 0)
        if (gort_fd_write(c, buf, (size_t)n) != n)
            break;
    gort_fd_close(c);
}

typedef struct Server {
    gort_fd *ln;
    gort_chan *done;
    int accepted;
    int err; // errno of the accept that ended the loop
} Server;

static void
serve(void *arg)
{
    Server *s = arg;
    for (;;) {
        gort_fd *c = gort_accept(s->ln);
        if (c == NULL) {
            s->err = gort_errno();
            break;
        }
        s->accepted++;
        gort_go(echo_conn, c);
    }
    int one = 1;
    gort_chan_send(s->done, &one);
}

static Server *
start_server(const char *net, const char *addr)
{
    Server *s = gort_alloc(sizeof *s);
    s->ln = gort_listen(net, addr);
    CHECK(s->ln != NULL);
    if (s->ln == NULL) {
        fprintf(stderr, "listen %s %s: %s\n", net, addr, strerror(gort_errno()));
        exit(1);
    }
    s->done = gort_chan_make(sizeof(int), 1);
    gort_go(serve, s);
    return s;
}

static void
stop_server(Server *s)
{
    CHECK_EQ(gort_fd_close(s->ln), 0);
    int v;
    gort_chan_recv(s->done, &v);
    CHECK_EQ(s->err, ECANCELED); // accept parked at close: "use of closed network connection"
}

typedef struct Client {
    const char *net;
    char addr[128];
    int id;
    int ok;
    gort_chan *done;
} Client;

static void
client(void *arg)
{
    Client *c = arg;
    gort_fd *f = gort_dial(c->net, c->addr, gort_nanotime() + 60 * SEC);
    c->ok = f != NULL;
    if (f) {
        char out[3000], in[3000];
        for (size_t i = 0; i < sizeof out; i++)
            out[i] = (char)(c->id * 13 + (int)i);
        for (int round = 0; round < 5 && c->ok; round++) {
            c->ok &= gort_fd_write(f, out, sizeof out) == (ssize_t)sizeof out;
            size_t got = 0;
            while (c->ok && got < sizeof in) {
                ssize_t n = gort_fd_read(f, in + got, sizeof in - got);
                if (n <= 0)
                    c->ok = 0;
                else
                    got += (size_t)n;
            }
            c->ok &= memcmp(in, out, sizeof in) == 0;
        }
        gort_fd_close(f);
    }
    gort_chan_send(c->done, &c->ok);
}

static void
echo_many(const char *net, const char *listen_addr, const char *want_prefix)
{
    Server *s = start_server(net, listen_addr);
    char addr[128];
    CHECK_EQ(gort_fd_local_addr(s->ln, addr, sizeof addr), 0);
    CHECK(strncmp(addr, want_prefix, strlen(want_prefix)) == 0);
    int n = (int)harness_scaled(50);
    gort_chan *done = gort_chan_make(sizeof(int), (size_t)n);
    for (int i = 0; i < n; i++) {
        Client *c = gort_alloc(sizeof *c);
        c->net = net;
        snprintf(c->addr, sizeof c->addr, "%s", addr);
        c->id = i;
        c->done = done;
        gort_go(client, c);
    }
    int good = 0;
    for (int i = 0; i < n; i++) {
        int ok;
        gort_chan_recv(done, &ok);
        good += ok;
    }
    CHECK_EQ(good, n);
    CHECK_EQ(s->accepted, n);
    stop_server(s);
}

static void
test_tcp4(void)
{
    echo_many("tcp", "127.0.0.1:0", "127.0.0.1:");
    echo_many("tcp4", "127.0.0.1:0", "127.0.0.1:");
}

static void
test_tcp6(void)
{
    gort_fd *probe = gort_listen("tcp6", "[::1]:0");
    if (probe == NULL) {
        fprintf(stderr, "no IPv6 loopback here (%s): skipped\n", strerror(gort_errno()));
        return;
    }
    gort_fd_close(probe);
    echo_many("tcp6", "[::1]:0", "[::1]:");
    echo_many("tcp", "[::1]:0", "[::1]:");
}

static void
test_unix(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/gort-net-%d.sock", (int)getpid());
    unlink(path);
    Server *s = start_server("unix", path);
    char addr[128];
    CHECK_EQ(gort_fd_local_addr(s->ln, addr, sizeof addr), 0);
    CHECK(strcmp(addr, path) == 0);
    int n = (int)harness_scaled(20);
    gort_chan *done = gort_chan_make(sizeof(int), (size_t)n);
    for (int i = 0; i < n; i++) {
        Client *c = gort_alloc(sizeof *c);
        c->net = "unix";
        snprintf(c->addr, sizeof c->addr, "%s", path);
        c->id = i;
        c->done = done;
        gort_go(client, c);
    }
    int good = 0;
    for (int i = 0; i < n; i++) {
        int ok;
        gort_chan_recv(done, &ok);
        good += ok;
    }
    CHECK_EQ(good, n);
    struct stat st;
    CHECK_EQ(stat(path, &st), 0);
    stop_server(s);
    CHECK_EQ(stat(path, &st), -1); // closing the listener removed its socket file
}

// A peer that closes: the reader sees EOF; the writer EPIPE (or ECONNRESET),
// never a SIGPIPE, with SIGPIPE at its default disposition.
static void
test_eof_epipe(void)
{
    signal(SIGPIPE, SIG_DFL);
    gort_fd *ln = gort_listen("tcp", "127.0.0.1:0");
    CHECK(ln != NULL);
    char addr[128], local[128], remote[128];
    gort_fd_local_addr(ln, addr, sizeof addr);
    gort_fd *c = gort_dial("tcp", addr, 0);
    CHECK(c != NULL);
    gort_fd *a = gort_accept(ln);
    CHECK(a != NULL);
    // Addresses: the client's remote is the listener; the server's remote is
    // the client's local.
    CHECK_EQ(gort_fd_remote_addr(c, remote, sizeof remote), 0);
    CHECK(strcmp(remote, addr) == 0);
    CHECK_EQ(gort_fd_local_addr(c, local, sizeof local), 0);
    CHECK_EQ(gort_fd_remote_addr(a, remote, sizeof remote), 0);
    CHECK(strcmp(remote, local) == 0);
    char small[4];
    CHECK_EQ(gort_fd_local_addr(c, small, sizeof small), -1); // too small
    CHECK_EQ(gort_errno(), ENOSPC);

    CHECK_EQ(gort_fd_write(a, "bye", 3), 3);
    CHECK_EQ(gort_fd_close(a), 0);
    char buf[8];
    CHECK_EQ(gort_fd_read(c, buf, sizeof buf), 3);
    CHECK_EQ(gort_fd_read(c, buf, sizeof buf), 0); // EOF
    // Write until the kernel reports the closed peer.
    static char chunk[65536];
    ssize_t r = 0;
    for (int i = 0; i < 1000 && r >= 0; i++)
        r = gort_fd_write(c, chunk, sizeof chunk);
    CHECK_EQ(r, -1);
    CHECK(gort_errno() == EPIPE || gort_errno() == ECONNRESET);
    gort_fd_close(c);
    gort_fd_close(ln);
}

static void
test_refused(void)
{
    // A port that was just free: nobody listens there.
    gort_fd *ln = gort_listen("tcp", "127.0.0.1:0");
    char addr[128];
    gort_fd_local_addr(ln, addr, sizeof addr);
    gort_fd_close(ln);
    CHECK(gort_dial("tcp", addr, gort_nanotime() + 60 * SEC) == NULL);
    CHECK_EQ(gort_errno(), ECONNREFUSED);
    char path[64];
    snprintf(path, sizeof path, "/tmp/gort-net-none-%d.sock", (int)getpid());
    CHECK(gort_dial("unix", path, 0) == NULL);
    CHECK_EQ(gort_errno(), ENOENT);
    CHECK(gort_dial("udp", "127.0.0.1:1", 0) == NULL);
    CHECK_EQ(gort_errno(), EINVAL);
    CHECK(gort_dial("tcp", "no-port", 0) == NULL);
    CHECK_EQ(gort_errno(), EINVAL);
}

// A dial whose SYN the listener drops (its accept queue is full) runs into its
// deadline; a deadline already past fails at once.
static void
test_dial_deadline(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK_EQ(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_EQ(listen(s, 0), 0);
    socklen_t sl = sizeof sa;
    getsockname(s, (struct sockaddr *)&sa, &sl);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(sa.sin_port));
    CHECK(gort_dial("tcp", addr, gort_nanotime() - 1) == NULL);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    // Fill the queue (never accepted), then one more dial hangs.
    gort_fd *fill[8];
    int nfill = 0;
    int64_t t0 = 0;
    for (;;) {
        t0 = gort_nanotime();
        gort_fd *f = gort_dial("tcp", addr, t0 + 300 * MS);
        if (f == NULL)
            break;
        CHECK(nfill < 8);
        if (nfill == 8)
            break;
        fill[nfill++] = f;
    }
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK(gort_nanotime() >= t0 + 300 * MS);
    for (int i = 0; i < nfill; i++)
        gort_fd_close(fill[i]);
    close(s);
}

// A read deadline on a connection, extended from another goroutine while the
// read is parked, and a write parked on a full socket, cancelled by close.
typedef struct Blocked {
    gort_fd *f;
    ssize_t ret;
    int err;
    gort_chan *done;
} Blocked;

static void
blocked_writer(void *arg)
{
    Blocked *b = arg;
    static char chunk[1 << 16];
    ssize_t r;
    while ((r = gort_fd_write(b->f, chunk, sizeof chunk)) == (ssize_t)sizeof chunk) {
    }
    b->ret = r;
    b->err = gort_errno();
    int one = 1;
    gort_chan_send(b->done, &one);
}

static void
test_close_parked_write(void)
{
    gort_fd *ln = gort_listen("tcp", "127.0.0.1:0");
    char addr[128];
    gort_fd_local_addr(ln, addr, sizeof addr);
    gort_fd *c = gort_dial("tcp", addr, 0);
    gort_fd *a = gort_accept(ln);
    CHECK(c && a);
    Blocked *b = gort_alloc(sizeof *b);
    b->f = c;
    b->done = gort_chan_make(sizeof(int), 1);
    gort_go(blocked_writer, b);
    gort_sleep(20 * MS); // fills the socket buffers and parks (if not yet, it fails at once)
    CHECK_EQ(gort_fd_close(c), 0);
    int v;
    gort_chan_recv(b->done, &v);
    CHECK_EQ(b->err, ECANCELED);
    gort_fd_close(a);
    gort_fd_close(ln);
}

// Read and write deadlines on a TCP connection: each expires on its own
// direction, not before its time, and persists until moved.
static void
test_tcp_deadlines(void)
{
    gort_fd *ln = gort_listen("tcp", "127.0.0.1:0");
    char addr[128];
    gort_fd_local_addr(ln, addr, sizeof addr);
    gort_fd *c = gort_dial("tcp", addr, 0);
    gort_fd *a = gort_accept(ln);
    CHECK(c && a);
    char b[16];
    int64_t t0 = gort_nanotime();
    CHECK_EQ(gort_fd_set_read_deadline(a, t0 + 50 * MS), 0);
    CHECK_EQ(gort_fd_read(a, b, sizeof b), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK(gort_nanotime() >= t0 + 50 * MS);
    CHECK_EQ(gort_fd_write(a, "w", 1), 1); // the write side is not affected
    CHECK_EQ(gort_fd_read(c, b, 1), 1);
    // A write parked on full buffers runs into the write deadline.
    static char chunk[1 << 16];
    t0 = gort_nanotime();
    CHECK_EQ(gort_fd_set_write_deadline(c, t0 + 50 * MS), 0);
    ssize_t r;
    while ((r = gort_fd_write(c, chunk, sizeof chunk)) == (ssize_t)sizeof chunk) {
    }
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK(gort_nanotime() >= t0 + 50 * MS);
    CHECK_EQ(gort_fd_write(c, "x", 1), -1); // persists until moved
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK_EQ(gort_fd_set_write_deadline(c, 0), 0);
    CHECK_EQ(gort_fd_set_read_deadline(a, 0), 0);
    CHECK(gort_fd_read(a, b, sizeof b) > 0); // cleared: I/O works again
    gort_fd_close(a);
    gort_fd_close(c);
    gort_fd_close(ln);
}

// Names go through gort_getaddrinfo; an empty host listens on every
// interface ("tcp": dual-stack where the kernel has IPv6, and an IPv4 peer
// shows as IPv4, as in Go).
static void
test_names_and_wildcard(void)
{
    gort_fd *ln = gort_listen("tcp", ":0");
    CHECK(ln != NULL);
    char addr[128], port[16], dial[160], remote[128];
    CHECK_EQ(gort_fd_local_addr(ln, addr, sizeof addr), 0);
    CHECK(strncmp(addr, "[::]:", 5) == 0 || strncmp(addr, "0.0.0.0:", 8) == 0);
    snprintf(port, sizeof port, "%s", strrchr(addr, ':') + 1);
    snprintf(dial, sizeof dial, "127.0.0.1:%s", port);
    gort_fd *c = gort_dial("tcp4", dial, gort_nanotime() + 60 * SEC);
    CHECK(c != NULL);
    gort_fd *a = gort_accept(ln);
    CHECK(a != NULL);
    CHECK_EQ(gort_fd_remote_addr(a, remote, sizeof remote), 0);
    CHECK(strncmp(remote, "127.0.0.1:", 10) == 0);
    gort_fd_close(a);
    gort_fd_close(c);
    // "localhost" resolves (to ::1 and/or 127.0.0.1); every address is tried.
    snprintf(dial, sizeof dial, "localhost:%s", port);
    c = gort_dial("tcp", dial, gort_nanotime() + 60 * SEC);
    CHECK(c != NULL);
    a = gort_accept(ln);
    CHECK(a != NULL);
    CHECK_EQ(gort_fd_write(c, "hi", 2), 2);
    char b[2];
    CHECK_EQ(gort_fd_read(a, b, 2), 2);
    CHECK(memcmp(b, "hi", 2) == 0);
    gort_fd_close(a);
    gort_fd_close(c);
    gort_fd_close(ln);
}

int
main(void)
{
    RUN(test_tcp4);
    RUN(test_tcp6);
    RUN(test_unix);
    RUN(test_eof_epipe);
    RUN(test_refused);
    RUN(test_dial_deadline);
    RUN(test_close_parked_write);
    RUN(test_tcp_deadlines);
    RUN(test_names_and_wildcard);
    return harness_summary();
}
