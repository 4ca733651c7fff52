// debugvars.h: GODEBUG and GOTRACEBACK settings (rt_debug), the saved
// environment and Go's byte-size syntax (src/core/debugvars.c).
//
// rt_parsedebugvars() fills rt_debug once during rt_schedinit, before any
// other thread starts (boot may still adjust a field then: rt_signal_init
// turns async preemption off under valgrind); afterwards rt_debug and
// rt_debug_gcwhy are read-only ([const] after boot), read without a lock
// by every subsystem. Nothing here allocates: it runs before the allocator
// exists and on crash paths.
#ifndef GORT_CORE_DEBUGVARS_H
#define GORT_CORE_DEBUGVARS_H

#include "rt.h"

typedef struct DebugVars {
    int32_t gctrace;
    int32_t schedtrace; // ms between SCHED lines, 0 off
    int32_t scheddetail;
    int32_t asyncpreemptoff;
    int32_t boottrace;
    int32_t gccheckmark;
    int32_t gcstress; // collect every N allocations
    int32_t gcstoptheworld;
    int32_t gcconcurrent; // 1 (default): automatic cycles mark concurrently
    int32_t gcassist;     // 1 (default): allocation assists a concurrent mark
    int32_t gcgen;        // 1 (default): concurrent cycles may be minor (old objects kept)
    int32_t madvdontneed;
    int32_t scavtrace;
    int32_t traceback; // GOTRACEBACK level: 0 none, 1 single, 2 all, 3 system, 4 crash
} DebugVars;
extern DebugVars rt_debug; // [const] after boot
// GODEBUG=gcwhy=ADDR (hex): ~ the heap address each cycle explains (why.c;
// complemented, so that this global does not keep it); 0 off.
extern uintptr_t rt_debug_gcwhy; // [const] after boot
void rt_parsedebugvars(void);
const char *rt_getenv(const char *name); // from the saved envp; no malloc
// Parses Go's byte-size syntax ("512MiB", "4096B", "4096"; not "1GB", which Go
// rejects too); -1 on error.
int64_t rt_parse_bytes(const char *s);

#endif // GORT_CORE_DEBUGVARS_H
