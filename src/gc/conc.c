// conc.c: concurrent marking on the kernel's dirty bits.
//
// When the kernel can track writes (src/os/linux/dirty.c), a cycle marks
// while goroutines run, as the mostly-parallel collectors of Boehm, Demers
// and Shenker do, with the kernel's dirty bits in place of a write barrier:
//
//   STW 1 (sweep termination): finish sweeping, flush the MCaches, list
//     the runs of in-use pages, scan the roots onto worker 0's mark stack
//     (stack words to young objects left out, see below); from now on new
//     spans are stamped "fresh" (Span.fresh_cycle). Start the world.
//   concurrent mark: worker 0 (an OS thread, no P) first arms write
//     tracking on the listed runs (before it reads any heap object), then
//     drains its stack with
//     plain bit sets (the only marker); objects in fresh spans it marks
//     but leaves for STW 2 to scan; then up to
//     PRECLEAN_ROUNDS times it lists the pages written meanwhile, re-arms
//     them in the same walk, rescans the marked objects on them and drains
//     again, which leaves little for the pause. Done, it sets the malloc
//     hook (the next allocation terminates the cycle) and wakes sysmon
//     (which readies the forcegc goroutine when nobody allocates). An
//     allocation that reaches the heap goal terminates it at once.
//   STW 2 (mark termination): stop the marker (its stack is kept); each
//     mark worker lists the written pages of its share of the armed ones
//     (rt_conc_rescan_slice) and queues the marked objects' words on them,
//     then they mark in parallel from all roots again with the
//     world stopped, fresh spans included; the rest is the stop-the-world
//     cycle's termination. Worker 0 then disarms the pages in the
//     background.
//
// Why nothing reachable is missed: objects allocated meanwhile are white
// (allocation does nothing extra), and stacks, registers, globals, every
// runtime root and every deferred word are scanned again at STW 2, and so is
// every fresh object the marker kept (marked, not scanned). Take an object X
// reachable at STW 2 and the first unmarked object on a path to it: its
// predecessor P is a root (rescanned), or was scanned at STW 2 (marked then,
// or kept), or was scanned by the concurrent marker. In the last case P is
// not in a fresh span, so its pages were armed before the marker read any
// object (or count as written: conc_arm_runs). Had the
// pointer been in P when P was scanned, the marker would have marked the
// object, kept it (a fresh span) or deferred the pointer (an arena made
// since STW 1, or a slot that looked free), and STW 2 would mark it. So
// the pointer was stored later, and P's page was then either re-armed by a
// preclean round, which rescanned P's words on it (P was marked by then),
// or is listed as written at STW 2. A failed PAGEMAP_SCAN makes STW 2
// rescan every armed page.
//
// Young roots: STW 1 scans the stacks in MARK_SEED mode, which skips a
// word pointing to a young object: one the last full cycle did not mark
// (not in Span.full_bits), so allocated since it (a minor cycle's survivors
// are young in this sense too). Such an object reached only
// from a stack is usually a temporary that dies before STW 2 (the tree
// binary-trees is building); marking it at STW 1 would keep it, and what
// it reaches, as floating garbage that raises the next goal. Nothing is
// lost: the argument above holds whatever STW 1 marks, as STW 2 scans every
// stack again. The cost is that a young structure still alive at STW 2 is
// marked with the world stopped.
//
// Minor and medium cycles, which do not trace again what an earlier cycle
// kept: see gen.c.
//
// A heap that marked less than CONC_MIN_LIVE last time (and holds less
// than CONC_MIN_HEAP),
// GODEBUG=gcstoptheworld=1 (or gcconcurrent=0), a kernel without these
// interfaces, valgrind and TSan (which would see the marker's reads as
// races) get the stop-the-world cycle; so does gort_gc, which runs a full
// blocking cycle.
#include "core/debugvars.h"
#include "gc/mark.h"
#include "sanitize.h"

ConcMark rt_conc;

enum {
    RESCAN_DRAIN = 4096,  // pairs a concurrent rescan queues before it drains them
    PRECLEAN_ROUNDS = 3,  // concurrent passes over the written pages
    PRECLEAN_ENOUGH = 64, // written pages few enough to leave to the pause
};

void
rt_gc_runs_add(uintptr_t lo, uintptr_t hi)
{
    if (rt_conc.nruns > 0 && rt_conc.runs[2 * rt_conc.nruns - 1] == lo &&
        (lo & (ARENA_BYTES - 1)) != 0) {
        rt_conc.runs[2 * rt_conc.nruns - 1] = hi; // contiguous within an arena
        return;
    }
    if (rt_conc.nruns == rt_conc.caprun)
        rt_gc_table_grow(&rt_conc.runs, &rt_conc.caprun, rt_conc.nruns, 2, 1024,
                         "gc: cannot map the armed-range table");
    rt_conc.runs[2 * rt_conc.nruns] = lo;
    rt_conc.runs[2 * rt_conc.nruns + 1] = hi;
    rt_conc.nruns++;
}

// Worker 0, in the background after a cycle (JOB_DISARM); also STW 1 when
// arming failed half way.
void
rt_conc_disarm(void)
{
    // A refusal is harmless: pages left armed cost their first write an
    // async fault the kernel resolves itself, and only a full cycle follows
    // a disarm, which arms every in-use page again anyway.
    for (size_t i = 0; i < rt_conc.nruns; i++)
        (void)rt_os_dirty_protect(rt_conc.runs[2 * i],
                                  rt_conc.runs[2 * i + 1] - rt_conc.runs[2 * i], 0);
    rt_conc.nruns = 0;
}

// Lists the runs of in-use pages for write tracking (conc_arm_runs). [stw]
void
rt_conc_arm(void)
{
    MHeap *h = &rt_mheap;
    rt_conc.nruns = 0;
    rt_conc.armed_pages = 0;
    rt_lock(&h->lock);
    for (uint32_t i = 0; i < h->narenas; i++) {
        HeapArena *a = h->allarenas[i];
        uint32_t pg = 0;
        while (pg < PAGES_PER_ARENA) {
            uint64_t word = a->pallocbits[pg / 64] >> (pg % 64);
            if (word == 0) {
                pg = (pg / 64 + 1) * 64; // no in-use page in the rest of this word
                continue;
            }
            pg += (uint32_t)__builtin_ctzll(word);
            uint32_t start = pg;
            while (pg < PAGES_PER_ARENA) {
                uint64_t inv = ~a->pallocbits[pg / 64] >> (pg % 64);
                if (inv != 0 && (pg % 64) + (uint32_t)__builtin_ctzll(inv) < 64) {
                    pg += (uint32_t)__builtin_ctzll(inv);
                    break;
                }
                pg = (pg / 64 + 1) * 64;
            }
            if (pg > PAGES_PER_ARENA)
                pg = PAGES_PER_ARENA;
            rt_gc_runs_add(a->base + ((uintptr_t)start << PAGE_SHIFT),
                           a->base + ((uintptr_t)pg << PAGE_SHIFT));
            rt_conc.armed_pages += pg - start;
        }
    }
    rt_unlock(&h->lock);
}

// Worker 0, first thing after STW 1: arms the listed runs. Goroutines run
// already, but the marker has read no heap object yet (the roots only queued
// them), so a write before a page is armed is seen by the scan, and one
// after it is tracked. The world stays stopped for none of it (about
// 0.12 us a page: 30 ms for 1 GiB). If the kernel refuses, or mark
// termination comes first, the runs not armed count as written.
static void
conc_arm_runs(void)
{
    for (size_t i = 0; i < rt_conc.nruns; i++) {
        if (atomic_load_explicit(&rt_conc.stop, memory_order_relaxed)) {
            rt_conc.all_dirty = true;
            return;
        }
        if (rt_os_dirty_protect(rt_conc.runs[2 * i], rt_conc.runs[2 * i + 1] - rt_conc.runs[2 * i],
                                1) != 0) {
            rt_conc.all_dirty = rt_conc.arm_failed = true;
            return;
        }
    }
}

// Queues the words in [lo, hi) (pages written since they were armed) of
// every marked object there: words elsewhere in an object have not changed
// since it was scanned. The concurrent marker leaves fresh spans alone.
GC_NO_SANITIZE void
rt_gc_rescan_written(uintptr_t lo, uintptr_t hi, void *arg)
{
    GCWork *w = arg;
    atomic_fetch_add_explicit(&rt_conc.dirty_pages, (hi - lo) / rt_os_pagesize(),
                              memory_order_relaxed);
    if (rt_conc.gen)
        rt_dsf_note(lo, hi);
    uintptr_t p = lo;
    while (p < hi) {
        Span *s = rt_span_of(p);
        if (s == NULL) {
            p = (p | (PAGE_SIZE - 1)) + 1;
            continue;
        }
        uintptr_t send = s->startaddr + (s->npages << PAGE_SHIFT);
        uintptr_t a = p > s->startaddr ? p : s->startaddr, b = hi < s->limit ? hi : s->limit;
        bool skip = rt_spanclass_noscan(s->spanclass) ||
                    (rt_work.mode == MARK_CONC && s->fresh_cycle == rt_work.fresh);
        if (!skip && a < b) {
            const uint8_t *mb = s->gcmark_bits;
            if (s->divmagic == 0) {
                if (mb[0] & 1)
                    gcw_push(w, a, b - a);
            } else {
                // Neighbouring marked objects go as one range (a page of
                // old objects in a minor cycle is one entry, not hundreds).
                uint32_t i = rt_span_obj_index(s, a), iend = rt_span_obj_index(s, b - 1);
                uintptr_t rlo = 0, rhi = 0;
                for (; i <= iend; i++) {
                    if (!(mb[i / 8] & (1u << (i % 8))))
                        continue;
                    uintptr_t base = s->startaddr + (uintptr_t)i * s->elemsize;
                    uintptr_t oa = base > a ? base : a, ob = base + s->elemsize;
                    if (ob > b)
                        ob = b;
                    if (oa != rhi) {
                        if (rhi > rlo)
                            gcw_push(w, rlo, rhi - rlo);
                        rlo = oa;
                    }
                    rhi = ob;
                }
                if (rhi > rlo)
                    gcw_push(w, rlo, rhi - rlo);
            }
        }
        p = send;
        // A harvest of many written pages would queue every old object on
        // them first (a mark stack of tens of MiB): the concurrent marker
        // drains as it goes.
        if (rt_work.mode == MARK_CONC && w->n >= RESCAN_DRAIN)
            rt_gc_drain_conc(w, UINT64_MAX);
    }
}

// A preclean round of the concurrent marker: queues what was written to the
// armed pages and arms them again in the same walk.
static void
conc_rescan(GCWork *w)
{
    for (size_t i = 0; i < rt_conc.nruns; i++) {
        uintptr_t lo = rt_conc.runs[2 * i], hi = rt_conc.runs[2 * i + 1];
        if (atomic_load_explicit(&rt_conc.stop, memory_order_relaxed))
            return; // mark termination rescans everything still written
        if (!rt_conc.all_dirty && rt_os_dirty_scan(lo, hi, 1, rt_gc_rescan_written, w) >= 0)
            continue;
        // A failed scan may have re-armed pages it did not report: from
        // now on, every armed page counts as written (rt_conc_rescan_slice).
        rt_conc.all_dirty = true;
        return;
    }
}

// Mark termination, on each of the nproc mark workers (k = 0 the starter):
// queues the marked words on the written pages of slice k of the armed
// pages, so that the rescan of a heap written all over runs in parallel.
void
rt_conc_rescan_slice(GCWork *w, uint32_t k, uint32_t nproc)
{
    uintptr_t total = 0;
    for (size_t i = 0; i < rt_conc.nruns; i++)
        total += (rt_conc.runs[2 * i + 1] - rt_conc.runs[2 * i]) >> PAGE_SHIFT;
    uintptr_t from = total * k / nproc, to = total * (k + 1) / nproc, at = 0;
    bool all = atomic_load_explicit(&rt_conc.all_dirty, memory_order_relaxed);
    for (size_t i = 0; i < rt_conc.nruns && at < to; i++) {
        uintptr_t lo = rt_conc.runs[2 * i], hi = rt_conc.runs[2 * i + 1];
        uintptr_t n = (hi - lo) >> PAGE_SHIFT, a = at, b = at + n;
        at = b;
        if (b <= from)
            continue;
        uintptr_t slo = lo + ((a < from ? from - a : 0) << PAGE_SHIFT);
        uintptr_t shi = b > to ? hi - ((b - to) << PAGE_SHIFT) : hi;
        if (!all && rt_os_dirty_scan(slo, shi, 0, rt_gc_rescan_written, w) >= 0)
            continue;
        atomic_store_explicit(&rt_conc.all_dirty, true, memory_order_relaxed);
        // Every page counts as written; with the world stopped, those not
        // in memory read zero (rt_gc_push_sparse).
        if (rt_gc_core_usable())
            rt_os_core_scan(slo, shi, rt_gc_rescan_written, w);
        else
            rt_gc_rescan_written(slo, shi, w);
    }
}

// Worker 0's wait while an assist runs: for its shared work, its end, or a stop.
static bool
conc_drain_may_go(void *arg)
{
    (void)arg;
    return atomic_load_explicit(&rt_work.nfull, memory_order_relaxed) != 0 ||
           !atomic_load_explicit(&rt_conc.assist_busy, memory_order_relaxed) ||
           atomic_load_explicit(&rt_conc.stop, memory_order_relaxed);
}

// Worker 0: drains its stack and the work an assist gave back, until
// neither has any and no goroutine is assisting. False if mark termination
// stopped it.
GC_NO_SANITIZE bool
rt_conc_drain(GCWork *w)
{
    for (;;) {
        if (!rt_gc_drain_conc(w, UINT64_MAX))
            return false;
        if (rt_gcw_steal(w)) {
            w->nsteal++;
            continue;
        }
        // Busy first, then the list: an assist gives back its work before
        // it clears busy (release), so seeing it clear shows its work.
        if (atomic_load_explicit(&rt_conc.assist_busy, memory_order_acquire)) {
            // It shares while we are hungry; wait for that or its end.
            atomic_fetch_add_explicit(&rt_conc.hungry, 1, memory_order_relaxed);
            rt_gc_wait_until(conc_drain_may_go, NULL, &rt_conc.seq, &rt_conc.nsleep);
            atomic_fetch_sub_explicit(&rt_conc.hungry, 1, memory_order_relaxed);
            if (atomic_load_explicit(&rt_conc.stop, memory_order_relaxed))
                return false;
            continue;
        }
        if (atomic_load_explicit(&rt_work.nfull, memory_order_acquire) == 0)
            return true;
    }
}

// Worker 0 while goroutines run (JOB_CONC).
void
rt_conc_worker(GCWork *w)
{
    int64_t t0 = rt_nanotime();
    if (rt_conc.kind != GEN_FULL) {
        rt_gc_foreach_span(rt_gen_premark, NULL);
        if (rt_conc.kind == GEN_MEDIUM)
            rt_conc.dsf_done = rt_dsf_rescan(w, true);
        // Harvest the pages written since the last mark (and arm them).
        uint64_t before = rt_conc.dirty_pages;
        conc_rescan(w);
        rt_conc.harvest_pages = rt_conc.dirty_pages - before;
    } else {
        conc_arm_runs();
    }
    rt_conc.setup_ns = (uint64_t)(rt_nanotime() - t0);
    rt_conc.setup_done = !atomic_load_explicit(&rt_conc.stop, memory_order_relaxed);
    atomic_store_explicit(&rt_conc.sparse,
                          rt_conc.kind == GEN_FULL && rt_conc.setup_done && !rt_conc.all_dirty,
                          memory_order_relaxed);
    // Heap objects may be read now: assists may start (rt_gc_mark_assist).
    atomic_store_explicit(&rt_conc.armed, 1, memory_order_release);
    bool ok = rt_conc_drain(w);
    for (int r = 0; ok && r < PRECLEAN_ROUNDS && !rt_conc.all_dirty; r++) {
        uint64_t before = rt_conc.dirty_pages;
        conc_rescan(w);
        ok = rt_conc_drain(w);
        if (rt_conc.dirty_pages - before <= PRECLEAN_ENOUGH)
            break;
    }
    rt_conc.cpu_ns += (uint64_t)(rt_nanotime() - t0);
    if (ok && !atomic_load_explicit(&rt_conc.stop, memory_order_relaxed)) {
        atomic_store_explicit(&rt_conc.done, 1, memory_order_release);
        atomic_store_explicit(&rt_gc_malloc_hook, 1, memory_order_relaxed);
        rt_sysmon_wake();
    }
    rt_assist_wake(); // parked assists go on: done, or stopped
}

// Decided at the first cycle, before the world stops (it starts worker 0
// and registers the arenas with the kernel).
void
rt_conc_decide(void)
{
    if (rt_conc.decided)
        return;
    rt_conc.decided = true;
    bool ok = rt_debug.gcconcurrent > 0 && rt_debug.gcstoptheworld == 0 && !RT_TSAN;
    ok = ok && !rt_gc_valgrind;
    ok = ok && rt_os_dirty_init() == 0 && rt_mheap_dirty_enable();
    if (ok)
        rt_workers_ensure(1);
    rt_conc.enabled = ok && rt_work.nworkers >= 1;
    rt_conc.gen = rt_conc.enabled && rt_debug.gcgen > 0;
}

bool
rt_conc_usable(void)
{
    return rt_conc.enabled && !rt_mheap.dirty_failed;
}

bool
rt_gc_concurrent_enabled(void)
{
    return rt_conc.decided && rt_conc.enabled && !rt_mheap.dirty_failed;
}

bool
rt_gc_mark_done(void)
{
    return atomic_load_explicit(&rt_conc.phase, memory_order_acquire) == CONC_MARK &&
           atomic_load_explicit(&rt_conc.done, memory_order_acquire);
}

uint64_t
rt_gc_assist_marked(void)
{
    return atomic_load_explicit(&rt_conc.assist_total, memory_order_relaxed);
}

bool
rt_gc_marking(void)
{
    return atomic_load_explicit(&rt_conc.phase, memory_order_acquire) == CONC_MARK;
}
