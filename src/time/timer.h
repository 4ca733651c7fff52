// timer.h: the Timer and the timer interface beyond what rt.h declares
// (src/time/timer.c has the overview), for src/time and those who embed a
// Timer (gort_sleep's and gort_after's in sleep.c, the poller's deadlines).
// rt_timers_pending and rt_timers_visit are meant to move into rt.h once
// the lead adopts them.
#ifndef GORT_TIMER_H
#define GORT_TIMER_H

#include "rt.h"

// A timer (rt.h says what it does, with rt_timer_add): f(arg, now) runs
// once nanotime() >= when, and again every period if period > 0.
struct Timer {
    int64_t when;                      // [lock: p->timerlock]
    int64_t period;                    // [lock: p->timerlock]
    void (*f)(void *arg, int64_t now); // [const]
    void *arg;                         // [const]
    P *pp;                             // [lock: pp->timerlock] heap it is on, or NULL
    int32_t idx;                       // [lock: pp->timerlock] index in the heap
    _Atomic uint32_t status;           // [atomic] enum TimerStatus
};

// Timer status values (Timer.status). Informational for everyone but
// src/time: the heap a timer is on is t->pp, checked under pp->timerlock.
enum TimerStatus {
    TIMER_IDLE = 0,  // on no heap, no callback in flight
    TIMER_ARMED = 1, // on the heap of t->pp
    TIMER_FIRED = 2, // a one-shot popped by rt_timers_run: f is in flight or has run
};

// rt.h declares the rest: rt_timer_add/del/reset, rt_timers_run/next/move,
// and rt_sched_timer_wake (src/sched/proc.c), which timer.c calls with no
// lock held when a timer becomes the earliest on its P. rt_timers_move must
// run with the world stopped and `from` marked P_DEAD within the same stop,
// so an rt_timer_add that read `from` as its P before the stop re-picks.

// True if some timer is armed on a live P or a callback is in flight: a
// possible waker for rt_checkdead().
bool rt_timers_pending(void);

// Calls fn(t, ctx) for every timer armed on pp, under pp->timerlock: for the
// collector, which must treat armed timers as roots (a timer from gort_after
// is referenced by nothing else). fn must not take timer locks.
void rt_timers_visit(P *pp, void (*fn)(Timer *t, void *ctx), void *ctx);

#endif // GORT_TIMER_H
