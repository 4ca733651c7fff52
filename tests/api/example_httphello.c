// example_httphello.c: runs examples/httphello (its path in GORT_HTTPHELLO)
// on 127.0.0.1:0 as a child and speaks HTTP to it through gort_dial.
//
// The answers must be byte for byte net/http's (checked against Go 1.19 by
// hand: bench/go/httphello.go): 200 with Date, Content-Length and
// Content-Type; keep-alive (three requests on one connection) and pipelining
// (three in one write); a header split over two writes; a body skipped;
// HEAD without a body; HTTP/1.0 and "Connection: close" closing; 400 for
// garbage and for a missing Host, 431 for a header over the 4 KiB buffer, 501
// for a Transfer-Encoding, each followed by the server's close; and the
// read deadline of a second server (-timeout 0.5) closing an idle connection and one
// whose request trickles in. No verdict depends on speed: the client reads
// with a 60 s deadline of its own, far past the server's.
#define _GNU_SOURCE // pipe2, strptime, timegm
#include "../harness.h"
#include "../net_util.h"

#include <gort.h>
#include <time.h>

static char addr[128];

static const char OK_HEAD[] = "HTTP/1.1 200 OK\r\nDate: ";
static const char OK_TAIL[] =
        "\r\nContent-Length: 5\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello";
#define DATE_LEN 29
#define OK_LEN   (sizeof OK_HEAD - 1 + DATE_LEN + sizeof OK_TAIL - 1)

static gort_fd *
connect_server(void)
{
    gort_fd *c = gort_dial("tcp", addr, gort_nanotime() + 60 * NET_SEC);
    CHECK(c != NULL);
    if (c != NULL)
        gort_fd_set_read_deadline(c, gort_nanotime() + 60 * NET_SEC);
    return c;
}

// Whether d holds an RFC 1123 GMT date within a day of now, as net/http writes it.
static bool
date_ok(const char *d)
{
    char s[DATE_LEN + 1];
    memcpy(s, d, DATE_LEN);
    s[DATE_LEN] = 0;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == NULL || *end != 0)
        return false;
    time_t t = timegm(&tm), now = time(NULL);
    return t > now - 86400 && t < now + 86400;
}

// Whether p holds one 200 answer with a good date.
static bool
ok_answer(const char *p)
{
    return memcmp(p, OK_HEAD, sizeof OK_HEAD - 1) == 0 && date_ok(p + sizeof OK_HEAD - 1) &&
           memcmp(p + sizeof OK_HEAD - 1 + DATE_LEN, OK_TAIL, sizeof OK_TAIL - 1) == 0;
}

static bool
send_str(gort_fd *c, const char *s)
{
    return net_write_all(c, s, strlen(s));
}

// Sends req and reads n 200 answers.
static void
expect_ok(gort_fd *c, const char *req, int n)
{
    char buf[OK_LEN * 4];
    CHECK(send_str(c, req));
    CHECK(net_read_full(c, buf, OK_LEN * (size_t)n));
    for (int i = 0; i < n; i++)
        CHECK(ok_answer(buf + OK_LEN * (size_t)i));
}

// Sends req; the server must answer exactly want and then close.
static void
expect_then_close(const char *req, const char *want)
{
    gort_fd *c = connect_server();
    if (c == NULL)
        return;
    CHECK(send_str(c, req));
    char buf[1024];
    ssize_t n = net_read_to_eof(c, buf, sizeof buf - 1);
    CHECK(n == (ssize_t)strlen(want));
    if (n >= 0) {
        buf[n] = 0;
        if (strcmp(buf, want) != 0)
            fprintf(stderr, "    got %s\n    want %s\n", buf, want);
        CHECK(strcmp(buf, want) == 0);
    }
    gort_fd_close(c);
}

static void
test_keep_alive(void)
{
    gort_fd *c = connect_server();
    if (c == NULL)
        return;
    for (int i = 0; i < 3; i++) // one connection, one request after another
        expect_ok(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", 1);
    gort_fd_close(c);
}

static void
test_pipelined(void)
{
    gort_fd *c = connect_server();
    if (c == NULL)
        return;
    expect_ok(c,
              "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /y?z=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n",
              3);
    // LF-only lines are accepted, as net/http does; a body is read and dropped.
    expect_ok(c,
              "GET / HTTP/1.1\nHost: a\n\n"
              "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n\r\nbodyGETGET / HTTP/1.1\r\n"
              "Host: a\r\n\r\n",
              3);
    gort_fd_close(c);
}

static void
test_split(void)
{
    gort_fd *c = connect_server();
    if (c == NULL)
        return;
    CHECK(send_str(c, "GET / HTTP/1.1\r\nHo"));
    gort_sleep(50 * MS); // most likely a read of its own on the server
    expect_ok(c, "st: a\r\n\r\n", 1);
    CHECK(send_str(c, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n01234"));
    gort_sleep(50 * MS);
    expect_ok(c, "56789GET / HTTP/1.1\r\nHost: a\r\n\r\n", 2);
    gort_fd_close(c);
}

static void
test_head(void)
{
    gort_fd *c = connect_server();
    if (c == NULL)
        return;
    CHECK(send_str(c, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"));
    char buf[OK_LEN];
    size_t n = OK_LEN - 5; // no "hello"
    CHECK(net_read_full(c, buf, n));
    CHECK(memcmp(buf, OK_HEAD, sizeof OK_HEAD - 1) == 0);
    CHECK(memcmp(buf + n - 4, "\r\n\r\n", 4) == 0);
    expect_ok(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1); // nothing extra came before it
    gort_fd_close(c);
}

static void
test_close(void)
{
    // HTTP/1.0: no keep-alive unless asked; the answer says HTTP/1.0.
    gort_fd *c = connect_server();
    if (c != NULL) {
        CHECK(send_str(c, "GET / HTTP/1.0\r\n\r\n"));
        char buf[512];
        ssize_t n = net_read_to_eof(c, buf, sizeof buf);
        CHECK_EQ(n, OK_LEN);
        CHECK(n > 0 && memcmp(buf, "HTTP/1.0 200 OK\r\nDate: ", 23) == 0);
        gort_fd_close(c);
    }
    c = connect_server();
    if (c != NULL) {
        CHECK(send_str(c, "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
        char buf[512];
        ssize_t n = net_read_to_eof(c, buf, sizeof buf - 1);
        const char *tail = "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n"
                           "\r\nhello";
        CHECK(n > (ssize_t)strlen(tail));
        if (n > (ssize_t)strlen(tail)) {
            buf[n] = 0;
            CHECK(strcmp(buf + n - strlen(tail), tail) == 0);
        }
        gort_fd_close(c);
    }
}

static void
test_errors(void)
{
    const char *hdrs = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";
    char want[512];
    snprintf(want, sizeof want, "HTTP/1.1 400 Bad Request%s400 Bad Request", hdrs);
    expect_then_close("GARBAGE\r\n\r\n", want);
    expect_then_close("GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n", want);
    expect_then_close("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n", want);
    snprintf(want, sizeof want,
             "HTTP/1.1 400 Bad Request: missing required Host header%s"
             "400 Bad Request: missing required Host header",
             hdrs);
    expect_then_close("GET / HTTP/1.1\r\n\r\n", want);
    snprintf(want, sizeof want, "HTTP/1.1 501 Not Implemented%sUnsupported transfer encoding",
             hdrs);
    expect_then_close("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", want);

    // A header over the 4 KiB read buffer: 431, then close.
    static char big[6000];
    int n = snprintf(big, sizeof big, "GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    memset(big + n, 'b', 5000);
    big[n + 5000] = 0;
    strcat(big, "\r\n\r\n");
    snprintf(want, sizeof want, "HTTP/1.1 431 Request Header Fields Too Large%s%s", hdrs,
             "431 Request Header Fields Too Large");
    expect_then_close(big, want);

    // A good request before a bad one on the same connection is answered first.
    gort_fd *c = connect_server();
    if (c != NULL) {
        CHECK(send_str(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\nBAD\r\n\r\n"));
        char buf[1024];
        ssize_t got = net_read_to_eof(c, buf, sizeof buf);
        snprintf(want, sizeof want, "HTTP/1.1 400 Bad Request%s400 Bad Request", hdrs);
        CHECK_EQ(got, OK_LEN + strlen(want));
        CHECK(got > 0 && ok_answer(buf));
        CHECK(got > 0 && memcmp(buf + OK_LEN, want, strlen(want)) == 0);
        gort_fd_close(c);
    }
}

static void
test_deadline(void)
{
    // Idle: the server (-timeout 0.5) closes it; the client sees end of file.
    gort_fd *c = connect_server();
    if (c != NULL) {
        char buf[64];
        CHECK_EQ(net_read_to_eof(c, buf, sizeof buf), 0);
        gort_fd_close(c);
    }
    // A request sent a byte at a time keeps the deadline of its first byte:
    // the server closes the connection although bytes keep coming.
    c = connect_server();
    if (c != NULL) {
        const char *req = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ";
        bool closed = false;
        for (int i = 0; i < 600 && !closed; i++) { // up to 60 s
            char b = i < (int)strlen(req) ? req[i] : 's';
            if (gort_fd_write(c, &b, 1) != 1) {
                closed = true;
                break;
            }
            gort_fd_set_read_deadline(c, gort_nanotime() + 100 * MS);
            char r[64];
            ssize_t k = gort_fd_read(c, r, sizeof r);
            if (k == 0 || (k < 0 && gort_errno() != ETIMEDOUT))
                closed = true;
            CHECK(k <= 0); // never an answer
        }
        CHECK(closed);
        gort_fd_close(c);
    }
    // After an answer, the next request gets a deadline of its own.
    c = connect_server();
    if (c != NULL) {
        expect_ok(c, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1);
        char buf[64];
        CHECK_EQ(net_read_to_eof(c, buf, sizeof buf), 0);
        gort_fd_close(c);
    }
}

// Starts httphello with the given -timeout on 127.0.0.1:0; its address into addr.
static bool
start(NetChild *child, const char *exe, const char *timeout)
{
    char *argv[] = {(char *)exe, "-timeout", (char *)timeout, "127.0.0.1:0", NULL};
    if (!net_spawn(child, argv, -1, true))
        return false;
    snprintf(addr, sizeof addr, "%s", child->addr);
    return strncmp(child->line, "httphello: listening on 127.0.0.1:", 34) == 0;
}

static void
stop(NetChild *child)
{
    int st = net_wait(child, SIGTERM);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM); // alive until told to stop
}

int
main(void)
{
    const char *exe = getenv("GORT_HTTPHELLO");
    if (exe == NULL) {
        fprintf(stderr, "GORT_HTTPHELLO: the path of examples/httphello\n");
        return 1;
    }
    // The protocol tests run against a server with a 60 s request deadline,
    // so that no pause of this client's can meet it.
    NetChild child;
    bool up = start(&child, exe, "60");
    CHECK(up);
    if (!up)
        return harness_summary();
    RUN(test_keep_alive);
    RUN(test_pipelined);
    RUN(test_split);
    RUN(test_head);
    RUN(test_close);
    RUN(test_errors);
    stop(&child);

    up = start(&child, exe, "0.5");
    CHECK(up);
    if (!up)
        return harness_summary();
    RUN(test_deadline);
    stop(&child);
    return harness_summary();
}
