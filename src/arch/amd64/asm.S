// asm.S (amd64): context switch, goroutine start and async preemption.
//
// A suspended context is 64 bytes on its own stack (offsets.h):
//   sp+0  mxcsr, x87 control word    sp+32 r12
//   sp+8  r15                        sp+40 rbx
//   sp+16 r14                        sp+48 rbp
//   sp+24 r13                        sp+56 return address
// Only what the SysV ABI makes callee-saved is saved; everything else is
// dead across the call that switched. No signal mask is touched.

#include "offsets.h"

	.text

// void rt_arch_mcall(Gobuf *save, uintptr_t g0sp, void (*fn)(void *), void *arg,
//                    RtArchFPCtl *fpctl)
	.globl	rt_arch_mcall
	.hidden	rt_arch_mcall
	.type	rt_arch_mcall, @function
	.p2align 4
rt_arch_mcall:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbp, -16
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbx, -24
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_offset r12, -32
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_offset r13, -40
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_offset r14, -48
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_offset r15, -56
	pushq	$0
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	// *fpctl = the same, each load reading back exactly one store.
	movl	(%rsp), %eax
	movl	%eax, (%r8)
	movzwl	4(%rsp), %eax
	movw	%ax, 4(%r8)
	movq	%rsp, GOBUF_SP(%rdi)
	movq	%rsi, %rsp
	// On g0 now: nothing above this frame to unwind to.
	.cfi_undefined rip
	movq	%rcx, %rdi
	xorl	%ebp, %ebp
	// The goroutine's registers are saved above; clear them, so that its
	// pointers do not live on in g0's registers (saved for the collector
	// when this thread is stopped) or in g0 frames that save them: a
	// stale copy there kept a dropped list alive for a cycle.
	xorl	%ebx, %ebx
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	// Enter fn with a zero return address, by a jump: a call would push a
	// return-stack predictor entry that the next resumed goroutine's first
	// return would then mispredict on (proc.c, schedule).
	pushq	$0
	jmpq	*%rdx
	.cfi_endproc
	.size	rt_arch_mcall, .-rt_arch_mcall

// void rt_arch_gogo(Gobuf *buf, RtArchFPCtl *fpctl)  (noreturn)
	.globl	rt_arch_gogo
	.hidden	rt_arch_gogo
	.type	rt_arch_gogo, @function
	.p2align 4
rt_arch_gogo:
	.cfi_startproc
	movq	GOBUF_SP(%rdi), %rsp
	// From here the frame is the resumed context's 64-byte save area.
	.cfi_def_cfa rsp, 64
	.cfi_offset rip, -8
	.cfi_offset rbp, -16
	.cfi_offset rbx, -24
	.cfi_offset r12, -32
	.cfi_offset r13, -40
	.cfi_offset r14, -48
	.cfi_offset r15, -56
	// Load MXCSR and the x87 control word only if the resumed context's
	// differ from what this thread holds (*fpctl): both loads are slow and
	// almost every context has the defaults.
	movl	(%rsi), %eax
	cmpl	(%rsp), %eax
	je	1f
	ldmxcsr	(%rsp)
	movl	(%rsp), %eax
	movl	%eax, (%rsi)
1:	movzwl	4(%rsi), %eax
	cmpw	4(%rsp), %ax
	je	2f
	fldcw	4(%rsp)
	movzwl	4(%rsp), %eax
	movw	%ax, 4(%rsi)
2:	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore rbp
	retq
	.cfi_endproc
	.size	rt_arch_gogo, .-rt_arch_gogo

// int gort_gc_why(const void *p) (src/gc/why.c): complements p in its own
// register and jumps to the C side, so that no frame holds a copy of p for
// the collection to find (an instrumented C prologue would save it).
	.globl	gort_gc_why
	.type	gort_gc_why, @function
	.p2align 4
gort_gc_why:
	.cfi_startproc
	notq	%rdi
	// Zero the 2 KiB of dead stack below, inside a frame of our own (no
	// signal frame can be there), where the C side's frame will be: its
	// slots must not hold older frames' pointers.
	movq	%rdi, %rsi
	subq	$2048, %rsp
	.cfi_adjust_cfa_offset 2048
	movq	%rsp, %rdi
	movl	$256, %ecx
	xorl	%eax, %eax
	rep stosq
	addq	$2048, %rsp
	.cfi_adjust_cfa_offset -2048
	movq	%rsi, %rdi
	jmp	rt_gc_why_hidden
	.cfi_endproc
	.size	gort_gc_why, .-gort_gc_why

// First code of every goroutine: r12 = fn, r13 = arg (restored by gogo).
	.globl	rt_arch_gostart
	.hidden	rt_arch_gostart
	.type	rt_arch_gostart, @function
	.p2align 4
rt_arch_gostart:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	movq	%r13, %rdi
	callq	*%r12
	callq	rt_goexit1
	ud2
	.cfi_endproc
	.size	rt_arch_gostart, .-rt_arch_gostart

// rt_arch_async_preempt: entered from a signal handler that pushed the
// interrupted pc below the 128-byte red zone (see signal.c), as if the
// interrupted code had called it. Saves every register, calls
// rt_async_preempt2 (which may switch goroutines), restores, and returns
// past the red zone with "ret $128".
	.globl	rt_arch_async_preempt
	.hidden	rt_arch_async_preempt
	.type	rt_arch_async_preempt, @function
	.p2align 4
rt_arch_async_preempt:
	.cfi_startproc
	// The caller's frame is the interrupted code's: its sp is past the
	// red zone this routine returns over (CFA = rsp + 8 + 128).
	.cfi_def_cfa_offset 136
	.cfi_offset rip, -136
	pushfq
	.cfi_adjust_cfa_offset 8
	pushq	%rax
	.cfi_adjust_cfa_offset 8
	.cfi_offset rax, -152
	pushq	%rcx
	.cfi_adjust_cfa_offset 8
	.cfi_offset rcx, -160
	pushq	%rdx
	.cfi_adjust_cfa_offset 8
	.cfi_offset rdx, -168
	pushq	%rsi
	.cfi_adjust_cfa_offset 8
	.cfi_offset rsi, -176
	pushq	%rdi
	.cfi_adjust_cfa_offset 8
	.cfi_offset rdi, -184
	pushq	%r8
	.cfi_adjust_cfa_offset 8
	.cfi_offset r8, -192
	pushq	%r9
	.cfi_adjust_cfa_offset 8
	.cfi_offset r9, -200
	pushq	%r10
	.cfi_adjust_cfa_offset 8
	.cfi_offset r10, -208
	pushq	%r11
	.cfi_adjust_cfa_offset 8
	.cfi_offset r11, -216
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbx, -224
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_offset rbp, -232
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_offset r12, -240
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_offset r13, -248
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_offset r14, -256
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_offset r15, -264
	movq	%rsp, %rbx		// rbx: callee-saved, holds the GPR frame
	.cfi_def_cfa_register rbx
	subq	rt_arch_xsave_size(%rip), %rsp
	andq	$-64, %rsp
	cmpb	$0, rt_arch_have_xsave(%rip)
	je	1f
	// XRSTOR needs the header's reserved bytes zero; XSAVE leaves them.
	xorl	%eax, %eax
	movq	%rax, 512(%rsp)
	movq	%rax, 520(%rsp)
	movq	%rax, 528(%rsp)
	movq	%rax, 536(%rsp)
	movq	%rax, 544(%rsp)
	movq	%rax, 552(%rsp)
	movq	%rax, 560(%rsp)
	movq	%rax, 568(%rsp)
	movl	$-1, %eax
	movl	$-1, %edx
	xsave64	(%rsp)
	jmp	2f
1:	fxsave64 (%rsp)
2:	cld
	leaq	128(%rbx), %rdi		// the slot of the return pc, above the 16 saved words
	callq	rt_async_preempt2
	cmpb	$0, rt_arch_have_xsave(%rip)
	je	3f
	movl	$-1, %eax
	movl	$-1, %edx
	xrstor64 (%rsp)
	jmp	4f
3:	fxrstor64 (%rsp)
4:	movq	%rbx, %rsp
	.cfi_def_cfa_register rsp
	popq	%r15
	.cfi_adjust_cfa_offset -8
	popq	%r14
	.cfi_adjust_cfa_offset -8
	popq	%r13
	.cfi_adjust_cfa_offset -8
	popq	%r12
	.cfi_adjust_cfa_offset -8
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	popq	%r11
	.cfi_adjust_cfa_offset -8
	popq	%r10
	.cfi_adjust_cfa_offset -8
	popq	%r9
	.cfi_adjust_cfa_offset -8
	popq	%r8
	.cfi_adjust_cfa_offset -8
	popq	%rdi
	.cfi_adjust_cfa_offset -8
	popq	%rsi
	.cfi_adjust_cfa_offset -8
	popq	%rdx
	.cfi_adjust_cfa_offset -8
	popq	%rcx
	.cfi_adjust_cfa_offset -8
	popq	%rax
	.cfi_adjust_cfa_offset -8
	popfq
	.cfi_adjust_cfa_offset -8
	retq	$128
	.cfi_endproc
	.size	rt_arch_async_preempt, .-rt_arch_async_preempt

// rt_arch_preempt_trap: reached by a "ret" whose return address the SIGURG
// handler redirected (see preempt.c). rsp is the caller's, just after its
// call; the caller's red zone holds nothing live across a call, so it is
// skipped as rt_arch_async_preempt's "ret $128" expects, and the return
// slot is pushed as 0 for rt_async_preempt2 to fill. lea and push leave the
// flags and every register alone.
	.globl	rt_arch_preempt_trap
	.hidden	rt_arch_preempt_trap
	.type	rt_arch_preempt_trap, @function
	.p2align 4
rt_arch_preempt_trap:
	.cfi_startproc
	leaq	-128(%rsp), %rsp
	pushq	$0
	jmp	rt_arch_async_preempt
	.cfi_endproc
	.size	rt_arch_preempt_trap, .-rt_arch_preempt_trap

// gort_syscall_enter / gort_syscall_enter_block: store the caller's
// callee-saved registers in a 48-byte array on this stack and call
// rt_entersyscall(regs, caller_sp, block), which copies them into the G:
// a goroutine in a system call is scanned by the collector from there and
// from the caller's sp up, while its thread goes on in the kernel or libc.
	.globl	gort_syscall_enter
	.type	gort_syscall_enter, @function
	.p2align 4
gort_syscall_enter:
	.cfi_startproc
	xorl	%edx, %edx
	jmp	1f
	.cfi_endproc
	.size	gort_syscall_enter, .-gort_syscall_enter

	.globl	gort_syscall_enter_block
	.type	gort_syscall_enter_block, @function
	.p2align 4
gort_syscall_enter_block:
	.cfi_startproc
	movl	$1, %edx
1:	subq	$56, %rsp
	.cfi_adjust_cfa_offset 56
	movq	%rbx, 0(%rsp)
	movq	%rbp, 8(%rsp)
	movq	%r12, 16(%rsp)
	movq	%r13, 24(%rsp)
	movq	%r14, 32(%rsp)
	movq	%r15, 40(%rsp)
	movq	%rsp, %rdi
	leaq	64(%rsp), %rsi
	callq	rt_entersyscall
	addq	$56, %rsp
	.cfi_adjust_cfa_offset -56
	retq
	.cfi_endproc
	.size	gort_syscall_enter_block, .-gort_syscall_enter_block

	.section .note.GNU-stack,"",@progbits
