// chan.c: channel make, send, receive, close (Go's chan.go).
//
// chan.h has the overview, the Hchan layout and the lock rule. The
// non-blocking paths test "would block" without the lock first, as Go does;
// everything else runs under c->lock, and a goroutine handed a value is
// readied only after the lock is dropped.
#include "chan/chan.h"

// Fast-path loads for the lock-free "would block" checks. They must happen
// in program order (see chanrecv), hence acquire (plain loads on x86).
static inline size_t
qcount_acq(Hchan *c)
{
    return atomic_load_explicit(&c->qcount, memory_order_acquire);
}

static inline bool
closed_acq(Hchan *c)
{
    return atomic_load_explicit(&c->closed, memory_order_acquire) != 0;
}

// full reports whether a send would block, ignoring closure: no buffer and
// no waiting receiver, or a full buffer. Racy by design.
static inline bool
full(Hchan *c)
{
    if (c->dataqsiz == 0)
        return atomic_load_explicit(&c->recvq.first, memory_order_acquire) == NULL;
    return qcount_acq(c) == c->dataqsiz;
}

// empty reports whether a receive would block, ignoring closure.
static inline bool
empty(Hchan *c)
{
    if (c->dataqsiz == 0)
        return atomic_load_explicit(&c->sendq.first, memory_order_acquire) == NULL;
    return qcount_acq(c) == 0;
}

static bool
park_forever(G *gp, void *arg)
{
    (void)gp;
    (void)arg;
    return true;
}

void
rt_chan_block_forever(uint8_t reason)
{
    rt_park(park_forever, NULL, reason);
    rt_throw("chan: nil channel wait resumed");
}

gort_chan *
gort_chan_make(size_t elem_size, size_t cap)
{
    if (elem_size >= CHAN_MAXELEM)
        rt_throw("makechan: invalid channel element type");
    size_t mem;
    if (__builtin_mul_overflow(elem_size, cap, &mem) || mem > rt_malloc_max() - sizeof(Hchan))
        rt_panic("makechan: size out of range");
    // One allocation. It is scanned: the elements are opaque bytes that may
    // hold pointers into the gort heap.
    Hchan *c = rt_mallocgc(sizeof(Hchan) + elem_size * cap, 0);
    c->buf = (uint8_t *)(c + 1);
    c->elemsize = elem_size;
    c->dataqsiz = cap;
    return c;
}

void
rt_chan_send_direct(Hchan *c, Sudog *sg, const void *ep)
{
    if (sg->elem) {
        chan_copy(sg->elem, ep, c->elemsize);
        sg->elem = NULL;
    }
}

void
rt_chan_recv_direct(Hchan *c, Sudog *sg, void *ep)
{
    if (c->dataqsiz == 0) {
        if (ep)
            chan_copy(ep, sg->elem, c->elemsize);
    } else {
        // The buffer is full: take its head, and the sender's value goes to
        // the tail, which is the same slot; the ring then advances by one.
        uint8_t *qp = chanbuf(c, c->recvx);
        if (ep)
            chan_copy(ep, qp, c->elemsize);
        chan_copy(qp, sg->elem, c->elemsize);
        if (++c->recvx == c->dataqsiz)
            c->recvx = 0;
        c->sendx = c->recvx;
    }
    sg->elem = NULL;
}

void
rt_chan_wake(Sudog *sg)
{
    G *gp = sg->g;
    gp->param = sg;
    sg->success = true;
    rt_ready(gp, true);
}

// The non-parking part of a send on an open channel, c->lock held: hand
// the value to a waiting receiver or append it to the buffer. On success it
// drops the lock (and readies the receiver) and returns true; otherwise it
// returns false with the lock still held.
// Parks the calling goroutine on q (c->lock held, released by the park)
// until a peer hands over a value through elem (true) or close wakes it
// (false). The sudog comes zeroed from rt_sudog_acquire.
static inline bool
park_on(Hchan *c, WaitQ *q, void *elem, uint8_t reason)
{
    G *gp = rt_getg();
    Sudog *my = rt_sudog_acquire();
    my->g = gp;
    my->elem = elem;
    my->c = c;
    gp->waiting = my;
    gp->param = NULL;
    waitq_enqueue(q, my);
    rt_parkunlock(&c->lock, reason);

    if (rt_unlikely(gp->waiting != my))
        rt_throw("chan: G waiting list is corrupted");
    gp->waiting = NULL;
    bool ok = my->success;
    gp->param = NULL;
    my->c = NULL;
    rt_sudog_release(my);
    return ok;
}

static inline bool
send_locked(Hchan *c, const void *ep)
{
    Sudog *sg = waitq_dequeue(&c->recvq);
    if (sg != NULL) {
        rt_chan_send_direct(c, sg, ep);
        rt_unlock(&c->lock);
        rt_chan_wake(sg);
        return true;
    }
    if (chan_qcount(c) < c->dataqsiz) {
        chan_buf_put(c, ep);
        rt_unlock(&c->lock);
        return true;
    }
    return false;
}

// Go's chansend. Returns false only when !block and the send would block.
static bool
chansend(Hchan *c, const void *ep, bool block)
{
    if (c == NULL) {
        if (!block)
            return false;
        rt_chan_block_forever(WAIT_CHAN_SEND_NIL);
    }
    // Fast path: a non-blocking send on an open channel that is full. The
    // racy reads are fine: each observation was true at some instant, and
    // the closed check comes after full (a close in between would make us
    // report "would block" for a channel that was open and full then).
    if (!block && !chan_closed(c) && full(c))
        return false;

    rt_lock(&c->lock);
    if (rt_unlikely(chan_closed(c))) {
        rt_unlock(&c->lock);
        rt_panic("send on closed channel");
    }
    if (send_locked(c, ep))
        return true;
    if (!block) {
        rt_unlock(&c->lock);
        return false;
    }

    // Park on sendq until a receiver takes the value (or close wakes us).
    // ep is only read from: the receiver copies out of it.
    bool closed = !park_on(c, &c->sendq, (void *)(uintptr_t)ep, WAIT_CHAN_SEND);
    if (closed) {
        if (rt_unlikely(!chan_closed(c)))
            rt_throw("chansend: spurious wakeup");
        rt_panic("send on closed channel");
    }
    return true;
}

// Go's chanrecv. *selected = false only when !block and it would block;
// the result is whether a value (not a close) was received.
static bool
chanrecv(Hchan *c, void *ep, bool block, bool *selected)
{
    *selected = true;
    if (c == NULL) {
        if (!block) {
            *selected = false;
            return false;
        }
        rt_chan_block_forever(WAIT_CHAN_RECV_NIL);
    }
    // Fast path for a non-blocking receive that would block. Order matters:
    // empty, then closed, then empty again. Seeing "empty" and then "open"
    // means the channel was open and empty when closed was loaded. Seeing
    // "closed" and still "empty" means closed and drained (nothing can be
    // added after close).
    if (!block && empty(c)) {
        if (!closed_acq(c)) {
            *selected = false;
            return false;
        }
        if (empty(c)) {
            chan_clear(ep, c->elemsize);
            return false;
        }
    }

    rt_lock(&c->lock);
    if (chan_closed(c)) {
        if (chan_qcount(c) == 0) {
            rt_unlock(&c->lock);
            chan_clear(ep, c->elemsize);
            return false;
        }
        // Closed with data still buffered: drain it first.
    } else {
        Sudog *sg = waitq_dequeue(&c->sendq);
        if (sg != NULL) {
            rt_chan_recv_direct(c, sg, ep);
            rt_unlock(&c->lock);
            rt_chan_wake(sg);
            return true;
        }
    }
    if (chan_qcount(c) > 0) {
        chan_buf_take(c, ep);
        rt_unlock(&c->lock);
        return true;
    }
    if (!block) {
        rt_unlock(&c->lock);
        *selected = false;
        return false;
    }

    return park_on(c, &c->recvq, ep, WAIT_CHAN_RECV); // false: closed, *ep zeroed
}

void
gort_chan_send(gort_chan *c, const void *elem)
{
    rt_preempt_point();
    chansend(c, elem, true);
}

bool
gort_chan_recv(gort_chan *c, void *out)
{
    rt_preempt_point();
    bool selected;
    return chanrecv(c, out, true, &selected);
}

bool
rt_chan_trysend(Hchan *c, const void *elem)
{
    // Timers send from g0 or sysmon and must never panic or park there: a
    // closed channel simply refuses the value.
    if (c == NULL || (!chan_closed(c) && full(c)))
        return false;
    rt_lock(&c->lock);
    if (chan_closed(c)) {
        rt_unlock(&c->lock);
        return false;
    }
    if (send_locked(c, elem))
        return true;
    rt_unlock(&c->lock);
    return false;
}

bool
rt_chan_tryrecv(Hchan *c, void *out, bool *received)
{
    // chanrecv's "would block" test, repeated here so that a poll of an
    // empty channel costs one call and no frame.
    if (c == NULL || (empty(c) && !closed_acq(c)))
        return false;
    bool selected;
    bool ok = chanrecv(c, out, false, &selected);
    if (received)
        *received = ok;
    return selected;
}

bool
rt_chan_nbsend(Hchan *c, const void *elem)
{
    if (c == NULL || (!chan_closed(c) && full(c)))
        return false;
    return chansend(c, elem, false);
}

void
gort_chan_close(gort_chan *c)
{
    if (c == NULL)
        rt_panic("close of nil channel");
    rt_lock(&c->lock);
    if (chan_closed(c)) {
        rt_unlock(&c->lock);
        rt_panic("close of closed channel");
    }
    atomic_store_explicit(&c->closed, 1, memory_order_release);

    // Collect every waiter on a G list (through schedlink: a parked G is on
    // no run queue); ready them only after unlocking.
    G *glist = NULL;
    Sudog *sg;
    while ((sg = waitq_dequeue(&c->recvq)) != NULL) {
        if (sg->elem) {
            chan_clear(sg->elem, c->elemsize);
            sg->elem = NULL;
        }
        G *gp = sg->g;
        gp->param = sg;
        sg->success = false;
        gp->schedlink = glist;
        glist = gp;
    }
    while ((sg = waitq_dequeue(&c->sendq)) != NULL) {
        sg->elem = NULL;
        G *gp = sg->g; // it will panic
        gp->param = sg;
        sg->success = false;
        gp->schedlink = glist;
        glist = gp;
    }
    rt_unlock(&c->lock);
    while (glist != NULL) {
        G *gp = glist;
        glist = gp->schedlink;
        gp->schedlink = NULL;
        rt_ready(gp, true);
    }
}

size_t
gort_chan_len(gort_chan *c)
{
    return c ? chan_qcount(c) : 0;
}

size_t
gort_chan_cap(gort_chan *c)
{
    return c ? c->dataqsiz : 0;
}
