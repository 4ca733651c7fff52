// once.c: gort_once, Go's sync.Once (sync/once.go; sema.h has the overview).
//
// done is set, with release order, only after fn has returned, so a caller
// that sees it also sees fn's effects; that is the whole fast path. The slow
// path serialises on the mutex m: the first caller runs fn, the others wait
// on m until it returns and then see done. (A CAS on done would return
// before fn had finished.) If fn calls gort_goexit, done stays 0 and m
// stays locked: Go's deferred unlock has no C counterpart.
#include "sync/sema.h"

static inline _Atomic uint32_t *
once_done(gort_once *o)
{
    return (_Atomic uint32_t *)(void *)&o->done_;
}

RT_NOINLINE static void
once_do_slow(gort_once *o, void (*fn)(void *arg), void *arg)
{
    gort_mutex_lock(&o->m_);
    if (atomic_load_explicit(once_done(o), memory_order_relaxed) == 0) {
        fn(arg);
        atomic_store_explicit(once_done(o), 1, memory_order_release);
    }
    gort_mutex_unlock(&o->m_);
}

void
gort_once_do(gort_once *o, void (*fn)(void *arg), void *arg)
{
    if (rt_likely(atomic_load_explicit(once_done(o), memory_order_acquire) != 0))
        return;
    once_do_slow(o, fn, arg);
}
