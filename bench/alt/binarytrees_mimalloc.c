// binarytrees_mimalloc.c: bench/binarytrees.c on mimalloc (mi_malloc/mi_free),
// each tree freed (node by node) after it is walked.
#include <mimalloc.h>

#define BT_INIT()      ((void)0)
#define BT_ALLOC(size) mi_malloc(size)
#define BT_FREE_TREES  1
#define BT_FREE(p)     mi_free(p)
#include "binarytrees.h"
