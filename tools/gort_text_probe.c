// gort_text_probe.c: a minimal gort program, linked statically and shared
// for tools/check-gort-text.sh, which reads its symbols (it is never run).
#include <gort.h>

int
main(void)
{
    return gort_goid() == 1 ? 0 : 1;
}
