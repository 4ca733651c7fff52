// fixture.c: structs for gort-layout's test (tests/layout/check.py).
//
// Compiled with -g (DWARF 5) and -gdwarf-4, never linked. Every size and
// offset check.py expects is asserted here too, so the compiler confirms the
// hand-computed values the test compares the tool's answers with.
#include <stddef.h>

#define CHECK_SIZE(T, n)   _Static_assert(sizeof(T) == (n), #T " size")
#define CHECK_OFF(T, f, n) _Static_assert(offsetof(T, f) == (n), #T "." #f " offset")
#define CHECK_ALIGN(T, n)  _Static_assert(_Alignof(T) == (n), #T " alignment")

// Holes after a and b, tail padding; reordered it fits in 16 bytes.
struct mix {
    char a;
    void *p;
    char b;
    int i;
    short s;
};
CHECK_SIZE(struct mix, 32);
CHECK_ALIGN(struct mix, 8);
CHECK_OFF(struct mix, p, 8);
CHECK_OFF(struct mix, b, 16);
CHECK_OFF(struct mix, i, 20);
CHECK_OFF(struct mix, s, 24);

// Six fields, 56 bytes (class 64); reordered 40 bytes (class 48).
struct drops {
    char a;
    void *p;
    char name[12];
    void *q;
    char c;
    void *r;
};
CHECK_SIZE(struct drops, 56);
CHECK_OFF(struct drops, p, 8);
CHECK_OFF(struct drops, name, 16);
CHECK_OFF(struct drops, q, 32);
CHECK_OFF(struct drops, c, 40);
CHECK_OFF(struct drops, r, 48);

// A nested struct moves as one unit of alignment 8.
struct nested {
    char tag;
    struct mix m;
    short kind;
};
CHECK_SIZE(struct nested, 48);
CHECK_OFF(struct nested, m, 8);
CHECK_OFF(struct nested, kind, 40);

// A union: 8 bytes, alignment 8, holds a pointer.
struct with_union {
    int kind;
    union {
        long l;
        void *p;
        char c[3];
    } u;
    char tail;
};
CHECK_SIZE(struct with_union, 24);
CHECK_OFF(struct with_union, u, 8);
CHECK_OFF(struct with_union, tail, 16);

// A two-dimensional int array and an array of pointers.
struct arrays {
    char tag;
    int grid[3][5];
    void *ptrs[4];
    short s;
};
CHECK_SIZE(struct arrays, 104);
CHECK_OFF(struct arrays, grid, 4);
CHECK_OFF(struct arrays, ptrs, 64);
CHECK_OFF(struct arrays, s, 96);

// Bitfields: reported, never reordered.
struct bits {
    unsigned a : 3;
    unsigned b : 7;
    void *p;
    unsigned c : 20;
    char d;
};
CHECK_SIZE(struct bits, 24);
CHECK_OFF(struct bits, p, 8);
CHECK_OFF(struct bits, d, 19);

// A flexible array member stays last.
struct flex {
    char kind;
    void *owner;
    int n;
    char data[];
};
CHECK_SIZE(struct flex, 24);
CHECK_OFF(struct flex, owner, 8);
CHECK_OFF(struct flex, n, 16);
CHECK_OFF(struct flex, data, 20);

// Packed: no holes, a pointer at offset 1 the collector cannot see.
struct __attribute__((packed)) packed {
    char a;
    void *p;
    int i;
};
CHECK_SIZE(struct packed, 13);
CHECK_ALIGN(struct packed, 1);
CHECK_OFF(struct packed, p, 1);
CHECK_OFF(struct packed, i, 9);

// _Alignas on a field: the struct takes its alignment, never reordered.
struct aligned {
    char a;
    _Alignas(32) int x;
    void *p;
};
CHECK_SIZE(struct aligned, 64);
CHECK_ALIGN(struct aligned, 32);
CHECK_OFF(struct aligned, x, 32);
CHECK_OFF(struct aligned, p, 40);

// _Atomic fields (DW_TAG_atomic_type in the DWARF). Reordered, ptr goes
// before total: pointers first among fields of equal alignment.
struct atomics {
    _Atomic char flag;
    _Atomic long total;
    _Atomic int count;
    char c;
    _Atomic(void *) ptr;
};
CHECK_SIZE(struct atomics, 32);
CHECK_OFF(struct atomics, total, 8);
CHECK_OFF(struct atomics, count, 16);
CHECK_OFF(struct atomics, c, 20);
CHECK_OFF(struct atomics, ptr, 24);

// No pointers: gort_alloc_noscan; already in the best order.
struct noptrs {
    double d;
    int i;
    char a;
};
CHECK_SIZE(struct noptrs, 16);
CHECK_OFF(struct noptrs, i, 8);
CHECK_OFF(struct noptrs, a, 12);

// An anonymous struct named by its typedef.
typedef struct {
    char c;
    void *p;
    short s;
} anon_t;
CHECK_SIZE(anon_t, 24);
CHECK_OFF(anon_t, p, 8);
CHECK_OFF(anon_t, s, 16);

// Over 32 KiB: a large object, whole pages.
struct big {
    char c;
    void *p;
    char buf[40000];
};
CHECK_SIZE(struct big, 40016);
CHECK_OFF(struct big, buf, 16);

// Declared only: no layout to report.
struct opaque;

struct mix v_mix;
struct drops v_drops;
struct nested v_nested;
struct with_union v_with_union;
struct arrays v_arrays;
struct bits v_bits;
struct flex *v_flex;
struct packed v_packed;
struct aligned v_aligned;
struct atomics v_atomics;
struct noptrs v_noptrs;
anon_t v_anon;
struct big *v_big;
struct opaque *v_opaque;
