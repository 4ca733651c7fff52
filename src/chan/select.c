// select.c: gort_select, Go's selectgo.
//
// chan.h has the overview. In short: NULL-channel cases are dropped; the rest
// get a random poll order (inside-out Fisher-Yates, so the first ready case
// met is uniform among the ready ones) and a lock order (sorted by channel
// address; a channel named by several cases is locked once). With every
// channel locked, pass 1 takes the first ready case in poll order; if none
// and block, pass 2 enqueues one Sudog per case, linked in lock order on
// g->waiting, and parks once (selparkcommit drops the locks on g0); after the
// wake-up, pass 3 relocks, reads the winning Sudog from g->param and unlinks
// the others. One-case selects skip all this and use the plain channel paths,
// as Go's compiler does.
#include "chan/chan.h"

// Cases handled with stack scratch; more take it from the heap.
enum { SELECT_STACK_CASES = 64, SELECT_INSERTION_SORT_MAX = 16 };

static inline uintptr_t
case_key(const gort_case *cases, int32_t i)
{
    return (uintptr_t)cases[i].chan;
}

// Heap sort helper: restores the max-heap below root within ord[0..end).
static void
siftdown(const gort_case *cases, int32_t *ord, int root, int end)
{
    int32_t v = ord[root];
    uintptr_t key = case_key(cases, v);
    for (;;) {
        int child = 2 * root + 1;
        if (child >= end)
            break;
        if (child + 1 < end && case_key(cases, ord[child + 1]) > case_key(cases, ord[child]))
            child++;
        if (case_key(cases, ord[child]) <= key)
            break;
        ord[root] = ord[child];
        root = child;
    }
    ord[root] = v;
}

// Sorts ord[0..n) by channel address: insertion sort for the common small
// select, heap sort (no recursion, no scratch) for large ones.
static void
sort_lockorder(const gort_case *cases, int32_t *ord, int n)
{
    if (n <= SELECT_INSERTION_SORT_MAX) {
        for (int i = 1; i < n; i++) {
            int32_t v = ord[i];
            uintptr_t key = case_key(cases, v);
            int j = i - 1;
            while (j >= 0 && case_key(cases, ord[j]) > key) {
                ord[j + 1] = ord[j];
                j--;
            }
            ord[j + 1] = v;
        }
        return;
    }
    for (int i = n / 2 - 1; i >= 0; i--)
        siftdown(cases, ord, i, n);
    for (int end = n - 1; end > 0; end--) {
        int32_t t = ord[0];
        ord[0] = ord[end];
        ord[end] = t;
        siftdown(cases, ord, 0, end);
    }
}

static void
sellock(const gort_case *cases, const int32_t *lockorder, int n)
{
    Hchan *last = NULL;
    for (int i = 0; i < n; i++) {
        Hchan *c = cases[lockorder[i]].chan;
        if (c != last) {
            last = c;
            rt_lock(&c->lock);
        }
    }
}

static void
selunlock(const gort_case *cases, const int32_t *lockorder, int n)
{
    // Reverse order; a channel that appears several times is unlocked once,
    // at its first occurrence.
    for (int i = n - 1; i >= 0; i--) {
        Hchan *c = cases[lockorder[i]].chan;
        if (i > 0 && c == cases[lockorder[i - 1]].chan)
            continue;
        rt_unlock(&c->lock);
    }
}

// Runs on g0 once the selecting goroutine is off its stack: drops the
// channel locks, walking the Sudogs in lock order. As soon as a channel is
// unlocked, its Sudogs may change (even waitlink), so each channel is
// unlocked only after the walk has passed its last Sudog.
static bool
selparkcommit(G *gp, void *arg)
{
    (void)arg;
    Hchan *lastc = NULL;
    for (Sudog *sg = gp->waiting; sg != NULL; sg = sg->waitlink) {
        if (sg->c != lastc && lastc != NULL)
            rt_unlock(&lastc->lock);
        lastc = sg->c;
    }
    if (lastc != NULL)
        rt_unlock(&lastc->lock);
    return true;
}

RT_COLD RT_NORETURN static void
bad_case(void)
{
    rt_panic("select: invalid case direction");
}

// One case: the plain channel operation (Go's compiler lowers these selects
// to chansend/chanrecv/selectnbsend/selectnbrecv).
static int
select1(gort_case *k, bool block)
{
    if (k->dir == GORT_SEND) {
        if (block) {
            gort_chan_send(k->chan, k->elem);
            return 0;
        }
        return rt_chan_nbsend(k->chan, k->elem) ? 0 : -1;
    }
    if (k->dir != GORT_RECV)
        bad_case();
    if (block) {
        k->ok = gort_chan_recv(k->chan, k->elem);
        return 0;
    }
    bool received;
    if (!rt_chan_tryrecv(k->chan, k->elem, &received))
        return -1;
    k->ok = received;
    return 0;
}

// Go's selectgo, for ncases >= 2. Out of line so that the one-case paths
// above do not pay for its frame (~600 bytes of scratch, six saved registers).
RT_NOINLINE static int
selectgo(gort_case *cases, int ncases, bool block)
{
    int32_t pollbuf[SELECT_STACK_CASES], lockbuf[SELECT_STACK_CASES];
    int32_t *pollorder = pollbuf, *lockorder = lockbuf;
    if (ncases > SELECT_STACK_CASES) {
        int32_t *scratch = rt_mallocgc(2 * (size_t)ncases * sizeof(int32_t), RT_NOSCAN);
        pollorder = scratch;
        lockorder = scratch + ncases;
    }

    // Poll order: a uniform random permutation of the non-NULL cases.
    int norder = 0;
    for (int i = 0; i < ncases; i++) {
        gort_case *k = &cases[i];
        if (rt_unlikely(k->dir != GORT_SEND && k->dir != GORT_RECV))
            bad_case();
        if (k->chan == NULL)
            continue;
        uint32_t j = rt_fastrandn((uint32_t)norder + 1);
        pollorder[norder] = pollorder[j];
        pollorder[j] = i;
        norder++;
    }
    if (norder == 0) {
        if (!block)
            return -1;
        rt_chan_block_forever(WAIT_SELECT);
    }
    for (int i = 0; i < norder; i++)
        lockorder[i] = pollorder[i];
    sort_lockorder(cases, lockorder, norder);

    sellock(cases, lockorder, norder);

    // Pass 1: the first ready case in poll order.
    for (int i = 0; i < norder; i++) {
        int casi = pollorder[i];
        gort_case *k = &cases[casi];
        Hchan *c = k->chan;
        if (k->dir == GORT_RECV) {
            Sudog *sg = waitq_dequeue(&c->sendq);
            if (sg != NULL) {
                rt_chan_recv_direct(c, sg, k->elem);
                selunlock(cases, lockorder, norder);
                rt_chan_wake(sg);
                k->ok = true;
                return casi;
            }
            if (chan_qcount(c) > 0) {
                chan_buf_take(c, k->elem);
                selunlock(cases, lockorder, norder);
                k->ok = true;
                return casi;
            }
            if (chan_closed(c)) {
                selunlock(cases, lockorder, norder);
                chan_clear(k->elem, c->elemsize);
                k->ok = false;
                return casi;
            }
        } else {
            if (chan_closed(c)) {
                selunlock(cases, lockorder, norder);
                rt_panic("send on closed channel");
            }
            Sudog *sg = waitq_dequeue(&c->recvq);
            if (sg != NULL) {
                rt_chan_send_direct(c, sg, k->elem);
                selunlock(cases, lockorder, norder);
                rt_chan_wake(sg);
                return casi;
            }
            if (chan_qcount(c) < c->dataqsiz) {
                chan_buf_put(c, k->elem);
                selunlock(cases, lockorder, norder);
                return casi;
            }
        }
    }
    if (!block) {
        selunlock(cases, lockorder, norder);
        return -1;
    }

    // Pass 2: a Sudog on every channel, in lock order, then park once.
    G *gp = rt_getg();
    if (rt_unlikely(gp->waiting != NULL))
        rt_throw("select: gp->waiting != NULL");
    Sudog **nextp = &gp->waiting;
    for (int i = 0; i < norder; i++) {
        int casi = lockorder[i];
        gort_case *k = &cases[casi];
        Sudog *sg = rt_sudog_acquire();
        sg->g = gp; // zeroed by rt_sudog_acquire otherwise
        sg->is_select = true;
        sg->elem = k->elem;
        sg->c = k->chan;
        sg->case_index = casi;
        *nextp = sg;
        nextp = &sg->waitlink;
        waitq_enqueue(k->dir == GORT_SEND ? &k->chan->sendq : &k->chan->recvq, sg);
    }
    gp->param = NULL;
    rt_park(selparkcommit, NULL, WAIT_SELECT);

    // Pass 3: relock; the waker left its Sudog in gp->param. Nobody can
    // touch our other Sudogs while we hold every lock, so select_done can
    // be re-armed now.
    sellock(cases, lockorder, norder);
    atomic_store_explicit(&gp->select_done, 0, memory_order_relaxed);
    Sudog *won = gp->param;
    gp->param = NULL;
    for (Sudog *s = gp->waiting; s != NULL; s = s->waitlink) {
        s->is_select = false;
        s->elem = NULL;
        s->c = NULL;
    }
    Sudog *sglist = gp->waiting;
    gp->waiting = NULL;
    int casi = -1;
    bool success = false;
    for (int i = 0; i < norder; i++) {
        gort_case *k = &cases[lockorder[i]];
        if (sglist == won) {
            // Already dequeued by the goroutine that woke us.
            casi = lockorder[i];
            success = sglist->success;
        } else {
            waitq_remove(k->dir == GORT_SEND ? &k->chan->sendq : &k->chan->recvq, sglist);
        }
        Sudog *next = sglist->waitlink;
        sglist->waitlink = NULL;
        rt_sudog_release(sglist);
        sglist = next;
    }
    if (rt_unlikely(casi < 0))
        rt_throw("select: bad wakeup");

    gort_case *k = &cases[casi];
    if (k->dir == GORT_SEND) {
        if (!success) {
            selunlock(cases, lockorder, norder);
            rt_panic("send on closed channel");
        }
    } else {
        k->ok = success; // false: closed, and close zeroed *elem
    }
    selunlock(cases, lockorder, norder);
    return casi;
}

int
gort_select(gort_case *cases, int ncases, bool block)
{
    rt_preempt_point();
    if (ncases == 1)
        return select1(&cases[0], block);
    if (rt_unlikely(ncases <= 0)) {
        if (ncases < 0)
            rt_panic("select: negative case count");
        if (!block)
            return -1;
        rt_chan_block_forever(WAIT_SELECT_NO_CASES);
    }
    return selectgo(cases, ncases, block);
}
