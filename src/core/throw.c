// throw.c: fatal stops. rt_throw for runtime bugs, rt_fatal for fatal user
// errors the runtime detects (deadlock), rt_throw_sigctx for signal handlers;
// panic.c adds panics. All end in rt_crash.
//
// A crash prints its first line ("fatal error: msg" or "panic: msg"), the
// goroutine dump GOTRACEBACK asks for (traceback.c), and exits with status 2,
// or raises SIGABRT at GOTRACEBACK=crash. It writes with write(2) only, never
// allocates and takes no Lock, so it works with the heap or the scheduler
// broken. rt_throw also shows runtime frames (as Go does for runtime throws).
//
// One crash at a time: the first thread to crash owns the process. Another
// thread that crashes meanwhile sleeps until the owner exits (as Go's
// "deadlock" lock does); the owner crashing again while dumping prints
// "fatal error: panic during panic" and exits 2 at once, a third time exits
// without printing.
//
// Buffered stdio: C programs printf into a stdio buffer that exit_group would
// discard, so panics and rt_fatal flush stdio first (fflush(NULL)) when they
// run on a goroutine or g0 stack; rt_throw (the runtime may be inside libc
// or holding its locks) and rt_throw_sigctx (signal handler: fflush is not
// async-signal-safe) never flush. Go has no buffered stdout, so this is the
// closest equivalent of Go's behaviour.
#include "core/debugvars.h"
#include "core/traceback.h"

#include <stdio.h>

static _Atomic int dying_tid; // kernel tid of the crashing thread, 0 if none
static int ndying;            // [owner] the thread dying_tid: nested crashes on it

RT_NORETURN void
rt_exit(int code)
{
    rt_os_exit(code);
}

// Whether stdio may be flushed here: a normal call on a goroutine or g0
// stack, not a signal handler on the alternate signal stack.
static bool
flush_safe(void)
{
    M *mp = rt_m();
    if (mp == NULL)
        return true; // before the scheduler exists: an ordinary call
    uintptr_t sp = rt_arch_getsp();
    G *gp = mp->curg;
    if (gp && sp >= gp->stack_lo && sp < gp->stack_hi)
        return true;
    if (mp->g0_stack_hi == 0)
        return true; // g0 bounds unknown: assume an ordinary call
    return sp >= mp->g0_stack_lo && sp < mp->g0_stack_hi;
}

static void
start_crash(void)
{
    int tid = rt_os_gettid();
    int expect = 0;
    if (atomic_compare_exchange_strong(&dying_tid, &expect, tid)) {
        ndying = 1;
        return;
    }
    if (expect == tid) {
        if (++ndying == 2) {
            rt_printf("fatal error: panic during panic\n");
            if (rt_debug.traceback >= TB_CRASH)
                rt_os_abort();
        }
        rt_exit(2);
    }
    // Another thread is dumping and will exit the process.
    for (;;)
        rt_os_usleep(1000000);
}

static bool
mentions_deadlock(const char *s)
{
    static const char word[] = "deadlock";
    for (; *s; s++) {
        size_t i = 0;
        while (word[i] && s[i] == word[i])
            i++;
        if (word[i] == '\0')
            return true;
    }
    return false;
}

static RT_NORETURN void
crash_tail(int kind, const char *fmt, va_list ap, uintptr_t ctx_pc, uintptr_t ctx_fp,
           bool force_all)
{
    start_crash();
    M *mp = rt_m();
    if (mp)
        mp->locks++; // no async preemption while dumping
    if (fmt) {
        rt_printf("%s", kind == CRASH_PANIC ? "panic: " : "fatal error: ");
        rt_vprintf(fmt, ap);
        rt_printf("\n");
    }
    int level = rt_debug.traceback;
    if (level > TB_NONE) {
        bool all = level >= TB_ALL || force_all;
        if (kind == CRASH_THROW && level < TB_SYSTEM)
            level = TB_SYSTEM; // a runtime bug: its frames matter
        rt_traceback_dump(level, all, ctx_pc, ctx_fp);
    }
    if (rt_debug.traceback >= TB_CRASH)
        rt_os_abort();
    rt_exit(2);
}

RT_NORETURN void
rt_crash(int kind, bool flush_stdio, const char *fmt, va_list ap)
{
    if (flush_stdio && flush_safe())
        fflush(NULL);
    // Go's checkdead runs on g0 and so dumps every goroutine; do the same
    // wherever the deadlock detector calls from.
    bool all = kind == CRASH_FATAL && mentions_deadlock(fmt);
    crash_tail(kind, fmt, ap, 0, 0, all);
}

static RT_NORETURN void
crashf(int kind, bool flush_stdio, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_crash(kind, flush_stdio, fmt, ap);
}

RT_NORETURN void
rt_throw(const char *msg)
{
    crashf(CRASH_THROW, false, "%s", msg ? msg : "(null)");
}

RT_NORETURN void
rt_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_crash(CRASH_FATAL, true, fmt, ap);
}

static RT_NORETURN void
sigctx_tail(uintptr_t pc, uintptr_t fp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    crash_tail(CRASH_THROW, fmt, ap, pc, fp, fmt == NULL);
}

RT_NORETURN void
rt_throw_sigctx(const char *msg, uintptr_t pc, uintptr_t fp)
{
    if (msg)
        sigctx_tail(pc, fp, "%s", msg);
    sigctx_tail(pc, fp, NULL);
}
