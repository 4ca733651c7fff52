// finalizer.c: gort_set_finalizer.
//
// See gc.h. As Go's SetFinalizer: the finalizer is a special record on the
// object's span (offset, kind, fn), where the sweeper (issue 3) will find
// it when the object dies, queue fn(obj) for the finalizer goroutine and
// keep the object one more cycle. obj must be the start of a heap object,
// except inside a tiny-allocator block (as Go allows); pointers outside the
// heap (globals, the zero-size address) are ignored, as Go ignores globals.
// Setting a second finalizer is fatal; fn == NULL removes one.
//
// Locking: rt_mheap.speciallock guards the special FixAlloc; the span's
// speciallock guards its list (mheap.c).
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
