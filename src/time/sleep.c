// sleep.c: the public Time API (sleep, after, tickers) on the timers of timer.c.
//
// gort_sleep arms the goroutine's own timer (allocated once per G, reused)
// from park's unlockf on g0, as Go's resetForSleep does: the timer cannot
// fire, and ready the goroutine, before it is fully parked.
//
// Channel timers send the nanotime at firing with a non-blocking send on a
// cap-1 channel, so a tick nobody has received yet makes later ones drop.
// A ticker's lock is held across each send and by gort_ticker_stop, so once
// stop returns no tick is sent (a tick already buffered stays there; the
// channel is not closed, as in Go).
//
// Lock order: gort_ticker.lock, then the channel's lock (inside trysend).
#include "time/timer.h"

#include <stdalign.h>

struct gort_ticker {
    Timer t;      // [const] period, f and arg; first, so a pointer to it keeps the ticker alive
    gort_chan *c; // [const] cap-1 channel of int64_t
    Lock lock;    // guards stopped; held across each send
    bool stopped; // [lock: lock]
};

// nanotime() + ns, saturating (Go's when()); ns <= 0 means now.
static int64_t
when_after(int64_t ns)
{
    int64_t now = rt_nanotime(), when;
    if (ns <= 0)
        return now;
    if (__builtin_add_overflow(now, ns, &when))
        return INT64_MAX;
    return when;
}

GORT_API int64_t
gort_nanotime(void)
{
    return rt_nanotime();
}

// ---- sleep --------------------------------------------------------------------

// Timer callback, on g0 or sysmon: the sleeper's time is up. It goes in the
// P's runnext, as Go's goready does: a woken sleeper runs before the goroutines
// already queued (four spinners kept main's 1 ms sleeps 50-120 ms late at the
// tail of the queue), and sysmon, with no P, puts it on the global queue.
static void
sleep_fire(void *arg, int64_t now)
{
    (void)now;
    rt_ready((G *)arg, true);
}

// Park's unlockf, on g0 once gp is off its stack: arm gp's timer.
static bool
sleep_arm(G *gp, void *arg)
{
    rt_timer_reset(gp->sleep_timer, *(const int64_t *)arg);
    return true;
}

GORT_API void
gort_sleep(int64_t ns)
{
    if (ns <= 0)
        return;
    G *gp = rt_getg();
    if (rt_unlikely(gp == NULL))
        rt_throw("gort_sleep: not on a goroutine");
    int64_t when = when_after(ns);
    Timer *t = gp->sleep_timer;
    if (t == NULL) {
        // Gs are never freed, so neither is their timer: off the GC heap.
        t = rt_persistentalloc(sizeof(Timer), alignof(Timer));
        t->when = 0;
        t->period = 0;
        t->f = sleep_fire;
        t->arg = gp;
        t->pp = NULL;
        t->idx = -1;
        atomic_init(&t->status, TIMER_IDLE);
        gp->sleep_timer = t;
    }
    rt_park(sleep_arm, &when, WAIT_SLEEP);
}

// ---- after ------------------------------------------------------------------

// A gort_after timer and the channel it fires into (one heap object: the
// armed timer keeps the channel alive for the collector).
typedef struct AfterTimer {
    Timer t;
    Hchan *c;
} AfterTimer;

static void
chan_fire(void *arg, int64_t now)
{
    // As Go's sendTime: the firing time less the lateness, i.e. the
    // deadline itself. Timers of several Ps may run on one M in any order;
    // the deadline keeps values in deadline order whoever runs them.
    AfterTimer *at = arg;
    int64_t when = at->t.when;
    int64_t v = when > 0 && when <= now ? when : now;
    rt_chan_trysend(at->c, &v);
}

GORT_API gort_chan *
gort_after(int64_t ns)
{
    gort_chan *c = gort_chan_make(sizeof(int64_t), 1);
    if (ns <= 0) { // already due: no timer round trip
        int64_t now = rt_nanotime();
        rt_chan_trysend(c, &now);
        return c;
    }
    AfterTimer *at = rt_mallocgc(sizeof(AfterTimer), 0);
    at->c = c;
    Timer *t = &at->t;
    t->when = 0;
    t->period = 0;
    t->f = chan_fire;
    t->arg = at;
    t->pp = NULL;
    t->idx = -1;
    atomic_init(&t->status, TIMER_IDLE);
    rt_timer_add(t, when_after(ns));
    return c;
}

// ---- tickers ------------------------------------------------------------------

static void
ticker_fire(void *arg, int64_t now)
{
    gort_ticker *tk = arg;
    rt_lock(&tk->lock);
    if (!tk->stopped)
        rt_chan_trysend(tk->c, &now); // fails if the last tick is unread: dropped
    rt_unlock(&tk->lock);
}

GORT_API gort_ticker *
gort_ticker_make(int64_t period_ns)
{
    if (period_ns <= 0)
        rt_panic("non-positive interval for NewTicker");
    gort_ticker *tk = rt_mallocgc(sizeof(gort_ticker), 0);
    tk->c = gort_chan_make(sizeof(int64_t), 1);
    atomic_init(&tk->lock.key, 0);
    tk->stopped = false;
    tk->t.when = 0;
    tk->t.period = period_ns;
    tk->t.f = ticker_fire;
    tk->t.arg = tk;
    tk->t.pp = NULL;
    tk->t.idx = -1;
    atomic_init(&tk->t.status, TIMER_IDLE);
    rt_timer_add(&tk->t, when_after(period_ns));
    return tk;
}

GORT_API gort_chan *
gort_ticker_chan(gort_ticker *tk)
{
    return tk->c;
}

GORT_API void
gort_ticker_stop(gort_ticker *tk)
{
    rt_timer_del(&tk->t);
    // Wait out a tick being sent right now, and refuse any later one.
    rt_lock(&tk->lock);
    tk->stopped = true;
    rt_unlock(&tk->lock);
}
