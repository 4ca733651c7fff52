// echo.c: a TCP echo server and two clients, one program with modes.
//
//   echo server [ADDR]             echo what each connection sends (default ":7000");
//                                  prints "echo: listening on HOST:PORT" once bound
//   echo client ADDR               send each line of stdin, print what comes back
//   echo ping ADDR [COUNT [SIZE]]  COUNT round trips of SIZE bytes (default 1000, 64)
//                                  on one connection, each echo checked; prints the time
//
// The server is Go's way to write one: a goroutine per connection, blocking
// calls, no callbacks; bench/go/echo.go is its Go twin. Each goroutine
// borrows a 4 KiB buffer from a pool, reads what the socket holds (a
// non-blocking read on gort_fd_sysfd), writes it back and returns the
// buffer; when the read finds nothing (EAGAIN) it parks in
// gort_fd_wait_eagain until the poller says bytes came. So an idle
// connection costs a parked goroutine (about one page of stack) and no
// buffer, where the Go twin keeps its 4 KiB buffer: 10,000
// idle connections are 10,000 parked goroutines on GOMAXPROCS threads.
//
// The line client reads stdin with fgets, which blocks in the kernel: the
// read goes between gort_syscall_enter and gort_syscall_exit, so that the P
// is handed to another thread while the terminal is quiet.
#include <errno.h>
#include <gort.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

enum { BUF_SIZE = 4096 };

// Buffers for the connections that have bytes to echo, lent out and given
// back: a connection waiting for its peer holds none (see the overview).
typedef struct Buf {
    struct Buf *next; // [lock: pool_lock] while in the pool
} Buf;
static gort_mutex pool_lock;
static Buf *pool; // [lock: pool_lock] malloc'ed BUF_SIZE blocks, outside the collected heap

static char *
buf_get(void)
{
    gort_mutex_lock(&pool_lock);
    Buf *b = pool;
    if (b != NULL)
        pool = b->next;
    gort_mutex_unlock(&pool_lock);
    return b != NULL ? (char *)b : malloc(BUF_SIZE);
}

static void
buf_put(char *p)
{
    Buf *b = (Buf *)p;
    gort_mutex_lock(&pool_lock);
    b->next = pool;
    pool = b;
    gort_mutex_unlock(&pool_lock);
}

static void
serve_conn(void *arg)
{
    gort_fd *c = arg;
    int fd = gort_fd_sysfd(c); // non-blocking: gort_fd_open set O_NONBLOCK
    for (;;) {
        char *buf = buf_get();
        ssize_t n = read(fd, buf, BUF_SIZE);
        int e = gort_errno(); // not errno: the loop parks, and may resume on another thread
        bool ok = n > 0 && gort_fd_write(c, buf, (size_t)n) == n;
        buf_put(buf);
        if (ok)
            continue;
        if (n < 0 && e == EINTR)
            continue;
        // Nothing to read: park until the poller says bytes came (the
        // edge-triggered poller's rule, and Go's: wait only after EAGAIN,
        // and then without a look of its own).
        if (n < 0 && e == EAGAIN && gort_fd_wait_eagain(c, GORT_READ) == 0)
            continue;
        break; // end of file, an error, or the write failed
    }
    gort_fd_close(c);
}

static int
server(const char *addr)
{
    // As Go 1.19 does at start: the soft descriptor limit up to the hard one.
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    gort_fd *ln = gort_listen("tcp", addr);
    if (ln == NULL) {
        fprintf(stderr, "echo: listen %s: %s\n", addr, strerror(gort_errno()));
        return 1;
    }
    char local[128];
    gort_fd_local_addr(ln, local, sizeof local);
    printf("echo: listening on %s\n", local);
    fflush(stdout);
    int64_t backoff = 0;
    for (;;) {
        gort_fd *c = gort_accept(ln);
        if (c != NULL) {
            backoff = 0;
            gort_go(serve_conn, c);
            continue;
        }
        int e = gort_errno();
        if (e == ECANCELED)
            return 0;
        // Out of descriptors: back off 5 ms, doubling to 1 s (net/http's rule).
        backoff = backoff == 0 ? 5 * (int64_t)1000000 : backoff * 2;
        if (backoff > (int64_t)1000000000)
            backoff = 1000000000;
        fprintf(stderr, "echo: accept: %s; retrying in %lld ms\n", strerror(e),
                (long long)(backoff / 1000000));
        gort_sleep(backoff);
    }
}

static gort_fd *
dial(const char *addr)
{
    gort_fd *c = gort_dial("tcp", addr, gort_nanotime() + 10 * (int64_t)1000000000);
    if (c == NULL)
        fprintf(stderr, "echo: dial %s: %s\n", addr, strerror(gort_errno()));
    return c;
}

// Reads exactly n bytes; false at end of file or on an error.
static bool
read_full(gort_fd *c, char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = gort_fd_read(c, p, n);
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static int
client(const char *addr)
{
    gort_fd *c = dial(addr);
    if (c == NULL)
        return 1;
    char line[BUF_SIZE], back[BUF_SIZE];
    for (;;) {
        gort_syscall_enter(); // fgets may block in read(2): let the P go
        char *got = fgets(line, sizeof line, stdin);
        gort_syscall_exit();
        if (got == NULL)
            break;
        size_t n = strlen(line);
        if (gort_fd_write(c, line, n) != (ssize_t)n || !read_full(c, back, n)) {
            fprintf(stderr, "echo: %s: %s\n", addr, strerror(gort_errno()));
            return 1;
        }
        fwrite(back, 1, n, stdout);
        fflush(stdout);
    }
    gort_fd_close(c);
    return 0;
}

static int
ping(const char *addr, long count, long size)
{
    if (count < 1 || size < 1 || size > BUF_SIZE) {
        fprintf(stderr, "echo: ping: COUNT >= 1, 1 <= SIZE <= %d\n", BUF_SIZE);
        return 2;
    }
    gort_fd *c = dial(addr);
    if (c == NULL)
        return 1;
    char msg[BUF_SIZE], back[BUF_SIZE];
    int64_t t0 = gort_nanotime();
    for (long i = 0; i < count; i++) {
        for (long k = 0; k < size; k++)
            msg[k] = (char)('a' + (i + k) % 26);
        if (gort_fd_write(c, msg, (size_t)size) != size || !read_full(c, back, (size_t)size)) {
            fprintf(stderr, "echo: ping %s: round trip %ld: %s\n", addr, i, strerror(gort_errno()));
            return 1;
        }
        if (memcmp(msg, back, (size_t)size) != 0) {
            fprintf(stderr, "echo: ping %s: round trip %ld came back changed\n", addr, i);
            return 1;
        }
    }
    double ms = (double)(gort_nanotime() - t0) / 1e6;
    printf("echo: %ld round trips of %ld bytes in %.1f ms (%.1f us each)\n", count, size, ms,
           ms * 1000 / (double)count);
    gort_fd_close(c);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "server") == 0 && argc <= 3)
        return server(argc == 3 ? argv[2] : ":7000");
    if (argc == 3 && strcmp(argv[1], "client") == 0)
        return client(argv[2]);
    if (argc >= 3 && argc <= 5 && strcmp(argv[1], "ping") == 0)
        return ping(argv[2], argc > 3 ? atol(argv[3]) : 1000, argc > 4 ? atol(argv[4]) : 64);
    fprintf(stderr,
            "usage: echo server [ADDR] | echo client ADDR | echo ping ADDR [COUNT [SIZE]]\n");
    return 2;
}
