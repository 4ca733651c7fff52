// nil_deref.c: a NULL dereference is Go's nil pointer panic, not a bare
// SIGSEGV. Not instrumented by sanitizers: the fault itself is the test.
#include <gort.h>

static int *volatile nil_ptr;

#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
__attribute__((no_sanitize("address", "undefined", "thread")))
#endif
static int
deref(void)
{
    return *nil_ptr;
}

int
main(void)
{
    return deref(); // panic: runtime error: invalid memory address or nil pointer dereference
}
