// netpoll.c: gort_fd on pipes: parking reads and writes, deadlines, close,
// gort_fd_wait and gort_wait_fd, SIGPIPE, and the collector with goroutines
// parked on descriptors (contract: "System calls, file descriptors and the
// network"). Every verdict waits for events, never for a time to pass: a
// deadline test asserts which event came first, with bounds of seconds.
#define _GNU_SOURCE
#include "../harness.h"

#include <errno.h>
#include <fcntl.h>
#include <gort.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEC ((int64_t)1000000000)

static void
mkpipe(gort_fd **r, gort_fd **w)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) {
        perror("pipe2");
        exit(1);
    }
    *r = gort_fd_open(p[0]);
    *w = gort_fd_open(p[1]);
    CHECK(*r != NULL && *w != NULL);
}

// ---- a read parks the goroutine, not the P ----------------------------------------

typedef struct Worker {
    gort_fd *w;
    atomic_long work;
    atomic_int reader_done;
} Worker;

// Computes while the reader is parked, then writes: at GOMAXPROCS=1 it can
// only run at all if the reader's goroutine gave the P up.
static void
worker(void *arg)
{
    Worker *k = arg;
    for (int i = 0; i < 1000; i++) {
        atomic_fetch_add(&k->work, 1);
        gort_yield();
    }
    CHECK(!atomic_load(&k->reader_done)); // the reader is still waiting for our bytes
    CHECK_EQ(gort_fd_write(k->w, "hello", 5), 5);
}

static void
test_pipe_read_parks(void)
{
    gort_fd *r, *w;
    mkpipe(&r, &w);
    Worker *k = gort_alloc(sizeof *k);
    k->w = w;
    gort_go(worker, k);
    char buf[16] = {0};
    ssize_t n = gort_fd_read(r, buf, sizeof buf);
    atomic_store(&k->reader_done, 1);
    CHECK_EQ(n, 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(atomic_load(&k->work), 1000);
    // A zero-length read returns 0 at once, even with nothing to read.
    CHECK_EQ(gort_fd_read(r, buf, 0), 0);
    // EOF: the writer closes.
    CHECK_EQ(gort_fd_close(w), 0);
    CHECK_EQ(gort_fd_read(r, buf, sizeof buf), 0);
    CHECK_EQ(gort_fd_close(r), 0);
    // Closing again fails with ECANCELED, as does any use.
    CHECK_EQ(gort_fd_close(r), -1);
    CHECK_EQ(gort_errno(), ECANCELED);
    CHECK_EQ(gort_fd_read(r, buf, 1), -1);
    CHECK_EQ(gort_errno(), ECANCELED);
}

// ---- a write larger than the pipe parks until the reader drains it ---------------

typedef struct Drain {
    gort_fd *r;
    size_t want;
    size_t got;
    uint32_t sum;
    gort_chan *done;
} Drain;

static void
drainer(void *arg)
{
    Drain *d = arg;
    char buf[4096];
    while (d->got < d->want) {
        ssize_t n = gort_fd_read(d->r, buf, sizeof buf);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            d->sum = d->sum * 31 + (uint8_t)buf[i];
        d->got += (size_t)n;
    }
    int one = 1;
    gort_chan_send(d->done, &one);
}

static void
test_pipe_big_write(void)
{
    gort_fd *r, *w;
    mkpipe(&r, &w);
    size_t n = 1 << 20; // 16 pipe buffers
    char *src = gort_alloc(n);
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        src[i] = (char)(i * 7 + (i >> 9));
        sum = sum * 31 + (uint8_t)src[i];
    }
    Drain *d = gort_alloc(sizeof *d);
    d->r = r;
    d->want = n;
    d->done = gort_chan_make(sizeof(int), 0);
    gort_go(drainer, d);
    CHECK_EQ(gort_fd_write(w, src, n), (long long)n);
    int v;
    gort_chan_recv(d->done, &v);
    CHECK_EQ(d->got, (long long)n);
    CHECK_EQ(d->sum, sum);
    gort_fd_close(r);
    gort_fd_close(w);
}

// ---- EPIPE without SIGPIPE ------------------------------------------------------

static void
test_epipe(void)
{
    // SIGPIPE at its default disposition: a SIGPIPE would kill the test.
    signal(SIGPIPE, SIG_DFL);
    gort_fd *r, *w;
    mkpipe(&r, &w);
    gort_fd_close(r);
    CHECK_EQ(gort_fd_write(w, "x", 1), -1);
    CHECK_EQ(gort_errno(), EPIPE);
    sigset_t pend;
    sigpending(&pend);
    CHECK(!sigismember(&pend, SIGPIPE)); // not left pending either
    // The program's own disposition is untouched.
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL);
    gort_fd_close(w);
}

// ---- deadlines ------------------------------------------------------------------

static void
test_deadline_past(void)
{
    gort_fd *r, *w;
    mkpipe(&r, &w);
    char b;
    CHECK_EQ(gort_fd_set_read_deadline(r, gort_nanotime() - 1), 0);
    CHECK_EQ(gort_fd_read(r, &b, 1), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    // It persists until moved, even with data there.
    CHECK_EQ(gort_fd_write(w, "a", 1), 1);
    CHECK_EQ(gort_fd_read(r, &b, 1), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    // Cleared: the read works again.
    CHECK_EQ(gort_fd_set_read_deadline(r, 0), 0);
    CHECK_EQ(gort_fd_read(r, &b, 1), 1);
    CHECK_EQ(b, 'a');
    // The write deadline is separate.
    CHECK_EQ(gort_fd_set_write_deadline(w, gort_nanotime() - 1), 0);
    CHECK_EQ(gort_fd_write(w, "a", 1), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK_EQ(gort_fd_set_deadline(w, 0), 0);
    CHECK_EQ(gort_fd_write(w, "a", 1), 1);
    gort_fd_close(r);
    gort_fd_close(w);
}

static void
test_deadline_expires(void)
{
    gort_fd *r, *w;
    mkpipe(&r, &w);
    char b;
    int64_t t0 = gort_nanotime();
    CHECK_EQ(gort_fd_set_read_deadline(r, t0 + 50 * MS), 0);
    CHECK_EQ(gort_fd_read(r, &b, 1), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK(gort_nanotime() >= t0 + 50 * MS); // never before the deadline
    gort_fd_close(r);
    gort_fd_close(w);
}

typedef struct Mover {
    gort_fd *r, *w;
    int64_t old_deadline;
    atomic_int phase;
    atomic_int read_done;
} Mover;

// Extends the parked reader's deadline, waits until the old deadline has
// passed, checks the reader is still parked, then writes.
static void
extender(void *arg)
{
    Mover *m = arg;
    while (atomic_load(&m->phase) == 0)
        gort_yield();
    gort_sleep(5 * MS); // let it park (if it had not, the check below still holds)
    CHECK_EQ(gort_fd_set_read_deadline(m->r, gort_nanotime() + 600 * SEC), 0);
    while (gort_nanotime() < m->old_deadline + 20 * MS)
        gort_sleep(10 * MS);
    CHECK(!atomic_load(&m->read_done)); // the old deadline did not end it
    gort_fd_write(m->w, "z", 1);
}

static void
test_deadline_extend(void)
{
    Mover *m = gort_alloc(sizeof *m);
    mkpipe(&m->r, &m->w);
    m->old_deadline = gort_nanotime() + 100 * MS;
    gort_fd_set_read_deadline(m->r, m->old_deadline);
    gort_go(extender, m);
    atomic_store(&m->phase, 1);
    char b = 0;
    ssize_t n = gort_fd_read(m->r, &b, 1);
    atomic_store(&m->read_done, 1);
    CHECK_EQ(n, 1);
    CHECK_EQ(b, 'z');
    gort_fd_close(m->r);
    gort_fd_close(m->w);
}

typedef struct Parked {
    gort_fd *f;
    int op; // 0 read, 1 write, 2 wait for reading
    ssize_t ret;
    int err;
    gort_chan *done;
} Parked;

static void
parked_op(void *arg)
{
    Parked *p = arg;
    char buf[65536];
    memset(buf, 'q', sizeof buf);
    if (p->op == 0) {
        p->ret = gort_fd_read(p->f, buf, sizeof buf);
    } else if (p->op == 1) {
        // Fill the pipe and keep going: parks once it is full.
        ssize_t n;
        while ((n = gort_fd_write(p->f, buf, sizeof buf)) == (ssize_t)sizeof buf) {
        }
        p->ret = n;
    } else if (p->op == 2) {
        p->ret = gort_fd_wait(p->f, GORT_READ);
    } else {
        CHECK_EQ(read(gort_fd_sysfd(p->f), buf, sizeof buf), -1);
        CHECK_EQ(gort_errno(), EAGAIN);
        p->ret = gort_fd_wait_eagain(p->f, GORT_READ);
    }
    p->err = gort_errno();
    int one = 1;
    gort_chan_send(p->done, &one);
}

static Parked *
start_parked(gort_fd *f, int op)
{
    Parked *p = gort_alloc(sizeof *p);
    p->f = f;
    p->op = op;
    p->done = gort_chan_make(sizeof(int), 1);
    gort_go(parked_op, p);
    gort_sleep(10 * MS); // most likely parked by now; if not, it fails at once below
    return p;
}

static void
finish_parked(Parked *p, int want_err)
{
    int v;
    gort_chan_recv(p->done, &v);
    CHECK(p->ret <= 0 || p->op == 1);
    CHECK_EQ(p->err, want_err);
}

// Moving a deadline into the past wakes parked operations at once.
static void
test_deadline_cancel_parked(void)
{
    gort_fd *r, *w;
    mkpipe(&r, &w);
    Parked *pr = start_parked(r, 0);
    gort_fd_set_read_deadline(r, gort_nanotime() - 1);
    finish_parked(pr, ETIMEDOUT);
    CHECK_EQ(pr->ret, -1);
    Parked *pw = start_parked(w, 1);
    gort_fd_set_write_deadline(w, 1); // long past
    finish_parked(pw, ETIMEDOUT);
    gort_fd_close(r);
    gort_fd_close(w);
}
// Reads what f holds, without parking.
static void
drain(gort_fd *f)
{
    char buf[65536];
    while (read(gort_fd_sysfd(f), buf, sizeof buf) > 0) {
    }
}

// One instant for both directions (gort_fd_set_deadline) is kept on one
// timer; it must still end both waits, and moving or clearing one
// direction afterwards must leave the other as it was.
static void
test_deadline_shared(void)
{
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    gort_fd *a = gort_fd_open(sv[0]), *b = gort_fd_open(sv[1]);
    CHECK(a != NULL && b != NULL);
    int64_t t0 = gort_nanotime();
    CHECK_EQ(gort_fd_set_deadline(a, t0 + 50 * MS), 0);
    Parked *rd = start_parked(a, 0);
    Parked *wr = start_parked(a, 1); // fills the socket, then parks
    finish_parked(rd, ETIMEDOUT);
    finish_parked(wr, ETIMEDOUT);
    CHECK(gort_nanotime() >= t0 + 50 * MS);
    drain(b);
    // Shared, then the read deadline moved: only the read expires.
    CHECK_EQ(gort_fd_set_deadline(a, gort_nanotime() + 600 * SEC), 0);
    CHECK_EQ(gort_fd_set_read_deadline(a, gort_nanotime() + 20 * MS), 0);
    char c;
    CHECK_EQ(gort_fd_read(a, &c, 1), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK_EQ(gort_fd_wait(a, GORT_WRITE), 0); // the write deadline is still ahead
    CHECK_EQ(gort_fd_write(a, "x", 1), 1);
    drain(b);
    // Shared, then the write deadline cleared: the read still expires.
    CHECK_EQ(gort_fd_set_deadline(a, gort_nanotime() + 20 * MS), 0);
    CHECK_EQ(gort_fd_set_write_deadline(a, 0), 0);
    CHECK_EQ(gort_fd_read(a, &c, 1), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK_EQ(gort_fd_write(a, "y", 1), 1);
    // Shared, then the read deadline cleared: a parked write still expires.
    CHECK_EQ(gort_fd_set_deadline(a, gort_nanotime() + 20 * MS), 0);
    CHECK_EQ(gort_fd_set_read_deadline(a, 0), 0);
    wr = start_parked(a, 1);
    finish_parked(wr, ETIMEDOUT);
    CHECK_EQ(gort_fd_wait(b, GORT_READ), 0);
    drain(b);
    CHECK_EQ(gort_fd_set_deadline(a, gort_nanotime() + 600 * SEC), 0);
    CHECK_EQ(gort_fd_write(b, "z", 1), 1);
    CHECK_EQ(gort_fd_read(a, &c, 1), 1);
    CHECK_EQ(c, 'z');
    gort_fd_close(a);
    gort_fd_close(b);
}

// Closing wakes parked reads, writes and waits with ECANCELED.
static void
test_close_parked(void)
{
    gort_fd *r, *w;
    mkpipe(&r, &w);
    Parked *pr = start_parked(r, 0);
    CHECK_EQ(gort_fd_close(r), 0);
    finish_parked(pr, ECANCELED);
    CHECK_EQ(pr->ret, -1);

    gort_fd *r2, *w2;
    mkpipe(&r2, &w2);
    Parked *pw = start_parked(w2, 1);
    CHECK_EQ(gort_fd_close(w2), 0);
    finish_parked(pw, ECANCELED);
    gort_fd_close(r2);

    gort_fd *r3, *w3;
    mkpipe(&r3, &w3);
    Parked *pwait = start_parked(r3, 2);
    CHECK_EQ(gort_fd_close(r3), 0);
    finish_parked(pwait, ECANCELED);
    CHECK_EQ(pwait->ret, -1);
    gort_fd_close(w3);

    gort_fd *r4, *w4;
    mkpipe(&r4, &w4);
    Parked *pagain = start_parked(r4, 3);
    CHECK_EQ(gort_fd_close(r4), 0);
    finish_parked(pagain, ECANCELED);
    CHECK_EQ(pagain->ret, -1);
    gort_fd_close(w4);
    gort_fd_close(w);
}

// ---- gort_fd_wait and gort_wait_fd ----------------------------------------------

typedef struct Later {
    int fd;
    gort_fd *f;
    gort_chan *done; // when set: told once the write has returned
} Later;

static void
write_later(void *arg)
{
    Later *l = arg;
    gort_sleep(5 * MS);
    if (l->f)
        gort_fd_write(l->f, "k", 1);
    else
        CHECK_EQ(write(l->fd, "k", 1), 1);
    if (l->done) {
        int one = 1;
        gort_chan_send(l->done, &one);
    }
}

typedef struct Waiter {
    gort_fd *f;
    gort_chan *done;
} Waiter;

static void
wait_read(void *arg)
{
    Waiter *pw = arg;
    CHECK_EQ(gort_fd_wait(pw->f, GORT_READ), 0);
    int one = 1;
    gort_chan_send(pw->done, &one);
}

static void
test_fd_wait(void)
{
    gort_fd *r, *w;
    mkpipe(&r, &w);
    CHECK_EQ(gort_fd_wait(w, GORT_WRITE), 0); // an empty pipe is writable
    Later *l = gort_alloc(sizeof *l);
    l->f = w;
    gort_go(write_later, l);
    CHECK_EQ(gort_fd_wait(r, GORT_READ), 0);
    char b;
    CHECK_EQ(read(gort_fd_sysfd(r), &b, 1), 1); // the caller's own non-blocking read
    CHECK_EQ(b, 'k');
    // Both bits: either direction ends the wait (here the read side).
    gort_go(write_later, l);
    CHECK_EQ(gort_fd_wait(r, GORT_READ | GORT_WRITE), 0);
    CHECK_EQ(read(gort_fd_sysfd(r), &b, 1), 1);
    // Level-triggered, as poll(2): bytes left unread keep it ready, though
    // the poller reported them once already.
    char big[8192];
    memset(big, 'b', sizeof big);
    CHECK_EQ(gort_fd_write(w, big, sizeof big), (long long)sizeof big);
    gort_fd_set_read_deadline(r, gort_nanotime() + 600 * SEC); // a guard only
    CHECK_EQ(gort_fd_wait(r, GORT_READ), 0);
    CHECK_EQ(read(gort_fd_sysfd(r), big, 4096), 4096);
    CHECK_EQ(gort_fd_wait(r, GORT_READ), 0);
    CHECK_EQ(read(gort_fd_sysfd(r), big, 4096), 4096);
    gort_fd_set_read_deadline(r, gort_nanotime() + 20 * MS);
    CHECK_EQ(gort_fd_wait(r, GORT_READ), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    // A stale edge: the poller reports bytes that the caller then reads
    // with its own read(2), never waiting. (epoll checks readiness again
    // when it reports, so only an edge taken before the read is stale.)
    // A goroutine parked on another pipe keeps a waiter counted, so that the
    // idle M sleeps in the poller and takes the edge, most often.
    gort_fd *qr, *qw;
    mkpipe(&qr, &qw);
    gort_chan *parked = gort_chan_make(sizeof(int), 1);
    Waiter *pw = gort_alloc(sizeof *pw);
    pw->f = qr;
    pw->done = parked;
    gort_go(wait_read, pw);
    CHECK_EQ(gort_fd_write(w, "s", 1), 1);
    gort_sleep(20 * MS);
    CHECK_EQ(read(gort_fd_sysfd(r), &b, 1), 1);
    gort_fd_set_read_deadline(r, gort_nanotime() + 20 * MS);
    CHECK_EQ(gort_fd_wait(r, GORT_READ), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK_EQ(gort_fd_write(qw, "q", 1), 1);
    int v;
    gort_chan_recv(parked, &v);
    gort_fd_close(qr);
    gort_fd_close(qw);
    gort_fd_close(r);
    gort_fd_close(w);
}

// gort_fd_wait_eagain, the wait after the caller's own read found EAGAIN:
// it parks until bytes come, without a look first. An edge left from
// before may end it early; then the read finds EAGAIN and it waits again,
// the loop every caller writes.
static ssize_t
read_after_eagain(gort_fd *r, char *p, size_t n)
{
    for (;;) {
        ssize_t k = read(gort_fd_sysfd(r), p, n);
        if (k >= 0 || gort_errno() != EAGAIN)
            return k;
        if (gort_fd_wait_eagain(r, GORT_READ) < 0)
            return -1;
    }
}

static void
test_fd_wait_eagain(void)
{
    gort_fd *r, *w;
    mkpipe(&r, &w);
    CHECK_EQ(gort_fd_wait_eagain(r, 0), -1);
    CHECK_EQ(gort_errno(), EINVAL);
    Later *l = gort_alloc(sizeof *l);
    l->f = w;
    l->done = gort_chan_make(sizeof(int), 1);
    int v;
    for (int i = 0; i < 20; i++) { // bytes that come while it is parked
        gort_go(write_later, l);
        char b = 0;
        CHECK_EQ(read_after_eagain(r, &b, 1), 1);
        CHECK_EQ(b, 'k');
        gort_chan_recv(l->done, &v);
    }
    // The deadline ends it, through any early wake-ups.
    gort_fd_set_read_deadline(r, gort_nanotime() + 20 * MS);
    char b;
    CHECK_EQ(read_after_eagain(r, &b, 1), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    gort_fd_set_read_deadline(r, 0);
    // The write direction: a full pipe parks until the reader makes room.
    char big[65536];
    memset(big, 'w', sizeof big);
    while (write(gort_fd_sysfd(w), big, sizeof big) > 0) {
    }
    CHECK_EQ(gort_errno(), EAGAIN);
    Parked *pr = gort_alloc(sizeof *pr);
    pr->f = r;
    pr->op = 0;
    pr->done = gort_chan_make(sizeof(int), 1);
    gort_go(parked_op, pr); // reads 64 KiB: room for the writer
    int ret;
    while ((ret = gort_fd_wait_eagain(w, GORT_WRITE)) == 0 && write(gort_fd_sysfd(w), "x", 1) < 0 &&
           gort_errno() == EAGAIN) {
    }
    CHECK_EQ(ret, 0);
    gort_chan_recv(pr->done, &v);
    CHECK(pr->ret > 0);
    gort_fd_close(r);
    gort_fd_close(w);
}

static void
test_wait_fd(void)
{
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    // Timeout.
    int64_t t0 = gort_nanotime();
    CHECK_EQ(gort_wait_fd(p[0], GORT_READ, t0 + 30 * MS), -1);
    CHECK_EQ(gort_errno(), ETIMEDOUT);
    CHECK(gort_nanotime() >= t0 + 30 * MS);
    // Ready at once.
    CHECK_EQ(gort_wait_fd(p[1], GORT_WRITE, 0), GORT_WRITE);
    // Ready later: parks.
    Later *l = gort_alloc(sizeof *l);
    l->fd = p[1];
    l->done = gort_chan_make(sizeof(int), 1);
    int v;
    gort_go(write_later, l);
    CHECK_EQ(gort_wait_fd(p[0], GORT_READ, gort_nanotime() + 60 * SEC), GORT_READ);
    gort_chan_recv(l->done, &v); // its write(2) has returned: p[1] may be closed
    // Not kept registered: the caller closes it and its number is reused.
    close(p[0]);
    close(p[1]);
    CHECK_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    l->fd = p[1];
    gort_go(write_later, l);
    CHECK_EQ(gort_wait_fd(p[0], GORT_READ, 0), GORT_READ);
    gort_chan_recv(l->done, &v);
    close(p[0]);
    close(p[1]);
    CHECK_EQ(gort_wait_fd(p[0], GORT_READ, 0), -1);
    CHECK_EQ(gort_errno(), EBADF);
}

// ---- a regular file goes through the system-call path ----------------------------

static void
test_regular_file(void)
{
    char path[] = "/tmp/gort-netpoll-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    gort_fd *f = gort_fd_open(fd);
    CHECK(f != NULL);
    CHECK_EQ(gort_fd_write(f, "filedata", 8), 8);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    char b[16] = {0};
    CHECK_EQ(gort_fd_read(f, b, sizeof b), 8);
    CHECK(memcmp(b, "filedata", 8) == 0);
    CHECK_EQ(gort_fd_read(f, b, sizeof b), 0);
    CHECK_EQ(gort_fd_wait(f, GORT_READ), 0);  // always ready
    CHECK_EQ(gort_fd_set_deadline(f, 1), -1); // files have no deadlines
    CHECK_EQ(gort_fd_close(f), 0);
}

// ---- the collector with hundreds of goroutines parked on descriptors -------------

typedef struct GcReader {
    gort_fd *r;
    int id;
    gort_chan *done;
} GcReader;

static void
gc_reader(void *arg)
{
    GcReader *g = arg;
    // A heap buffer reachable only from this goroutine's stack while parked.
    unsigned char *buf = gort_alloc(256);
    for (int i = 0; i < 256; i++)
        buf[i] = (unsigned char)(g->id + i);
    char b;
    ssize_t n = gort_fd_read(g->r, &b, 1);
    int ok = n == 1 && b == (char)g->id;
    for (int i = 0; i < 256; i++)
        ok &= buf[i] == (unsigned char)(g->id + i);
    gort_chan_send(g->done, &ok);
}

static void
test_gc_parked(void)
{
    int n = (int)harness_scaled(300);
    gort_chan *done = gort_chan_make(sizeof(int), (size_t)n);
    gort_fd **ws = gort_alloc(sizeof(gort_fd *) * (size_t)n);
    for (int i = 0; i < n; i++) {
        GcReader *g = gort_alloc(sizeof *g);
        mkpipe(&g->r, &ws[i]);
        g->id = i;
        g->done = done;
        gort_go(gc_reader, g);
    }
    gort_sleep(20 * MS);
    for (int k = 0; k < 3; k++) {
        gort_gc();
        // Garbage in between, so that freed memory would be reused.
        for (int j = 0; j < 2000; j++) {
            unsigned char *junk = gort_alloc(256);
            memset(junk, 0xee, 256);
        }
    }
    for (int i = 0; i < n; i++) {
        char b = (char)i;
        CHECK_EQ(gort_fd_write(ws[i], &b, 1), 1);
    }
    int good = 0;
    for (int i = 0; i < n; i++) {
        int ok;
        gort_chan_recv(done, &ok);
        good += ok;
    }
    CHECK_EQ(good, n);
}

// ---- an unreachable gort_fd is closed by its finalizer ----------------------------

static void
open_and_drop(void *arg)
{
    gort_chan *c = arg;
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    gort_fd_open(p[0]); // dropped at once
    gort_chan_send(c, &p[0]);
    gort_chan_send(c, &p[1]);
}

static void
test_finalizer(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 2);
    gort_go(open_and_drop, c);
    int rfd, wfd;
    gort_chan_recv(c, &rfd);
    gort_chan_recv(c, &wfd);
    for (int i = 0; i < 400 && fcntl(rfd, F_GETFD) >= 0; i++) {
        gort_gc();
        gort_sleep(5 * MS);
    }
    // gort_errno, not errno: the loop parked, and the compiler may read errno
    // through the address it had before (another thread's; see gort.h).
    CHECK(fcntl(rfd, F_GETFD) < 0 && gort_errno() == EBADF);
    close(wfd);
}

// ---- deadlock detection is not fooled by descriptor waiters --------------------

typedef struct Outside {
    int wfd;
    gort_fd *r;
    gort_chan *got;
} Outside;

// A thread gort does not know writes after a while: until then every
// goroutine is parked (main on a channel, the reader on the pipe) and no
// timer is armed, so only the descriptor can end the wait.
static void *
outside_writer(void *arg)
{
    Outside *o = arg;
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    if (write(o->wfd, "w", 1) != 1)
        abort();
    return NULL;
}

static void
pipe_reader(void *arg)
{
    Outside *o = arg;
    char b = 0;
    ssize_t n = gort_fd_read(o->r, &b, 1);
    int ok = n == 1 && b == 'w';
    gort_chan_send(o->got, &ok);
}

static void
test_not_deadlocked(void)
{
    int p[2];
    CHECK_EQ(pipe2(p, O_CLOEXEC), 0);
    Outside *o = gort_alloc(sizeof *o);
    o->wfd = p[1];
    o->r = gort_fd_open(p[0]);
    o->got = gort_chan_make(sizeof(int), 0);
    gort_go(pipe_reader, o);
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, outside_writer, o), 0);
    int ok = 0;
    gort_chan_recv(o->got, &ok); // not "all goroutines are asleep"
    CHECK(ok);
    pthread_join(t, NULL);
    gort_fd_close(o->r);
    close(p[1]);
}

int
main(void)
{
    RUN(test_pipe_read_parks);
    RUN(test_pipe_big_write);
    RUN(test_epipe);
    RUN(test_deadline_past);
    RUN(test_deadline_expires);
    RUN(test_deadline_extend);
    RUN(test_deadline_cancel_parked);
    RUN(test_deadline_shared);
    RUN(test_close_parked);
    RUN(test_fd_wait);
    RUN(test_fd_wait_eagain);
    RUN(test_wait_fd);
    RUN(test_regular_file);
    RUN(test_gc_parked);
    RUN(test_finalizer);
    RUN(test_not_deadlocked);
    return harness_summary();
}
