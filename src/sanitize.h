// sanitize.h: what the build or the run is instrumented by.
//
// AddressSanitizer and ThreadSanitizer are known at compile time (RT_ASAN,
// RT_TSAN): their fiber and poisoning interfaces are compiled in only then.
// Valgrind is known only at run time: every build issues valgrind's client
// requests itself (rt_arch_valgrind_request, the instruction sequence
// valgrind's translator recognises), so any build runs right under
// valgrind and none needs valgrind's headers. A request outside valgrind
// costs a few instructions; callers test rt_valgrind_running() once and
// keep the answer.
#ifndef GORT_SANITIZE_H
#define GORT_SANITIZE_H

#include "arch.h"

#include <stdbool.h>
#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define RT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RT_TSAN 1
#endif
#endif
#ifndef RT_ASAN
#define RT_ASAN 0
#endif
#ifndef RT_TSAN
#define RT_TSAN 0
#endif

#if RT_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#if RT_TSAN
#include <sanitizer/tsan_interface.h>
#endif

// Valgrind's request numbers (valgrind.h's core requests and memcheck's,
// whose tool base is 'M' << 24 | 'C' << 16).
enum {
    VG_RUNNING_ON_VALGRIND = 0x1001,
    VG_STACK_REGISTER = 0x1501,
    VG_STACK_DEREGISTER = 0x1502,
    VG_MC_MAKE_MEM_UNDEFINED = ('M' << 24 | 'C' << 16) + 1,
    VG_MC_MAKE_MEM_DEFINED = ('M' << 24 | 'C' << 16) + 2,
};

static inline uintptr_t
rt_valgrind_request(uintptr_t dflt, uintptr_t req, uintptr_t a1, uintptr_t a2)
{
    const uintptr_t args[6] = {req, a1, a2, 0, 0, 0};
    return rt_arch_valgrind_request(dflt, args);
}

// True when the program runs under valgrind (any tool).
static inline bool
rt_valgrind_running(void)
{
    return rt_valgrind_request(0, VG_RUNNING_ON_VALGRIND, 0, 0) != 0;
}

// Tells valgrind that [lo, hi) is a stack, so that a jump of sp into it is
// a stack switch; returns the id rt_valgrind_stack_deregister takes.
static inline unsigned
rt_valgrind_stack_register(uintptr_t lo, uintptr_t hi)
{
    return (unsigned)rt_valgrind_request(0, VG_STACK_REGISTER, lo, hi);
}

static inline void
rt_valgrind_stack_deregister(unsigned id)
{
    rt_valgrind_request(0, VG_STACK_DEREGISTER, id, 0);
}

// Memcheck: [p, p+n) is addressable, its contents undefined; or defined.
static inline void
rt_valgrind_make_undefined(const void *p, size_t n)
{
    rt_valgrind_request(0, VG_MC_MAKE_MEM_UNDEFINED, (uintptr_t)p, n);
}

static inline void
rt_valgrind_make_defined(const void *p, size_t n)
{
    rt_valgrind_request(0, VG_MC_MAKE_MEM_DEFINED, (uintptr_t)p, n);
}

#endif
