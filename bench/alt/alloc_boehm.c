// alloc_boehm.c: bench/alloc.c on the Boehm collector: GC_MALLOC, and
// GC_MALLOC_ATOMIC for noscan; nothing freed.
#include <gc.h>

#define A_INIT()             GC_INIT()
#define A_ALLOC(size)        GC_MALLOC(size)
#define A_ALLOC_NOSCAN(size) GC_MALLOC_ATOMIC(size)
#define A_FREE(p)            ((void)0)
#define A_NUM_GC             GC_get_gc_no()
#include "alloc.h"
