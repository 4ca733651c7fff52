// timer.h: the timer interface beyond what rt.h declares (src/time/timer.c has
// the overview). These are meant to move into rt.h once the lead adopts them.
#ifndef GORT_TIMER_H
#define GORT_TIMER_H

#include "rt.h"

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
