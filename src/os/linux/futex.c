// futex.c (Linux): futex sleep/wake, clocks, and raw process calls.
//
// Contract (os.h): futexsleep returns after a wake, a timeout or spuriously;
// callers re-check their condition. All calls here are async-signal-safe.
#include "rt.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void
rt_os_futexsleep(_Atomic uint32_t *addr, uint32_t val, int64_t ns)
{
    struct timespec ts, *tsp = NULL;
    if (ns >= 0) {
        ts.tv_sec = ns / 1000000000;
        ts.tv_nsec = ns % 1000000000;
        tsp = &ts;
    }
    // errno belongs to the goroutine (src/sched/syscall.c): runtime paths
    // that sleep or wake on the way to parking must leave it as it was.
    int e = errno;
    syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
    errno = e;
}

void
rt_os_futexwake(_Atomic uint32_t *addr, uint32_t cnt)
{
    int e = errno;
    syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, cnt, NULL, NULL, 0);
    errno = e;
}

int64_t
rt_nanotime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
rt_walltime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
rt_os_usleep(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void
rt_os_osyield(void)
{
    sched_yield();
}

long
rt_os_write(int fd, const void *p, size_t n)
{
    const char *s = p;
    size_t done = 0;
    while (done < n) {
        long w = syscall(SYS_write, fd, s + done, n - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return done > 0 ? (long)done : -errno;
        }
        done += (size_t)w;
    }
    return (long)done;
}

void
rt_os_exit(int code)
{
    for (;;)
        syscall(SYS_exit_group, code);
}

void
rt_os_abort(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = SIG_DFL;
    sigaction(SIGABRT, &sa, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGABRT);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    syscall(SYS_tgkill, getpid(), (int)syscall(SYS_gettid), SIGABRT);
    rt_os_exit(2);
}

int
rt_os_gettid(void)
{
    return (int)syscall(SYS_gettid);
}

int
rt_os_tgkill(int tid, int sig)
{
    return (int)syscall(SYS_tgkill, getpid(), tid, sig);
}
