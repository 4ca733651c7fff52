// timer.c: per-P timer heaps.
//
// Each P keeps its armed timers in a 4-ary min-heap ordered by when (Go's
// layout: the children of i are 4i+1..4i+4, its parent (i-1)/4), guarded by
// p->timerlock. p->timer0when mirrors the root's when (0: empty) so that the
// scheduler and sysmon can look without the lock. rt_timers_run pops expired
// timers, re-arms periodic ones the first whole period after now (missed
// ticks are skipped, as in Go) and calls f with the lock released.
//
// Where a timer is: t->pp names the P whose heap holds it, or is NULL. It is
// read atomically without a lock to find the lock, then re-checked under it:
//   NULL -> pp   by CAS while holding pp->timerlock (add; reset of an idle timer)
//   pp -> NULL   holding pp->timerlock (del; run popping a one-shot)
//   pp -> q      holding both locks (rt_timers_move, world stopped)
// So whoever holds pp->timerlock and sees t->pp == pp owns t's slot, when and
// idx, and racing add/del/reset calls from any goroutines cannot put a timer
// on two heaps. A one-shot whose f is in flight is on no heap: del returns
// false (it fired) and reset arms it again. Run never touches t after calling
// f, since f may make it garbage.
//
// Heap arrays come from rt_os_map, not the GC heap: they grow under the lock,
// possibly on g0 inside park's unlockf (gort_sleep), where allocating from
// the GC heap could start a collection. The collector must therefore mark
// armed timers itself (rt_timers_visit).
//
// Locking: pp->timerlock is a leaf, except that rt_timers_move holds two
// (lower P id first). f and rt_sched_timer_wake run with no timer lock held.
#include "time/timer.h"
#if GORT_TESTING
#include "export_test.h"
#endif

#include <string.h>

enum {
    HEAP_ARY = 4,      // children per node
    HEAP_MINCAP = 512, // first array: one 4 KiB page of pointers
};

// One-shot callbacks popped but not yet returned (rt_timers_pending).
static _Atomic int32_t ninflight;

// t->pp is written under the lock of the P it names (see the top of the file)
// but read without one, so every access is atomic.
static inline P *
tpp_load(Timer *t)
{
    return __atomic_load_n(&t->pp, __ATOMIC_ACQUIRE);
}

static inline void
tpp_store(Timer *t, P *pp)
{
    __atomic_store_n(&t->pp, pp, __ATOMIC_RELEASE);
}

static inline bool
tpp_cas(Timer *t, P *old, P *pp)
{
    return __atomic_compare_exchange_n(&t->pp, &old, pp, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

// ---- heap primitives: all require pp->timerlock ---------------------------

static void
heap_check(P *pp)
{
    for (int32_t i = 0; i < pp->ntimers; i++) {
        Timer *t = pp->timers[i];
        if (t->idx != i || tpp_load(t) != pp)
            rt_throw("timer: heap entry out of place");
        if (i > 0 && t->when < pp->timers[(i - 1) / HEAP_ARY]->when)
            rt_throw("timer: heap order broken");
    }
}

static void
siftup(P *pp, int32_t i)
{
    Timer **h = pp->timers;
    Timer *t = h[i];
    int64_t when = t->when;
    while (i > 0) {
        int32_t parent = (i - 1) / HEAP_ARY;
        if (when >= h[parent]->when)
            break;
        h[i] = h[parent];
        h[i]->idx = i;
        i = parent;
    }
    h[i] = t;
    t->idx = i;
}

static void
siftdown(P *pp, int32_t i)
{
    Timer **h = pp->timers;
    int32_t n = pp->ntimers;
    Timer *t = h[i];
    int64_t when = t->when;
    for (;;) {
        int64_t c = (int64_t)i * HEAP_ARY + 1;
        if (c >= n)
            break;
        int32_t best = (int32_t)c;
        int32_t end = c + HEAP_ARY < n ? (int32_t)c + HEAP_ARY : n;
        for (int32_t k = best + 1; k < end; k++)
            if (h[k]->when < h[best]->when)
                best = k;
        if (h[best]->when >= when)
            break;
        h[i] = h[best];
        h[i]->idx = i;
        i = best;
    }
    h[i] = t;
    t->idx = i;
}

static void
heap_grow(P *pp)
{
    int32_t cap = pp->timercap;
    if (rt_unlikely(cap > INT32_MAX / 2))
        rt_throw("timer: too many timers on one P");
    int32_t ncap = cap ? cap * 2 : HEAP_MINCAP;
    Timer **h = rt_os_map((size_t)ncap * sizeof(Timer *));
    if (rt_unlikely(h == NULL))
        rt_throw("timer: out of memory for the heap");
    if (pp->ntimers > 0)
        memcpy(h, pp->timers, (size_t)pp->ntimers * sizeof(Timer *));
    if (pp->timers != NULL)
        rt_os_unmap(pp->timers, (size_t)cap * sizeof(Timer *));
    pp->timers = h;
    pp->timercap = ncap;
}

static void
heap_push(P *pp, Timer *t)
{
    rt_assert_held(&pp->timerlock);
    if (pp->ntimers == pp->timercap)
        heap_grow(pp);
    int32_t i = pp->ntimers++;
    pp->timers[i] = t;
    siftup(pp, i);
}

static void
heap_remove(P *pp, int32_t i)
{
    rt_assert_held(&pp->timerlock);
    RT_ASSERT_INVARIANT(i >= 0 && i < pp->ntimers && pp->timers[i]->idx == i);
    Timer **h = pp->timers;
    int32_t last = --pp->ntimers;
    if (i != last) {
        Timer *moved = h[last];
        h[i] = moved;
        moved->idx = i;
        siftup(pp, i);
        if (moved->idx == i)
            siftdown(pp, i);
    }
    h[last] = NULL;
}

// Publishes the root's when after a change of pp's heap.
static void
update0(P *pp)
{
    int64_t w = pp->ntimers > 0 ? pp->timers[0]->when : 0;
    atomic_store_explicit(&pp->timer0when, w, memory_order_release);
    if (GORT_DEBUG >= 3) // RT_ASSERT_EXPENSIVE's level: a walk of the heap
        heap_check(pp);
}

// ---- arming -----------------------------------------------------------------

// 0 means "no timer" in timer0when, so a when in the past becomes 1.
static inline int64_t
clampwhen(int64_t when)
{
    return when < 1 ? 1 : when;
}

// The P to arm a timer on: the caller's, else P 0 (sysmon, a thread with no P).
static P *
curp(bool fallback)
{
    M *mp = rt_m();
    P *pp = (mp != NULL && !fallback) ? mp->p : NULL;
    return pp != NULL ? pp : rt_allp[0];
}

// Sets t to fire at when: in place if it is armed (on its own P), else on the
// caller's P. Returns whether it was armed. Any stack; takes a timerlock.
static bool
modtimer(Timer *t, int64_t when, bool add)
{
    when = clampwhen(when);
    bool fallback = false;
    for (;;) {
        P *pp = tpp_load(t);
        if (pp != NULL) {
            if (rt_unlikely(add))
                rt_throw("timer: rt_timer_add of an armed timer");
            rt_lock(&pp->timerlock);
            if (tpp_load(t) != pp) { // moved or popped meanwhile
                rt_unlock(&pp->timerlock);
                continue;
            }
            int64_t old = t->when;
            t->when = when;
            if (when < old)
                siftup(pp, t->idx);
            else
                siftdown(pp, t->idx);
            bool first = t->idx == 0;
            update0(pp);
            rt_unlock(&pp->timerlock);
            if (first)
                rt_sched_timer_wake(when);
            return true;
        }
        pp = curp(fallback);
        rt_lock(&pp->timerlock);
        if (atomic_load_explicit(&pp->status, memory_order_relaxed) == P_DEAD) {
            // Read our P, then the world stopped and gomaxprocs destroyed it.
            rt_unlock(&pp->timerlock);
            fallback = true;
            continue;
        }
        if (!tpp_cas(t, NULL, pp)) { // another goroutine armed it first
            rt_unlock(&pp->timerlock);
            continue;
        }
        t->when = when;
        atomic_store_explicit(&t->status, TIMER_ARMED, memory_order_relaxed);
        heap_push(pp, t);
        bool first = t->idx == 0;
        update0(pp);
        rt_unlock(&pp->timerlock);
        if (first)
            rt_sched_timer_wake(when);
        return false;
    }
}

void
rt_timer_add(Timer *t, int64_t when)
{
    modtimer(t, when, true);
}

void
rt_timer_reset(Timer *t, int64_t when)
{
    modtimer(t, when, false);
}

bool
rt_timer_del(Timer *t)
{
    for (;;) {
        P *pp = tpp_load(t);
        if (pp == NULL)
            return false; // never armed, stopped, or a one-shot that fired
        rt_lock(&pp->timerlock);
        if (tpp_load(t) != pp) {
            rt_unlock(&pp->timerlock);
            continue;
        }
        heap_remove(pp, t->idx);
        tpp_store(t, NULL);
        atomic_store_explicit(&t->status, TIMER_IDLE, memory_order_relaxed);
        update0(pp);
        rt_unlock(&pp->timerlock);
        return true;
    }
}

// ---- running ----------------------------------------------------------------

// The first when + k*period (k >= 1) after now, for when <= now.
static int64_t
nextperiod(int64_t when, int64_t period, int64_t now)
{
    int64_t k = (now - when) / period + 1, d, next;
    if (__builtin_mul_overflow(k, period, &d) || __builtin_add_overflow(when, d, &next))
        return INT64_MAX;
    return next;
}

int64_t
rt_timers_run(P *pp, int64_t now)
{
    int64_t next = atomic_load_explicit(&pp->timer0when, memory_order_acquire);
    if (next == 0 || next > now)
        return next;
    rt_lock(&pp->timerlock);
    for (;;) {
        if (pp->ntimers == 0) {
            next = 0;
            break;
        }
        Timer *t = pp->timers[0];
        if (t->when > now) {
            next = t->when;
            break;
        }
        void (*f)(void *, int64_t) = t->f;
        void *arg = t->arg;
        bool oneshot = t->period <= 0;
        if (!oneshot) {
            t->when = nextperiod(t->when, t->period, now);
            siftdown(pp, 0);
        } else {
            atomic_fetch_add(&ninflight, 1); // before timer0when may read 0
            heap_remove(pp, 0);
            atomic_store_explicit(&t->status, TIMER_FIRED, memory_order_relaxed);
            tpp_store(t, NULL);
        }
        update0(pp);
        rt_unlock(&pp->timerlock);
        f(arg, now); // t may be re-armed, stopped or garbage from here on
        if (oneshot)
            atomic_fetch_sub(&ninflight, 1);
        rt_lock(&pp->timerlock);
    }
    rt_unlock(&pp->timerlock);
    return next;
}

int64_t
rt_timers_next(void)
{
    int32_t n = atomic_load_explicit(&rt_gomaxprocs, memory_order_acquire);
    int64_t min = 0;
    for (int32_t i = 0; i < n; i++) {
        int64_t w = atomic_load_explicit(
                &__atomic_load_n(&rt_allp, __ATOMIC_ACQUIRE)[i]->timer0when, memory_order_acquire);
        if (w != 0 && (min == 0 || w < min))
            min = w;
    }
    return min;
}

bool
rt_timers_pending(void)
{
    // timer0when first: a pop raises ninflight before it publishes the new root.
    return rt_timers_next() != 0 || atomic_load(&ninflight) > 0;
}

// ---- P lifecycle and the collector -------------------------------------------

void
rt_timers_move(P *from, P *to)
{
    if (from == to)
        return;
    P *a = from->id < to->id ? from : to, *b = a == from ? to : from;
    rt_lock(&a->timerlock);
    rt_lock(&b->timerlock);
    for (int32_t i = 0; i < from->ntimers; i++) {
        Timer *t = from->timers[i];
        from->timers[i] = NULL;
        heap_push(to, t);
        tpp_store(t, to);
    }
    from->ntimers = 0;
    update0(from);
    update0(to);
    rt_unlock(&b->timerlock);
    rt_unlock(&a->timerlock);
}

void
rt_timers_visit(P *pp, void (*fn)(Timer *t, void *ctx), void *ctx)
{
    rt_lock(&pp->timerlock);
    for (int32_t i = 0; i < pp->ntimers; i++)
        fn(pp->timers[i], ctx);
    rt_unlock(&pp->timerlock);
}

#if GORT_TESTING
// export_test.h.
int
rt_test_timer_heap(const int64_t *whens, int n, const int *remove, int nremove, int64_t *out,
                   int64_t *gone)
{
    P *pp = rt_os_map(sizeof *pp);
    Timer *ts = rt_os_map((size_t)(n > 0 ? n : 1) * sizeof *ts);
    if (pp == NULL || ts == NULL)
        rt_throw("timer test: out of memory");
    rt_lock(&pp->timerlock);
    for (int i = 0; i < n; i++) {
        ts[i].when = whens[i];
        tpp_store(&ts[i], pp);
        heap_push(pp, &ts[i]);
        heap_check(pp);
        if (i < nremove) {
            Timer *t = pp->timers[remove[i] % pp->ntimers];
            gone[i] = t->when;
            heap_remove(pp, t->idx);
            tpp_store(t, NULL);
            heap_check(pp);
        }
    }
    int k = 0;
    while (pp->ntimers > 0) {
        out[k++] = pp->timers[0]->when;
        heap_remove(pp, 0);
        heap_check(pp);
    }
    rt_unlock(&pp->timerlock);
    if (pp->timers != NULL)
        rt_os_unmap(pp->timers, (size_t)pp->timercap * sizeof(Timer *));
    rt_os_unmap(ts, (size_t)(n > 0 ? n : 1) * sizeof *ts);
    rt_os_unmap(pp, sizeof *pp);
    return k;
}
#endif
