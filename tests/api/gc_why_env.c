// gc_why_env.c: GODEBUG=gcwhy=ADDR explains the object at ADDR at every
// collection: reachable (from a global, named), then freed. The address must
// be known before the program starts, so the program runs twice: the first
// run allocates the object and re-executes itself with GODEBUG=gcwhy set to
// its address; gort's heap starts at a fixed address and a single
// goroutine's allocations are deterministic, so the second run's object is
// at the same place (it checks, and says so if not). tests/CMakeLists.txt
// checks the reports on stderr.
#include <gort.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct Obj {
    void *p[6];
} Obj;

Obj *why_env_keeper;

// Allocates (or re-executes), keeps the object in the global and collects.
// Its own function: the registers that held the object are restored to
// main's values when it returns, so no dead copy stays in them.
static __attribute__((noinline)) int
keep(char **argv)
{
    Obj *o = gort_new(Obj);
    const char *want = getenv("GC_WHY_ENV_ADDR");
    if (want == NULL) {
        // The second run keeps this run's settings (checkmark, gcstress).
        char addr[32], godebug[512];
        const char *old = getenv("GODEBUG");
        snprintf(addr, sizeof addr, "%" PRIxPTR, (uintptr_t)o);
        snprintf(godebug, sizeof godebug, "%s%sgcwhy=0x%s", old ? old : "", old ? "," : "", addr);
        setenv("GC_WHY_ENV_ADDR", addr, 1);
        setenv("GODEBUG", godebug, 1);
        execv("/proc/self/exe", argv);
        perror("gc_why_env: execv");
        return 1;
    }
    char got[32];
    snprintf(got, sizeof got, "%" PRIxPTR, (uintptr_t)o);
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "gc_why_env: the object moved (%s, then %s): heap not deterministic\n",
                want, got);
        return 1;
    }
    why_env_keeper = o;
    gort_gc(); // reachable from the global
    return 0;
}

int
main(int argc, char **argv)
{
    (void)argc;
    if (keep(argv) != 0)
        return 1;
    fprintf(stderr, "gc_why_env: dropped\n");
    why_env_keeper = NULL;
    gort_gc(); // not reachable: freed
    gort_gc(); // gone
    return 0;
}
