// why.c: retention reports, "why is this object still alive?".
//
// A conservative collector keeps whatever a word that looks like a pointer
// reaches, and the word may be stale: a dead local in a frame, a saved
// register, a global the program forgot. gort_gc_why(p) and
// GODEBUG=gcwhy=ADDR answer the question with the chain that keeps the
// object: the root (which goroutine's stack and in which function's frame,
// which thread's saved registers, which global by its symbol, which
// registered range, which runtime structure) and every heap object on the
// way, with the word of each that points on.
//
// The walk runs at mark termination of a cycle, after the real mark, with
// the world stopped (gc_mark calls why_mark in mark.c, as it calls the
// checkmark). It re-marks from the same roots as the cycle, through the same
// enumeration (mark_roots, in MARK_WHY mode, where every root range comes
// here with a kind), into fresh mark bitmaps (the real ones are set aside
// in Span.gcmark_saved, as for the checkmark), single-threaded and depth
// first. A depth-first walk needs no parent table: when it reaches the
// target, the stack of objects being scanned is the chain from the root.
// The stack holds one entry per object on the current path (24 bytes),
// mapped off-heap and doubled when full; a 10-million-node list costs
// 240 MB while it is walked, and is only printed by its ends.
//
// gort_gc_why (asm.S) keeps the address complemented (a number, not a
// pointer) from its first instruction on, so that neither it nor the
// collector's frames below it make a copy. The caller may still hold the
// address in a callee-saved register (compilers reuse the register that
// computed the argument), which the runtime's frames below gort_gc_why
// save: the walk does not count a word there equal to the address (the
// real mark does, so the object survives this cycle, and the report says
// so). Other words there are the caller's registers, reported as such.
//
// GODEBUG=gcwhy=ADDR (hex, with or without 0x): every cycle explains the
// object at ADDR, while it is allocated, then says once that it was freed.
// This is a debug mode: each cycle then walks the whole live heap again.
//
// Locking: why.busy (a CAS flag) serialises gort_gc_why callers; the
// walk's state is
// [stw]: written only at mark termination, by the collecting thread.
#include "core/debugvars.h"
#include "core/traceback.h"
#include "gc/gc.h"
#include "offsets.h"
#include "sanitize.h"

enum {
    PATH_ENDS = 12, // objects printed at each end of a long chain
};

typedef struct WhyFrame {
    uintptr_t base, cur, end; // an object on the path; cur: its next word to read
} WhyFrame;

static struct {
    _Atomic uint32_t busy; // [atomic] a gort_gc_why call owns the fields below it
    uintptr_t hidden;      // [owner] the busy holder; read with the world stopped: ~address
                           // asked for by gort_gc_why, 0 if none
    uintptr_t skip_lo;     // [owner] the same: the runtime's frames below gort_gc_why
    uintptr_t skip_hi;     //
    int result;            // [stw] answer for gort_gc_why
    bool debug_freed;      // [stw] GODEBUG=gcwhy: "freed" said already
    // The walk [stw]. Heap addresses kept here are complemented (the _h
    // fields): this is a global, scanned as a root, and a plain copy would
    // keep the object alive for the next cycle.
    uintptr_t target_h; // ~the address asked about
    uintptr_t tbase_h;  // ~its object's first byte
    Span *tspan;        // and span
    int kind;           // WhyRoot of the root range being scanned
    bool found;
    bool own_copy;       // a word below gort_gc_why held the address itself
    uintptr_t root_word; // the root word that starts the chain, and ~its value
    uintptr_t root_val_h;
    int root_kind;
    WhyFrame *stk; // the path, root side first
    uintptr_t n, cap;
    uintptr_t hit_at_h; // ~the word of the last object (or the root) that points at the target
} why;

// ---- Heap lookups --------------------------------------------------------------------

// The allocated object containing p, or false. Slot idx is allocated if it
// is below freeindex or its alloc bit is set (malloc.h).
static bool
why_object(uintptr_t p, Span **sp, uintptr_t *base, uint32_t *idxp)
{
    Span *s = rt_span_of(p);
    if (s == NULL || p >= s->limit)
        return false;
    uint32_t idx = rt_span_obj_index(s, p);
    uint64_t bit = (uint64_t)1 << (idx % 64);
    if (idx >= s->freeindex && !(((const uint64_t *)s->alloc_bits)[idx / 64] & bit))
        return false;
    *sp = s;
    *base = s->startaddr + (uintptr_t)idx * s->elemsize;
    *idxp = idx;
    return true;
}

static uintptr_t
obj_size(const Span *s, uintptr_t base)
{
    return s->divmagic == 0 ? s->limit - base : s->elemsize;
}

// Marks the object p points into as visited (in the walk's own bitmap).
// Returns whether it was newly visited.
static bool
why_visit(uintptr_t p, Span **sp, uintptr_t *base, uint32_t *idx)
{
    if (!why_object(p, sp, base, idx))
        return false;
    uint8_t *mb = (*sp)->gcmark_bits + *idx / 8;
    uint8_t bit = (uint8_t)(1u << (*idx % 8));
    if (*mb & bit)
        return false;
    *mb |= bit;
    return true;
}

static void
why_push(Span *s, uint32_t idx, uintptr_t base)
{
    if (rt_spanclass_noscan(s->spanclass))
        return;
    uintptr_t len = s->scan_kind == SCAN_SLOT ? s->elemsize : rt_span_scan_len(s, idx, base);
    if (why.n == why.cap)
        rt_gc_table_grow((uintptr_t **)(void *)&why.stk, &why.cap, why.n,
                         sizeof(WhyFrame) / sizeof(uintptr_t), 4096,
                         "gcwhy: cannot map the path stack");
    why.stk[why.n++] = (WhyFrame){base, base, base + len};
}

static GC_NO_SANITIZE uintptr_t
load_word(uintptr_t q)
{
    volatile uintptr_t v = *(const uintptr_t *)q;
    rt_valgrind_make_defined((const void *)&v, sizeof v); // stack words nobody wrote
    return v;
}

// Depth first from the object just visited; true when the target is reached
// (the path is then why.stk[0 .. n)).
static GC_NO_SANITIZE bool
why_dfs(Span *s, uint32_t idx, uintptr_t base)
{
    why.n = 0;
    why_push(s, idx, base);
    while (why.n > 0) {
        WhyFrame *f = &why.stk[why.n - 1];
        if (f->cur + sizeof(uintptr_t) > f->end) {
            why.n--;
            continue;
        }
        uintptr_t q = f->cur;
        f->cur += sizeof(uintptr_t);
        Span *cs;
        uintptr_t cb;
        uint32_t ci;
        if (!why_visit(load_word(q), &cs, &cb, &ci))
            continue;
        if (cb == ~why.tbase_h) {
            why.hit_at_h = ~q;
            return true;
        }
        why_push(cs, ci, cb);
    }
    return false;
}

void
rt_gc_why_set_kind(int kind)
{
    why.kind = kind;
}

GC_NO_SANITIZE void
rt_gc_why_root(uintptr_t lo, uintptr_t hi)
{
    if (why.found)
        return;
    lo = (lo + sizeof(uintptr_t) - 1) & ~(uintptr_t)(sizeof(uintptr_t) - 1);
    for (uintptr_t q = lo; q + sizeof(uintptr_t) <= hi; q += sizeof(uintptr_t)) {
        uintptr_t v = load_word(q);
        if (q >= why.skip_lo && q < why.skip_hi && v == ~why.target_h) {
            why.own_copy = true; // the caller's copy of the address: not a reason
            continue;
        }
        Span *s;
        uintptr_t base;
        uint32_t idx;
        if (!why_visit(v, &s, &base, &idx))
            continue;
        why.root_word = q;
        why.root_val_h = ~v;
        why.root_kind = why.kind;
        if (base == ~why.tbase_h) {
            why.n = 0;
            why.hit_at_h = ~q;
            why.found = true;
            return;
        }
        if (why_dfs(s, idx, base)) {
            why.found = true;
            return;
        }
    }
}

// ---- Naming the root -------------------------------------------------------------------

static const char *
g_status_name(uint32_t st)
{
    switch (st) {
    case G_RUNNABLE:
        return "runnable";
    case G_RUNNING:
        return "running";
    case G_SYSCALL:
        return "in a system call";
    case G_WAITING:
        return "waiting";
    default:
        return "other";
    }
}

// A word on goroutine gp's stack: which function's frame holds it.
static GC_NO_SANITIZE void
describe_stack_word(G *gp, uintptr_t q)
{
    uint32_t st = atomic_load_explicit(&gp->status, memory_order_relaxed);
    rt_printf("goroutine %lld's stack (%s), ", (long long)gp->goid, g_status_name(st));
    M *self = rt_m();
    uintptr_t pc = 0, fp = 0, lo = 0;
    if (self != NULL && self->curg == gp) {
        if (q >= why.skip_lo && q < why.skip_hi) {
            rt_printf("a register of its own (the caller's copy of the address, or another "
                      "value it keeps) saved by the runtime below gort_gc_why");
            return;
        }
        uintptr_t *f = __builtin_frame_address(0);
        pc = f[1];
        fp = f[0];
        lo = (uintptr_t)f;
    } else if (st != G_RUNNING && st != G_SYSCALL && gp->sched.sp >= gp->stack_lo &&
               gp->sched.sp + CTX_SIZE <= gp->stack_hi) {
        uintptr_t sp = gp->sched.sp;
        if (q < sp + CTX_SIZE) {
            rt_printf("a register saved at its last switch");
            return;
        }
        fp = *(uintptr_t *)(sp + CTX_RBP);
        pc = *(uintptr_t *)(sp + CTX_RET);
        lo = sp + CTX_SIZE;
    }
    if (pc == 0 || !rt_traceback_print_frame_of(pc, fp, lo, gp->stack_hi, q))
        rt_printf("in a frame the frame-pointer chain does not reach");
    rt_printf(" (%lu bytes below the stack's top)", (unsigned long)(gp->stack_hi - q));
}

// Reads other threads' M and G fields with the world stopped (which TSan
// does not see as synchronisation).
static GC_NO_SANITIZE void
describe_root(uintptr_t q)
{
    switch (why.root_kind) {
    case WHY_ROOT_GLOBAL:
        rt_printf("the global ");
        if (!rt_traceback_print_data(q))
            rt_printf("at %p", (void *)q);
        return;
    case WHY_ROOT_USER:
        rt_printf("a range registered with gort_add_roots");
        return;
    case WHY_ROOT_GDESC:
        rt_printf("a goroutine's descriptor (its start argument, wake-up value or channel wait)");
        for (G *gp = rt_allg; gp != NULL; gp = gp->alllink) {
            if (q >= (uintptr_t)gp && q < (uintptr_t)(gp + 1)) {
                rt_printf(": goroutine %lld", (long long)gp->goid);
                break;
            }
        }
        return;
    case WHY_ROOT_TIMER:
        rt_printf("a pending timer (gort_after_func or a sleeping goroutine)");
        return;
    case WHY_ROOT_FINQ:
        rt_printf("the queue of finalizers waiting to run");
        return;
    case WHY_ROOT_SPECIAL:
        rt_printf("an object with a finalizer, whose contents are roots until it runs");
        return;
    case WHY_ROOT_EXTRA:
        rt_printf("a word the concurrent marker left for mark termination");
        return;
    default:
        break;
    }
    // WHY_ROOT_STACKS: threads' registers and stacks, goroutines' stacks.
    for (M *mp = atomic_load_explicit(&rt_allm, memory_order_acquire); mp != NULL;
         mp = mp->alllink) {
        if (q >= (uintptr_t)mp->gc_regs && q < (uintptr_t)(mp->gc_regs + RT_ARCH_NGREG)) {
            rt_printf("register %d of thread M%lld, stopped for the collection",
                      (int)((q - (uintptr_t)mp->gc_regs) / sizeof(uintptr_t)), (long long)mp->id);
            return;
        }
        if (q >= mp->g0_stack_lo && q < mp->g0_stack_hi) {
            rt_printf("the system stack of thread M%lld", (long long)mp->id);
            return;
        }
    }
    for (G *gp = rt_allg; gp != NULL; gp = gp->alllink) {
        if (q >= (uintptr_t)gp->syscallregs && q < (uintptr_t)(gp->syscallregs + RT_ARCH_NCALLEE)) {
            rt_printf("a register of goroutine %lld saved as it entered a system call",
                      (long long)gp->goid);
            return;
        }
        if (q >= gp->stack_lo && q < gp->stack_hi) {
            describe_stack_word(gp, q);
            return;
        }
    }
    rt_printf("a runtime stack word at %p", (void *)q);
}

static void
print_hop(uintptr_t base, uintptr_t word)
{
    Span *s = rt_span_of(base);
    uintptr_t v = *(const uintptr_t *)word;
    rt_printf("\t%p (%lu bytes): word +0x%lx = %p\n", (void *)base,
              (unsigned long)(s ? obj_size(s, base) : 0), (unsigned long)(word - base), (void *)v);
}

static void
why_report(void)
{
    uintptr_t target = ~why.target_h, tbase = ~why.tbase_h;
    uintptr_t tsize = obj_size(why.tspan, tbase);
    if (target != tbase)
        rt_printf("gcwhy: %p (in the %lu-byte object at %p) ", (void *)target, (unsigned long)tsize,
                  (void *)tbase);
    else
        rt_printf("gcwhy: the %lu-byte object at %p ", (unsigned long)tsize, (void *)tbase);
    if (!why.found) {
        uint32_t idx = rt_span_obj_index(why.tspan, tbase);
        bool marked = why.tspan->gcmark_saved[idx / 8] & (1u << (idx % 8));
        if (marked && why.own_copy)
            rt_printf("is not reachable from any root but the caller's own copy of the "
                      "address (a register the runtime saved below gort_gc_why): this cycle "
                      "keeps it, a later one frees it once that copy is gone\n");
        else if (marked)
            rt_printf("is not reachable from any root; this cycle kept it (a minor cycle "
                      "keeps what the last one kept), the next full cycle frees it\n");
        else
            rt_printf("is not reachable: this cycle frees it\n");
        return;
    }
    rt_printf("is reachable, from\n\t");
    describe_root(why.root_word);
    rt_printf(":\n\tword %p = %p\n", (void *)why.root_word, (void *)~why.root_val_h);
    // The path: each object and its word that points on; the last one's
    // word is why.hit_at, the others' is their cur - 1 word.
    uintptr_t n = why.n;
    for (uintptr_t i = 0; i < n; i++) {
        if (n > 2 * PATH_ENDS && i == PATH_ENDS) {
            rt_printf("\t... %lu more objects ...\n", (unsigned long)(n - 2 * PATH_ENDS));
            i = n - PATH_ENDS - 1;
            continue;
        }
        uintptr_t word = i + 1 < n ? why.stk[i].cur - sizeof(uintptr_t) : ~why.hit_at_h;
        print_hop(why.stk[i].base, word);
    }
    rt_printf("\t%p (%lu bytes): the object\n", (void *)tbase, (unsigned long)tsize);
}

// ---- Driving --------------------------------------------------------------------------

bool
rt_gc_why_begin(void)
{
    uintptr_t t = why.hidden ? ~why.hidden : rt_debug_gcwhy ? ~rt_debug_gcwhy : 0;
    why.found = false;
    why.own_copy = false;
    why.n = 0;
    why.result = -1;
    if (t == 0)
        return false;
    Span *s;
    uintptr_t base;
    uint32_t idx;
    if (!why_object(t, &s, &base, &idx)) {
        if (why.hidden) {
            rt_printf("gcwhy: %p is not in an allocated heap object\n", (void *)t);
        } else if (!why.debug_freed) {
            rt_printf("gcwhy: %p is not in an allocated heap object (freed, or not yet "
                      "allocated)\n",
                      (void *)t);
            why.debug_freed = true;
        }
        return false;
    }
    why.debug_freed = false;
    why.target_h = ~t;
    why.tbase_h = ~base;
    why.tspan = s;
    why.kind = WHY_ROOT_STACKS;
    return true;
}

void
rt_gc_why_end(void)
{
    why_report();
    why.result = why.found ? 1 : 0;
    if (why.stk != NULL)
        rt_os_unmap(why.stk, why.cap * sizeof(WhyFrame));
    why.stk = NULL;
    why.n = why.cap = 0;
}

bool
rt_gc_why_wanted(void)
{
    return why.hidden != 0 || rt_debug_gcwhy != 0;
}

// gort_gc_why's C side (asm.S: gort_gc_why complements the address in its
// own register and jumps here, so that no frame, however instrumented,
// holds a copy of it).
RT_NOINLINE int
rt_gc_why_hidden(uintptr_t hidden)
{
    M *m = rt_m();
    if (m == NULL || m->curg == NULL)
        rt_throw("gort_gc_why: not called on a goroutine");
    uint32_t idle = 0;
    while (!atomic_compare_exchange_weak(&why.busy, &idle, 1)) {
        idle = 0;
        gort_yield();
    }
    why.hidden = hidden;
    // The runtime's frames below gort_gc_why, up to its return address:
    // a word there that holds the address is a register of the caller's,
    // saved by the runtime (describe_stack_word says so).
    uintptr_t *fa = __builtin_frame_address(0);
    why.skip_lo = m->curg->stack_lo;
    why.skip_hi = (uintptr_t)(fa + 2);
    gort_gc();
    int r = why.result;
    why.hidden = 0;
    why.skip_lo = why.skip_hi = 0;
    atomic_store(&why.busy, 0);
    return r;
}
