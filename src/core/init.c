// init.c: the boot sequence after the assembly entry, in Go's order.
//
//   _rt0_amd64_linux (rt0.S, in the executable)
//     -> __libc_start_main: libc, TLS, stdio, constructors
//     -> gort_rt0_go (boot.S)
//          rt_args      argc, argv, envp, auxv (page size, AT_RANDOM)
//          rt_osinit    CPU count, page size
//          rt_schedinit m0/g0, GODEBUG, stacks, allocator, GC, signals, Ps
//          rt_newproc   goroutine 1 = rt_main, in P0's runnext
//          rt_mstart    m0 enters the scheduler (never returns)
//   rt_main (goroutine 1): starts sysmon, then calls the user's main and
//   exits with its value.
//
// GODEBUG=boottrace=1 prints one line per stage as it completes, with the
// time since rt0 and the stage's own duration. The flag is looked up in
// rt_args already, before GODEBUG is parsed fully, so that the first stages
// are traced too.
#include "core/debugvars.h"
#include "rt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int (*rt_user_main)(int, char **, char **);
int rt_argc;
char **rt_argv;
char **rt_envp;
int64_t rt_starttime;

static uintptr_t auxv_pagesz;
static uint64_t auxv_random;

void
rt_boottrace(const char *stage, int64_t t0, const char *fmt, ...)
{
    if (!rt_debug.boottrace)
        return;
    int64_t now = rt_nanotime();
    int64_t since = now - rt_starttime;
    int64_t took = now - t0;
    rt_printf("boot: %-10s @%lld.%03lldms (%lld.%03lldms) ", stage, (long long)(since / 1000000),
              (long long)(since / 1000 % 1000), (long long)(took / 1000000),
              (long long)(took / 1000 % 1000));
    va_list ap;
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    rt_printf("\n");
}

static bool
early_boottrace(char **envp)
{
    for (char **e = envp; e && *e; e++) {
        if (strncmp(*e, "GODEBUG=", 8) != 0)
            continue;
        const char *s = *e + 8;
        while (*s) {
            if (strncmp(s, "boottrace=", 10) == 0)
                return s[10] != '0' && s[10] != '\0' && s[10] != ',';
            while (*s && *s != ',')
                s++;
            if (*s == ',')
                s++;
        }
    }
    return false;
}

void
rt_args(int argc, char **argv, char **envp)
{
    rt_starttime = rt_nanotime();
    rt_argc = argc;
    rt_argv = argv;
    rt_envp = envp;
    rt_debug.boottrace = early_boottrace(envp);
    int nauxv = rt_os_auxv(envp, &auxv_pagesz, &auxv_random);
    rt_boottrace("rt0", rt_starttime, "entry=_rt0_amd64_linux via __libc_start_main (libc ready)");
    rt_boottrace("args", rt_starttime, "argc=%d argv=%p envp=%p auxv=%d entries pagesz=%lu", argc,
                 (void *)argv, (void *)envp, nauxv, (unsigned long)auxv_pagesz);
}

void
rt_osinit(void)
{
    int64_t t0 = rt_nanotime();
    rt_ncpu = rt_os_ncpu();
    size_t ps = rt_os_pagesize();
    rt_boottrace("osinit", t0, "ncpu=%d physpagesize=%zu", rt_ncpu, ps);
}

static int32_t
gomaxprocs_env(void)
{
    int32_t procs = rt_maxprocs_default();
    const char *s = rt_getenv("GOMAXPROCS");
    if (s && *s) {
        char *end;
        long n = strtol(s, &end, 10);
        if (*end == '\0' && n > 0) {
            procs = n > 1024 ? 1024 : (int32_t)n;
            rt_maxprocs_user_set(); // no updates from the CPU limit
        }
    }
    return procs;
}

void
rt_schedinit(void)
{
    int64_t t0 = rt_nanotime(), t;
    M *m = &rt_m0;
    rt_arch_tls_set(m);
    m->g0 = &rt_g0;
    rt_g0.m = m;
    rt_g0.is_system = true;
    m->fastrand = auxv_random ? auxv_random : (uint64_t)rt_nanotime();
    rt_sched.mcount = 1;
    rt_sched.mnext = 1;
    atomic_store_explicit(&rt_allm, m, memory_order_relaxed);
    rt_arch_init();

    t = rt_nanotime();
    rt_parsedebugvars();
    rt_os_symtab_init();
    rt_boottrace("debugvars", t, "gctrace=%d schedtrace=%d asyncpreemptoff=%d traceback=%d",
                 rt_debug.gctrace, rt_debug.schedtrace, rt_debug.asyncpreemptoff,
                 rt_debug.traceback);

    t = rt_nanotime();
    rt_stack_init();
    rt_boottrace("stackinit", t, "default goroutine stack=%zu bytes (GORT_STACK_SIZE)",
                 rt_stack_default);

    t = rt_nanotime();
    rt_malloc_init();
    rt_boottrace("mallocinit", t, "span allocator, size classes, heap arenas");

    t = rt_nanotime();
    rt_gc_init();
    const char *gogc = rt_getenv("GOGC");
    rt_boottrace("gcinit", t, "GOGC=%s GOMEMLIMIT=%lld", gogc ? gogc : "100",
                 (long long)gort_set_memory_limit(-1));

    t = rt_nanotime();
    rt_signal_init();
    rt_boottrace("signals", t,
                 "SIGSEGV/SIGBUS (stack overflow, faults), SIGURG (preemption), "
                 "SIGQUIT (dump)");

    t = rt_nanotime();
    int32_t procs = gomaxprocs_env();
    rt_procinit(procs);
    rt_boottrace("procresize", t, "GOMAXPROCS=%d Ps, P0 to m0", procs);
    rt_boottrace("schedinit", t0, "done");
}

// Goroutine 1.
void
rt_main(void *unused)
{
    (void)unused;
    int64_t t = rt_nanotime();
    rt_sysmon_start();
    rt_maxprocs_start();
    atomic_store_explicit(&rt_sched.main_started, 1, memory_order_release);
    rt_boottrace("sysmon", t, "started on its own M, no P");
    rt_boottrace("main", rt_starttime, "calling main as goroutine %lld",
                 (long long)rt_getg()->goid);
    int code = rt_user_main(rt_argc, rt_argv, rt_envp);
    rt_sched_before_exit();
    exit(code);
}
