// arch.h (amd64): the few machine facts the portable runtime uses.
//
// The thread pointer holds the current M. It is read with an asm volatile
// load on every use, never through a C TLS address that the compiler could
// keep in a register across a call: a goroutine may resume on another
// thread after any call that can park.
#ifndef GORT_ARCH_H
#define GORT_ARCH_H

#include <stdint.h>

#define RT_ARCH_AMD64     1
#define RT_ARCH_PTRSIZE   8
#define RT_ARCH_MIN_FRAME 0
#define RT_ARCH_REDZONE   128

// The current M, kept in initial-exec TLS (src/sched/proc.c defines it).
extern __thread void *rt_tls_m __attribute__((tls_model("initial-exec")));

static inline void *
rt_arch_tls_get(void)
{
    void *m;
    __asm__ volatile("movq rt_tls_m@gottpoff(%%rip), %0\n\tmovq %%fs:(%0), %0" : "=r"(m));
    return m;
}

static inline void
rt_arch_tls_set(void *m)
{
    void *tmp;
    __asm__ volatile("movq rt_tls_m@gottpoff(%%rip), %0\n\tmovq %1, %%fs:(%0)"
                     : "=&r"(tmp)
                     : "r"(m)
                     : "memory");
}

static inline void
rt_arch_pause(void)
{
    __asm__ volatile("pause" ::: "memory");
}

static inline uint64_t
rt_arch_cputicks(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline uintptr_t
rt_arch_getsp(void)
{
    uintptr_t sp;
    __asm__ volatile("movq %%rsp, %0" : "=r"(sp));
    return sp;
}

// Context switch (asm.S). A suspended context is a frame of saved registers
// on its own stack (layout in offsets.h); Gobuf holds only its sp.
struct Gobuf;
// Floating-point control state of a thread as the switch code tracks it:
// MXCSR (low 32 bits) and the x87 control word (next 16 bits). Reading
// these registers is slow (stmxcsr is about 13 cycles on Zen), so each M
// remembers what its thread holds: mcall records it, gogo compares the
// resumed context's value with it and loads the registers only on a change.
typedef uint64_t RtArchFPCtl;
// Saves the current context into *save, records the thread's floating-point
// control state in *fpctl, switches to the stack g0sp and calls fn(arg)
// there; fn never returns.
void rt_arch_mcall(struct Gobuf *save, uintptr_t g0sp, void (*fn)(void *), void *arg,
                   RtArchFPCtl *fpctl);
// Resumes the context in *buf (the current context is abandoned); *fpctl
// is the thread's current floating-point control state, updated if changed.
// Not declared noreturn so that callers reach it with a jump (see proc.c).
void rt_arch_gogo(struct Gobuf *buf, RtArchFPCtl *fpctl);
// Reads the thread's floating-point control state (thread start).
static inline RtArchFPCtl
rt_arch_fpctl_read(void)
{
    uint32_t mxcsr;
    uint16_t cw;
    __asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mxcsr), "=m"(cw));
    return (RtArchFPCtl)mxcsr | ((RtArchFPCtl)cw << 32);
}
// Builds the initial frame of a new goroutine on [lo, hi) so that rt_arch_gogo
// enters rt_arch_gostart, which calls fn(arg) and then rt_goexit1().
void rt_arch_gobuf_init(struct Gobuf *buf, uintptr_t hi, void (*fn)(void *), void *arg);
// Entry of the async preemption path; the signal handler makes the
// interrupted code "call" it (asm.S).
void rt_arch_async_preempt(void);
// Return-address trap: a libc function interrupted by a preemption request
// "returns" here instead of to its caller (src/sched/preempt.c). At a return
// point the red zone is dead and the flags are not live, so the stub
// reserves the red zone, pushes 0 (the return slot rt_async_preempt2 fills
// with the saved return address) and enters rt_arch_async_preempt.
void rt_arch_preempt_trap(void);
// Where a function interrupted before it pushed anything keeps its return
// address: at sp on amd64 (the call pushed it there).
static inline uintptr_t *
rt_arch_leaf_ret_slot(uintptr_t sp)
{
    return (uintptr_t *)sp;
}
// True if the bytes just before ret end with a call instruction, as they do
// before every return address: call rel32 (E8), and the indirect calls
// FF /2 with a register, [reg], [reg+disp8], [reg+disp32] or [rip+disp32]
// operand (a REX or notrack prefix comes before them). The 6 bytes before
// ret must be readable.
static inline _Bool
rt_arch_after_call(uintptr_t ret)
{
    const uint8_t *b = (const uint8_t *)ret;
    if (b[-5] == 0xe8)
        return 1;
    if (b[-6] == 0xff && (b[-5] == 0x15 || (b[-5] & 0xf8) == 0x90))
        return 1;
    if (b[-3] == 0xff && (b[-2] & 0xf8) == 0x50 && b[-2] != 0x54)
        return 1;
    if (b[-2] == 0xff &&
        ((b[-1] & 0xf8) == 0xd0 || ((b[-1] & 0xf8) == 0x10 && b[-1] != 0x14 && b[-1] != 0x15)))
        return 1;
    return 0;
}
// Valgrind's client request, its amd64 ABI: valgrind's translator knows the
// four rotations of rdi (128 bits in all: rdi is unchanged) followed by
// xchg rbx, rbx, and answers the request that rax points at (the request
// number, then five arguments) in rdx. Natively the sequence changes
// nothing, and rdx keeps dflt.
static inline uintptr_t
rt_arch_valgrind_request(uintptr_t dflt, const uintptr_t args[6])
{
    uintptr_t r = dflt;
    __asm__ volatile("rolq $3, %%rdi; rolq $13, %%rdi\n\t"
                     "rolq $61, %%rdi; rolq $51, %%rdi\n\t"
                     "xchgq %%rbx, %%rbx"
                     : "+d"(r)
                     : "a"(args)
                     : "cc", "memory");
    return r;
}
// Size of the extended register save area used by rt_arch_async_preempt.
extern uint64_t rt_arch_xsave_size;
extern _Bool rt_arch_have_xsave;
void rt_arch_init(void);

// Register state of an interrupted thread, as the collector and the
// preemption code need it.
#define RT_ARCH_NGREG   16
// Callee-saved registers that gort_syscall_enter records for the collector
// (rbx, rbp, r12-r15; asm.S).
#define RT_ARCH_NCALLEE 6
// The C side of gort_syscall_enter and gort_syscall_enter_block
// (src/sched/syscall.c): regs are the caller's callee-saved registers,
// sp the caller's stack pointer after the call returns.
void rt_entersyscall(const uintptr_t *regs, uintptr_t sp, int block);

#endif // GORT_ARCH_H
