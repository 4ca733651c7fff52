// fd.c: gort_fd, a descriptor owned by the runtime (Go's internal/poll.FD).
//
// A gort_fd lives on the gort heap and holds its poll descriptor (netpoll.h).
// Reads and writes run the system call non-blocking; on EAGAIN they park on
// the PollDesc until the poller reports readiness, a deadline passes
// (ETIMEDOUT) or the gort_fd is closed (ECANCELED), then retry. EINTR is
// retried. A descriptor the poller cannot watch (a regular file: epoll says
// EPERM) has no PollDesc; its calls go through gort_syscall_enter/exit, so a
// slow disk holds a thread, never a P.
//
// Lifetime (Go's fdMutex, reduced): `state` counts the operations in flight
// and has a closed bit. Every operation takes a reference first and fails with
// ECANCELED once the bit is set. gort_fd_close sets the bit, evicts the
// PollDesc (waking parked operations with ECANCELED) and drops its own
// reference; whoever drops the last one deregisters the descriptor, calls
// close(2) and frees the PollDesc. So the descriptor number is not reused
// while an operation could still use it. A finalizer closes an unreachable
// gort_fd. Readers are serialized among themselves by rsema, writers by wsema
// (a goroutine semaphore each), so each direction of the PollDesc has at most
// one waiter, and concurrent writers' bytes do not interleave.
//
// gort_fd_wait is for C libraries with poll(2) habits: it is level-triggered
// (a look with poll(2) first, then the poller's edge), so a descriptor with
// unread bytes is ready even though its edge was consumed before.
//
// SIGPIPE: a write to a socket uses send(MSG_NOSIGNAL); to anything else
// (a pipe) it runs with SIGPIPE blocked on the thread and, when it failed
// with EPIPE, takes the signal it raised off the thread with sigtimedwait
// (a standard signal does not queue: one pending is the one it raised),
// so that no write here ever delivers SIGPIPE, whatever the program's
// disposition, which stays as the program set it.
#include "netpoll/fd.h"

#include "sync/sema.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    FD_CLOSED = 1u << 31,
    FD_REFS = FD_CLOSED - 1,
};

// errno after a park: glibc declares __errno_location const, so a function
// that parks may not touch errno directly (the compiler may keep the first
// thread's address). This file and net.c read it through gort_errno() and set
// it through this call, which cannot be folded either.
RT_NOINLINE void
rt_errno_set(int e)
{
    errno = e;
}

// ---- references --------------------------------------------------------------

static bool
fd_incref(gort_fd *f)
{
    uint32_t s = atomic_load(&f->state);
    for (;;) {
        if (s & FD_CLOSED) {
            rt_errno_set(ECANCELED);
            return false;
        }
        if ((s & FD_REFS) == FD_REFS)
            rt_throw("gort_fd: too many concurrent operations");
        if (atomic_compare_exchange_weak(&f->state, &s, s + 1))
            return true;
    }
}

static int
fd_destroy(gort_fd *f)
{
    if (f->pd)
        rt_netpoll_close(f->pd);
    int r = close(f->sysfd); // Linux frees the number even on EINTR: never retry
    if (f->pd) {
        rt_netpoll_free(f->pd);
        f->pd = NULL;
    }
    return r;
}

// Drops a reference; the last one after close destroys. Keeps errno.
static int
fd_decref(gort_fd *f)
{
    uint32_t s = atomic_fetch_sub(&f->state, 1) - 1;
    if (s != FD_CLOSED)
        return 0;
    int e = gort_errno();
    int r = fd_destroy(f);
    if (r == 0)
        rt_errno_set(e);
    return r;
}

// ---- open and close ------------------------------------------------------------

static void
fd_finalize(void *obj)
{
    gort_fd *f = obj;
    if (!(atomic_load(&f->state) & FD_CLOSED))
        gort_fd_close(f);
}

gort_fd *
rt_fd_new(int fd, bool nonblock_set)
{
    if (fd < 0) {
        rt_errno_set(EBADF);
        return NULL;
    }
    int oldfl = -1; // the flags to put back if this fails, when we changed them
    if (!nonblock_set) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0)
            return NULL;
        if (!(fl & O_NONBLOCK)) {
            if (fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return NULL;
            oldfl = fl;
        }
    }
    struct stat st;
    bool sock = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
    int err = 0;
    PollDesc *pd = rt_netpoll_open(fd, &err);
    if (pd == NULL && err != EPERM) {
        // The descriptor stays the caller's, as it was.
        if (oldfl >= 0)
            fcntl(fd, F_SETFL, oldfl);
        rt_errno_set(err);
        return NULL;
    }
    gort_fd *f = rt_mallocgc(sizeof(gort_fd), 0);
    f->sysfd = fd;
    f->pd = pd;
    f->is_sock = sock;
    f->rsema = 1;
    f->wsema = 1;
    gort_set_finalizer(f, fd_finalize);
    return f;
}

gort_fd *
gort_fd_open(int fd)
{
    return rt_fd_new(fd, false);
}

int
gort_fd_sysfd(const gort_fd *f)
{
    return f->sysfd;
}

int
gort_fd_close(gort_fd *f)
{
    uint32_t s = atomic_load(&f->state);
    for (;;) {
        if (s & FD_CLOSED) {
            rt_errno_set(ECANCELED);
            return -1;
        }
        // Set the bit and take a reference of our own in one step.
        if (atomic_compare_exchange_weak(&f->state, &s, (s | FD_CLOSED) + 1))
            break;
    }
    if (f->unlink_path)
        unlink(f->unlink_path); // as Go's UnixListener.Close
    if (f->pd)
        rt_netpoll_evict(f->pd);
    return fd_decref(f) < 0 ? -1 : 0;
}

// ---- system calls ---------------------------------------------------------------

// The blocking path for descriptors the poller cannot watch.
static ssize_t
file_read(int fd, void *buf, size_t n)
{
    ssize_t r;
    do {
        gort_syscall_enter();
        r = read(fd, buf, n);
        int e = gort_errno();
        gort_syscall_exit();
        rt_errno_set(e);
    } while (r < 0 && gort_errno() == EINTR);
    return r;
}

static ssize_t
nosigpipe_write(int fd, const void *buf, size_t n)
{
    sigset_t pipe, old;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old);
    ssize_t r = write(fd, buf, n);
    int e = gort_errno();
    if (r < 0 && e == EPIPE) {
        // The write raised SIGPIPE at this thread, blocked: take it off
        // (gort's threads block it anyway; then it would stay pending).
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe, NULL, &zero) < 0 && gort_errno() == EINTR) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    rt_errno_set(e);
    return r;
}

static ssize_t
sys_write(gort_fd *f, const void *buf, size_t n)
{
    if (f->is_sock)
        return send(f->sysfd, buf, n, MSG_NOSIGNAL);
    if (f->pd == NULL) {
        gort_syscall_enter();
        ssize_t r = nosigpipe_write(f->sysfd, buf, n);
        int e = gort_errno();
        gort_syscall_exit();
        rt_errno_set(e);
        return r;
    }
    return nosigpipe_write(f->sysfd, buf, n);
}

// ---- read, write, wait --------------------------------------------------------

static int poll_now(int fd, int events);

ssize_t
gort_fd_read(gort_fd *f, void *buf, size_t n)
{
    if (!fd_incref(f))
        return -1;
    rt_semacquire(&f->rsema, false, WAIT_IO);
    ssize_t r = -1;
    int e = f->pd ? rt_netpoll_reset(f->pd, PD_READ)
                  : (atomic_load(&f->state) & FD_CLOSED ? ECANCELED : 0);
    if (e) {
        rt_errno_set(e);
    } else if (n == 0) {
        r = 0;
    } else if (f->pd == NULL) {
        r = file_read(f->sysfd, buf, n);
    } else {
        for (;;) {
            r = read(f->sysfd, buf, n);
            if (r >= 0)
                break;
            if (gort_errno() == EINTR)
                continue;
            if (gort_errno() != EAGAIN)
                break;
            e = rt_netpoll_wait(f->pd, PD_READ);
            if (e) {
                rt_errno_set(e);
                break;
            }
        }
    }
    int se = gort_errno();
    rt_semrelease(&f->rsema, false);
    fd_decref(f);
    rt_errno_set(se);
    return r;
}

ssize_t
gort_fd_write(gort_fd *f, const void *buf, size_t n)
{
    if (!fd_incref(f))
        return -1;
    rt_semacquire(&f->wsema, false, WAIT_IO);
    const char *p = buf;
    size_t done = 0;
    int e = f->pd ? rt_netpoll_reset(f->pd, PD_WRITE)
                  : (atomic_load(&f->state) & FD_CLOSED ? ECANCELED : 0);
    while (e == 0 && done < n) {
        ssize_t r = sys_write(f, p + done, n - done);
        if (r >= 0) {
            done += (size_t)r;
            continue;
        }
        if (gort_errno() == EINTR)
            continue;
        if (gort_errno() != EAGAIN || f->pd == NULL) {
            e = gort_errno();
            break;
        }
        e = rt_netpoll_wait(f->pd, PD_WRITE);
    }
    rt_semrelease(&f->wsema, false);
    fd_decref(f);
    if (e) {
        rt_errno_set(e);
        return done > 0 ? (ssize_t)done : -1;
    }
    return (ssize_t)done;
}

// fd_wait is gort_fd_wait (look: true) and gort_fd_wait_eagain (look:
// false, the caller's own read or write just found EAGAIN).
static int
fd_wait(gort_fd *f, int events, bool look)
{
    int mode = events & (GORT_READ | GORT_WRITE);
    if (mode == 0) {
        rt_errno_set(EINVAL);
        return -1;
    }
    if (!fd_incref(f))
        return -1;
    if (mode & GORT_READ)
        rt_semacquire(&f->rsema, false, WAIT_IO);
    if (mode & GORT_WRITE)
        rt_semacquire(&f->wsema, false, WAIT_IO);
    int e = 0;
    if (f->pd && !look) {
        // EAGAIN came after any edge the poller reported for bytes read since,
        // so the next edge is news: park on it as gort_fd_read does. An edge
        // left from before may end the wait at once (an early wake-up: the
        // caller's read finds EAGAIN again and waits again).
        e = rt_netpoll_wait(f->pd, mode);
    } else if (f->pd) {
        // Level-triggered, as poll(2): a descriptor with unread bytes (or
        // room to write) is ready now, whatever edges were consumed before.
        // An edge left from before the wait proves nothing: the bytes it
        // announced may have been read by the caller's own read(2). So the
        // wait looks with poll(2) before it parks, and trusts only an edge
        // reported while it was parked (one poll(2) a wait, as Go's netFD
        // has one read(2) that finds EAGAIN).
        while ((e = rt_netpoll_check(f->pd, mode)) == 0) {
            int ready = poll_now(f->sysfd, mode);
            if (ready != 0) {
                if (ready < 0)
                    e = gort_errno();
                break;
            }
            bool fresh;
            e = rt_netpoll_wait_fresh(f->pd, mode, &fresh);
            if (e || fresh)
                break;
        }
    } else if (atomic_load(&f->state) & FD_CLOSED) {
        e = ECANCELED; // a file is always ready
    }
    if (mode & GORT_WRITE)
        rt_semrelease(&f->wsema, false);
    if (mode & GORT_READ)
        rt_semrelease(&f->rsema, false);
    fd_decref(f);
    if (e) {
        rt_errno_set(e);
        return -1;
    }
    return 0;
}

int
gort_fd_wait(gort_fd *f, int events)
{
    return fd_wait(f, events, true);
}

int
gort_fd_wait_eagain(gort_fd *f, int events)
{
    return fd_wait(f, events, false);
}

// ---- deadlines ------------------------------------------------------------------

static int
set_deadline(gort_fd *f, int64_t when, int mode)
{
    if (!fd_incref(f))
        return -1;
    int r = 0;
    if (f->pd == NULL) {
        rt_errno_set(ENOTSUP); // Go's ErrNoDeadline: files have no deadlines
        r = -1;
    } else {
        rt_netpoll_set_deadline(f->pd, when, mode);
    }
    fd_decref(f);
    return r;
}

int
gort_fd_set_deadline(gort_fd *f, int64_t when)
{
    return set_deadline(f, when, PD_READ | PD_WRITE);
}

int
gort_fd_set_read_deadline(gort_fd *f, int64_t when)
{
    return set_deadline(f, when, PD_READ);
}

int
gort_fd_set_write_deadline(gort_fd *f, int64_t when)
{
    return set_deadline(f, when, PD_WRITE);
}

// ---- internal helpers for net.c --------------------------------------------------

bool
rt_fd_acquire(gort_fd *f, bool read)
{
    if (!fd_incref(f))
        return false;
    rt_semacquire(read ? &f->rsema : &f->wsema, false, WAIT_IO);
    return true;
}

void
rt_fd_release(gort_fd *f, bool read)
{
    int e = gort_errno();
    rt_semrelease(read ? &f->rsema : &f->wsema, false);
    fd_decref(f);
    rt_errno_set(e);
}

bool
rt_fd_ref(gort_fd *f)
{
    return fd_incref(f);
}

void
rt_fd_unref(gort_fd *f)
{
    fd_decref(f);
}

// ---- a descriptor the caller keeps ----------------------------------------------

static int
poll_now(int fd, int events)
{
    struct pollfd p = {.fd = fd, .events = 0};
    if (events & GORT_READ)
        p.events |= POLLIN;
    if (events & GORT_WRITE)
        p.events |= POLLOUT;
    int r;
    while ((r = poll(&p, 1, 0)) < 0 && gort_errno() == EINTR) {
    }
    if (r < 0)
        return -1;
    if (p.revents & POLLNVAL) {
        rt_errno_set(EBADF);
        return -1;
    }
    int ready = 0;
    if (p.revents & (POLLERR | POLLHUP))
        ready = events;
    if (p.revents & POLLIN)
        ready |= GORT_READ;
    if (p.revents & POLLOUT)
        ready |= GORT_WRITE;
    return ready & events;
}

int
gort_wait_fd(int fd, int events, int64_t deadline)
{
    events &= GORT_READ | GORT_WRITE;
    if (events == 0) {
        rt_errno_set(EINVAL);
        return -1;
    }
    int ready = poll_now(fd, events);
    if (ready != 0)
        return ready;
    if (deadline != 0 && deadline <= rt_nanotime()) {
        rt_errno_set(ETIMEDOUT);
        return -1;
    }
    // Registered for this wait only: the caller may close fd afterwards.
    int err = 0;
    PollDesc *pd = rt_netpoll_open(fd, &err);
    if (pd == NULL) {
        if (err == EPERM)
            return events; // a regular file is always ready
        rt_errno_set(err);
        return -1;
    }
    if (deadline != 0)
        rt_netpoll_set_deadline(pd, deadline, PD_READ | PD_WRITE);
    int e = 0;
    for (;;) {
        e = rt_netpoll_wait(pd, events);
        ready = poll_now(fd, events);
        if (ready < 0) {
            e = gort_errno();
            break;
        }
        if (ready != 0) {
            e = 0;
            break;
        }
        if (e)
            break;
    }
    rt_netpoll_evict(pd);
    rt_netpoll_close(pd);
    rt_netpoll_free(pd);
    if (e) {
        rt_errno_set(e);
        return -1;
    }
    return ready;
}
