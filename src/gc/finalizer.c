// finalizer.c: gort_set_finalizer, the finalizer queue and goroutine.
//
// See gc.h. As Go's SetFinalizer: the finalizer is a special record on the
// object's span (offset, kind, fn). Mark termination (mark.c) finds the
// objects with one that nothing reached, queues fn(obj) here, drops the
// record and keeps the object for one more cycle; the queue is a root until
// the finalizer has run. One runtime goroutine (WAIT_FINALIZER while idle)
// runs the queue in order, one call at a time. The queue is an off-heap
// array (rt_os_map, doubled when full), never the gort heap. obj must be the start of a heap object,
// except inside a tiny-allocator block (as Go allows); pointers outside the
// heap (globals, the zero-size address) are ignored, as Go ignores globals.
// Setting a second finalizer is fatal; fn == NULL removes one.
//
// Locking: rt_mheap.speciallock guards the special FixAlloc; the span's
// speciallock guards its list (mheap.c); finq.lock guards the queue (a leaf).
#include "gc/gc.h"

void
gort_set_finalizer(void *obj, void (*fn)(void *obj))
{
    if (obj == NULL)
        rt_throw("runtime.SetFinalizer: first argument is nil");
    uintptr_t p = (uintptr_t)obj, base;
    Span *s;
    if (!rt_find_object(p, &base, &s))
        return; // not a heap object: Go ignores globals and zero-size objects
    if (base != p && s->spanclass != TINY_SPAN_CLASS)
        rt_throw("runtime.SetFinalizer: pointer not at beginning of allocated block");
    MHeap *h = &rt_mheap;
    if (fn == NULL) {
        Special *sp = rt_span_remove_special(s, p, SPECIAL_FINALIZER);
        if (sp != NULL) {
            rt_lock(&h->speciallock);
            rt_fixalloc_free(&h->specialalloc, sp);
            rt_unlock(&h->speciallock);
        }
        return;
    }
    rt_lock(&h->speciallock);
    SpecialFinalizer *f = rt_fixalloc_alloc(&h->specialalloc);
    rt_unlock(&h->speciallock);
    f->special.kind = SPECIAL_FINALIZER;
    f->fn = fn;
    if (!rt_span_add_special(s, p, &f->special)) {
        rt_lock(&h->speciallock);
        rt_fixalloc_free(&h->specialalloc, f);
        rt_unlock(&h->speciallock);
        rt_throw("runtime.SetFinalizer: finalizer already set");
    }
}

// ---- The queue and the finalizer goroutine ------------------------------------------

typedef struct Finalizer {
    void (*fn)(void *obj);
    void *obj;
} Finalizer;

static struct {
    Lock lock;      // guards the fields below
    Finalizer *q;   // [lock] entries [head, n) wait or run
    uintptr_t head; // [lock]
    uintptr_t n;    // [lock]
    uintptr_t cap;  // [lock]
    G *g;           // [lock] the finalizer goroutine
    bool parked;    // [lock] it waits for work
    bool started;   // [lock]
} finq;

void
rt_gc_queue_finalizer(void (*fn)(void *), void *obj)
{
    rt_lock(&finq.lock);
    if (finq.n == finq.cap) {
        uintptr_t cap = finq.cap ? finq.cap * 2 : 1024;
        Finalizer *t = rt_os_map(cap * sizeof(Finalizer));
        if (t == NULL)
            rt_throw("finalizer: cannot map the queue");
        for (uintptr_t i = finq.head; i < finq.n; i++)
            t[i - finq.head] = finq.q[i];
        if (finq.q != NULL)
            rt_os_unmap(finq.q, finq.cap * sizeof(Finalizer));
        finq.n -= finq.head;
        finq.head = 0;
        finq.q = t;
        finq.cap = cap;
    }
    finq.q[finq.n++] = (Finalizer){fn, obj};
    rt_unlock(&finq.lock);
}

void
rt_gc_finq_range(uintptr_t *lo, uintptr_t *hi)
{
    // The entry being run stays in the queue until it returns.
    *lo = (uintptr_t)(finq.q + finq.head);
    *hi = (uintptr_t)(finq.q + finq.n);
}

static void
finq_main(void *arg)
{
    (void)arg;
    for (;;) {
        rt_lock(&finq.lock);
        if (finq.head == finq.n) {
            finq.head = finq.n = 0;
            finq.parked = true;
            rt_parkunlock(&finq.lock, WAIT_FINALIZER);
            continue;
        }
        Finalizer f = finq.q[finq.head];
        rt_unlock(&finq.lock);
        f.fn(f.obj);
        gort_keep_alive(f.obj);
        rt_lock(&finq.lock);
        finq.q[finq.head].obj = NULL;
        finq.head++;
        rt_unlock(&finq.lock);
    }
}

void
rt_gc_finq_kick(void)
{
    rt_lock(&finq.lock);
    if (!finq.started) {
        finq.started = true;
        rt_unlock(&finq.lock);
        G *gp = rt_newproc(finq_main, NULL, 0, true, 0);
        rt_lock(&finq.lock);
        finq.g = gp;
        rt_unlock(&finq.lock);
        return;
    }
    G *gp = NULL;
    if (finq.parked && finq.head < finq.n) {
        finq.parked = false;
        gp = finq.g;
    }
    rt_unlock(&finq.lock);
    if (gp != NULL)
        rt_ready(gp, false);
}
