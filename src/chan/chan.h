// chan.h: Go's channels and select (overview for src/chan).
//
// An Hchan is one heap object: the header below followed by a ring buffer of
// dataqsiz elements of elemsize bytes (elemsize 0 is allowed: the ring then
// only counts). Waiting goroutines sit on two FIFO wait queues of Sudogs,
// recvq and sendq; a Sudog's elem points at the waiter's own buffer (usually
// on its stack; goroutine stacks never move in gort).
//
// Send (chan.c), in order:
//   closed                 -> panic "send on closed channel"
//   a receiver is waiting  -> copy straight into its elem (direct hand-off),
//                             unlock, ready it with runnext
//   buffer has room        -> buf[sendx]
//   otherwise              -> enqueue a Sudog on sendq and park; a sender
//                             woken by close panics.
// Receive:
//   closed and empty       -> zero *out, report false
//   a sender is waiting    -> unbuffered: copy from its elem; buffered (so
//                             full): take the head, put its value at the tail
//   buffer has data        -> buf[recvx]
//   otherwise              -> enqueue on recvq and park.
// Close marks the channel, collects every waiter (receivers get zeroed
// values, senders will panic) on a G list threaded through G.schedlink,
// unlocks, and only then readies them.
//
// Select (select.c) follows Go's selectgo: a random poll order, a lock order
// (cases sorted by channel address; each distinct channel locked once),
// pass 1 takes the first ready case in poll order, pass 2 enqueues one Sudog
// per case (is_select) and parks once, pass 3 relocks everything and removes
// the losing Sudogs. Several wakers may race for one selecting G: whoever
// dequeues one of its Sudogs must win the CAS of g->select_done 0 -> 1, and
// wait-queue dequeue skips Sudogs whose G already won elsewhere. The winner
// passes its Sudog in g->param; sudog->success is false when the wake-up
// came from close.
//
// Invariants, with c->lock held:
//   qcount <= dataqsiz;
//   recvq non-empty  =>  qcount == 0 (unless every waiter there is a select
//                        that already won elsewhere and has not cleaned up);
//   sendq non-empty  =>  qcount == dataqsiz (same exception);
//   closed           =>  sendq empty and no new Sudog is enqueued.
//
// Locking: c->lock guards every mutable field. qcount, closed and the first
// links of the wait queues are also read without the lock by the
// non-blocking fast paths and by gort_chan_len (as in Go), so they are
// atomics, written (under the lock) with relaxed stores. A G is readied only
// after the channel locks are dropped (as Go's send/recv/closechan do). Lock
// order: channels by address (select), then the scheduler's sudog lock
// (rt_sudog_acquire/release run with channel locks held; a refill may take
// persist.lock); nothing else is taken under a channel lock. A select parks holding all its channel locks;
// selparkcommit drops them on g0.
#ifndef GORT_CHAN_H
#define GORT_CHAN_H

#include "rt.h"
#include "sched/sudog.h"

#include <string.h>

// Go's limits on make(chan T, n): an element of 64 KiB or more is an invalid
// channel element type (a throw); a buffer beyond maxAlloc is "size out of
// range" (a panic). gort's maxAlloc is rt_malloc_max(): no more than the
// machine could ever hold, so an impossible channel panics at once.
#define CHAN_MAXELEM ((size_t)1 << 16)

typedef struct WaitQ {
    _Atomic(Sudog *) first; // [lock: c->lock] read atomically by the fast paths
    Sudog *last;            // [lock: c->lock]
} WaitQ;

struct gort_chan {
    _Atomic size_t qcount;   // [lock] elements in buf; read atomically by the fast paths
    size_t dataqsiz;         // [const] capacity of buf
    uint8_t *buf;            // [const] dataqsiz * elemsize bytes, right after the header
    size_t elemsize;         // [const]
    _Atomic uint32_t closed; // [lock] 1 once closed; read atomically by the fast paths
    size_t sendx;            // [lock] next slot to write
    size_t recvx;            // [lock] next slot to read
    WaitQ recvq;             // [lock] parked receivers
    WaitQ sendq;             // [lock] parked senders
    Lock lock;               // guards every field tagged [lock] above
};

// ---- relaxed accessors for the fields that fast paths read racily ---------

static inline size_t
chan_qcount(Hchan *c)
{
    return atomic_load_explicit(&c->qcount, memory_order_relaxed);
}

static inline void
chan_set_qcount(Hchan *c, size_t n)
{
    atomic_store_explicit(&c->qcount, n, memory_order_relaxed);
}

static inline bool
chan_closed(Hchan *c)
{
    return atomic_load_explicit(&c->closed, memory_order_relaxed) != 0;
}

static inline uint8_t *
chanbuf(Hchan *c, size_t i)
{
    return c->buf + i * c->elemsize;
}

static inline Sudog *
waitq_first(WaitQ *q)
{
    return atomic_load_explicit(&q->first, memory_order_relaxed);
}

static inline void
waitq_set_first(WaitQ *q, Sudog *s)
{
    atomic_store_explicit(&q->first, s, memory_order_relaxed);
}

// Copies one element; n may be 0 (then src/dst may be anything). The
// common word sizes compile to plain loads and stores instead of a libc
// call (a measurable share of an uncontended send).
static inline void
chan_copy(void *dst, const void *src, size_t n)
{
    switch (n) {
    case 0:
        return;
    case 4:
        memcpy(dst, src, 4);
        return;
    case 8:
        memcpy(dst, src, 8);
        return;
    case 16:
        memcpy(dst, src, 16);
        return;
    default:
        memmove(dst, src, n);
    }
}

// Zeroes one element at dst, which may be NULL.
static inline void
chan_clear(void *dst, size_t n)
{
    if (dst == NULL)
        return;
    switch (n) {
    case 0:
        return;
    case 8:
        memset(dst, 0, 8);
        return;
    default:
        memset(dst, 0, n);
    }
}

// Appends *ep to the ring; c->lock held, qcount < dataqsiz.
static inline void
chan_buf_put(Hchan *c, const void *ep)
{
    chan_copy(chanbuf(c, c->sendx), ep, c->elemsize);
    if (++c->sendx == c->dataqsiz)
        c->sendx = 0;
    chan_set_qcount(c, chan_qcount(c) + 1);
}

// Takes the ring's head into *ep (may be NULL); c->lock held, qcount > 0.
// The slot is cleared so the buffer does not keep the value alive for the GC.
static inline void
chan_buf_take(Hchan *c, void *ep)
{
    uint8_t *qp = chanbuf(c, c->recvx);
    if (ep)
        chan_copy(ep, qp, c->elemsize);
    chan_clear(qp, c->elemsize);
    if (++c->recvx == c->dataqsiz)
        c->recvx = 0;
    chan_set_qcount(c, chan_qcount(c) - 1);
}

// ---- wait queues (c->lock held) -------------------------------------------

static inline void
waitq_enqueue(WaitQ *q, Sudog *s)
{
    s->next = NULL;
    Sudog *x = q->last;
    if (x == NULL) {
        s->prev = NULL;
        waitq_set_first(q, s);
        q->last = s;
        return;
    }
    s->prev = x;
    x->next = s;
    q->last = s;
}

// Removes and returns the first Sudog whose goroutine may still be woken
// here: a select waiter is taken only if this caller wins its G's
// select_done (otherwise another case already woke it; it removes its own
// Sudogs from this queue once it holds our lock). NULL if none.
static inline Sudog *
waitq_dequeue(WaitQ *q)
{
    for (;;) {
        Sudog *s = waitq_first(q);
        if (s == NULL)
            return NULL;
        Sudog *y = s->next;
        if (y == NULL) {
            waitq_set_first(q, NULL);
            q->last = NULL;
        } else {
            y->prev = NULL;
            waitq_set_first(q, y);
            s->next = NULL;
        }
        if (s->is_select) {
            uint32_t zero = 0;
            if (!atomic_compare_exchange_strong_explicit(
                        &s->g->select_done, &zero, 1, memory_order_acq_rel, memory_order_relaxed))
                continue;
        }
        return s;
    }
}

// Unlinks s wherever it is (select pass 3); s may already be gone.
static inline void
waitq_remove(WaitQ *q, Sudog *s)
{
    Sudog *x = s->prev;
    Sudog *y = s->next;
    if (x != NULL) {
        if (y != NULL) {
            x->next = y;
            y->prev = x;
            s->next = NULL;
            s->prev = NULL;
            return;
        }
        x->next = NULL;
        q->last = x;
        s->prev = NULL;
        return;
    }
    if (y != NULL) {
        y->prev = NULL;
        waitq_set_first(q, y);
        s->next = NULL;
        return;
    }
    // Neither neighbour: s is the only element, or it was already dequeued.
    if (waitq_first(q) == s) {
        waitq_set_first(q, NULL);
        q->last = NULL;
    }
}

// ---- shared by chan.c and select.c ------------------------------------------

// Direct hand-off to a dequeued receiver sg: copies *ep into sg->elem.
// c->lock (and, in select, every case's lock) is held; the caller drops the
// locks and then calls rt_chan_wake(sg).
void rt_chan_send_direct(Hchan *c, Sudog *sg, const void *ep);
// Takes a value for *ep (may be NULL) from a dequeued sender sg: unbuffered,
// straight from sg->elem; buffered (full), from the head of the ring, whose
// slot then receives sg's value. Locks as for rt_chan_send_direct.
void rt_chan_recv_direct(Hchan *c, Sudog *sg, void *ep);
// Readies sg's goroutine after a successful hand-off; no channel lock held.
void rt_chan_wake(Sudog *sg);

// Parks the calling goroutine for good (nil channel, empty select).
RT_NORETURN RT_COLD void rt_chan_block_forever(uint8_t reason);
// Non-blocking send (Go's selectnbsend): false if it would block; panics on
// a closed channel like any send. Never parks.
bool rt_chan_nbsend(Hchan *c, const void *elem);
// Non-blocking receive (Go's selectnbrecv). Returns false if it would block;
// otherwise true with *received false when the channel is closed and drained
// (*out zeroed). Never parks; usable on g0. received may be NULL.
bool rt_chan_tryrecv(Hchan *c, void *out, bool *received);

#endif // GORT_CHAN_H
