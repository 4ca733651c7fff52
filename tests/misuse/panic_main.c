// panic_main.c: gort_panic formats its message, dumps the goroutine, exits 2.
#include <gort.h>

int
main(void)
{
    gort_panic("boom %d", 7); // panic: boom 7 / goroutine 1 [running]:
}
