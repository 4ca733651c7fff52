// thread.c (Linux): OS threads for Ms.
//
// Ms are pthreads (so that libc's per-thread state, TLS and stdio locking
// work in goroutines as in any thread), created detached with a small stack
// for g0: the scheduler and signal handlers run there, never user code.
#include "rt.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

enum { G0_STACK_SIZE = 256 << 10 };

int
rt_os_newosproc(void *(*fn)(void *), void *arg, uintptr_t *thread)
{
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, G0_STACK_SIZE);
    // New threads start with every signal blocked; rt_signal_minit opens them.
    sigset_t all, old;
    sigfillset(&all);
    // pthread_sigmask fails only on bad arguments; a thread started with
    // signals open could take one before it has an M, so never go on.
    if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0)
        rt_throw("newosproc: pthread_sigmask failed");
    int err = pthread_create(&t, &attr, fn, arg);
    if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0)
        rt_throw("newosproc: pthread_sigmask failed");
    pthread_attr_destroy(&attr);
    if (err != 0)
        return -err;
    if (thread)
        *thread = (uintptr_t)t;
    return 0;
}

int
rt_os_ncpu(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0)
            return n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void
rt_os_thread_stack(uintptr_t *lo, uintptr_t *hi)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    *lo = *hi = 0;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
        *lo = (uintptr_t)addr;
        *hi = (uintptr_t)addr + size;
    }
    pthread_attr_destroy(&attr);
}
