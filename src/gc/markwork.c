// markwork.c: the mark's work: mark stacks, shared buffers, waiting, the mark threads.
//
// Each marker owns a GCWork, a growable stack of (address, length) pairs
// mapped with rt_os_map (never the heap, never recursion: a 10M-node list
// needs one entry at a time). While another marker waits and nothing is
// shared, a marker with two or more entries moves half of them (at most a
// 4 KiB WorkBuf) to the global list; idle markers take a buffer from it. A
// stop-the-world mark ends when every marker waits and the list is empty.
//
// Threads: worker i (0 .. GOMAXPROCS-2) is a dedicated OS thread (not an M,
// no P, no gort stack, all signals blocked) sleeping on a futex on
// rt_work.jobs, which carries a job sequence, the job and the number of
// markers; the goroutine that starts the cycle is the last marker and scans
// the roots, sharing as it goes. Worker 0 is also the concurrent marker
// (JOB_CONC, conc.c). Workers are created on demand and never exit.
//
// Locking: rt_work.lock guards the global buffer lists (a leaf). Everything
// else in rt_work is [stw] unless tagged: written by the starter with the
// world stopped, read by the workers between the futex wake-up and their
// done count.
#include "gc/mark.h"

#include <string.h>

MarkWork rt_work;

// ---- Waiting -----------------------------------------------------------------------
//
// No marker waits by spinning for long: on a loaded machine the thread it
// waits for may be off its core for a whole time slice, and spinning takes
// the CPU that thread needs. A wait spins WAIT_ACTIVE rounds of WAIT_PAUSES
// PAUSEs, yields the core once, then sleeps in the kernel on a futex word
// (rt_work.seq in the stop-the-world mark, rt_conc.seq in the concurrent one).
// A waiter counts itself in nsleep, fences, reads seq, checks its condition
// and sleeps on that seq; a waker changes the state, fences and, if anyone
// sleeps, bumps seq and wakes them all (rt_gc_futex_event). With the two fences
// either the waker sees the sleeper or the sleeper sees the change.

void
rt_gc_futex_event(_Atomic uint32_t *seq, _Atomic uint32_t *nsleep)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(nsleep, memory_order_relaxed) != 0) {
        atomic_fetch_add_explicit(seq, 1, memory_order_seq_cst);
        rt_os_futexwake(seq, INT32_MAX);
    }
}

// Waits until cond(arg) holds: spins briefly (not on one CPU), yields once,
// then sleeps on seq until an event. cond must be cheap and may be called
// many times.
void
rt_gc_wait_until(bool (*cond)(void *), void *arg, _Atomic uint32_t *seq, _Atomic uint32_t *nsleep)
{
    int active = rt_ncpu > 1 ? WAIT_ACTIVE : 0;
    for (int i = 0; i < active; i++) {
        if (cond(arg))
            return;
        for (int j = 0; j < WAIT_PAUSES; j++)
            rt_arch_pause();
    }
    if (cond(arg))
        return;
    rt_os_osyield();
    while (!cond(arg)) {
        atomic_fetch_add_explicit(nsleep, 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst);
        uint32_t v = atomic_load_explicit(seq, memory_order_relaxed);
        if (!cond(arg))
            rt_os_futexsleep(seq, v, -1);
        atomic_fetch_sub_explicit(nsleep, 1, memory_order_relaxed);
    }
}

// ---- The mark stack ----------------------------------------------------------------

// Doubles an off-heap table of words (*cap entries of width words each, the
// first used of them kept), starting at first entries; throws if it
// cannot be mapped (what: the table's name).
RT_NOINLINE void
rt_gc_table_grow(uintptr_t **t, uintptr_t *cap, uintptr_t used, uintptr_t width, uintptr_t first,
                 const char *what)
{
    uintptr_t ncap = *cap ? *cap * 2 : first;
    uintptr_t *nt = rt_os_map(ncap * width * sizeof(uintptr_t));
    if (nt == NULL)
        rt_throw(what);
    if (*t != NULL) {
        memcpy(nt, *t, used * width * sizeof(uintptr_t));
        rt_os_unmap(*t, *cap * width * sizeof(uintptr_t));
    }
    *t = nt;
    *cap = ncap;
}

// Gives back all but the first 64 KiB of an rt_gc_table_grow table (its pages
// read as zero if used again): one cycle's burst must not stay in RSS.
void
rt_gc_table_trim(uintptr_t *t, uintptr_t cap, uintptr_t width)
{
    enum { KEEP = 64 << 10 };
    uintptr_t bytes = cap * width * sizeof(uintptr_t);
    if (t != NULL && bytes > KEEP)
        (void)rt_os_release((char *)t + KEEP, bytes - KEEP); // refused: stays resident
}

void
rt_gcw_grow(GCWork *w)
{
    rt_gc_table_grow(&w->stack, &w->cap, w->n, 2, STACK_INIT, "gc: cannot map the mark stack");
}

WorkBuf *
rt_wb_get_empty(void)
{
    rt_lock(&rt_work.lock);
    WorkBuf *b = rt_work.empty;
    if (b != NULL)
        rt_work.empty = b->next;
    rt_unlock(&rt_work.lock);
    if (b == NULL) {
        b = rt_os_map(sizeof(WorkBuf));
        if (b == NULL)
            rt_throw("gc: cannot map a work buffer");
    }
    b->n = 0;
    return b;
}

// Puts a filled buffer on the global list.
void
rt_wb_put_full(WorkBuf *b)
{
    rt_lock(&rt_work.lock);
    b->next = rt_work.full;
    rt_work.full = b;
    atomic_fetch_add_explicit(&rt_work.nfull, 1, memory_order_release);
    rt_unlock(&rt_work.lock);
    rt_gc_futex_event(&rt_work.seq, &rt_work.nsleep);
}

// Moves about half of w's stack (at most WB_ENTRIES pairs) to the global
// list. A short stack gives its bottom entries, the oldest and usually the
// biggest pieces of work (a tree's other subtrees); a deep one its top, so
// sharing never copies more than a buffer's worth.
RT_NOINLINE void
rt_gcw_share(GCWork *w)
{
    WorkBuf *b = rt_wb_get_empty();
    uintptr_t k = (w->n + 1) / 2 < WB_ENTRIES ? (w->n + 1) / 2 : WB_ENTRIES;
    if (w->n <= 4 * WB_ENTRIES) {
        memcpy(b->e, w->stack, k * 2 * sizeof(uintptr_t));
        memmove(w->stack, w->stack + 2 * k, (w->n - k) * 2 * sizeof(uintptr_t));
        w->n -= k;
    } else {
        w->n -= k;
        memcpy(b->e, w->stack + 2 * w->n, k * 2 * sizeof(uintptr_t));
    }
    b->n = k;
    rt_wb_put_full(b);
}

// Takes one buffer of shared work onto w's stack. False if none.
bool
rt_gcw_steal(GCWork *w)
{
    if (atomic_load_explicit(&rt_work.nfull, memory_order_acquire) == 0)
        return false;
    rt_lock(&rt_work.lock);
    WorkBuf *b = rt_work.full;
    if (b != NULL) {
        rt_work.full = b->next;
        atomic_fetch_sub_explicit(&rt_work.nfull, 1, memory_order_relaxed);
    }
    rt_unlock(&rt_work.lock);
    if (b == NULL)
        return false;
    while (w->n + b->n > w->cap)
        rt_gcw_grow(w);
    memcpy(w->stack + 2 * w->n, b->e, b->n * 2 * sizeof(uintptr_t));
    w->n += b->n;
    rt_lock(&rt_work.lock);
    b->next = rt_work.empty;
    rt_work.empty = b;
    rt_unlock(&rt_work.lock);
    return true;
}

static void *
worker_main(void *arg)
{
    Worker *wk = arg;
    uint32_t seen = 0;
    for (;;) {
        uint32_t g;
        while ((g = atomic_load_explicit(&rt_work.jobs, memory_order_acquire)) == seen)
            rt_os_futexsleep(&rt_work.jobs, seen, -1);
        seen = g;
        // nproc travels in the same word as the job number: a worker that
        // wakes late for a job it was not part of (which may be over) must
        // not read the next job's nproc and count itself in twice.
        if ((uint32_t)wk->id + 1 >= (g & JOBS_NPROC_MASK))
            continue; // not needed this time
        switch ((g >> JOBS_JOB_SHIFT) & JOBS_JOB_MASK) {
        case JOB_MARK:
            if (rt_work.rescan)
                rt_conc_rescan_slice(&wk->w, (uint32_t)wk->id + 1, g & JOBS_NPROC_MASK);
            rt_mark_loop(&wk->w);
            break;
        case JOB_CONC:
            rt_conc_worker(&wk->w);
            break;
        case JOB_DISARM:
            rt_conc_disarm();
            break;
        }
        if (atomic_fetch_sub_explicit(&rt_work.ndone, 1, memory_order_acq_rel) == 1)
            rt_os_futexwake(&rt_work.ndone, 1);
    }
    return NULL;
}

// Starts job on the first nproc - 1 workers (the caller is the last one).
// The workers must be idle (rt_workers_wait).
void
rt_workers_run(uint32_t job, uint32_t nproc)
{
    atomic_store_explicit(&rt_work.ndone, nproc - 1, memory_order_relaxed);
    uint32_t g = atomic_load_explicit(&rt_work.jobs, memory_order_relaxed);
    uint32_t next = ((g >> JOBS_SEQ_SHIFT) + 1) << JOBS_SEQ_SHIFT | job << JOBS_JOB_SHIFT | nproc;
    atomic_store_explicit(&rt_work.jobs, next, memory_order_release);
    rt_os_futexwake(&rt_work.jobs, 0x7fffffff);
}

// Waits until the workers finished their job (the concurrent marker first
// told to stop, if marking).
void
rt_workers_wait(void)
{
    uint32_t n;
    while ((n = atomic_load_explicit(&rt_work.ndone, memory_order_acquire)) != 0)
        rt_os_futexsleep(&rt_work.ndone, n, -1);
}

// Starts worker threads until there are n. Never with the world stopped: a
// suspended thread may hold a lock of libc's (or a sanitizer's) that
// pthread_create needs.
void
rt_workers_ensure(uint32_t n)
{
    while (rt_work.nworkers < n && rt_work.nworkers < MAX_WORKERS) {
        Worker *wk = rt_persistentalloc(sizeof(Worker), RT_CACHE_LINE);
        wk->id = (int)rt_work.nworkers;
        if (rt_os_newosproc(worker_main, wk, &wk->thread) != 0)
            break; // fewer helpers; marking still completes
        rt_work.workers[rt_work.nworkers++] = wk;
    }
}
