// traceback.c: goroutine dumps in Go's format.
//
//   goroutine 5 [chan receive, 2 minutes]:
//   gort_chan_recv(...)
//   	/path/to/prog +0x4a
//   worker(...)
//   	/work/app/worker.c:17 +0x2d
//   created by main in goroutine 1
//   	/work/app/main.c:40 +0x88
//
// Stacks are walked through the frame-pointer chain (gort is built with
// -fno-omit-frame-pointer; user code compiled without it shows fewer
// frames). Each step must move strictly up the stack, stay inside the
// stack's bounds and be 8-aligned, so a corrupt chain ends the walk rather
// than faulting; at most MAX_FRAMES frames are printed. A parked goroutine
// starts from its saved context (offsets.h: rbp at CTX_RBP, return address at
// CTX_RET above gp->sched.sp).
//
// Names come from the loaded objects' symbol tables (src/os/linux/symtab.c,
// through rt_os_sym_*). When the object has a line table the location line is
// "file.c:LINE +0xOFF" as in Go; otherwise "<object path> +0xOFF", the offset
// of the pc into its function. No malloc, no locks: this runs in crash paths
// and signal handlers.
//
// Hiding runtime frames (GOTRACEBACK below system), as Go hides runtime.*:
// a frame is the runtime's if its pc is in section gort_text (all runtime
// code, cmake/gort_text.ld) or in libgort.so, or its function is named rt_*.
// gort_* API frames are shown, as Go shows "panic(...)".
#include "core/traceback.h"

#include "core/debugvars.h"
#include "offsets.h"

enum { MAX_FRAMES = 100 };

// ---- Frames -----------------------------------------------------------------

// The runtime's code: all of it is in section gort_text (cmake/gort_text.ld,
// which defines these bounds); both are NULL in a build without that link
// step, and then only the rt_ prefix identifies runtime frames.
extern char __start_gort_text[] __attribute__((weak, visibility("hidden")));
extern char __stop_gort_text[] __attribute__((weak, visibility("hidden")));

// Whether the frame at pc is the runtime's (hidden below TB_SYSTEM). The
// gort_* API functions are shown, as Go shows "panic(...)": the call the user
// made into the runtime.
static bool
runtime_frame(const Sym *s, uintptr_t pc)
{
    const char *name = s->name ? s->name : "";
    if (rt_str_has_prefix(name, "rt_") || rt_str_has_prefix(name, "rt0_") ||
        rt_str_has_prefix(name, "_rt0_") || rt_str_eq(name, "gort_rt0_go"))
        return true;
    if (rt_str_has_prefix(name, "gort_"))
        return false;
    uintptr_t lo = (uintptr_t)__start_gort_text, hi = (uintptr_t)__stop_gort_text;
    if (lo != 0 && pc >= lo && pc < hi)
        return true;
    return s->obj && s->is_gort;
}

// Prints the location line of pc: "\tfile:line +0xoff" or
// "\t<object> +0xoff". lookup_pc is pc - 1 for return addresses, so the
// line is that of the call.
static void
print_location(const Sym *s, uintptr_t pc, uintptr_t lookup_pc, uintptr_t fp, int level)
{
    const char *dir = NULL, *file = NULL;
    uint64_t line = 0;
    uintptr_t off = s->name ? pc - s->entry : 0;
    if (rt_os_sym_line(s, lookup_pc, &dir, &file, &line)) {
        if (dir && file[0] != '/')
            rt_printf("\t%s/%s:%lu +0x%lx", dir, file, (unsigned long)line, (unsigned long)off);
        else
            rt_printf("\t%s:%lu +0x%lx", file, (unsigned long)line, (unsigned long)off);
    } else if (s->obj && s->name) {
        rt_printf("\t%s +0x%lx", s->path, (unsigned long)off);
    } else if (s->obj) {
        // No symbol: the object-relative address, for addr2line.
        rt_printf("\t%s @0x%lx", s->path, (unsigned long)(pc - s->bias));
    } else {
        rt_printf("\t?:0 pc=%p", (void *)pc);
    }
    if (level >= TB_SYSTEM)
        rt_printf(" fp=%p pc=%p", (void *)fp, (void *)pc);
    rt_printf("\n");
}

// Prints one frame unless hidden. Returns whether it was shown.
static int nshown; // [owner] the dumping thread: frames shown by the current walk
static bool
print_frame(uintptr_t pc, bool exact, uintptr_t fp, int level)
{
    uintptr_t lpc = exact ? pc : pc - 1;
    Sym s = rt_os_sym_func(lpc);
    if (level < TB_SYSTEM && runtime_frame(&s, lpc))
        return false;
    if (s.name)
        rt_printf("%s(...)\n", s.name);
    else
        rt_printf("?()\n");
    print_location(&s, pc, lpc, fp, level);
    nshown++;
    return true;
}

static bool
frame_ok(uintptr_t fp, uintptr_t prev, uintptr_t lo, uintptr_t hi)
{
    return fp > prev && (fp & 7) == 0 && fp >= lo && fp + 16 <= hi;
}

// ---- Naming addresses ------------------------------------------------------

void
rt_traceback_print_func(uintptr_t pc, bool exact)
{
    uintptr_t lpc = exact ? pc : pc - 1;
    Sym s = rt_os_sym_func(lpc);
    const char *dir = NULL, *file = NULL;
    uint64_t line = 0;
    rt_printf("%s", s.name ? s.name : "?");
    if (rt_os_sym_line(&s, lpc, &dir, &file, &line)) {
        if (dir && file[0] != '/')
            rt_printf(" at %s/%s:%lu", dir, file, (unsigned long)line);
        else
            rt_printf(" at %s:%lu", file, (unsigned long)line);
    } else if (s.obj) {
        rt_printf(" in %s", s.path);
    }
}

bool
rt_traceback_print_data(uintptr_t addr)
{
    Sym s;
    if (!rt_os_sym_data(addr, &s))
        return false;
    if (s.name)
        rt_printf("%s+0x%lx in %s", s.name, (unsigned long)(addr - s.entry), s.path);
    else
        rt_printf("%s @0x%lx", s.path, (unsigned long)(addr - s.bias));
    return true;
}

bool
rt_traceback_print_frame_of(uintptr_t pc, uintptr_t fp, uintptr_t lo, uintptr_t hi, uintptr_t slot)
{
    bool exact = true;
    uintptr_t below = lo; // the frame of pc's function is [below, fp + 16)
    for (int n = 0; n < MAX_FRAMES * 10 && pc != 0; n++) {
        if (slot < below || !frame_ok(fp, below > 16 ? below - 16 : 0, lo, hi))
            return false;
        if (slot >= fp + 16) {
            below = fp + 16;
            pc = ((uintptr_t *)fp)[1];
            fp = ((uintptr_t *)fp)[0];
            exact = false;
            continue;
        }
        rt_printf("in the frame of ");
        rt_traceback_print_func(pc, exact);
        // The word may be a register the function saved for its caller:
        // name the callers up to the first of the program's own frames.
        for (int k = 0; k < 8; k++) {
            uintptr_t lpc = exact ? pc : pc - 1;
            Sym s = rt_os_sym_func(lpc);
            if (!runtime_frame(&s, lpc) && !(s.name && rt_str_has_prefix(s.name, "gort_")))
                break;
            uintptr_t nfp = ((uintptr_t *)fp)[0];
            pc = ((uintptr_t *)fp)[1];
            exact = false;
            if (pc == 0)
                break;
            rt_printf(", called from ");
            rt_traceback_print_func(pc, false);
            if (!frame_ok(nfp, fp, lo, hi))
                break;
            fp = nfp;
        }
        return true;
    }
    return false;
}

// Walks the frame-pointer chain from (pc, fp) within [lo, hi). Frame layout
// (SysV with frame pointers): [fp] = caller's fp, [fp+8] = return address.
static void
walk(uintptr_t pc, uintptr_t fp, bool exact, uintptr_t lo, uintptr_t hi, int level)
{
    print_frame(pc, exact, fp, level);
    if ((fp & 7) != 0 || fp < lo || fp + 16 > hi)
        return;
    for (int n = 1; n < MAX_FRAMES; n++) {
        uintptr_t nfp = ((uintptr_t *)fp)[0];
        pc = ((uintptr_t *)fp)[1];
        if (pc < 4096)
            return; // 0 (the end) or a sentinel: no code is mapped there
        // pc is a real return address even when its function keeps no frame
        // pointer; only the step beyond it needs a valid nfp.
        bool more = nfp != 0 && frame_ok(nfp, fp, lo, hi);
        print_frame(pc, false, more ? nfp : 0, level);
        if (!more)
            return;
        fp = nfp;
    }
    rt_printf("...additional frames elided...\n");
}

static void
print_header(G *gp, int level)
{
    uint32_t st = atomic_load_explicit(&gp->status, memory_order_relaxed);
    const char *status;
    switch (st) {
    case G_IDLE:
        status = "idle";
        break;
    case G_RUNNABLE:
        status = "runnable";
        break;
    case G_RUNNING:
        status = "running";
        break;
    case G_SYSCALL:
        status = "syscall";
        break;
    case G_WAITING:
        status = gp->waitreason != WAIT_ZERO ? rt_waitreason_str(gp->waitreason) : "waiting";
        break;
    case G_DEAD:
        status = "dead";
        break;
    case G_PREEMPTED:
        status = "preempted";
        break;
    default:
        status = "???";
        break;
    }
    rt_printf("goroutine %ld", (long)gp->goid);
    if (level >= TB_SYSTEM) {
        M *mp = gp->m;
        if (mp)
            rt_printf(" gp=%p m=%ld mp=%p", (void *)gp, (long)mp->id, (void *)mp);
        else
            rt_printf(" gp=%p m=nil", (void *)gp);
    }
    rt_printf(" [%s", status);
    if ((st == G_WAITING || st == G_SYSCALL) && gp->waitsince != 0) {
        int64_t mins = (rt_nanotime() - gp->waitsince) / 60000000000LL;
        if (mins >= 1)
            rt_printf(", %ld minutes", (long)mins);
    }
    rt_printf("]:\n");
}

static void
print_createdby(G *gp, int level)
{
    if (gp->gopc == 0 || gp->goid == 1)
        return;
    Sym s = rt_os_sym_func(gp->gopc - 1);
    if (level < TB_SYSTEM && runtime_frame(&s, gp->gopc - 1))
        return;
    rt_printf("created by %s", s.name ? s.name : "?");
    if (gp->parent_goid != 0)
        rt_printf(" in goroutine %ld", (long)gp->parent_goid);
    rt_printf("\n");
    print_location(&s, gp->gopc, gp->gopc - 1, 0, level < TB_SYSTEM ? level : TB_ALL);
}

void
rt_traceback_frames(G *gp, uintptr_t pc, uintptr_t fp, bool exact_pc, int level)
{
    uintptr_t lo, hi;
    uintptr_t sp = rt_arch_getsp();
    M *mp = rt_m();
    if (gp) {
        print_header(gp, level);
        lo = gp->stack_lo;
        hi = gp->stack_hi;
    } else {
        rt_printf("runtime stack:\n");
        lo = mp ? mp->g0_stack_lo : 0;
        hi = mp ? mp->g0_stack_hi : 0;
    }
    if (!(fp >= lo && fp < hi)) {
        // Unknown bounds (before boot, or a thread we did not record):
        // accept a window above the frame itself.
        lo = fp < sp ? fp : sp;
        hi = lo + ((uintptr_t)64 << 20);
    }
    nshown = 0;
    walk(pc, fp, exact_pc, lo, hi, level);
    if (gp && nshown == 0 && gp->fn) {
        // Every frame was hidden or tail-called away (a goroutine whose entry
        // function tail-calls into gort): name the entry function at least.
        Sym s = rt_os_sym_func((uintptr_t)gp->fn);
        if (s.name && !runtime_frame(&s, (uintptr_t)gp->fn)) {
            rt_printf("%s(...)\n", s.name);
            print_location(&s, (uintptr_t)gp->fn, (uintptr_t)gp->fn, 0, level);
        }
    }
    if (gp)
        print_createdby(gp, level);
}

// Walks a goroutine that is not running: from its saved context.
static void
traceback_saved(G *gp, int level)
{
    uintptr_t sp = gp->sched.sp;
    if (!gp->started || sp == 0) {
        print_header(gp, level);
        Sym s = rt_os_sym_func((uintptr_t)gp->fn);
        if (s.name)
            rt_printf("%s(...)\n", s.name);
        else
            rt_printf("?()\n");
        print_location(&s, (uintptr_t)gp->fn, (uintptr_t)gp->fn, 0, level);
        print_createdby(gp, level);
        return;
    }
    if (sp < gp->stack_lo || sp + CTX_SIZE > gp->stack_hi) {
        print_header(gp, level);
        rt_printf("\tstack unavailable (sp=%p outside [%p, %p))\n", (void *)sp,
                  (void *)gp->stack_lo, (void *)gp->stack_hi);
        print_createdby(gp, level);
        return;
    }
    uintptr_t fp = *(uintptr_t *)(sp + CTX_RBP);
    uintptr_t pc = *(uintptr_t *)(sp + CTX_RET);
    rt_traceback_frames(gp, pc, fp, false, level);
}

static bool
on_stack(G *gp, uintptr_t sp)
{
    return gp && sp >= gp->stack_lo && sp < gp->stack_hi;
}

static void
traceback_g_level(G *gp, int level)
{
    M *mp = rt_m();
    uint32_t st = atomic_load_explicit(&gp->status, memory_order_relaxed);
    uintptr_t sp = rt_arch_getsp();
    if (on_stack(gp, sp)) {
        // Ourselves: start at our caller's frame.
        uintptr_t *fp = __builtin_frame_address(0);
        rt_traceback_frames(gp, fp[1], fp[0], false, level);
        return;
    }
    if (st == G_SYSCALL && !(mp && gp->m == mp) && gp->syscallsp > gp->stack_lo &&
        gp->syscallsp < gp->stack_hi) {
        // In a system call on another thread: from the caller's frame at
        // gort_syscall_enter (its pc and frame pointer, saved there). The
        // walk stays within the stack's bounds if the goroutine moves on.
        rt_traceback_frames(gp, gp->syscallpc, gp->syscallregs[1], false, level);
        return;
    }
    if (st == G_RUNNING || st == G_SYSCALL) {
        // The current M's own curg while we run on g0 was saved by mcall.
        if (!(mp && gp->m == mp && mp->curg == gp && gp->sched.sp >= gp->stack_lo &&
              gp->sched.sp < gp->stack_hi)) {
            print_header(gp, level);
            rt_printf("\tgoroutine running on other thread; stack unavailable\n");
            print_createdby(gp, level);
            return;
        }
    }
    traceback_saved(gp, level);
}

void
rt_traceback_g(G *gp)
{
    traceback_g_level(gp, rt_debug.traceback);
}

RT_NOINLINE void
rt_traceback_current(void)
{
    M *mp = rt_m();
    G *gp = mp ? mp->curg : NULL;
    uintptr_t *fp = __builtin_frame_address(0);
    if (!on_stack(gp, rt_arch_getsp()))
        gp = NULL; // on g0 or a signal stack
    rt_traceback_frames(gp, fp[1], fp[0], false, rt_debug.traceback);
}

static void
traceback_other(G *gp, G *except, int level)
{
    uint32_t st = atomic_load_explicit(&gp->status, memory_order_relaxed);
    if (gp == except || st == G_DEAD || st == G_IDLE)
        return;
    if (gp->is_system && level < TB_SYSTEM)
        return;
    rt_printf("\n");
    traceback_g_level(gp, level);
}

// Prints every goroutine but except, oldest first as Go does. rt_allg is
// pushed at its head, so the list runs newest first: without memory to
// reverse it, each pass walks a snapshot of the list to collect the next
// ALLG_CHUNK entries from its tail into a stack buffer (O(n^2 / ALLG_CHUNK)
// pointer steps, small next to symbolizing n stacks).
//
// No rt_allglock: this is a crash path and the lock may be held by the
// failing thread. Gs are never freed and a G's alllink is set before it is
// published at the head, so the snapshot's chain never changes under us.
enum { ALLG_CHUNK = 256 };

static void
traceback_all_level(G *except, int level)
{
    G *head = rt_allg;
    size_t n = 0;
    for (G *gp = head; gp; gp = gp->alllink)
        n++;
    G *buf[ALLG_CHUNK];
    size_t end = n; // print positions [0, end) still to go, from the tail
    while (end > 0) {
        size_t start = end > ALLG_CHUNK ? end - ALLG_CHUNK : 0;
        size_t pos = 0;
        G *gp = head;
        for (; gp && pos < start; pos++)
            gp = gp->alllink;
        size_t k = 0;
        for (; gp && pos < end; pos++, gp = gp->alllink)
            buf[k++] = gp;
        while (k > 0)
            traceback_other(buf[--k], except, level);
        end = start;
    }
}

void
rt_traceback_all(G *except)
{
    traceback_all_level(except, rt_debug.traceback);
}

// Every section of a dump is preceded by a blank line, as in Go:
// "fatal error: msg\n" "\n" "goroutine 1 [running]:\n" ... "\n" "goroutine 5 ...".
RT_NOINLINE void
rt_traceback_dump(int level, bool all, uintptr_t ctx_pc, uintptr_t ctx_fp)
{
    M *mp = rt_m();
    G *gp = mp ? mp->curg : NULL;
    uintptr_t pc, fp;
    bool exact;
    if (ctx_pc != 0) {
        pc = ctx_pc;
        fp = ctx_fp;
        exact = true;
        if (!(gp && ctx_fp >= gp->stack_lo && ctx_fp < gp->stack_hi))
            gp = NULL;
    } else {
        uintptr_t *f = __builtin_frame_address(0);
        pc = f[1];
        fp = f[0];
        exact = false;
        if (!on_stack(gp, rt_arch_getsp()))
            gp = NULL;
    }
    if (gp == NULL)
        all = true; // a failure on g0 or a signal stack: show every goroutine
    if (gp != NULL || level >= TB_SYSTEM) {
        rt_printf("\n");
        rt_traceback_frames(gp, pc, fp, exact, level);
    }
    if (gp == NULL && mp && mp->curg && (level >= TB_SYSTEM || !mp->curg->is_system)) {
        // Failing on g0: the M's goroutine next, from its saved context.
        gp = mp->curg;
        rt_printf("\n");
        traceback_g_level(gp, level);
    }
    if (all)
        traceback_all_level(gp, level);
}
