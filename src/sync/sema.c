// sema.c: the semaphore table and the notify list (Go's runtime/sema.go).
//
// See sema.h for the structure, the no-missed-wake-up argument and the lock
// rule (root->lock and l->lock are leaves; rt_ready runs after unlocking).
#include "sync/sema.h"

enum { SEMA_TABLE_SIZE = 251 };

typedef struct SemaRoot {
    Lock lock;              // guards treap and every Sudog on it
    _Atomic uint32_t nwait; // [atomic] waiters; read without the lock
    Sudog *treap;           // [lock] root of the treap of distinct addresses
} RT_ALIGNED(RT_CACHE_LINE) SemaRoot;

_Static_assert(sizeof(SemaRoot) == RT_CACHE_LINE, "SemaRoot: one cache line each");

static SemaRoot semtable[SEMA_TABLE_SIZE];

static inline SemaRoot *
root_for(const uint32_t *addr)
{
    return &semtable[((uintptr_t)addr >> 3) % SEMA_TABLE_SIZE];
}

static inline _Atomic uint32_t *
sema_word(uint32_t *addr)
{
    return (_Atomic uint32_t *)(void *)addr;
}

static bool
can_acquire(uint32_t *addr)
{
    _Atomic uint32_t *a = sema_word(addr);
    uint32_t v = atomic_load(a);
    while (v != 0) {
        if (atomic_compare_exchange_weak(a, &v, v - 1))
            return true;
    }
    return false;
}

// ---- treap ------------------------------------------------------------------
// All with root->lock held.

// Turns (x a (y b c)) into (y (x a b) c).
static void
rotate_left(SemaRoot *root, Sudog *x)
{
    Sudog *p = x->parent;
    Sudog *y = x->next;
    Sudog *b = y->prev;

    y->prev = x;
    x->parent = y;
    x->next = b;
    if (b)
        b->parent = x;
    y->parent = p;
    if (p == NULL)
        root->treap = y;
    else if (p->prev == x)
        p->prev = y;
    else if (p->next == x)
        p->next = y;
    else
        rt_throw("semaRoot rotateLeft");
}

// Turns (y (x a b) c) into (x a (y b c)).
static void
rotate_right(SemaRoot *root, Sudog *y)
{
    Sudog *p = y->parent;
    Sudog *x = y->prev;
    Sudog *b = x->next;

    x->next = y;
    y->parent = x;
    y->prev = b;
    if (b)
        b->parent = y;
    x->parent = p;
    if (p == NULL)
        root->treap = x;
    else if (p->prev == y)
        p->prev = x;
    else if (p->next == y)
        p->next = x;
    else
        rt_throw("semaRoot rotateRight");
}

// Adds s (for the current goroutine) to the waiters on addr.
static void
root_queue(SemaRoot *root, uint32_t *addr, Sudog *s, bool lifo)
{
    s->g = rt_getg();
    s->addr = addr;
    s->next = NULL;
    s->prev = NULL;

    Sudog *last = NULL;
    Sudog **pt = &root->treap;
    for (Sudog *t = *pt; t != NULL; t = *pt) {
        if (t->addr == addr) {
            if (lifo) {
                // s takes t's place in the tree; t becomes first in s's FIFO.
                *pt = s;
                s->ticket = t->ticket;
                s->acquiretime = t->acquiretime; // the head keeps the oldest time
                s->parent = t->parent;
                s->prev = t->prev;
                s->next = t->next;
                if (s->prev)
                    s->prev->parent = s;
                if (s->next)
                    s->next->parent = s;
                s->waitlink = t;
                s->waittail = t->waittail ? t->waittail : t;
                t->parent = NULL;
                t->prev = NULL;
                t->next = NULL;
                t->waittail = NULL;
            } else {
                if (t->waittail == NULL)
                    t->waitlink = s;
                else
                    t->waittail->waitlink = s;
                t->waittail = s;
                s->waitlink = NULL;
                s->waittail = NULL;
            }
            return;
        }
        last = t;
        pt = (uintptr_t)addr < (uintptr_t)t->addr ? &t->prev : &t->next;
    }

    // A new leaf; the low bit keeps a tree node's ticket nonzero.
    s->ticket = rt_fastrand() | 1;
    s->parent = last;
    s->waitlink = NULL;
    s->waittail = NULL;
    *pt = s;

    // Rotate up to restore the heap order on ticket.
    while (s->parent != NULL && s->parent->ticket > s->ticket) {
        if (s->parent->prev == s)
            rotate_right(root, s->parent);
        else if (s->parent->next == s)
            rotate_left(root, s->parent);
        else
            rt_throw("semaRoot queue");
    }
}

// Removes and returns the first waiter on addr, or NULL. The returned
// Sudog has ticket 0 and no links.
static Sudog *
root_dequeue(SemaRoot *root, uint32_t *addr)
{
    Sudog **ps = &root->treap;
    Sudog *s;
    for (s = *ps; s != NULL; s = *ps) {
        if (s->addr == addr)
            break;
        ps = (uintptr_t)addr < (uintptr_t)s->addr ? &s->prev : &s->next;
    }
    if (s == NULL)
        return NULL;

    Sudog *t = s->waitlink;
    if (t != NULL) {
        // t, next on addr, takes s's place in the tree.
        *ps = t;
        t->ticket = s->ticket;
        t->parent = s->parent;
        t->prev = s->prev;
        if (t->prev)
            t->prev->parent = t;
        t->next = s->next;
        if (t->next)
            t->next->parent = t;
        t->waittail = t->waitlink ? s->waittail : NULL;
        s->waitlink = NULL;
        s->waittail = NULL;
    } else {
        // Rotate s down to a leaf, respecting priorities, then cut it off.
        while (s->next != NULL || s->prev != NULL) {
            if (s->next == NULL || (s->prev != NULL && s->prev->ticket < s->next->ticket))
                rotate_right(root, s);
            else
                rotate_left(root, s);
        }
        if (s->parent == NULL)
            root->treap = NULL;
        else if (s->parent->prev == s)
            s->parent->prev = NULL;
        else
            s->parent->next = NULL;
    }
    s->parent = NULL;
    s->addr = NULL;
    s->next = NULL;
    s->prev = NULL;
    s->ticket = 0;
    return s;
}

// ---- acquire / release ----------------------------------------------------

void
rt_semacquire(uint32_t *addr, bool lifo, uint8_t reason)
{
    if (can_acquire(addr))
        return;
    if (rt_unlikely(rt_getg() == NULL))
        rt_throw("semacquire not on the G stack");

    // Slow path: count ourselves in nwait, retry, queue, park. The waiter
    // descriptor is dequeued by the releaser.
    Sudog *s = rt_sudog_acquire();
    SemaRoot *root = root_for(addr);
    s->ticket = 0;
    s->acquiretime = 0;
    s->releasetime = 0;
    for (;;) {
        rt_lock(&root->lock);
        // From here on, a release that does not see our token sees nwait.
        atomic_fetch_add(&root->nwait, 1);
        if (can_acquire(addr)) {
            atomic_fetch_sub(&root->nwait, 1);
            rt_unlock(&root->lock);
            break;
        }
        root_queue(root, addr, s, lifo);
        rt_parkunlock(&root->lock, reason);
        // ticket 1: the releaser handed its token to us.
        if (s->ticket != 0 || can_acquire(addr))
            break;
    }
    s->ticket = 0;
    s->g = NULL;
    rt_sudog_release(s);
}

void
rt_semrelease(uint32_t *addr, bool handoff)
{
    SemaRoot *root = root_for(addr);
    atomic_fetch_add(sema_word(addr), 1);

    // Easy case: nobody waits. This load must follow the add (see sema.h).
    if (atomic_load(&root->nwait) == 0)
        return;

    rt_lock(&root->lock);
    if (atomic_load(&root->nwait) == 0) {
        // Another waiter already consumed the token.
        rt_unlock(&root->lock);
        return;
    }
    Sudog *s = root_dequeue(root, addr);
    if (s != NULL)
        atomic_fetch_sub(&root->nwait, 1);
    rt_unlock(&root->lock);
    if (s == NULL)
        return;

    // s belongs to its goroutine again as soon as it is readied: decide
    // everything about it before rt_ready.
    bool handed = false;
    if (handoff && can_acquire(addr)) {
        s->ticket = 1;
        handed = true;
    }
    G *gp = s->g;
    rt_ready(gp, true);
    if (handed && rt_getg() != NULL && rt_m()->locks == 0) {
        // Direct handoff: the waiter sits in runnext; yield so it runs now
        // and inherits our time slice (Go issue 33747).
        rt_gosched();
    }
}

// ---- notify list ------------------------------------------------------------

_Static_assert(sizeof(NotifyList) == sizeof(gort_cond), "NotifyList mirrors gort_cond");
_Static_assert(offsetof(NotifyList, wait) == offsetof(gort_cond, wait_), "NotifyList.wait");
_Static_assert(offsetof(NotifyList, notify) == offsetof(gort_cond, notify_), "NotifyList.notify");
_Static_assert(offsetof(NotifyList, lock) == offsetof(gort_cond, lock_), "NotifyList.lock");
_Static_assert(offsetof(NotifyList, head) == offsetof(gort_cond, head_), "NotifyList.head");
_Static_assert(offsetof(NotifyList, tail) == offsetof(gort_cond, tail_), "NotifyList.tail");

// a < b in ticket order; tickets wrap.
static inline bool
ticket_less(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

uint32_t
rt_notifylist_add(NotifyList *l)
{
    // May run concurrently (Cond.Wait under an RWMutex read lock).
    return atomic_fetch_add(&l->wait, 1);
}

void
rt_notifylist_wait(NotifyList *l, uint32_t t)
{
    rt_lock(&l->lock);
    // Already notified: do not park.
    if (ticket_less(t, atomic_load(&l->notify))) {
        rt_unlock(&l->lock);
        return;
    }
    Sudog *s = rt_sudog_acquire();
    s->g = rt_getg();
    s->ticket = t;
    s->next = NULL;
    s->releasetime = 0;
    if (l->tail == NULL)
        l->head = s;
    else
        l->tail->next = s;
    l->tail = s;
    rt_parkunlock(&l->lock, WAIT_SYNC_COND);
    s->ticket = 0;
    s->g = NULL;
    rt_sudog_release(s);
}

void
rt_notifylist_notify_all(NotifyList *l)
{
    // No new waiters since the last notification: nothing to do.
    if (atomic_load(&l->wait) == atomic_load(&l->notify))
        return;

    rt_lock(&l->lock);
    Sudog *s = l->head;
    l->head = NULL;
    l->tail = NULL;
    // Waiters with older tickets are on the list already or will see
    // notify and not park.
    atomic_store(&l->notify, atomic_load(&l->wait));
    rt_unlock(&l->lock);

    while (s != NULL) {
        Sudog *next = s->next;
        s->next = NULL;
        rt_ready(s->g, true);
        s = next;
    }
}

void
rt_notifylist_notify_one(NotifyList *l)
{
    if (atomic_load(&l->wait) == atomic_load(&l->notify))
        return;

    rt_lock(&l->lock);
    uint32_t t = atomic_load_explicit(&l->notify, memory_order_relaxed);
    if (t == atomic_load(&l->wait)) {
        rt_unlock(&l->lock);
        return;
    }
    atomic_store(&l->notify, t + 1);

    // Find ticket t. A goroutine that took its ticket but is not listed yet
    // will see the new notify and not park. Waiters queue separately from
    // taking tickets, so the list is nearly sorted and the scan is short.
    for (Sudog *p = NULL, *s = l->head; s != NULL; p = s, s = s->next) {
        if (s->ticket == t) {
            Sudog *n = s->next;
            if (p != NULL)
                p->next = n;
            else
                l->head = n;
            if (n == NULL)
                l->tail = p;
            rt_unlock(&l->lock);
            s->next = NULL;
            rt_ready(s->g, true);
            return;
        }
    }
    rt_unlock(&l->lock);
}
