// traceback.h: goroutine dumps for crash paths (src/core/traceback.c) and
// the entry points signal handlers use (src/core/throw.c).
//
// rt.h declares the general interface (rt_traceback_current/_g/_all); this
// header adds what the boot code, throw.c and signal.c need.
#ifndef GORT_CORE_TRACEBACK_H
#define GORT_CORE_TRACEBACK_H

#include "rt.h"

// Records the loaded ELF objects (dl_iterate_phdr) for symbolization. Call
// once from rt_schedinit, on the main thread, before other threads start and
// after rt_parsedebugvars. Symbol tables themselves are mapped lazily, on the
// first dump, with open/mmap/close only. If it was never called, the first
// dump calls it (not async-signal-safe then: dl_iterate_phdr takes the
// loader's lock). Objects dlopen'ed later are not symbolized.
void rt_traceback_init(void);

// Levels of detail, as GOTRACEBACK sets rt_debug.traceback.
enum {
    TB_NONE = 0,   // no goroutines
    TB_SINGLE = 1, // the failing goroutine, runtime frames hidden
    TB_ALL = 2,    // every user goroutine
    TB_SYSTEM = 3, // runtime frames and goroutines too, with fp/pc and gp/m
    TB_CRASH = 4,  // system, then SIGABRT
};

// Prints "goroutine N [status]:" and the frames of a goroutine whose
// innermost frame is (pc, fp), where fp is the frame pointer of the function
// containing pc; exact_pc: pc was interrupted (signal), not a return address.
// The walk stays within [lo, hi). level: TB_SINGLE hides runtime frames,
// TB_SYSTEM shows them. gp may be NULL (prints "runtime stack:" instead of a
// goroutine header).
void rt_traceback_frames(G *gp, uintptr_t pc, uintptr_t fp, bool exact_pc, int level);

// The whole crash dump used by throw/panic/fatal after the message line:
// the current goroutine (from ctx_pc/ctx_fp when ctx_pc != 0, else from the
// caller's own frames), then every other goroutine when all is true.
void rt_traceback_dump(int level, bool all, uintptr_t ctx_pc, uintptr_t ctx_fp);

// Signal-handler entry (throw.c): prints "fatal error: msg" (unless msg is
// NULL: the caller already printed its own lines, e.g. "SIGQUIT: quit\nPC=..."),
// then dumps the interrupted goroutine from the signal context (pc, fp of the
// interrupted code) and, with GOTRACEBACK>=all or msg == NULL, every
// goroutine; exits 2 (aborts at GOTRACEBACK=crash). Never flushes stdio.
RT_NORETURN RT_COLD void rt_throw_sigctx(const char *msg, uintptr_t pc, uintptr_t fp);

// Common tail of throw/fatal/panic (throw.c). kind selects the first line:
// "fatal error: " or "panic: ". runtime_err: a runtime bug (rt_throw):
// runtime frames and gp/m are shown as at GOTRACEBACK=system.
enum { CRASH_THROW, CRASH_FATAL, CRASH_PANIC };
RT_NORETURN RT_COLD void rt_crash(int kind, bool flush_stdio, const char *fmt, va_list ap);

#endif // GORT_CORE_TRACEBACK_H
