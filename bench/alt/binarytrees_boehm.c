// binarytrees_boehm.c: bench/binarytrees.c on the Boehm collector (GC_MALLOC,
// nothing freed). GC_THREADS makes PAR=1's pthreads registered GC threads.
// run_mem.py runs it with GC_MARKERS=1 and GC_MARKERS=2.
#define GC_THREADS
#include <gc.h>

#define BT_INIT()      GC_INIT()
#define BT_ALLOC(size) GC_MALLOC(size)
#define BT_FREE_TREES  0
#define BT_NUM_GC      GC_get_gc_no()
#include "binarytrees.h"
