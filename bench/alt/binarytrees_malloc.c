// binarytrees_malloc.c: bench/binarytrees.c on glibc malloc, each tree freed
// (node by node) after it is walked.
#define BT_INIT()      ((void)0)
#define BT_ALLOC(size) malloc(size)
#define BT_FREE_TREES  1
#define BT_FREE(p)     free(p)
#include "binarytrees.h"
