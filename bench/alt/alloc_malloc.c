// alloc_malloc.c: bench/alloc.c on glibc malloc, freeing the previous object
// (scan and noscan are the same program here).
#define A_INIT()             ((void)0)
#define A_ALLOC(size)        malloc(size)
#define A_ALLOC_NOSCAN(size) malloc(size)
#define A_FREE(p)            free(p)
#include "alloc.h"
