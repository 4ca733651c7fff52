// panic.c: Go-semantics panics: gort_panic (public) and rt_panic (runtime
// faults in user terms: "send on closed channel", "sync: negative
// WaitGroup counter"). There is no recover: a panic prints "panic: <msg>",
// the failing goroutine's stack (every goroutine at GOTRACEBACK=all; nothing
// more at none) and exits with status 2. Stdio is flushed first (throw.c).
// Both run on the calling goroutine's stack and never return.
#include "core/traceback.h"

RT_NORETURN void
rt_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_crash(CRASH_PANIC, true, fmt, ap);
}

GORT_API RT_NORETURN void
gort_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_crash(CRASH_PANIC, true, fmt, ap);
}
