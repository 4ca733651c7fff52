// offsets.h (amd64): layouts shared by C and asm.S, checked by static asserts
// in src/arch/amd64/arch.c.
#ifndef GORT_OFFSETS_H
#define GORT_OFFSETS_H

// Gobuf
#define GOBUF_SP 0

// A suspended context's frame, from its saved sp upwards.
#define CTX_CSR  0 // mxcsr (4 bytes) and x87 control word (2 bytes)
#define CTX_R15  8
#define CTX_R14  16
#define CTX_R13  24
#define CTX_R12  32
#define CTX_RBX  40
#define CTX_RBP  48
#define CTX_RET  56
#define CTX_SIZE 64

#endif // GORT_OFFSETS_H
