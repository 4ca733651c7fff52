// cond.c: gort_cond, Go's sync.Cond over the notify list (sema.h has the overview).
//
// Wait takes a ticket before unlocking m, so a Signal or Broadcast issued
// after the unlock but before the park is not lost: the ticket is then
// already notified and the wait returns at once. Signal wakes the oldest
// waiter; Broadcast wakes all. Neither needs m held.
#include "sync/sema.h"

void
gort_cond_wait(gort_cond *c, gort_mutex *m)
{
    NotifyList *l = rt_notifylist(c);
    uint32_t t = rt_notifylist_add(l);
    gort_mutex_unlock(m);
    rt_notifylist_wait(l, t);
    gort_mutex_lock(m);
}

void
gort_cond_signal(gort_cond *c)
{
    rt_notifylist_notify_one(rt_notifylist(c));
}

void
gort_cond_broadcast(gort_cond *c)
{
    rt_notifylist_notify_all(rt_notifylist(c));
}
