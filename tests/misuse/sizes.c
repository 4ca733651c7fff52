// sizes.c: sizes and counts no machine can have, one per GORT_TEST_WHERE
// case. Each must die at once in Go's words (tests/CMakeLists.txt names the
// expected message): a large allocation beyond RAM plus swap is "out of
// memory" (it used to be mapped MAP_NORESERVE and sit in a mark for minutes),
// a channel beyond that is "makechan: size out of range", element size times
// capacity may not wrap, and so on. A case that returns has failed.
#include <gort.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

static void
noop(void *arg)
{
    (void)arg;
}

int
main(void)
{
    const char *w = getenv("GORT_TEST_WHERE");
    if (w == NULL)
        w = "";
    void *volatile p = NULL;
    if (strcmp(w, "alloc_64g") == 0) {
        // 64 GiB, or twice what this machine holds if it holds more.
        struct sysinfo si;
        size_t n = (size_t)64 << 30;
        if (sysinfo(&si) == 0 && ((size_t)si.totalram + si.totalswap) * si.mem_unit >= n / 2)
            n = ((size_t)si.totalram + si.totalswap) * si.mem_unit * 2;
        p = gort_alloc(n);
    } else if (strcmp(w, "alloc_max") == 0)
        p = gort_alloc(SIZE_MAX);
    else if (strcmp(w, "alloc_wrap") == 0)
        p = gort_alloc(SIZE_MAX - 4095); // rounds up to a page past the top: wraps
    else if (strcmp(w, "noscan_max") == 0)
        p = gort_alloc_noscan(SIZE_MAX);
    else if (strcmp(w, "noscan_wrap") == 0)
        p = gort_alloc_noscan(SIZE_MAX - 8191);
    else if (strcmp(w, "chan_huge") == 0)
        p = gort_chan_make(1, 0x500000000000);
    else if (strcmp(w, "chan_max") == 0)
        p = gort_chan_make(1, SIZE_MAX);
    else if (strcmp(w, "chan_wrap") == 0)
        p = gort_chan_make(16, ((size_t)1 << 60) + 1); // 16 * that wraps to 16
    else if (strcmp(w, "chan_elem") == 0)
        p = gort_chan_make((size_t)1 << 16, 1);
    else if (strcmp(w, "chan_elem_max") == 0)
        p = gort_chan_make(SIZE_MAX, 2);
    else if (strcmp(w, "go_stack_max") == 0)
        gort_go_stack(noop, NULL, SIZE_MAX);
    else if (strcmp(w, "go_stack_wrap") == 0)
        gort_go_stack(noop, NULL, SIZE_MAX - 100); // rounding up to pages wraps
    else if (strcmp(w, "roots_wrap") == 0)
        gort_add_roots((void *)(uintptr_t)4096, SIZE_MAX);
    else {
        fprintf(stderr, "sizes: unknown case '%s'\n", w);
        return 1;
    }
    gort_sleep(1000000);
    printf("sizes: case %s returned %p\n", w, p);
    return 0;
}
