// pacer.c: GOGC, GOMEMLIMIT, the heap goal and trigger, gort_gc, gctrace.
//
// See gc.h. Settings follow Go: GOGC is a percentage or "off" (-1), an
// unparsable value means 100; GOMEMLIMIT uses Go's byte syntax ("512MiB")
// or "off", and a malformed value is fatal, as in Go. Setters return the
// previous value; a negative memory limit only queries.
//
// Goal (Go 1.19's pacer without the stack and globals terms, which a
// conservative collector cannot separate from the heap):
//   GOGC goal  = max(marked x (1 + GOGC/100), 4 MiB x GOGC/100)
//   limit goal = limit - non-heap memory - max(3%, 1 MiB) headroom
//   goal       = min of the two, at least marked + 64 KiB.
// Trigger: Go clamps its trigger to [45/64, 61/64] of the way from marked
// to goal. A stop-the-world cycle needs no runway and triggers at the upper
// clamp, 61/64 (GC_TRIGGER_STW); a concurrent one where the runway its
// marker needs begins, within the clamps or at most 8 MiB before the goal
// (cycle.c's cycle_end sets the ratio).
// CPU limiter: while the memory limit sets the goal, a cycle is skipped if
// it would push GC over half of the CPU since the previous one (Go's
// limiter caps GC near 50% and lets the limit be exceeded instead).
// Forced GC: sysmon calls rt_gc_sysmon_tick; after 2 minutes without a
// cycle it readies the forcegc goroutine, which runs one.
#include "core/debugvars.h"
#include "gc/gc.h"

#include <string.h>

_Atomic uint64_t rt_gc_trigger = GC_HEAP_MINIMUM / GC_TRIGGER_SCALE * GC_TRIGGER_STW;
_Atomic uint32_t rt_gc_malloc_hook = 1; // first allocations start the runtime goroutines

_Atomic uint32_t rt_gc_fresh_cycle;
_Atomic int64_t rt_gc_force_period_ns = GC_FORCE_PERIOD_NS;

GCState rt_gc = {.percent = GC_DEFAULT_PERCENT,
                 .memory_limit = INT64_MAX,
                 .goal = GC_HEAP_MINIMUM,
                 .trigger_ratio = GC_TRIGGER_STW};

static int32_t
read_gogc(void)
{
    const char *p = rt_getenv("GOGC");
    if (p == NULL || *p == 0)
        return GC_DEFAULT_PERCENT;
    if (strcmp(p, "off") == 0)
        return -1;
    // Go's atoi32: optional sign, digits only, no overflow.
    const char *q = p;
    bool neg = false;
    if (*q == '-' || *q == '+')
        neg = *q++ == '-';
    if (*q == 0)
        return GC_DEFAULT_PERCENT;
    int64_t v = 0;
    for (; *q; q++) {
        if (*q < '0' || *q > '9')
            return GC_DEFAULT_PERCENT;
        v = v * 10 + (*q - '0');
        if (v > INT32_MAX)
            return GC_DEFAULT_PERCENT;
    }
    v = neg ? -v : v;
    return v < 0 ? -1 : (int32_t)v;
}

static int64_t
read_gomemlimit(void)
{
    const char *p = rt_getenv("GOMEMLIMIT");
    if (p == NULL || *p == 0 || strcmp(p, "off") == 0)
        return INT64_MAX;
    int64_t v = rt_parse_bytes(p);
    if (v < 0) {
        rt_printf("GOMEMLIMIT=%s\n", p);
        rt_throw("malformed GOMEMLIMIT; see `go doc runtime/debug.SetMemoryLimit`");
    }
    return v;
}

void
rt_gc_init(void)
{
    rt_lock(&rt_gc.lock);
    atomic_store(&rt_gc.percent, read_gogc());
    atomic_store(&rt_gc.memory_limit, read_gomemlimit());
    rt_unlock(&rt_gc.lock);
    rt_gc_set_goal(0);
}

uint64_t
rt_gc_nonheap_bytes(void)
{
    return rt_persistent_sys();
}

void
rt_gc_set_goal(uint64_t marked)
{
    int32_t pct = atomic_load(&rt_gc.percent);
    int64_t limit = atomic_load(&rt_gc.memory_limit);
    uint64_t goal = UINT64_MAX;
    if (pct >= 0) {
        uint64_t full = atomic_load_explicit(&rt_gc.full_live, memory_order_relaxed);
        goal = marked + (uint64_t)((unsigned __int128)marked * (uint64_t)pct / 100);
        if (full != 0 && full < marked) {
            // After a minor or medium cycle: the last full mark's goal,
            // with at least a quarter of its runway left (at most a quarter
            // is promoted between two of them: gen.c's rt_gen_next_kind).
            uint64_t runway = (uint64_t)((unsigned __int128)full * (uint64_t)pct / 100);
            goal = full + runway;
            if (goal < marked + runway / 4)
                goal = marked + runway / 4;
        }
        uint64_t min = GC_HEAP_MINIMUM * (uint64_t)pct / 100;
        if (goal < min)
            goal = min;
    }
    uint64_t gogc_goal = goal;
    bool bound = false;
    if (limit != INT64_MAX) {
        uint64_t lim = (uint64_t)limit, other = rt_gc_nonheap_bytes();
        uint64_t headroom = lim / 100 * 3;
        if (headroom < ((uint64_t)1 << 20))
            headroom = (uint64_t)1 << 20;
        uint64_t lgoal = lim > other + headroom ? lim - other - headroom : 0;
        if (lgoal < goal) {
            goal = lgoal;
            bound = true;
        }
    }
    if (goal < marked + (64 << 10))
        goal = marked + (64 << 10);
    uint64_t ratio = rt_gc.trigger_ratio;
    uint64_t trigger =
            goal == UINT64_MAX ? UINT64_MAX : marked + (goal - marked) / GC_TRIGGER_SCALE * ratio;
    uint64_t gtrig = gogc_goal == UINT64_MAX
                             ? UINT64_MAX
                             : marked + (gogc_goal - marked) / GC_TRIGGER_SCALE * ratio;
    rt_gc.limit_bound = bound;
    rt_gc.gogc_trigger = gtrig;
    atomic_store_explicit(&rt_gc.goal, goal, memory_order_relaxed);
    atomic_store_explicit(&rt_gc_trigger, trigger, memory_order_relaxed);
}

void
rt_gc_set_trigger_ratio(uint32_t ratio64)
{
    rt_gc.trigger_ratio = ratio64;
}

uint64_t
rt_gc_heap_goal(void)
{
    return atomic_load_explicit(&rt_gc.goal, memory_order_relaxed);
}

// ---- Starting cycles ----------------------------------------------------------------

static struct {
    Lock lock;         // guards the fields below
    bool started;      // [lock] runtime goroutines created
    G *forcegc;        // [lock] the forcegc goroutine
    bool forcegc_idle; // [lock] parked, waiting for sysmon
    int forcegc_why;   // [lock] GC_REASON_TIME or GC_REASON_FINISH: why sysmon woke it
} helpers;

static _Atomic uint64_t stress_count;

static void ready_forcegc(int why);
static bool limiter_limiting(void);

static void
forcegc_main(void *arg)
{
    (void)arg;
    for (;;) {
        rt_lock(&helpers.lock);
        helpers.forcegc_idle = true;
        rt_parkunlock(&helpers.lock, WAIT_FORCEGC);
        rt_lock(&helpers.lock);
        int why = helpers.forcegc_why;
        rt_unlock(&helpers.lock);
        // Woken to end a finished mark that an allocation ended first, it
        // must not start a cycle of its own; a mark that runs when the two
        // minutes are up counts as the forced cycle.
        rt_gc_start(why == GC_REASON_TIME && !rt_gc_marking() ? GC_REASON_TIME : GC_REASON_FINISH);
    }
}

static void
start_helpers(void)
{
    rt_lock(&helpers.lock);
    bool start = !helpers.started;
    helpers.started = true;
    rt_unlock(&helpers.lock);
    if (!start)
        return;
    G *gp = rt_newproc(forcegc_main, NULL, 0, true, 0);
    rt_lock(&helpers.lock);
    helpers.forcegc = gp;
    rt_unlock(&helpers.lock);
    rt_gc_sweeper_kick();
    rt_gc_finq_kick();
}

bool
rt_gc_forcegc_stack(uintptr_t sp)
{
    G *gp = helpers.forcegc;
    return gp != NULL && sp >= gp->stack_lo && sp < gp->stack_hi;
}

void
rt_gc_malloc_slow(void)
{
    M *m = rt_m();
    if (m == NULL || m->locks != 0 || m->p == NULL || m->curg == NULL)
        return; // cannot collect here; the hook stays set for the next allocation
    int32_t stress = rt_debug.gcstress;
    atomic_store_explicit(&rt_gc_malloc_hook, stress > 0 ? 1 : 0, memory_order_relaxed);
    if (rt_unlikely(!helpers.started))
        start_helpers();
    if (stress > 0 && (atomic_fetch_add_explicit(&stress_count, 1, memory_order_relaxed) + 1) %
                                      (uint64_t)stress ==
                              0) {
        rt_gc_start(GC_REASON_STRESS);
        return;
    }
    uint64_t live = atomic_load_explicit(&rt_mheap.heap_live, memory_order_relaxed);
    if (rt_gc_marking()) {
        // Before the goal, while the marker works, allocation is paced by
        // mark assists; then the mark is ended.
        if (!rt_gc_mark_done() && live < rt_gc_heap_goal()) {
            rt_gc_mark_assist();
            return;
        }
        rt_gc_start(GC_REASON_HEAP); // ends the mark if its marker is done or at the goal
        return;
    }
    if (live < atomic_load_explicit(&rt_gc_trigger, memory_order_relaxed))
        return;
    if (rt_gc.limit_bound && live < rt_gc.gogc_trigger && limiter_limiting()) {
        // Only the memory limit asks for this cycle, and GC has had half
        // the CPU for a while: wait (the heap may pass the limit).
        atomic_store_explicit(&rt_gc_malloc_hook, 1, memory_order_relaxed);
        return;
    }
    rt_gc_start(GC_REASON_HEAP);
}

// ---- The CPU limiter ----------------------------------------------------------------
//
// As Go's gcCPULimiter: a bucket of CPU time that GC work fills and mutator
// work drains, holding at most one CPU-second per P. Only a collector that
// has taken more than half of the CPU for about that long fills it; then a
// cycle that only the memory limit asks for waits until the mutator has run
// as long as the last cycle cost. A single slow pause (a thread the kernel
// left off its CPU) does not limit anything.

enum { LIMITER_CAPACITY_NS = 1000000000 }; // per P

void
rt_gc_limiter_account(uint64_t gc_cpu_ns, int64_t now, int32_t np)
{
    if (np < 1)
        np = 1;
    int64_t last = rt_gc.limiter_last != 0 ? rt_gc.limiter_last : rt_starttime;
    uint64_t total = now > last ? (uint64_t)(now - last) * (uint64_t)np : 0;
    uint64_t mutator = total > gc_cpu_ns ? total - gc_cpu_ns : 0;
    uint64_t fill = rt_gc.limiter_fill + gc_cpu_ns, cap = LIMITER_CAPACITY_NS * (uint64_t)np;
    fill = fill > mutator ? fill - mutator : 0;
    rt_gc.limiter_fill = fill < cap ? fill : cap;
    rt_gc.limiter_last = now;
    rt_gc.limiter_last_gc = gc_cpu_ns;
}

// True while the bucket, less the mutator time since the last cycle, has
// no room for another cycle like the last.
static bool
limiter_limiting(void)
{
    int32_t np = atomic_load_explicit(&rt_gomaxprocs, memory_order_relaxed);
    uint64_t cap = LIMITER_CAPACITY_NS * (uint64_t)(np < 1 ? 1 : np);
    int64_t since = rt_nanotime() - rt_gc.limiter_last;
    uint64_t drained = since > 0 ? (uint64_t)since * (uint64_t)(np < 1 ? 1 : np) : 0;
    uint64_t fill = rt_gc.limiter_fill + rt_gc.limiter_last_gc;
    return fill > drained && fill - drained > cap;
}

void
rt_gc_sysmon_tick(int64_t now)
{
    if (atomic_load_explicit(&rt_gc.percent, memory_order_relaxed) < 0)
        return;
    int64_t last = atomic_load_explicit(&rt_gc.last_gc_ns, memory_order_relaxed);
    if (last == 0)
        last = rt_starttime;
    if (now - last < atomic_load_explicit(&rt_gc_force_period_ns, memory_order_relaxed))
        return;
    ready_forcegc(GC_REASON_TIME);
}

static void
ready_forcegc(int why)
{
    G *gp = NULL;
    rt_lock(&helpers.lock);
    if (helpers.forcegc_idle) {
        helpers.forcegc_idle = false;
        helpers.forcegc_why = why;
        gp = helpers.forcegc;
    }
    rt_unlock(&helpers.lock);
    if (gp != NULL)
        rt_ready(gp, false);
}

void
rt_gc_sysmon_poll(void)
{
    if (rt_gc_mark_done())
        ready_forcegc(GC_REASON_FINISH);
}

void
gort_gc(void)
{
    // runtime.GC: a full cycle that starts after this call, then the sweep
    // finished, so that memstats reflect it when this returns.
    if (!rt_gc_start(GC_REASON_FORCED))
        rt_throw("gort_gc: called where the world cannot be stopped");
    while (rt_gc_sweep_one()) {
    }
}

// ---- gctrace ------------------------------------------------------------------------

// Go's itoaDiv: val with a decimal point dec digits from the right.
static const char *
itoa_div(char *buf, size_t n, uint64_t val, int dec)
{
    size_t i = n - 1;
    buf[i] = 0;
    i--;
    size_t idec = dec > 0 ? i - (size_t)dec : (size_t)-1;
    while (val >= 10 || (dec > 0 && i >= idec)) {
        buf[i--] = (char)('0' + val % 10);
        if (dec > 0 && i == idec)
            buf[i--] = '.';
        val /= 10;
    }
    buf[i] = (char)('0' + val);
    return buf + i;
}

// Go's fmtNSAsMS: whole ms from 10 ms, else two significant digits.
static const char *
fmt_ms(char *buf, size_t n, uint64_t ns)
{
    if (ns >= 10000000)
        return itoa_div(buf, n, ns / 1000000, 0);
    uint64_t x = ns / 1000;
    if (x == 0) {
        buf[n - 2] = '0';
        buf[n - 1] = 0;
        return buf + n - 2;
    }
    int dec = 3;
    while (x >= 100) {
        x /= 10;
        dec--;
    }
    return itoa_div(buf, n, x, dec);
}

void
rt_gc_trace(const GCCycleStats *st)
{
    // Phases as gort runs them: a = stop + sweep termination + flush, b =
    // parallel mark (world stopped), c = finalizers, checkmark, stats and
    // start; cpu: a x P, mark assists, mark workers' time, idle 0, c x P.
    char b[9][32];
    uint64_t a = (uint64_t)(st->tmark - st->tstart), m = (uint64_t)(st->tmarkterm - st->tmark),
             c = (uint64_t)(st->tend - st->tmarkterm);
    uint64_t np = (uint64_t)st->nprocs;
    int64_t elapsed = st->tstart - rt_starttime;
    int64_t total = rt_nanotime() - rt_starttime;
    uint64_t cpu = atomic_load_explicit(&rt_gc.cpu_ns, memory_order_relaxed);
    int util = total > 0 ? (int)((double)cpu / ((double)total * (double)np) * 100) : 0;
    rt_printf("gc %u @%ss %d%%: %s+%s+%s ms clock, %s+%s/%s/%s+%s ms cpu, "
              "%llu->%llu->%llu MB, %llu MB goal, %llu MB stacks, %llu MB globals, %d P%s\n",
              st->n, itoa_div(b[0], sizeof b[0], (uint64_t)elapsed / 1000000, 3), util,
              fmt_ms(b[1], 32, a), fmt_ms(b[2], 32, m), fmt_ms(b[3], 32, c),
              fmt_ms(b[4], 32, a * np), fmt_ms(b[5], 32, st->assist_cpu_ns),
              fmt_ms(b[6], 32, st->mark_cpu_ns), fmt_ms(b[7], 32, 0), fmt_ms(b[8], 32, c * np),
              (unsigned long long)(st->heap0 >> 20), (unsigned long long)(st->heap1 >> 20),
              (unsigned long long)(st->heap2 >> 20),
              (unsigned long long)(st->goal == UINT64_MAX ? 0 : st->goal >> 20),
              (unsigned long long)(st->stack_bytes >> 20),
              (unsigned long long)(st->global_bytes >> 20), st->nprocs,
              st->forced ? " (forced)" : "");
}

// As Go's SetGCPercent(-1) (gcWaitOnMark): return with no cycle running. A
// concurrent mark is ended now rather than waited for; a cycle that holds
// the collector is waited for. A thread without a goroutine cannot wait.
static void
wait_no_cycle(void)
{
    M *m = rt_m();
    if (m == NULL || m->curg == NULL || m->p == NULL || m->locks != 0)
        return;
    while (rt_gc_marking() || atomic_load_explicit(&rt_gc.running, memory_order_acquire)) {
        if (rt_gc_marking() && rt_gc_start(GC_REASON_FINISH))
            continue;
        rt_gosched();
    }
}

int
gort_set_gc_percent(int percent)
{
    rt_lock(&rt_gc.lock);
    int32_t old = atomic_load(&rt_gc.percent);
    atomic_store(&rt_gc.percent, percent < 0 ? -1 : percent);
    rt_unlock(&rt_gc.lock);
    rt_gc_set_goal(atomic_load(&rt_gc.heap_marked));
    atomic_store_explicit(&rt_gc_malloc_hook, 1, memory_order_relaxed); // re-check the trigger
    if (percent < 0)
        wait_no_cycle();
    return old;
}

int64_t
gort_set_memory_limit(int64_t bytes)
{
    rt_lock(&rt_gc.lock);
    int64_t old = atomic_load(&rt_gc.memory_limit);
    if (bytes >= 0)
        atomic_store(&rt_gc.memory_limit, bytes);
    rt_unlock(&rt_gc.lock);
    if (bytes >= 0) {
        rt_gc_set_goal(atomic_load(&rt_gc.heap_marked));
        atomic_store_explicit(&rt_gc_malloc_hook, 1, memory_order_relaxed);
    }
    return old;
}
