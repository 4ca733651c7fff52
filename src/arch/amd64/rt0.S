// rt0.S (amd64 Linux): the program's true entry point.
//
// This object is linked into the executable itself (libgort_rt0.a), because
// an entry point must live in the executable even when libgort is a shared
// library; the link flags `-Wl,-e,_rt0_amd64_linux` select it instead of
// crt1's _start. It does what _start does (hand argc/argv and the dynamic
// linker's fini function to __libc_start_main, which initialises libc: TLS,
// stdio, constructors) but names gort_rt0_go as the function to call, passing
// the address of the user's main along. gort_rt0_go then boots the runtime
// (src/arch/amd64/boot.S) and main runs as goroutine 1.

	.text
	.globl	_rt0_amd64_linux
	.type	_rt0_amd64_linux, @function
	.p2align 4
_rt0_amd64_linux:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	movq	%rdx, %r9		// rtld_fini
	popq	%rsi			// argc
	movq	%rsp, %rdx		// argv
	andq	$-16, %rsp
	pushq	%rax
	pushq	%rsp			// stack_end
	xorl	%r8d, %r8d		// fini: NULL (glibc >= 2.34 runs init/fini arrays itself)
	xorl	%ecx, %ecx		// init: NULL
	leaq	rt0_main(%rip), %rdi
	callq	*__libc_start_main@GOTPCREL(%rip)
	hlt
	.cfi_endproc
	.size	_rt0_amd64_linux, .-_rt0_amd64_linux

// int rt0_main(int argc, char **argv, char **envp): called by libc once it is
// initialised; passes main's address to the runtime's boot.
	.type	rt0_main, @function
	.p2align 4
rt0_main:
	.cfi_startproc
	movq	main@GOTPCREL(%rip), %rcx
	jmp	*gort_rt0_go@GOTPCREL(%rip)
	.cfi_endproc
	.size	rt0_main, .-rt0_main

// gdb auto-loads the extension this names (a Python file, kind byte 1) once
// its folder is on the auto-load safe path (README, docs/gdb.md). The path is
// the install location, fixed at configure time (GORT_GDB_SCRIPT), as Go's
// linker names GOROOT's runtime-gdb.py.
#ifdef GORT_GDB_SCRIPT
	.pushsection ".debug_gdb_scripts", "MS", @progbits, 1
	.byte	1
	.asciz	GORT_GDB_SCRIPT
	.popsection
#endif
// The runtime's types for the extension (src/debug/gdb_types.c): a reference
// from a section that is not loaded pulls that archive member in.
	.pushsection ".gort_gdb_types", "", @progbits
	.quad	rt_gdb_types
	.popsection

	.section .note.GNU-stack,"",@progbits
