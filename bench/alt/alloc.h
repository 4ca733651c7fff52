// alloc.h: the body of bench/alloc.c for other allocators, shared by
// alloc_{boehm,malloc,mimalloc}.c. The includer defines
//   A_INIT()            once at the start of main
//   A_ALLOC(size)       a pointerful allocation
//   A_ALLOC_NOSCAN(size) a pointer-free allocation
//   A_FREE(p)           frees the previous object (a no-op for collectors)
//   A_NUM_GC            optional: the number of collections, printed at the end
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Obj {
    struct Obj *p;
    uint64_t a, b, c;
} Obj;

Obj *volatile sink;
uint64_t *volatile sink_noscan;

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int
main(int argc, char **argv)
{
    A_INIT();
    long n = argc > 1 ? atol(argv[1]) : 100000000;
    int noscan = argc > 2 && strcmp(argv[2], "noscan") == 0;
    Obj *anchor = A_ALLOC(sizeof(Obj));
    anchor->p = NULL;
    uint64_t check = 0;
    int64_t t0 = now_ns();
    if (noscan) {
        for (long i = 0; i < n; i++) {
            uint64_t *o = A_ALLOC_NOSCAN(32);
            o[0] = o[1] = o[2] = o[3] = (uint64_t)i;
            A_FREE(sink_noscan);
            sink_noscan = o;
            check += sink_noscan[3];
        }
    } else {
        for (long i = 0; i < n; i++) {
            Obj *o = A_ALLOC(sizeof(Obj));
            o->p = anchor;
            o->a = o->b = o->c = (uint64_t)i;
            A_FREE(sink);
            sink = o;
            check += sink->c;
        }
    }
    int64_t t1 = now_ns();
    printf("alloc %ld objects of 32 bytes (%s): check %llu\n", n, noscan ? "noscan" : "scan",
           (unsigned long long)check);
    printf("# loop_ns=%lld\n", (long long)(t1 - t0));
#ifdef A_NUM_GC
    printf("# num_gc=%lu\n", (unsigned long)A_NUM_GC);
#endif
    return check == (uint64_t)n * (uint64_t)(n - 1) / 2 ? 0 : 1;
}
