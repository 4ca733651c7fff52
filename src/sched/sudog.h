// sudog.h: a goroutine waiting on a channel or a semaphore (Go's sudog);
// shared by the scheduler, which keeps the cache (src/sched/sudog.c), and
// the channels (src/chan) and sync (src/sync) that queue them.
//
// A Sudog is off the GC heap (rt_persistentalloc) and never freed. Between
// rt_sudog_acquire and rt_sudog_release it belongs to the goroutine that
// waits (g): its links are guarded by the lock of the queue it is on (a
// channel's c->lock, a sema root's lock, a notify list's lock), and its
// other fields are the waiter's until it queues the sudog, then whoever
// holds that lock (the waker that dequeues it).
#ifndef GORT_SCHED_SUDOG_H
#define GORT_SCHED_SUDOG_H

#include "rt.h"

struct Sudog {
    G *g;        // the waiting goroutine
    Sudog *next; // [lock: the channel's or sema root's lock]
    Sudog *prev;
    void *elem;          // data element (may point into the stack)
    Hchan *c;            // channel it waits on
    Sudog *waitlink;     // G's list of sudogs of one select
    int64_t acquiretime; // sema: nanotime when it began waiting
    int64_t releasetime;
    uint32_t ticket; // sema: random priority / cond ticket
    bool is_select;  // g is in a select: arbitrate with g->select_done
    bool success;    // true: woken by a value delivered; false: by close
    // Semaphore tree links (src/sync/sema.c).
    void *addr;
    Sudog *parent;
    Sudog *waittail;
    int32_t case_index; // select: which case this sudog belongs to
};

// Acquire/release a sudog from the P's cache (never the GC heap). The
// caller holds a P; channel and semaphore locks may be held (sudog.c's top
// gives the lock rule). A sudog comes back zeroed.
Sudog *rt_sudog_acquire(void);
void rt_sudog_release(Sudog *s);

#endif // GORT_SCHED_SUDOG_H
