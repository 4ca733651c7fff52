// arch.c (amd64): goroutine frame set-up and CPU feature probing.
#include "offsets.h"
#include "rt.h"

#include <cpuid.h>
#include <stddef.h>

_Static_assert(offsetof(Gobuf, sp) == GOBUF_SP, "Gobuf.sp");
_Static_assert(offsetof(G, sched) == 0, "G.sched");

void rt_arch_gostart(void);

uint64_t rt_arch_xsave_size = 512 + 64;
bool rt_arch_have_xsave;

void
rt_arch_gobuf_init(Gobuf *buf, uintptr_t hi, void (*fn)(void *), void *arg)
{
    // Leave 16 bytes: a zero return address ends frame-pointer walks.
    uintptr_t top = (hi - 16) & ~(uintptr_t)15;
    uintptr_t *sp = (uintptr_t *)(top - CTX_SIZE);
    ((uintptr_t *)top)[0] = 0;
    ((uintptr_t *)top)[1] = 0;
    sp[CTX_CSR / 8] = 0x1f80 | ((uintptr_t)0x037f << 32); // default mxcsr and x87 cw
    sp[CTX_R15 / 8] = 0;
    sp[CTX_R14 / 8] = 0;
    sp[CTX_R13 / 8] = (uintptr_t)arg;
    sp[CTX_R12 / 8] = (uintptr_t)fn;
    sp[CTX_RBX / 8] = 0;
    sp[CTX_RBP / 8] = 0;
    sp[CTX_RET / 8] = (uintptr_t)rt_arch_gostart;
    buf->sp = (uintptr_t)sp;
}

void
rt_arch_init(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    bool xsave = (c & bit_XSAVE) && (c & bit_OSXSAVE);
    if (!xsave)
        return;
    __cpuid_count(0xd, 0, a, b, c, d);
    // b: bytes needed for the features enabled in XCR0.
    rt_arch_have_xsave = true;
    rt_arch_xsave_size = (uint64_t)b + 64; // + alignment slack
}
