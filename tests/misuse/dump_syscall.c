// dump_syscall.c: a goroutine blocked in a system call (gort_syscall_enter,
// then read on a pipe nobody writes) shows its frames in the crash dump,
// from the caller's pc and frame pointer saved at gort_syscall_enter, not
// "stack unavailable". Run with GOTRACEBACK=all; main panics once the
// kernel reports the reader's thread blocked in read(2).
#define _GNU_SOURCE
#include <gort.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int pipefd[2];
static _Atomic long reader_tid;

static __attribute__((noinline)) void
blocked_reader(void *arg)
{
    (void)arg;
    char b;
    reader_tid = syscall(SYS_gettid);
    gort_syscall_enter();
    ssize_t r = read(pipefd[0], &b, 1); // blocks: nothing is ever written
    gort_syscall_exit();
    gort_panic("read returned %zd", r);
}

// Whether the thread is blocked in read(2): /proc/self/task/TID/syscall
// starts with the number of the call it waits in.
static int
in_read(long tid)
{
    char path[64], buf[64] = {0};
    snprintf(path, sizeof path, "/proc/self/task/%ld/syscall", tid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char want[16];
    snprintf(want, sizeof want, "%d ", SYS_read);
    return strncmp(buf, want, strlen(want)) == 0;
}

int
main(void)
{
    if (pipe(pipefd) != 0)
        return 1;
    gort_go(blocked_reader, NULL);
    for (int i = 0; i < 600000; i++) { // 10 minutes at most
        long tid = reader_tid;
        if (tid != 0 && in_read(tid))
            gort_panic("dump with a goroutine in a system call");
        gort_sleep(1000 * 1000);
    }
    fprintf(stderr, "dump_syscall: the reader never blocked in read\n");
    return 1;
}
