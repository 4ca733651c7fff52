// layout.c: what a struct's field order costs the heap and the collector
// (issue 15). N records are allocated as C code does (allocate, then fill),
// kept in a list and an index, then ROUNDS times a quarter of them is replaced
// by fresh ones: an old record is made to point at a young one. ORDER picks
// the layout:
//   careless   fields as one might write them: 64 bytes, 7 words scanned
//   reordered  pointers first, then by size (what gort-layout proposes):
//              40 bytes, the 48-byte class
//   ptrs       reordered and allocated with gort_new_ptrs: the collector reads
//              the 3 pointer words only (Go's ptrdata does this by itself)
// The output is a checksum, identical for go/layout.go (careless, reordered)
// in every order. Usage: layout [N=10000000] [ROUNDS=4] [ORDER=careless].
#include <gort.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Careless {
    char tag;
    struct Careless *next;
    int id;
    void *name;
    char flag;
    double score;
    short kind;
    void *data;
} Careless;

typedef struct Reordered {
    struct Reordered *next;
    void *name;
    void *data;
    double score;
    int id;
    short kind;
    char tag;
    char flag;
} Reordered;

_Static_assert(sizeof(Careless) == 64, "careless layout");
_Static_assert(sizeof(Reordered) == 40, "reordered layout");

static int order; // 0 careless, 1 reordered, 2 ptrs

// One record filled from i; name points at a shared string, data at the
// record before it (or NULL).
#define FILL(r, i, prev)                                                                           \
    do {                                                                                           \
        (r)->id = (int)(i);                                                                        \
        (r)->tag = (char)((i) % 128);                                                              \
        (r)->flag = (char)((i)&1);                                                                 \
        (r)->kind = (short)((i) % 1000);                                                           \
        (r)->score = (double)((i) % 100) / 4.0;                                                    \
        (r)->name = (void *)"record";                                                              \
        (r)->data = (prev);                                                                        \
    } while (0)

static void *
make(long i, void *prev)
{
    if (order == 0) {
        Careless *r = gort_new(Careless);
        FILL(r, i, prev);
        return r;
    }
    Reordered *r = order == 2 ? gort_new_ptrs(Reordered, data) : gort_new(Reordered);
    FILL(r, i, prev);
    return r;
}

static long
value(const void *p)
{
    if (order == 0) {
        const Careless *r = p;
        return r->id + r->tag + r->flag + r->kind + (long)r->score + (r->data != NULL);
    }
    const Reordered *r = p;
    return r->id + r->tag + r->flag + r->kind + (long)r->score + (r->data != NULL);
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 4;
    const char *o = argc > 3 ? argv[3] : "careless";
    order = strcmp(o, "reordered") == 0 ? 1 : strcmp(o, "ptrs") == 0 ? 2 : 0;
    // The index is a heap array of pointers, as a C program keeps a table.
    void **index = gort_alloc((size_t)n * sizeof *index);
    void *prev = NULL;
    for (long i = 0; i < n; i++)
        prev = index[i] = make(i, prev);
    uint64_t x = 88172645463325252ull;
    for (int r = 0; r < rounds; r++) {
        for (long k = 0; k < n / 4; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            long i = (long)(x % (uint64_t)n);
            void *fresh = make(i + r, index[(i + 1) % n]);
            index[i] = fresh;
        }
    }
    long sum = 0;
    for (long i = 0; i < n; i++)
        sum += value(index[i]);
    printf("layout %ld records, %d rounds: sum %ld\n", n, rounds, sum);
    gort_memstats ms;
    gort_read_memstats(&ms);
    printf("# num_gc=%u\n# heap_sys_mb=%llu\n# gc_cpu_fraction=%.3f\n", ms.num_gc,
           (unsigned long long)(ms.heap_sys >> 20), ms.gc_cpu_fraction);
    return 0;
}
