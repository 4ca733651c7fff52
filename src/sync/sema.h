// sema.h: goroutine semaphores, the notify list, and the sync package built on them.
//
// Everything in src/sync parks goroutines, never threads, and every park goes
// through one place: the semaphore table in sema.c (Go's runtime/sema.go).
//
// Semaphore. A semaphore is any uint32_t word; its value is the number of
// tokens. rt_semacquire takes a token, parking while there is none;
// rt_semrelease adds one and wakes the first waiter on that word. Waiters are
// Sudogs kept in a table of SEMA_TABLE_SIZE (251) roots, picked by
// (addr >> 3) % 251 and padded to a cache line each:
//
//   root->lock    guards the root's tree and every Sudog on it
//   root->nwait   [atomic] waiters on this root; releasers read it without
//                 the lock and skip the lock when it is 0
//   root->treap   a treap of the distinct addresses that have waiters:
//                 binary search tree by s->addr (links s->prev = left,
//                 s->next = right, s->parent), min-heap by s->ticket (random,
//                 odd); each node heads a FIFO of the other waiters on the same
//                 address (s->waitlink, tail in head->waittail).
//
// Lookups, inserts and removals cost O(log n) in the number of distinct
// addresses on the root, plus O(1) within the address's FIFO. A LIFO acquire
// (a mutex waiter that already waited once) replaces the head of its FIFO.
//
// Missed wake-ups are excluded by the order of operations: an acquirer adds
// itself to nwait under the lock and then retries the token before queueing;
// a releaser adds the token first and then reads nwait. Either the acquirer
// sees the token or the releaser sees the waiter.
//
// Handoff (starving mutex): the releaser takes the token it just added on the
// waiter's behalf (s->ticket = 1 tells the waiter it owns it), readies the
// waiter into runnext and yields, so the waiter runs at once on this P.
//
// Notify list (Go's notifyList, the engine of gort_cond). Waiters take a
// ticket (l->wait, atomic) before releasing the user's mutex and only then
// queue under l->lock, so a notification between the two is never lost: a
// waiter whose ticket is below l->notify does not park. notify_one wakes
// ticket l->notify (the oldest unnotified one) and advances it; notify_all
// sets l->notify = l->wait and wakes the whole list. Tickets wrap; order is
// compared as int32_t(a - b) < 0. The list lives in gort_cond's private
// fields (NotifyList mirrors their layout).
//
// The sync types (mutex.c, rwmutex.c, waitgroup.c, once.c, cond.c) follow Go's
// sync package; each file's top gives its algorithm. Lock order: a root lock
// is a leaf; under a notify list lock only the sudog cache's locks
// (sched.sudoglock, persist.lock) are taken; rt_ready runs after they are
// released.
//
// All functions here run on a user goroutine's stack, except that
// rt_semrelease and the notify functions only ready goroutines and may also
// run on g0 (they never park). None allocates from the GC heap.
#ifndef GORT_SYNC_SEMA_H
#define GORT_SYNC_SEMA_H

#include "rt.h"
#include "sched/sudog.h"

// Takes one token from *addr, parking (reason: enum WaitReason) until one is
// available. lifo queues at the head of addr's waiters (re-waiting mutex
// goroutines). User goroutine only; no runtime Lock may be held.
void rt_semacquire(uint32_t *addr, bool lifo, uint8_t reason);
// Adds one token to *addr and wakes the first waiter, if any. handoff: give
// the token to that waiter directly and yield the P to it (skipped when the
// caller holds runtime locks). Never parks; may yield when handoff is set.
void rt_semrelease(uint32_t *addr, bool handoff);

// Notify list: same layout as gort_cond's private fields.
typedef struct NotifyList {
    _Atomic uint32_t wait;   // [atomic] ticket of the next waiter
    _Atomic uint32_t notify; // [atomic] next ticket to notify; written under lock
    Lock lock;               // guards head, tail and the Sudogs on the list
    uint32_t pad;
    Sudog *head; // [lock] parked waiters in arrival order (linked by s->next)
    Sudog *tail; // [lock]
} NotifyList;

static inline NotifyList *
rt_notifylist(gort_cond *c)
{
    return (NotifyList *)(void *)c;
}

// Takes the caller's ticket. Never blocks; any stack.
uint32_t rt_notifylist_add(NotifyList *l);
// Parks until ticket t is notified (returns at once if it already was).
// User goroutine only.
void rt_notifylist_wait(NotifyList *l, uint32_t t);
// Wakes the oldest unnotified waiter / all waiters. Never park.
void rt_notifylist_notify_one(NotifyList *l);
void rt_notifylist_notify_all(NotifyList *l);

#endif // GORT_SYNC_SEMA_H
