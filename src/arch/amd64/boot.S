// boot.S (amd64): the runtime's boot sequence, in Go's order.
//
// int gort_rt0_go(int argc, char **argv, char **envp, int (*main)(int, char **, char **))
//
// Called on the main thread's stack by rt0 once libc is initialised. As Go's
// rt0_go: record the arguments (rt_args: argv, envp, auxv), learn the OS
// (rt_osinit: CPUs, page size), initialise the scheduler (rt_schedinit:
// allocator, GC, GODEBUG, Ps), create goroutine 1 to run rt_main (which
// starts sysmon and then calls main), and enter the scheduler on this thread
// as m0 (rt_mstart, which does not return). GODEBUG=boottrace=1 shows each
// step.

	.text
	.globl	gort_rt0_go
	.type	gort_rt0_go, @function
	.p2align 4
gort_rt0_go:
	.cfi_startproc
	pushq	%rbp
	.cfi_def_cfa_offset 16
	.cfi_offset rbp, -16
	movq	%rsp, %rbp
	.cfi_def_cfa_register rbp
	andq	$-16, %rsp
	movq	%rcx, rt_user_main(%rip)
	callq	rt_args
	callq	rt_osinit
	callq	rt_schedinit
	leaq	rt_main(%rip), %rdi
	xorl	%esi, %esi
	xorl	%edx, %edx
	xorl	%ecx, %ecx
	xorl	%r8d, %r8d
	callq	rt_newproc
	callq	rt_mstart
	ud2
	.cfi_endproc
	.size	gort_rt0_go, .-gort_rt0_go

	.section .note.GNU-stack,"",@progbits
