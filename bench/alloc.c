// alloc.c: allocation rate. N times, allocate a 32-byte object, initialize
// all four words and store it into the global sink, so each object dies at
// the next iteration. Default: pointerful objects {p, a, b, c} from gort_alloc
// whose p points at one long-lived object; "noscan": four words of data from
// gort_alloc_noscan. Prints a check line and "# loop_ns=" (the loop's own
// time; bench/run_mem.py reports loop_ns / N).
// Usage: alloc [N=100000000] [scan|noscan]. Twins: go/alloc.go,
// alt/alloc_{boehm,malloc,mimalloc}.c.
#include <gort.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Obj {
    struct Obj *p;
    uint64_t a, b, c;
} Obj;

Obj *volatile sink; // a global: a root for the collector
uint64_t *volatile sink_noscan;

static void
print_num_gc(void)
{
    gort_memstats ms;
    gort_read_memstats(&ms);
    printf("# num_gc=%u\n", ms.num_gc);
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000000;
    int noscan = argc > 2 && strcmp(argv[2], "noscan") == 0;
    Obj *anchor = gort_new(Obj);
    uint64_t check = 0;
    int64_t t0 = gort_nanotime();
    if (noscan) {
        for (long i = 0; i < n; i++) {
            uint64_t *o = gort_alloc_noscan(32);
            o[0] = o[1] = o[2] = o[3] = (uint64_t)i;
            sink_noscan = o;
            check += sink_noscan[3];
        }
    } else {
        for (long i = 0; i < n; i++) {
            Obj *o = gort_new(Obj);
            o->p = anchor;
            o->a = o->b = o->c = (uint64_t)i;
            sink = o;
            check += sink->c;
        }
    }
    int64_t t1 = gort_nanotime();
    printf("alloc %ld objects of 32 bytes (%s): check %llu\n", n, noscan ? "noscan" : "scan",
           (unsigned long long)check);
    printf("# loop_ns=%lld\n", (long long)(t1 - t0));
    print_num_gc();
    gort_keep_alive(anchor);
    return check == (uint64_t)n * (uint64_t)(n - 1) / 2 ? 0 : 1;
}
