// example_echo.c: runs examples/echo (its path in GORT_ECHO) in its three
// modes. "echo server 127.0.0.1:0" runs as a child; this test dials it
// through gort_dial from 20 goroutines at once, each streaming 256 KiB
// through it (a writer and a reader goroutine per connection, so that both
// directions are full at once) and checking every byte that comes back. Then
// "echo ping ADDR 200 512" must exit 0, and "echo client ADDR" with three
// lines on its stdin must print them back and exit 0 at end of input.
#define _GNU_SOURCE // pipe2
#include "../harness.h"
#include "../net_util.h"

#include <gort.h>

enum { CONNS = 20, STREAM = 256 * 1024 };

static char addr[128];
static gort_waitgroup wg;

static char
pattern(int conn, size_t i)
{
    return (char)((i * 7 + (size_t)conn * 13) % 251);
}

typedef struct Stream {
    gort_fd *c;
    int id;
} Stream;

static void
writer(void *arg)
{
    Stream *s = arg;
    char buf[8192];
    for (size_t off = 0; off < STREAM; off += sizeof buf) {
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = pattern(s->id, off + i);
        CHECK(net_write_all(s->c, buf, sizeof buf));
    }
    gort_waitgroup_done(&wg);
}

static void
stream(void *arg)
{
    int id = (int)(intptr_t)arg;
    gort_fd *c = gort_dial("tcp", addr, gort_nanotime() + 60 * NET_SEC);
    CHECK(c != NULL);
    if (c == NULL) {
        gort_waitgroup_done(&wg);
        return;
    }
    gort_fd_set_read_deadline(c, gort_nanotime() + 120 * NET_SEC);
    Stream *s = gort_new(Stream);
    s->c = c;
    s->id = id;
    gort_waitgroup_add(&wg, 1);
    gort_go(writer, s);
    size_t got = 0;
    bool same = true;
    char buf[4096];
    while (got < STREAM) {
        ssize_t n = gort_fd_read(c, buf, sizeof buf);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            same &= buf[i] == pattern(id, got + (size_t)i);
        got += (size_t)n;
    }
    CHECK_EQ(got, STREAM);
    CHECK(same);
    gort_fd_close(c);
    gort_keep_alive(s);
    gort_waitgroup_done(&wg);
}

static void
test_streams(void)
{
    gort_waitgroup_add(&wg, CONNS);
    for (int i = 0; i < CONNS; i++)
        gort_go(stream, (void *)(intptr_t)i);
    gort_waitgroup_wait(&wg);
}

static void
test_ping(const char *exe)
{
    NetChild c;
    char *argv[] = {(char *)exe, "ping", addr, "200", "512", NULL};
    CHECK(net_spawn(&c, argv, -1, false));
    char out[256];
    gort_fd_set_read_deadline(c.out, gort_nanotime() + 120 * NET_SEC);
    ssize_t n = net_read_to_eof(c.out, out, sizeof out - 1);
    CHECK(n > 0);
    out[n > 0 ? n : 0] = 0;
    CHECK(strstr(out, "200 round trips of 512 bytes") != NULL);
    int st = net_wait(&c, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void
test_client(const char *exe)
{
    int in[2];
    CHECK(pipe2(in, O_CLOEXEC) == 0);
    NetChild c;
    char *argv[] = {(char *)exe, "client", addr, NULL};
    CHECK(net_spawn(&c, argv, in[0], false));
    close(in[0]);
    gort_fd *w = gort_fd_open(in[1]);
    const char *text = "hello\nthrough the echo server\nthird line\n";
    CHECK(net_write_all(w, text, strlen(text)));
    gort_fd_close(w); // end of input: the client exits
    char out[256];
    gort_fd_set_read_deadline(c.out, gort_nanotime() + 120 * NET_SEC);
    ssize_t n = net_read_to_eof(c.out, out, sizeof out - 1);
    CHECK_EQ(n, strlen(text));
    out[n > 0 ? n : 0] = 0;
    CHECK(strcmp(out, text) == 0);
    int st = net_wait(&c, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int
main(void)
{
    const char *exe = getenv("GORT_ECHO");
    if (exe == NULL) {
        fprintf(stderr, "GORT_ECHO: the path of examples/echo\n");
        return 1;
    }
    NetChild server;
    char *argv[] = {(char *)exe, "server", "127.0.0.1:0", NULL};
    bool up = net_spawn(&server, argv, -1, true);
    CHECK(up);
    if (!up)
        return harness_summary();
    CHECK(strncmp(server.line, "echo: listening on 127.0.0.1:", 29) == 0);
    snprintf(addr, sizeof addr, "%s", server.addr);

    RUN(test_streams);
    test_ping(exe);
    test_client(exe);

    int st = net_wait(&server, SIGTERM);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    return harness_summary();
}
