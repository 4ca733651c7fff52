// net_util.h: helpers for the network tests (tests/api/example_*.c,
// tests/stress/net_*.c), on top of harness.h and <gort.h>.
//
// net_read_full / net_write_all move exact byte counts through a gort_fd;
// net_read_to_eof reads until the peer closes. net_proc_status reads a field
// of /proc/self/status (Threads, VmRSS). net_spawn starts a program with its
// stdout on a pipe and waits, parked on that pipe through gort_fd_open, for
// its "listening on HOST:PORT" line; net_wait reaps it between
// gort_syscall_enter and gort_syscall_exit (waitpid blocks the thread).
#ifndef GORT_TEST_NET_UTIL_H
#ifndef _GNU_SOURCE
#error "net_util.h: define _GNU_SOURCE first (pipe2)"
#endif
#define GORT_TEST_NET_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <gort.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define NET_SEC ((int64_t)1000000000)

extern char **environ;

// Reads exactly n bytes; false at end of file or on an error first.
static inline bool
net_read_full(gort_fd *f, void *buf, size_t n)
{
    char *p = buf;
    while (n > 0) {
        ssize_t k = gort_fd_read(f, p, n);
        if (k <= 0)
            return false;
        p += k;
        n -= (size_t)k;
    }
    return true;
}

static inline bool
net_write_all(gort_fd *f, const void *buf, size_t n)
{
    return gort_fd_write(f, buf, n) == (ssize_t)n;
}

// Reads until end of file, into buf (at most n bytes kept). Returns the count
// read, or -1 when the read failed first (errno from gort_errno()).
static inline ssize_t
net_read_to_eof(gort_fd *f, char *buf, size_t n)
{
    size_t got = 0;
    char sink[512];
    for (;;) {
        char *p = got < n ? buf + got : sink;
        size_t room = got < n ? n - got : sizeof sink;
        ssize_t k = gort_fd_read(f, p, room);
        if (k == 0)
            return (ssize_t)got;
        if (k < 0)
            return -1;
        got += (size_t)k;
    }
}

// A number field of /proc/self/status ("Threads", "VmRSS" in KiB); -1 if absent.
static inline long
net_proc_status(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return -1;
    char line[256];
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = atol(line + kl + 1);
            break;
        }
    }
    fclose(f);
    return v;
}

// Raises the soft descriptor limit to the hard one; returns the new limit.
static inline long
net_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return -1;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}

typedef struct NetChild {
    pid_t pid;
    gort_fd *out;   // the child's stdout
    char addr[128]; // from its "listening on ADDR" line
    char line[256]; // that line
} NetChild;

// Starts argv[0] (a path) with stdout on a pipe (stdin from stdin_fd, or
// inherited when it is -1); with want_addr, waits up to 60 s for a line
// holding "listening on ". Returns false when that fails.
static inline bool
net_spawn(NetChild *c, char *const argv[], int stdin_fd, bool want_addr)
{
    memset(c, 0, sizeof *c);
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    if (stdin_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
    // The child starts with no signal blocked: the thread that spawns it is
    // one of gort's, which block most signals, and a mask is inherited
    // through exec (SIGTERM would stay pending in the child).
    posix_spawnattr_t sa;
    posix_spawnattr_init(&sa);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&sa, &none);
    posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK);
    int e = posix_spawn(&c->pid, argv[0], &fa, &sa, argv, environ);
    posix_spawnattr_destroy(&sa);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (e != 0) {
        close(p[0]);
        fprintf(stderr, "net_spawn %s: %s\n", argv[0], strerror(e));
        return false;
    }
    c->out = gort_fd_open(p[0]);
    if (c->out == NULL || !want_addr)
        return c->out != NULL;
    gort_fd_set_read_deadline(c->out, gort_nanotime() + 60 * NET_SEC);
    size_t n = 0;
    while (n + 1 < sizeof c->line && memchr(c->line, '\n', n) == NULL) {
        ssize_t k = gort_fd_read(c->out, c->line + n, sizeof c->line - 1 - n);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    c->line[n] = 0;
    gort_fd_set_read_deadline(c->out, 0);
    const char *at = strstr(c->line, "listening on ");
    if (at == NULL) {
        fprintf(stderr, "net_spawn %s: no 'listening on' line: %s\n", argv[0], c->line);
        return false;
    }
    at += strlen("listening on ");
    size_t l = strcspn(at, " \r\n");
    if (l >= sizeof c->addr)
        return false;
    memcpy(c->addr, at, l);
    c->addr[l] = 0;
    return true;
}

// Sends sig (0: none) and reaps the child; returns its wait status.
static inline int
net_wait(NetChild *c, int sig)
{
    if (sig != 0)
        kill(c->pid, sig);
    int st = -1;
    gort_syscall_enter();
    while (waitpid(c->pid, &st, 0) < 0 && errno == EINTR) {
    }
    gort_syscall_exit();
    if (c->out != NULL)
        gort_fd_close(c->out);
    c->out = NULL;
    return st;
}

// A test server's accept loop: each connection runs serve(conn) on a
// goroutine of its own; a failed accept (EMFILE, say) backs off 5 ms and
// tries again; the loop ends when the listener is closed (ECANCELED).
static inline void
net_accept_loop(gort_fd *ln, void (*serve)(void *conn))
{
    for (;;) {
        gort_fd *c = gort_accept(ln);
        if (c == NULL) {
            if (gort_errno() == ECANCELED)
                return;
            gort_sleep(5 * 1000000ll);
            continue;
        }
        gort_go(serve, c);
    }
}

#endif // GORT_TEST_NET_UTIL_H
