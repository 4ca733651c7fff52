// netpoll_epoll.c: the network poller's kernel side on Linux (epoll).
//
// src/netpoll/netpoll.h has the overview; this file implements the backend
// contract of src/os/os.h. One epoll instance for the process. A descriptor
// is added once, edge-triggered, for EPOLLIN|EPOLLOUT|EPOLLRDHUP: the kernel
// reports each change of readiness once, and the waiters keep the state
// (netpoll.c's rg/wg). epoll_data carries the caller's 64-bit tag.
//
// Break: an eventfd, registered level-triggered with tag 0. breakpending is
// CASed 0 -> 1 before the write, so any number of breaks between two blocking
// waits cost one write; the blocking wait that sees the eventfd reads it and
// clears the flag. A non-blocking wait leaves it set, so that the break still
// reaches the M that blocks (Go's netpollWakeSig).
//
// Waits use epoll_pwait2 (nanosecond timeout) when the kernel has it, so that
// a timer 100 us away is not slept to the next millisecond; else epoll_wait
// with the delay rounded up to a millisecond.
//
// Locking: none. epfd and evfd are [const] after rt_os_netpoll_init, which
// netpoll.c calls once under its own lock.
#include "os/os.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum { MAX_EVENTS = 128 };

static int epfd = -1;                    // [const] after rt_os_netpoll_init
static int evfd = -1;                    // [const] after rt_os_netpoll_init
static _Atomic uint32_t breakpending;    // [atomic] a break is written and not yet consumed
static _Atomic uint32_t have_pwait2 = 1; // [atomic] 0 once epoll_pwait2 said ENOSYS

int
rt_os_netpoll_init(void)
{
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return -errno;
    evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (evfd < 0)
        return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, evfd, &ev) < 0)
        return -errno;
    return 0;
}

int
rt_os_netpoll_open(int fd, uint64_t tag)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = tag};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    return 0;
}

int
rt_os_netpoll_close(int fd)
{
    struct epoll_event ev = {0};
    if (epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &ev) < 0)
        return -errno;
    return 0;
}

void
rt_os_netpoll_break(void)
{
    uint32_t z = 0;
    if (!atomic_compare_exchange_strong(&breakpending, &z, 1))
        return;
    uint64_t one = 1;
    for (;;) {
        ssize_t n = write(evfd, &one, sizeof one);
        if (n == (ssize_t)sizeof one || errno == EAGAIN)
            return; // EAGAIN: the counter is full, a wake-up is pending anyway
        if (errno != EINTR)
            return;
    }
}

static int
wait_events(struct epoll_event *evs, int64_t delay)
{
    if (delay > 0 && atomic_load_explicit(&have_pwait2, memory_order_relaxed)) {
        struct timespec ts = {.tv_sec = delay / 1000000000, .tv_nsec = delay % 1000000000};
        int n = epoll_pwait2(epfd, evs, MAX_EVENTS, &ts, NULL);
        if (n >= 0 || errno != ENOSYS)
            return n;
        atomic_store_explicit(&have_pwait2, 0, memory_order_relaxed);
    }
    int ms;
    if (delay < 0)
        ms = -1;
    else if (delay == 0)
        ms = 0;
    else if (delay < 1000000)
        ms = 1;
    else if (delay < (int64_t)1000000 * 1000000000)
        ms = (int)(delay / 1000000);
    else
        ms = 1000000000; // about 11.5 days
    return epoll_wait(epfd, evs, MAX_EVENTS, ms);
}

int
rt_os_netpoll_wait(int64_t delay, void (*fn)(uint64_t tag, int mode, void *arg), void *arg)
{
    struct epoll_event evs[MAX_EVENTS];
    int n;
    for (;;) {
        n = wait_events(evs, delay);
        if (n >= 0)
            break;
        if (errno != EINTR)
            return 0;
        // A signal (preemption, the collector's suspension): a blocking
        // wait returns so the caller recomputes its delay; a look retries.
        if (delay != 0)
            return 0;
    }
    int nev = 0;
    for (int i = 0; i < n; i++) {
        uint32_t e = evs[i].events;
        uint64_t tag = evs[i].data.u64;
        if (tag == 0) {
            if (delay != 0) {
                uint64_t v;
                ssize_t r = read(evfd, &v, sizeof v);
                (void)r; // EAGAIN: another wait consumed it
                atomic_store(&breakpending, 0);
            }
            continue;
        }
        int mode = 0;
        if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
            mode |= RT_OS_POLL_READ;
        if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
            mode |= RT_OS_POLL_WRITE;
        if (mode != 0) {
            fn(tag, mode, arg);
            nev++;
        }
    }
    return nev;
}
