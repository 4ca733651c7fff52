// gort_types.c: gort's own runtime structs, for gort-layout's test.
//
// Built with -g and run by tests/layout/gort_types.py: it prints each
// struct's sizeof, which the test compares with what gort-layout reads from
// this executable's DWARF. It links no runtime; the headers' inline
// functions go unused.
#include "chan/chan.h"
#include "mem/malloc.h"
#include "rt.h"

#include <stdio.h>

G v_g;
M v_m;
P v_p;
Span v_span;
MCache v_mcache;
Hchan v_hchan; // typedef gort_chan Hchan: a typedef of a typedef

int
main(void)
{
    printf("G %zu\n", sizeof(G));
    printf("M %zu\n", sizeof(M));
    printf("P %zu\n", sizeof(P));
    printf("Span %zu\n", sizeof(Span));
    printf("MCache %zu\n", sizeof(MCache));
    printf("Hchan %zu\n", sizeof(Hchan));
    return 0;
}
