// sudog.c: the sudog cache.
//
// Sudogs come from a per-P cache without locks or atomics (runtime code is
// never preempted, and the collector suspends no M inside it); the central
// cache balances Ps. A P whose cache is empty refills it to half of
// SUDOG_LOCAL_MAX from the central list, or allocates one sudog
// (rt_persistentalloc) when the central list is empty too; a P whose cache
// reaches SUDOG_LOCAL_MAX spills it back to half. Sudogs are never freed.
//
// Invariants: pp->nsudogcache counts pp->sudogcache's list, and is below
// SUDOG_LOCAL_MAX between calls; rt_sudog_acquire hands out a zeroed sudog.
//
// Locks: P.sudogcache and nsudogcache are [owner] (the M holding the P);
// the central list (rt_sched.sudogcache) is guarded by rt_sched.sudoglock,
// a leaf: callers may hold channel, sema root and notify list locks, and
// the refill drops sudoglock before rt_persistentalloc takes persist.lock.
#include "sched/sudog.h"

enum { SUDOG_LOCAL_MAX = 128 };

// Zeroing is field by field: a 128-byte struct copy compiles to "rep
// stos", whose start-up cost dominated channel ping-pong.
static inline void
sudog_clear(Sudog *s)
{
    s->g = NULL;
    s->next = NULL;
    s->prev = NULL;
    s->elem = NULL;
    s->c = NULL;
    s->waitlink = NULL;
    s->acquiretime = 0;
    s->releasetime = 0;
    s->ticket = 0;
    s->is_select = false;
    s->success = false;
    s->addr = NULL;
    s->parent = NULL;
    s->waittail = NULL;
    s->case_index = 0;
}

static RT_NOINLINE void
sudog_refill(P *pp)
{
    rt_lock(&rt_sched.sudoglock);
    while (pp->nsudogcache < SUDOG_LOCAL_MAX / 2 && rt_sched.sudogcache) {
        Sudog *s = rt_sched.sudogcache;
        rt_sched.sudogcache = s->next;
        s->next = pp->sudogcache;
        pp->sudogcache = s;
        pp->nsudogcache++;
    }
    rt_unlock(&rt_sched.sudoglock);
    if (pp->sudogcache == NULL) {
        Sudog *s = rt_persistentalloc(sizeof(Sudog), RT_CACHE_LINE);
        s->next = NULL;
        pp->sudogcache = s;
        pp->nsudogcache = 1;
    }
}

static RT_NOINLINE void
sudog_spill(P *pp)
{
    rt_lock(&rt_sched.sudoglock);
    while (pp->nsudogcache > SUDOG_LOCAL_MAX / 2) {
        Sudog *x = pp->sudogcache;
        pp->sudogcache = x->next;
        pp->nsudogcache--;
        x->next = rt_sched.sudogcache;
        rt_sched.sudogcache = x;
    }
    rt_unlock(&rt_sched.sudoglock);
}

Sudog *
rt_sudog_acquire(void)
{
    P *pp = rt_m()->p;
    if (rt_unlikely(pp->sudogcache == NULL))
        sudog_refill(pp);
    Sudog *s = pp->sudogcache;
    pp->sudogcache = s->next;
    pp->nsudogcache--;
    sudog_clear(s);
    return s;
}

void
rt_sudog_release(Sudog *s)
{
    P *pp = rt_m()->p;
    s->g = NULL;
    s->elem = NULL;
    s->c = NULL;
    s->next = pp->sudogcache;
    pp->sudogcache = s;
    if (rt_unlikely(++pp->nsudogcache >= SUDOG_LOCAL_MAX))
        sudog_spill(pp);
}
