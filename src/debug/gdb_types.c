// gdb_types.c: the runtime's types, as DWARF, in every gort executable (built
// into libgort_rt0.a only, not into libgort).
//
// The runtime itself is built without debug information in release builds,
// yet gort's gdb extension (share/gort/gdb/gort-gdb.py) reads G, M, P,
// Sched, MHeap, Span, GCState and gort_chan from a program's memory, on a
// live process or a core file. This file is compiled with -g into
// libgort_rt0.a, the object every executable links (its entry point,
// rt0.S, references rt_gdb_types so the archive member is always pulled
// in), so those types are described wherever the program goes. It holds no
// code: one hidden table whose only purpose is to name each type.
#include "chan/chan.h"
#include "gc/gc.h"
#include "mem/malloc.h"
#include "rt.h"
#include "sched/sudog.h"

// Pointers to each type the extension reads; never read by the program.
__attribute__((visibility("hidden"), used)) const struct {
    G *g;
    M *m;
    P *p;
    Sched *sched;
    MHeap *mheap;
    HeapArena *arena;
    Span *span;
    MCache *mcache;
    GCState *gc;
    gort_chan *chan;
    Sudog *sudog;
    enum GStatus gstatus;
    enum WaitReason waitreason;
    enum PStatus pstatus;
} rt_gdb_types;
