// syscall.c: gort_syscall_enter/exit/enter_block, the goroutine's errno,
// gort_lock_os_thread, gort_getaddrinfo (contract: "System calls, file
// descriptors and the network"). Run at GOMAXPROCS=1 and 2.
//
// The blocking-call checks are deterministic: a goroutine blocks in a raw
// read(2) on an idle pipe that only another goroutine writes, so at
// GOMAXPROCS=1 the test completes only if the P was handed to another
// thread; without that it hangs and the harness's timeout fails it.
#define _GNU_SOURCE
#include "../harness.h"

#include <errno.h>
#include <gort.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int
tid(void)
{
    return (int)gettid();
}

// glibc's __errno_location is const: within one function a compiler may
// reuse errno's address from before a parking call, i.e. another thread's.
// Writes go through this non-inlined helper, reads through gort_errno().
static __attribute__((noinline)) void
set_errno(int v)
{
    errno = v;
    __asm__ volatile("" ::: "memory");
}

// ---- a raw read on an idle pipe between enter and exit ---------------------------
static int pipefd[2];
static atomic_int writer_rounds;

static void
pipe_writer(void *arg)
{
    gort_chan *done = arg;
    // Keep running for a while (needs a P) before the write.
    for (int i = 0; i < 100; i++) {
        atomic_fetch_add(&writer_rounds, 1);
        gort_yield();
    }
    char b = 'x';
    CHECK_EQ(write(pipefd[1], &b, 1), 1);
    int v = 1;
    gort_chan_send(done, &v);
}

static void
blocked_read(bool block)
{
    CHECK_EQ(pipe(pipefd), 0);
    atomic_store(&writer_rounds, 0);
    gort_chan *done = gort_chan_make(sizeof(int), 1);
    gort_go(pipe_writer, done);
    char b = 0;
    if (block)
        gort_syscall_enter_block();
    else
        gort_syscall_enter();
    ssize_t n = read(pipefd[0], &b, 1);
    // errno set inside the call survives the exit
    ssize_t bad = read(-1, &b, 0);
    int e = gort_errno();
    gort_syscall_exit();
    CHECK_EQ(n, 1);
    CHECK_EQ(b, 'x');
    CHECK_EQ(bad, -1);
    CHECK_EQ(e, EBADF);
    CHECK_EQ(gort_errno(), EBADF);
    CHECK_EQ(atomic_load(&writer_rounds), 100);
    int v;
    gort_chan_recv(done, &v);
    close(pipefd[0]);
    close(pipefd[1]);
}

static void
test_enter_pipe(void)
{
    blocked_read(false);
}

static void
test_enter_block_pipe(void)
{
    blocked_read(true);
}

// Many short calls back to back: the fast path (the P comes straight back)
// and errno unchanged across each.
static void
test_short_calls(void)
{
    long n = harness_scaled(100000);
    int bad = 0;
    for (long i = 0; i < n; i++) {
        set_errno((int)(i % 1000) + 1);
        gort_syscall_enter();
        gort_syscall_exit();
        if (gort_errno() != (int)(i % 1000) + 1)
            bad++;
    }
    CHECK_EQ(bad, 0);
}

// ---- errno across parks, yields and migrations --------------------------------
#define NERR 64
static gort_chan *err_ping[NERR];
static atomic_int err_bad, err_moved;
static gort_waitgroup err_wg;

static void
errno_worker(void *arg)
{
    int id = (int)(intptr_t)arg;
    int want = 1000 + id;
    int first = tid();
    long rounds = harness_scaled(200);
    set_errno(want);
    for (long r = 0; r < rounds; r++) {
        int v;
        gort_chan_recv(err_ping[id], &v); // park
        if (gort_errno() != want)
            atomic_fetch_add(&err_bad, 1);
        gort_yield();
        if (gort_errno() != want)
            atomic_fetch_add(&err_bad, 1);
        // change it now and then: the new value is the one kept
        want = 1000 + id + (int)(r % 7) * NERR;
        set_errno(want);
        if (tid() != first)
            atomic_fetch_add(&err_moved, 1);
    }
    gort_waitgroup_done(&err_wg);
}

static void
test_errno(void)
{
    long rounds = harness_scaled(200);
    gort_waitgroup_add(&err_wg, NERR);
    for (int i = 0; i < NERR; i++) {
        err_ping[i] = gort_chan_make(sizeof(int), 0);
        gort_go(errno_worker, (void *)(intptr_t)i);
    }
    set_errno(7);
    for (long r = 0; r < rounds; r++)
        for (int i = 0; i < NERR; i++) {
            int v = (int)r;
            gort_chan_send(err_ping[i], &v);
        }
    gort_waitgroup_wait(&err_wg);
    CHECK_EQ(atomic_load(&err_bad), 0);
    CHECK_EQ(gort_errno(), 7);
    fprintf(stderr, "    errno: %d rounds ended on another thread\n", atomic_load(&err_moved));
}

// ---- gort_lock_os_thread ---------------------------------------------------------
static atomic_int locked_tid; // the locked goroutine's thread while it is locked, else 0
static atomic_int lock_bad, lock_seen, others_stop;
static gort_waitgroup lock_wg;

// Other goroutines: read the thread id and the locked tid inside the
// system-call path, where a goroutine cannot move, so that the pair is
// consistent; they must never be on the locked thread.
static void
lock_other(void *arg)
{
    (void)arg;
    while (!atomic_load(&others_stop)) {
        gort_syscall_enter();
        int me = tid();
        int t = atomic_load(&locked_tid);
        gort_syscall_exit();
        if (t != 0 && me == t)
            atomic_fetch_add(&lock_bad, 1);
        atomic_fetch_add(&lock_seen, 1);
        gort_yield();
        gort_sleep(0);
    }
    gort_waitgroup_done(&lock_wg);
}

static void
park_a_while(int r)
{
    switch (r % 3) {
    case 0:
        gort_yield();
        break;
    case 1:
        gort_sleep(100 * 1000);
        break;
    default: {
        gort_chan *c = gort_chan_make(sizeof(int), 1);
        int v = r;
        gort_chan_send(c, &v);
        gort_chan_recv(c, &v);
        gort_sleep(0);
    }
    }
}

static void
locked_g(void *arg)
{
    gort_chan *done = arg;
    long rounds = harness_scaled(500);
    gort_lock_os_thread();
    gort_lock_os_thread(); // nested: two unlocks to undo
    int t = tid();
    atomic_store(&locked_tid, t);
    int moved = 0;
    for (long r = 0; r < rounds; r++) {
        park_a_while((int)r);
        if (tid() != t)
            moved++;
    }
    gort_unlock_os_thread(); // still locked once
    for (long r = 0; r < rounds; r++) {
        park_a_while((int)r);
        if (tid() != t)
            moved++;
    }
    CHECK_EQ(moved, 0);
    atomic_store(&locked_tid, 0);
    gort_unlock_os_thread();
    gort_unlock_os_thread(); // one too many: does nothing, as in Go
    int v = 1;
    gort_chan_send(done, &v);
}

static void
test_lock_os_thread(void)
{
    enum { NOTHERS = 8 };
    atomic_store(&others_stop, 0);
    gort_waitgroup_add(&lock_wg, NOTHERS);
    for (int i = 0; i < NOTHERS; i++)
        gort_go(lock_other, NULL);
    gort_chan *done = gort_chan_make(sizeof(int), 1);
    gort_go(locked_g, done);
    int v;
    gort_chan_recv(done, &v);
    atomic_store(&others_stop, 1);
    gort_waitgroup_wait(&lock_wg);
    CHECK_EQ(atomic_load(&lock_bad), 0);
    CHECK(atomic_load(&lock_seen) > 0);
}

// A locked goroutine that exits: its thread is unwired, and the program
// goes on (more goroutines run after it).
static void
lock_and_exit(void *arg)
{
    gort_lock_os_thread();
    gort_sleep(0);
    int v = 1;
    gort_chan_send(arg, &v);
}

static void
test_locked_exit(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    for (int i = 0; i < 20; i++) {
        gort_go(lock_and_exit, c);
        int v = 0;
        gort_chan_recv(c, &v);
        CHECK_EQ(v, 1);
    }
}

// ---- a collection with goroutines in system calls -----------------------------
// Each goroutine's only reference to its object is a local (register or
// stack) while it blocks in read(2); the collections must keep every one.
#define OBJ_WORDS 64
static int gc_pipe[2];
static atomic_int gc_entered, gc_bad;
static gort_waitgroup gc_wg;

static __attribute__((noinline)) void *
make_obj(uintptr_t seed)
{
    uintptr_t *p = gort_alloc(OBJ_WORDS * sizeof(uintptr_t));
    for (int i = 0; i < OBJ_WORDS; i++)
        p[i] = seed * 1000003u + (uintptr_t)i;
    return p;
}

static void
gc_sys_worker(void *arg)
{
    uintptr_t seed = (uintptr_t)arg;
    uintptr_t *volatile p = make_obj(seed); // on this stack only
    uintptr_t *q = make_obj(seed + 7);      // likely in a callee-saved register
    atomic_fetch_add(&gc_entered, 1);
    char b;
    gort_syscall_enter();
    ssize_t n = read(gc_pipe[0], &b, 1);
    gort_syscall_exit();
    CHECK_EQ(n, 1);
    for (int i = 0; i < OBJ_WORDS; i++) {
        if (p[i] != seed * 1000003u + (uintptr_t)i)
            atomic_fetch_add(&gc_bad, 1);
        if (q[i] != (seed + 7) * 1000003u + (uintptr_t)i)
            atomic_fetch_add(&gc_bad, 1);
    }
    gort_waitgroup_done(&gc_wg);
}

static void
test_gc_in_syscalls(void)
{
    long n = harness_scaled(100);
    CHECK_EQ(pipe(gc_pipe), 0);
    gort_waitgroup_add(&gc_wg, (int)n);
    for (long i = 0; i < n; i++)
        gort_go(gc_sys_worker, (void *)(uintptr_t)(i * 16 + 1));
    int64_t deadline = gort_nanotime() + 60000 * MS;
    while (atomic_load(&gc_entered) < n && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    CHECK_EQ(atomic_load(&gc_entered), n);
    gort_sleep(5 * MS); // most of them are in read(2) by now (not a verdict)
    for (int round = 0; round < 3; round++) {
        gort_gc();
        // Garbage that would reuse the memory of anything freed wrongly.
        for (int i = 0; i < 2000; i++) {
            uintptr_t *g = gort_alloc(OBJ_WORDS * sizeof(uintptr_t));
            memset(g, 0xa5, OBJ_WORDS * sizeof(uintptr_t));
        }
    }
    // Stop the world the other way too (Ps in calls are stopped, not
    // waited for), growing and shrinking the P set under the calls.
    int prev = gort_gomaxprocs(3);
    gort_gc();
    CHECK_EQ(gort_gomaxprocs(prev), 3);
    char buf[128];
    memset(buf, 'z', sizeof buf);
    for (long left = n; left > 0;) {
        long k = left < (long)sizeof buf ? left : (long)sizeof buf;
        CHECK_EQ(write(gc_pipe[1], buf, (size_t)k), k);
        left -= k;
    }
    gort_waitgroup_wait(&gc_wg);
    CHECK_EQ(atomic_load(&gc_bad), 0);
    close(gc_pipe[0]);
    close(gc_pipe[1]);
}

// ---- deadlock detection is not fooled by a goroutine in a call --------------
static void
dl_receiver(void *arg)
{
    int v;
    gort_chan_recv(arg, &v);
}

static void
dl_sleeper(void *arg)
{
    struct timespec ts = {0, 200 * 1000 * 1000};
    gort_syscall_enter();
    nanosleep(&ts, NULL); // every other goroutine is blocked on a channel meanwhile
    gort_syscall_exit();
    int v = 1;
    gort_chan_send(arg, &v);
}

static void
test_no_false_deadlock(void)
{
    gort_chan *never = gort_chan_make(sizeof(int), 0);
    for (int i = 0; i < 4; i++)
        gort_go(dl_receiver, never); // blocked for good (never sent to)
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    gort_go(dl_sleeper, c);
    int v = 0;
    gort_chan_recv(c, &v); // main blocks too: only the call can wake anyone
    CHECK_EQ(v, 1);
}

// ---- getaddrinfo ------------------------------------------------------------------
static atomic_int gai_spins, gai_stop;

static void
gai_spinner(void *arg)
{
    (void)arg;
    while (!atomic_load(&gai_stop)) {
        atomic_fetch_add(&gai_spins, 1);
        gort_yield();
    }
}

static void
test_getaddrinfo(void)
{
    atomic_store(&gai_stop, 0);
    gort_go(gai_spinner, NULL);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    set_errno(42);
    int r = gort_getaddrinfo("localhost", "80", &hints, &res);
    CHECK_EQ(r, 0);
    CHECK_EQ(gort_errno(), 42);
    int loopback = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        if (a->ai_family == AF_INET) {
            struct sockaddr_in *s = (struct sockaddr_in *)a->ai_addr;
            loopback += ntohl(s->sin_addr.s_addr) >> 24 == 127 && ntohs(s->sin_port) == 80;
        } else if (a->ai_family == AF_INET6) {
            struct sockaddr_in6 *s = (struct sockaddr_in6 *)a->ai_addr;
            loopback += IN6_IS_ADDR_LOOPBACK(&s->sin6_addr) && ntohs(s->sin6_port) == 80;
        }
    }
    CHECK(loopback > 0);
    if (res)
        freeaddrinfo(res);
    hints.ai_flags = AI_NUMERICHOST;
    res = NULL;
    CHECK_EQ(gort_getaddrinfo("not a number", NULL, &hints, &res), EAI_NONAME);
    atomic_store(&gai_stop, 1);
    gort_yield();
}

int
main(void)
{
    RUN(test_enter_pipe);
    RUN(test_enter_block_pipe);
    RUN(test_short_calls);
    RUN(test_errno);
    RUN(test_lock_os_thread);
    RUN(test_locked_exit);
    RUN(test_gc_in_syscalls);
    RUN(test_no_false_deadlock);
    RUN(test_getaddrinfo);
    return harness_summary();
}
