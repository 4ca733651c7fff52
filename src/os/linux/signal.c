// signal.c (Linux): the runtime's signal handlers.
//
// The runtime handles four signals and leaves every other one to the
// program:
//
//   SIGSEGV, SIGBUS  goroutine stack overflow (a fault in the guard zone below
//                    the stack) or any other fault: print Go's report and the
//                    goroutine dump, exit 2. Never returns into the fault.
//   SIGURG           asynchronous preemption (rt_preempt_m): if the thread is
//                    running user code of a goroutine that should yield, the
//                    handler rewrites the signal context so that the code
//                    "calls" rt_arch_async_preempt on return from the handler.
//   SIGQUIT          dump every goroutine and exit 2, as Go does.
//
// Handlers run on a per-M alternate stack (rt_signal_minit), so a goroutine
// that overflowed its stack can still be reported. They use only
// async-signal-safe code: rt_os_write, rt_printf and the traceback printers,
// which neither allocate nor take locks.
//
// Safe points for async preemption: only code of the main executable's
// executable segments outside the runtime's own text. The runtime's text is
// the gort_text section when the runtime is linked into the executable, or
// the whole shared object that holds this file otherwise; libc, ld.so and
// other libraries are separate objects and never safe (they may hold locks).
// A statically linked program (libc inside the executable) or one whose
// runtime text cannot be told apart gets no async preemption. The ranges are
// recorded once at init with dl_iterate_phdr, never in the handler.
#include "core/debugvars.h"
#include "core/traceback.h"
#include "rt.h"
#include "sanitize.h"

#include <errno.h>
#include <link.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

// Section bounds provided by the linker when the runtime is linked with its
// code in a section named gort_text; NULL when there is no such section.
extern char __start_gort_text[] __attribute__((weak, visibility("hidden")));
extern char __stop_gort_text[] __attribute__((weak, visibility("hidden")));

// From src/mem/stack.c.

enum {
    SIGNAL_STACK_SIZE = 64 << 10, // per-M alternate stack, plus a guard page
    MAX_RANGES = 8,
    NIL_LIMIT = 4096, // faults below this address are nil dereferences
    // A fault this close below a thread's g0 stack is that stack's overflow.
    G0_OVERFLOW_WINDOW = 64 << 10,
};

// Room the asynchronous preemption takes below the interrupted sp, past
// the red zone (RT_ARCH_REDZONE), which the interrupted code may be using.
enum {
    ASYNC_RET_SLOT = 8,     // the interrupted pc, pushed as rt_arch_async_preempt's return address
    ASYNC_SAVED_WORDS = 17, // its 16 pushes (flags and 15 registers), and one spare
    ASYNC_C_FRAMES = 1536,  // rt_async_preempt2's C frames, up to its switch to g0
};

typedef struct TextRange {
    uintptr_t lo, hi;
} TextRange;

static struct {
    TextRange exe[MAX_RANGES];  // [const] executable segments of the program
    int nexe;                   // [const]
    TextRange rt[MAX_RANGES];   // [const] the runtime's own text
    int nrt;                    // [const]
    bool rt_known;              // [const] rt[] is trustworthy
    bool have_libc;             // [const] libc is a separate object
    struct sigaction old[NSIG]; // [const] actions before rt_signal_init
} sigs;

static _Atomic int crashing;     // a thread is printing a fatal report
static _Atomic int crashing_tid; // ... this one

static const int rt_sigs[] = {SIGSEGV, SIGBUS, SIGURG, SIGQUIT};

// ---- async-signal-safe printing ---------------------------------------------

static void
pstr(const char *s)
{
    rt_os_write(2, s, strlen(s));
}

static void
phex(uintptr_t v)
{
    char buf[2 + 16];
    int i = (int)sizeof buf;
    do {
        buf[--i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v != 0);
    buf[--i] = 'x';
    buf[--i] = '0';
    rt_os_write(2, buf + i, sizeof buf - (size_t)i);
}

static void
pdec(int64_t v)
{
    char buf[24];
    int i = (int)sizeof buf;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        buf[--i] = '-';
    rt_os_write(2, buf + i, sizeof buf - (size_t)i);
}

static const char *
signame(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV: segmentation violation";
    case SIGBUS:
        return "SIGBUS: bus error";
    case SIGQUIT:
        return "SIGQUIT: quit";
    case SIGURG:
        return "SIGURG: urgent I/O condition";
    default:
        return "signal";
    }
}

// ---- text ranges --------------------------------------------------------------

static bool
in_ranges(const TextRange *r, int n, uintptr_t pc)
{
    for (int i = 0; i < n; i++)
        if (pc >= r[i].lo && pc < r[i].hi)
            return true;
    return false;
}

static int
add_exec_ranges(struct dl_phdr_info *info, TextRange *r, int max)
{
    int n = 0;
    for (int i = 0; i < info->dlpi_phnum && n < max; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        r[n].lo = (uintptr_t)info->dlpi_addr + ph->p_vaddr;
        r[n].hi = r[n].lo + ph->p_memsz;
        n++;
    }
    return n;
}

static bool
object_contains(struct dl_phdr_info *info, uintptr_t addr)
{
    TextRange r[MAX_RANGES];
    int n = add_exec_ranges(info, r, MAX_RANGES);
    return in_ranges(r, n, addr);
}

static bool
has_suffix_part(const char *name, const char *part)
{
    const char *base = strrchr(name, '/');
    base = base != NULL ? base + 1 : name;
    return strncmp(base, part, strlen(part)) == 0;
}

static int
phdr_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    int *idx = data;
    const char *name = info->dlpi_name != NULL ? info->dlpi_name : "";
    if (*idx == 0) {
        // The first object is the main program.
        sigs.nexe = add_exec_ranges(info, sigs.exe, MAX_RANGES);
    } else {
        if (has_suffix_part(name, "libc.so") || has_suffix_part(name, "libc.musl") ||
            has_suffix_part(name, "ld-musl"))
            sigs.have_libc = true;
        if (object_contains(info, (uintptr_t)rt_signal_init)) {
            // The runtime is a shared object of its own: all of it is runtime.
            sigs.nrt = add_exec_ranges(info, sigs.rt, MAX_RANGES);
            sigs.rt_known = true;
        }
    }
    (*idx)++;
    return 0;
}

static void
find_text(void)
{
    int idx = 0;
    dl_iterate_phdr(phdr_cb, &idx);
    uintptr_t start = (uintptr_t)__start_gort_text, stop = (uintptr_t)__stop_gort_text;
    if (!sigs.rt_known && start != 0 && stop > start) {
        sigs.rt[0].lo = start;
        sigs.rt[0].hi = stop;
        sigs.nrt = 1;
        sigs.rt_known = true;
    }
}

bool
rt_async_safe_pc(uintptr_t pc)
{
    if (!sigs.rt_known || !sigs.have_libc)
        return false;
    return in_ranges(sigs.exe, sigs.nexe, pc) && !in_ranges(sigs.rt, sigs.nrt, pc);
}

static bool
in_runtime_pc(uintptr_t pc)
{
    return sigs.rt_known && in_ranges(sigs.rt, sigs.nrt, pc);
}

// ---- fatal reports ------------------------------------------------------------

static void
dumpregs(const ucontext_t *uc)
{
    static const struct {
        const char *name;
        int reg;
    } regs[] = {
            {"rax    ", REG_RAX}, {"rbx    ", REG_RBX}, {"rcx    ", REG_RCX}, {"rdx    ", REG_RDX},
            {"rdi    ", REG_RDI}, {"rsi    ", REG_RSI}, {"rbp    ", REG_RBP}, {"rsp    ", REG_RSP},
            {"r8     ", REG_R8},  {"r9     ", REG_R9},  {"r10    ", REG_R10}, {"r11    ", REG_R11},
            {"r12    ", REG_R12}, {"r13    ", REG_R13}, {"r14    ", REG_R14}, {"r15    ", REG_R15},
            {"rip    ", REG_RIP}, {"rflags ", REG_EFL},
    };
    for (size_t i = 0; i < RT_NELEM(regs); i++) {
        pstr(regs[i].name);
        phex((uintptr_t)uc->uc_mcontext.gregs[regs[i].reg]);
        pstr("\n");
    }
    greg_t csgsfs = uc->uc_mcontext.gregs[REG_CSGSFS];
    pstr("cs     ");
    phex((uintptr_t)csgsfs & 0xffff);
    pstr("\nfs     ");
    phex(((uintptr_t)csgsfs >> 32) & 0xffff);
    pstr("\ngs     ");
    phex(((uintptr_t)csgsfs >> 16) & 0xffff);
    pstr("\n");
}

// Only one thread reports; the others (and a second fault on the reporting
// thread) stop here.
static void
crash_enter(void)
{
    int tid = rt_os_gettid();
    int zero = 0;
    if (atomic_compare_exchange_strong(&crashing, &zero, 1)) {
        atomic_store(&crashing_tid, tid);
        return;
    }
    if (atomic_load(&crashing_tid) == tid) {
        pstr("\nfatal: unexpected signal while printing a fatal error\n");
        rt_exit(2);
    }
    for (;;)
        rt_os_usleep(1000 * 1000); // the reporting thread exits the process
}

RT_NORETURN static void
crash_exit(void)
{
    if (rt_debug.traceback >= 4) {
        // GOTRACEBACK=crash: die by the signal so that a core is dumped.
        rt_os_abort();
    }
    rt_exit(2);
}

// The goroutine dump after a fatal report, starting from the interrupted
// frame. As in Go, runtime failures (throws) show runtime frames; all adds
// every other goroutine.
static void
dump_goroutines(const ucontext_t *uc, bool throw, bool all)
{
    int level = rt_debug.traceback;
    if (throw &&level > TB_NONE && level < TB_SYSTEM)
        level = TB_SYSTEM;
    rt_traceback_dump(level, all, (uintptr_t)uc->uc_mcontext.gregs[REG_RIP],
                      (uintptr_t)uc->uc_mcontext.gregs[REG_RBP]);
}

static void
print_signal_line(int sig, const siginfo_t *info, uintptr_t pc)
{
    pstr("[signal ");
    pstr(signame(sig));
    pstr(" code=");
    phex((uintptr_t)(uint32_t)info->si_code);
    pstr(" addr=");
    phex((uintptr_t)info->si_addr);
    pstr(" pc=");
    phex(pc);
    pstr("]\n");
}

RT_NORETURN static void
fault(int sig, siginfo_t *info, ucontext_t *uc)
{
    crash_enter();
    M *mp = rt_m();
    G *gp = mp != NULL ? RT_LOAD(mp->curg) : NULL;
    uintptr_t addr = (uintptr_t)info->si_addr;
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];

    // A thread gort did not start (one of the program's own pthreads), with
    // no handler of its own from before gort's: not a runtime fault. Go's
    // report of a signal that arrived outside Go code (sighandler on an
    // extra M): the signal, PC, sigcode and address, the goroutines, the
    // registers; m=-1 as there is no M.
    if (mp == NULL) {
        pstr(signame(sig));
        pstr("\nPC=");
        phex(pc);
        pstr(" m=-1 sigcode=");
        pdec(info->si_code);
        pstr(" addr=");
        phex(addr);
        pstr("\nsignal arrived during external code execution\n");
        if (rt_debug.traceback > TB_NONE) {
            dump_goroutines(uc, false, true);
            pstr("\n");
            dumpregs(uc);
        }
        crash_exit();
    }

    // A goroutine ran off its stack (only meaningful if we are on it).
    if (gp != NULL && rt_stack_guard_hit(gp, addr, sp) && sp < gp->stack_hi) {
        pstr("runtime: goroutine stack exceeds ");
        // The mapped size: own mappings keep 16 bytes above stack_hi.
        size_t ps = rt_os_pagesize();
        pdec((int64_t)((gp->stack_hi - gp->stack_lo + ps - 1) & ~(ps - 1)));
        pstr("-byte limit\nruntime: sp=");
        phex(sp);
        pstr(" stack=[");
        phex(gp->stack_lo);
        pstr(", ");
        phex(gp->stack_hi);
        pstr("]\nfatal error: stack overflow\n");
        dump_goroutines(uc, true, true);
        crash_exit();
    }
    // The thread's own (g0) stack.
    if (mp != NULL && mp->g0_stack_lo != 0 && sp < mp->g0_stack_lo &&
        sp + G0_OVERFLOW_WINDOW >= mp->g0_stack_lo) {
        pstr("runtime: g0 stack overflow: sp=");
        phex(sp);
        pstr(" stack=[");
        phex(mp->g0_stack_lo);
        pstr(", ");
        phex(mp->g0_stack_hi);
        pstr("]\nfatal error: stack overflow\n");
        dump_goroutines(uc, true, true);
        crash_exit();
    }

    bool user = gp != NULL && !in_runtime_pc(pc) && sp >= gp->stack_lo && sp < gp->stack_hi;
    bool nilcode = sig == SIGSEGV ? (info->si_code == SEGV_MAPERR || info->si_code == SEGV_ACCERR ||
                                     info->si_code == 0)
                                  : info->si_code == BUS_ADRERR;
    if (!user) {
        pstr("fatal error: unexpected signal during runtime execution\n");
        print_signal_line(sig, info, pc);
        dump_goroutines(uc, true, true);
        crash_exit();
    }
    if (addr < NIL_LIMIT && nilcode) {
        pstr("panic: runtime error: invalid memory address or nil pointer dereference\n");
        print_signal_line(sig, info, pc);
        dump_goroutines(uc, false, false);
        crash_exit();
    }
    pstr("unexpected fault address ");
    phex(addr);
    pstr("\nfatal error: fault\n");
    print_signal_line(sig, info, pc);
    dump_goroutines(uc, true, false);
    crash_exit();
}

RT_NORETURN static void
sigquit(siginfo_t *info, ucontext_t *uc)
{
    crash_enter();
    M *mp = rt_m();
    pstr("SIGQUIT: quit\nPC=");
    phex((uintptr_t)uc->uc_mcontext.gregs[REG_RIP]);
    pstr(" m=");
    pdec(mp != NULL ? mp->id : -1);
    pstr(" sigcode=");
    pdec(info->si_code);
    pstr("\n");
    if (rt_debug.traceback > TB_NONE) {
        dump_goroutines(uc, false, true);
        pstr("\n");
        dumpregs(uc);
    }
    crash_exit();
}

// ---- asynchronous preemption ------------------------------------------------

// Bytes below the interrupted sp that rt_arch_async_preempt and
// rt_async_preempt2 may use: red zone, return pc, saved registers, the
// extended state (with its alignment slack) and the C frames that switch to g0.
static bool
stack_has_room(const G *gp, uintptr_t sp)
{
    uintptr_t need = RT_ARCH_REDZONE + ASYNC_RET_SLOT + ASYNC_SAVED_WORDS * sizeof(uintptr_t) +
                     (uintptr_t)rt_arch_xsave_size + ASYNC_C_FRAMES;
    return sp > gp->stack_lo && sp - gp->stack_lo > need;
}

static void
sigurg(ucontext_t *uc)
{
    M *mp = rt_m();
    if (mp == NULL)
        return;
    rt_signal_done(mp);
    if (RT_TSAN || rt_debug.asyncpreemptoff != 0)
        return;
    G *gp = RT_LOAD(mp->curg);
    if (gp == NULL || !atomic_load_explicit(&gp->preempt, memory_order_relaxed) ||
        atomic_load_explicit(&gp->status, memory_order_relaxed) != G_RUNNING)
        return;
    if (mp->locks != 0 || mp->p == NULL)
        return;
    greg_t *r = uc->uc_mcontext.gregs;
    uintptr_t pc = (uintptr_t)r[REG_RIP];
    uintptr_t sp = (uintptr_t)r[REG_RSP];
    // Running on the goroutine's own stack (not g0, not a nested handler).
    if (sp <= gp->stack_lo || sp > gp->stack_hi || !stack_has_room(gp, sp))
        return;
    if (!rt_async_safe_pc(pc)) {
        // libc or another shared object: preempt when it returns to the
        // program (src/sched/preempt.c). The runtime's own code yields at its
        // entry points.
        if (!in_runtime_pc(pc))
            rt_preempt_trap_arm(gp, pc, sp);
        return;
    }
    rt_preempt_trap_forget(gp, sp);
    // Make the interrupted code "call" rt_arch_async_preempt, past its red zone.
    sp -= RT_ARCH_REDZONE + ASYNC_RET_SLOT;
    *(uintptr_t *)sp = pc;
    r[REG_RSP] = (greg_t)sp;
    r[REG_RIP] = (greg_t)(uintptr_t)rt_arch_async_preempt;
}

// The collector's stop: save the interrupted registers and sleep in the
// handler until the world restarts (rt_gc_suspend).
static void
gc_suspend(M *mp, ucontext_t *uc)
{
    greg_t *r = uc->uc_mcontext.gregs;
    uintptr_t regs[RT_ARCH_NGREG] = {
            (uintptr_t)r[REG_RAX], (uintptr_t)r[REG_RBX], (uintptr_t)r[REG_RCX],
            (uintptr_t)r[REG_RDX], (uintptr_t)r[REG_RSI], (uintptr_t)r[REG_RDI],
            (uintptr_t)r[REG_RBP], (uintptr_t)r[REG_R8],  (uintptr_t)r[REG_R9],
            (uintptr_t)r[REG_R10], (uintptr_t)r[REG_R11], (uintptr_t)r[REG_R12],
            (uintptr_t)r[REG_R13], (uintptr_t)r[REG_R14], (uintptr_t)r[REG_R15],
            (uintptr_t)r[REG_RIP],
    };
    // A preemption request may have been folded into this signal: let
    // sysmon ask again later.
    rt_signal_done(mp);
    rt_gc_suspend(mp, (uintptr_t)r[REG_RSP], regs);
}

void
rt_signal_gc_suspend(M *mp)
{
    int tid = mp != NULL ? RT_LOAD(mp->tid) : 0; // set by the M itself at start
    if (tid != 0)
        rt_os_tgkill(tid, SIGURG);
}

void
rt_preempt_m(M *mp)
{
    int tid = mp != NULL ? RT_LOAD(mp->tid) : 0; // set by the M itself at start
    if (RT_TSAN || rt_debug.asyncpreemptoff != 0 || tid == 0)
        return;
    uint32_t zero = 0;
    if (!atomic_compare_exchange_strong(&mp->preempt_pending, &zero, 1))
        return;
    if (rt_os_tgkill(tid, SIGURG) != 0)
        atomic_store(&mp->preempt_pending, 0);
}

// ---- handler and installation -------------------------------------------------

// Passes a signal we do not want to the action that was installed before us.
// Returns false if there was none worth calling.
static bool
forward(int sig, siginfo_t *info, void *ctx)
{
    const struct sigaction *sa = &sigs.old[sig];
    if (sa->sa_flags & SA_SIGINFO) {
        if (sa->sa_sigaction == NULL)
            return false;
        sa->sa_sigaction(sig, info, ctx);
        return true;
    }
    if (sa->sa_handler == SIG_DFL || sa->sa_handler == SIG_IGN)
        return false;
    sa->sa_handler(sig);
    return true;
}

static void
sighandler(int sig, siginfo_t *info, void *ctx)
{
    int saved_errno = errno;
    ucontext_t *uc = ctx;
    switch (sig) {
    case SIGURG:
        if (rt_m() == NULL)
            forward(sig, info, ctx);
        else if (atomic_load_explicit(&rt_m()->gc_suspend_req, memory_order_acquire))
            gc_suspend(rt_m(), uc);
        else
            sigurg(uc);
        break;
    case SIGQUIT:
        sigquit(info, uc);
        break;
    case SIGSEGV:
    case SIGBUS:
        // A thread the runtime does not run (a user pthread) keeps its
        // previous handler, if it had one.
        if (rt_m() == NULL && forward(sig, info, ctx))
            break;
        fault(sig, info, uc);
        break;
    default:
        break;
    }
    errno = saved_errno;
}

// The signal mask of the thread that booted, before gort changed anything:
// every M's mask, less gort's own signals. [const] after rt_signal_init
static sigset_t boot_sigmask;

void
rt_signal_init(void)
{
    find_text();
    if (pthread_sigmask(SIG_SETMASK, NULL, &boot_sigmask) != 0)
        rt_throw("signal: pthread_sigmask failed");
    // Async preemption is off under Valgrind, as with GODEBUG=asyncpreemptoff=1:
    // "calling" rt_arch_async_preempt writes below the interrupted sp, which
    // memcheck rightly reports, and the return trap reads the word at a
    // libc function's sp, which memcheck may see as uninitialised. Loops
    // without calls then spin as in Go with asyncpreemptoff=1; gort's entry
    // points still preempt.
    if (rt_valgrind_running())
        rt_debug.asyncpreemptoff = 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = sighandler;
    for (size_t i = 0; i < RT_NELEM(rt_sigs); i++) {
        int sig = rt_sigs[i];
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
        sigfillset(&sa.sa_mask);
        if (sig == SIGSEGV || sig == SIGBUS) {
            // A fault inside the handler re-enters it (crash_enter stops it)
            // instead of killing the process silently.
            sa.sa_flags |= SA_NODEFER;
            sigdelset(&sa.sa_mask, SIGSEGV);
            sigdelset(&sa.sa_mask, SIGBUS);
        }
        if (sigaction(sig, &sa, &sigs.old[sig]) != 0)
            rt_throw("signal: sigaction failed");
    }
}

void
rt_signal_minit(M *mp)
{
    size_t ps = rt_os_pagesize();
    if (mp->signal_stack == NULL) {
        char *p = rt_os_map(SIGNAL_STACK_SIZE + ps);
        if (p == NULL)
            rt_throw("signal: cannot allocate the signal stack");
        rt_os_guard(p, ps); // best effort: a guard below, where the handler would overflow
        mp->signal_stack = p;
    }
    stack_t st;
    memset(&st, 0, sizeof st);
    st.ss_sp = (char *)mp->signal_stack + ps;
    st.ss_size = SIGNAL_STACK_SIZE;
    if (sigaltstack(&st, NULL) != 0)
        rt_throw("signal: sigaltstack failed");
    // The thread takes the mask the program had at boot, less the signals
    // gort needs (Go's initSigmask): new threads start with everything
    // blocked (rt_os_newosproc), and a process-directed SIGTERM or SIGINT
    // must find a thread that takes it, and a child started from a
    // goroutine must inherit the program's mask, not gort's.
    sigset_t set = boot_sigmask;
    for (size_t i = 0; i < RT_NELEM(rt_sigs); i++)
        sigdelset(&set, rt_sigs[i]);
    if (pthread_sigmask(SIG_SETMASK, &set, NULL) != 0)
        rt_throw("signal: pthread_sigmask failed");
}
