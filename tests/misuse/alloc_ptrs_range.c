// alloc_ptrs_range.c: gort_alloc_ptrs with ptr_bytes beyond the object panics.
#include <gort.h>

int
main(void)
{
    gort_alloc_ptrs(16, 24); // panic: gort_alloc_ptrs: ptr_bytes 24 out of range [0:16]
    return 0;
}
