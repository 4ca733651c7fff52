// traceback.h: goroutine dumps for crash paths (src/core/traceback.c) and
// the entry points signal handlers use (src/core/throw.c).
//
// rt.h declares the general interface (rt_traceback_current/_g/_all); this
// header adds what throw.c, signal.c and the collector's reports need. The
// names and lines come from src/os/linux/symtab.c (rt_os_sym_*, os.h), which
// rt_schedinit sets up with rt_os_symtab_init.
#ifndef GORT_CORE_TRACEBACK_H
#define GORT_CORE_TRACEBACK_H

#include "rt.h"

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

// ---- Naming addresses (the collector's retention reports, src/gc/why.c) ----

// Prints the function containing pc and where: "worker at /app/w.c:17" or
// "worker in /app/prog" (no line table); pc is a return address unless exact
// (then it is the instruction itself). No newline.
void rt_traceback_print_func(uintptr_t pc, bool exact);
// Prints the global (ELF data symbol) holding addr: "name+0xOFF in /path",
// or "/path @0xOFF" when no symbol covers it. Returns false, printing
// nothing, if addr is in no loaded object's writable segments.
bool rt_traceback_print_data(uintptr_t addr);
// Walks a stack from (pc, fp), the innermost function's pc and frame
// pointer, whose frames lie in [lo, hi), and prints "in the frame of F at
// file:line" for the function whose frame holds the word at slot; while F
// is the runtime's (the word may be a register saved for its caller), also
// ", called from G at ..." up to the program's own frame. Returns false,
// printing nothing, if the frame-pointer chain does not reach slot.
bool rt_traceback_print_frame_of(uintptr_t pc, uintptr_t fp, uintptr_t lo, uintptr_t hi,
                                 uintptr_t slot);

#endif // GORT_CORE_TRACEBACK_H
