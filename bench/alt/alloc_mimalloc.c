// alloc_mimalloc.c: bench/alloc.c on mimalloc (mi_malloc, mi_free of the
// previous object; scan and noscan are the same program here).
#include <mimalloc.h>

#define A_INIT()             ((void)0)
#define A_ALLOC(size)        mi_malloc(size)
#define A_ALLOC_NOSCAN(size) mi_malloc(size)
#define A_FREE(p)            mi_free(p)
#include "alloc.h"
