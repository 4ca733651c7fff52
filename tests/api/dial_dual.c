// dial_dual.c: gort_dial's happy eyeballs (RFC 6555, Go's dialParallel) on
// a name with both families. tests/api/with-hosts.sh runs it in a mount
// namespace of its own where /etc/hosts names dual.test for ::1 and
// 127.0.0.1; where that cannot be made, or there is no ::1, it skips (77).
//
// A listener on the other family's loopback takes the fallbacks' dial; a
// listener whose accept queue is full (listen(2) with backlog 0, filled by
// connects nobody accepts) makes a dial hang, as a host that drops SYNs
// does. Every verdict is which address answered, or that an error came:
// without the race a dial to a hanging primary would wait minutes (the
// kernel's SYN retries), past the test's time limit.
#define _GNU_SOURCE
#include "../harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <gort.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEC  ((int64_t)1000000000)
#define HOST "dual.test"

static int prim_fam, fb_fam; // the family gort_getaddrinfo gives first, and the other
static int port;             // free on both loopbacks

static const char *
loopback(int fam)
{
    return fam == AF_INET ? "127.0.0.1" : "::1";
}

static int
bound_socket(int fam, int p)
{
    int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fam == AF_INET6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_storage ss = {0};
    socklen_t sl;
    if (fam == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)p);
        inet_pton(AF_INET, "127.0.0.1", &in->sin_addr);
        sl = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)p);
        in6->sin6_addr = in6addr_loopback;
        sl = sizeof *in6;
    }
    if (bind(s, (struct sockaddr *)&ss, sl) < 0) {
        close(s);
        return -1;
    }
    return s;
}

static int
port_of(int s)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(s, (struct sockaddr *)&ss, &sl);
    return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
                                   : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

// A listener that accepts (through gort) on fam's loopback at port.
typedef struct Acceptor {
    gort_fd *ln;
    gort_chan *done; // closed when accept_loop has let go of ln
} Acceptor;

static void
accept_loop(void *arg)
{
    Acceptor *a = arg;
    gort_fd *c;
    while ((c = gort_accept(a->ln)) != NULL)
        gort_fd_close(c);
    gort_chan_close(a->done);
}

static Acceptor *
listen_on(int fam)
{
    int s = bound_socket(fam, port);
    CHECK(s >= 0);
    CHECK_EQ(listen(s, 128), 0);
    Acceptor *a = gort_alloc(sizeof *a);
    a->ln = gort_fd_open(s);
    CHECK(a->ln != NULL);
    a->done = gort_chan_make(0, 0);
    if (a->ln)
        gort_go(accept_loop, a);
    else
        gort_chan_close(a->done);
    return a;
}

static void
stop(Acceptor *a)
{
    if (a->ln)
        gort_fd_close(a->ln);      // its accept fails with ECANCELED
    gort_chan_recv(a->done, NULL); // then the port is free again
}

// A listener on fam's loopback that never accepts, its queue full: a dial to
// it hangs. Returns the sockets to close (the listener first), -1 ended.
static void
hang_on(int fam, int out[8])
{
    int s = bound_socket(fam, port);
    CHECK(s >= 0);
    CHECK_EQ(listen(s, 0), 0);
    out[0] = s;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(s, (struct sockaddr *)&ss, &sl);
    for (int i = 1; i < 7; i++) {
        out[i] = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        connect(out[i], (struct sockaddr *)&ss, sl); // EINPROGRESS, or queued
    }
    out[7] = -1;
}

static void
unhang(int socks[8])
{
    for (int i = 0; socks[i] >= 0; i++)
        close(socks[i]);
}

static int
remote_family(gort_fd *c)
{
    char buf[128];
    CHECK_EQ(gort_fd_remote_addr(c, buf, sizeof buf), 0);
    return buf[0] == '[' ? AF_INET6 : AF_INET;
}

static int
open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static gort_fd *
dial(int64_t deadline)
{
    char addr[64];
    snprintf(addr, sizeof addr, HOST ":%d", port);
    return gort_dial("tcp", addr, deadline);
}

// Both answer: the primaries' family is used; with the fallback hanging the
// fallback cannot win whatever the timing.
static void
test_primary_preferred(void)
{
    Acceptor *a = listen_on(prim_fam);
    int h[8];
    hang_on(fb_fam, h);
    for (int i = 0; i < 3; i++) {
        gort_fd *c = dial(0);
        CHECK(c != NULL);
        if (c) {
            CHECK_EQ(remote_family(c), prim_fam);
            gort_fd_close(c);
        }
    }
    unhang(h);
    stop(a);
}

// The primary refuses at once: the fallback is dialed without waiting.
static void
test_primary_refused(void)
{
    Acceptor *a = listen_on(fb_fam);
    gort_fd *c = dial(gort_nanotime() + 600 * SEC);
    CHECK(c != NULL);
    if (c) {
        CHECK_EQ(remote_family(c), fb_fam);
        gort_fd_close(c);
    }
    stop(a);
}

// The primary hangs: after the fallback delay the fallback is dialed beside
// it and wins, and the primary's connect is cancelled (its socket closed).
static void
test_primary_hangs(void)
{
    int h[8];
    hang_on(prim_fam, h);
    Acceptor *a = listen_on(fb_fam);
    int before = open_fds();
    gort_fd *c = dial(0); // no deadline: only the race ends the primary's wait
    CHECK(c != NULL);
    if (c) {
        CHECK_EQ(remote_family(c), fb_fam);
        // The loser closes its socket once cancelled: wait for that event.
        int64_t until = gort_nanotime() + 60 * SEC;
        while (open_fds() > before + 1 && gort_nanotime() < until)
            gort_sleep(5 * MS);
        CHECK_EQ(open_fds(), before + 1); // only the winner's connection is left
        gort_fd_close(c);
    }
    stop(a);
    unhang(h);
}

// Both refuse: the primaries' error.
static void
test_both_refused(void)
{
    CHECK(dial(0) == NULL);
    CHECK_EQ(gort_errno(), ECONNREFUSED);
}

// Both hang: the dial deadline ends both racers.
static void
test_both_hang(void)
{
    int h4[8], h6[8];
    hang_on(prim_fam, h4);
    hang_on(fb_fam, h6);
    int64_t t0 = gort_nanotime();
    CHECK(dial(t0 + 500 * MS) == NULL);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK(gort_nanotime() >= t0 + 500 * MS);
    unhang(h4);
    unhang(h6);
}

int
main(void)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    if (gort_getaddrinfo(HOST, NULL, &hints, &res) != 0 || res == NULL) {
        printf("skip: " HOST " does not resolve (run through tests/api/with-hosts.sh)\n");
        return 77;
    }
    prim_fam = res->ai_family;
    fb_fam = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family != prim_fam)
            fb_fam = ai->ai_family;
    freeaddrinfo(res);
    if (fb_fam == 0) {
        printf("skip: " HOST " resolves to one family only\n");
        return 77;
    }
    // A port free on both loopbacks.
    for (int tries = 0; tries < 50 && port == 0; tries++) {
        int s = bound_socket(prim_fam, 0);
        if (s < 0)
            break;
        int p = port_of(s);
        int t = bound_socket(fb_fam, p);
        if (t >= 0) {
            port = p;
            close(t);
        }
        close(s);
    }
    if (port == 0) {
        printf("skip: no port free on both %s and %s\n", loopback(prim_fam), loopback(fb_fam));
        return 77;
    }
    fprintf(stderr, "primary %s, fallback %s, port %d\n", loopback(prim_fam), loopback(fb_fam),
            port);
    RUN(test_primary_preferred);
    RUN(test_primary_refused);
    RUN(test_primary_hangs);
    RUN(test_both_refused);
    RUN(test_both_hang);
    return harness_summary();
}
