// mheap.c: the page heap: arenas, the page allocator, spans, the scavenger.
//
// See malloc.h. The heap is a set of 64 MiB arenas, reserved at Go's hints
// (0x00c000000000, then 0x01c000000000, ... if taken) and committed whole
// when added; they normally lie back to back, so runs of pages may cross
// arena boundaries. Each arena's HeapArena holds:
//
//   pallocbits  1 bit per 8 KiB page, 1 = allocated;
//   scavbits    1 = page released to the OS (fresh memory counts as
//               released, as in Go): such pages read zero, so a span made
//               only of them needs no clearing (needzero tracking);
//   chunksum[16] / sum   free-run summaries (start, max, end) of each 4 MiB
//               chunk and of the arena, recomputed on every change.
//
// Finding npages is address-ordered first fit, top down: walk the arenas in
// address order from `search` (all below are full), carrying the free run
// that ends at the previous arena when they are adjacent; use an arena's
// summary to skip it whole, descend into its chunk summaries only when a fit
// is known to be inside, and scan the bitmap of one chunk only (8 words) at
// the end. So the cost is O(arenas + 16 + 8 words), never a page-by-page
// scan. A request that fits nowhere grows the heap by whole arenas.
//
// Locking: rt_mheap.lock guards the page allocator, the arena list, the
// statistics and span creation/destruction; under it only the gcbits lock
// and persist.lock are taken. Never held with an MCentral lock. HeapArena.spans[] and the
// arena table are written under it and read without it (acquire loads), so
// rt_span_of works from any thread, including a signal handler.
#include "mem/malloc.h"

#include <string.h>

MHeap rt_mheap;

// ---- Bitmap helpers (bit i of word i / 64) -------------------------------------

static inline bool
bit_get(const uint64_t *w, uint32_t i)
{
    return (w[i / 64] >> (i % 64)) & 1;
}

static inline uint64_t
word_mask(uint32_t lo, uint32_t n) // bits [lo, lo + n) of one word, lo + n <= 64
{
    return (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << lo;
}

static void
bits_set(uint64_t *w, uint32_t i, uint32_t n, bool val)
{
    while (n > 0) {
        uint32_t lo = i % 64, k = 64 - lo < n ? 64 - lo : n;
        if (val)
            w[i / 64] |= word_mask(lo, k);
        else
            w[i / 64] &= ~word_mask(lo, k);
        i += k;
        n -= k;
    }
}

static uint32_t
bits_count(const uint64_t *w, uint32_t i, uint32_t n)
{
    uint32_t c = 0;
    while (n > 0) {
        uint32_t lo = i % 64, k = 64 - lo < n ? 64 - lo : n;
        c += (uint32_t)__builtin_popcountll(w[i / 64] & word_mask(lo, k));
        i += k;
        n -= k;
    }
    return c;
}

// First index in [i, end) whose bit equals val, or end.
static uint32_t
bits_next(const uint64_t *w, uint32_t i, uint32_t end, bool val)
{
    while (i < end) {
        uint64_t x = val ? w[i / 64] : ~w[i / 64];
        x &= ~0ULL << (i % 64);
        if (x != 0) {
            uint32_t r = (i & ~63u) + (uint32_t)__builtin_ctzll(x);
            return r < end ? r : end;
        }
        i = (i & ~63u) + 64;
    }
    return end;
}

// Summary of the n pages from lo (0 bits are free).
static PallocSum
summarize(const uint64_t *w, uint32_t lo, uint32_t n)
{
    uint32_t end = lo + n;
    uint32_t u = bits_next(w, lo, end, true);
    if (u == end)
        return (PallocSum){(uint16_t)n, (uint16_t)n, (uint16_t)n};
    uint32_t start = u - lo, max = start, tail = 0;
    while (u < end) {
        uint32_t f = bits_next(w, u, end, false);
        if (f == end) {
            tail = 0;
            break;
        }
        u = bits_next(w, f, end, true);
        if (u - f > max)
            max = u - f;
        tail = u == end ? u - f : 0;
    }
    return (PallocSum){(uint16_t)start, (uint16_t)max, (uint16_t)tail};
}

// Summary of n adjacent ranges of unit pages each.
static PallocSum
merge(const PallocSum *s, uint32_t n, uint32_t unit)
{
    uint32_t start = 0, max = 0, run = 0;
    bool prefix = true;
    for (uint32_t i = 0; i < n; i++) {
        if (prefix) {
            start += s[i].start;
            prefix = s[i].start == unit;
        }
        if (s[i].max > max)
            max = s[i].max;
        if (run + s[i].start > max)
            max = run + s[i].start;
        run = s[i].start == unit ? run + unit : s[i].end;
    }
    return (PallocSum){(uint16_t)start, (uint16_t)max, (uint16_t)run};
}

// First run of at least npages free pages inside [lo, lo + n), or UINT32_MAX.
static uint32_t
find_run(const uint64_t *w, uint32_t lo, uint32_t n, uintptr_t npages)
{
    uint32_t end = lo + n, i = lo;
    while (i < end) {
        uint32_t f = bits_next(w, i, end, false);
        if (f == end)
            break;
        uint32_t u = bits_next(w, f, end, true);
        if (u - f >= npages)
            return f;
        i = u;
    }
    return UINT32_MAX;
}

// ---- Arenas ------------------------------------------------------------------------

static inline HeapArena *
arena_of(uintptr_t p)
{
    return atomic_load_explicit(&rt_mheap.arenas[p >> ARENA_SHIFT], memory_order_relaxed);
}

// Reserves size bytes (a multiple of ARENA_BYTES), ARENA_BYTES aligned,
// trying Go's hints first. Returns 0 when the address space is exhausted.
static uintptr_t
arena_reserve(MHeap *h, uintptr_t size)
{
    const uintptr_t user_max = HEAP_ADDR_MAX / 2; // 47-bit user space
    for (int tries = 0; tries < 0x80; tries++) {
        uintptr_t hint = h->arena_hint;
        if (hint + size > user_max || hint + size < hint)
            break;
        void *p = rt_os_reserve((void *)hint, size);
        if (p == NULL)
            break;
        if ((uintptr_t)p == hint) {
            h->arena_hint = hint + size;
            return hint;
        }
        rt_os_unmap(p, size);
        // Taken: next of Go's hints, 0x01c000000000, 0x02c000000000, ...
        h->arena_hint = (((hint >> 40) + 1) << 40) | ARENA_HINT;
    }
    // Anywhere the kernel likes, aligned by trimming.
    void *p = rt_os_reserve(NULL, size + ARENA_BYTES);
    if (p == NULL)
        return 0;
    uintptr_t raw = (uintptr_t)p, base = (raw + ARENA_BYTES - 1) & ~(ARENA_BYTES - 1);
    if (base > raw)
        rt_os_unmap(p, base - raw);
    if (raw + ARENA_BYTES > base)
        rt_os_unmap((void *)(base + size), raw + ARENA_BYTES - base);
    if (base + size > user_max) {
        rt_os_unmap((void *)base, size);
        return 0;
    }
    return base;
}

// Adds arenas for at least npages pages: whole arenas, all pages free and
// released. Requires h->lock.
static void
heap_grow(MHeap *h, uintptr_t npages)
{
    uintptr_t n = (npages + PAGES_PER_ARENA - 1) / PAGES_PER_ARENA;
    if (n == 0 || n > ARENA_ENTRIES)
        rt_throw("mheap: out of memory (allocation too large)");
    uintptr_t size = n * ARENA_BYTES;
    uintptr_t base = arena_reserve(h, size);
    if (base == 0 || rt_os_commit((void *)base, size) != 0)
        rt_throw("mheap: out of memory (cannot map arena)");
    for (uintptr_t k = 0; k < n; k++) {
        HeapArena *a = rt_persistentalloc(sizeof(HeapArena), RT_CACHE_LINE);
        a->base = base + k * ARENA_BYTES;
        memset(a->scavbits, 0xff, sizeof a->scavbits); // fresh: released, zero
        for (uint32_t c = 0; c < CHUNKS_PER_ARENA; c++)
            a->chunksum[c] = (PallocSum){CHUNK_PAGES, CHUNK_PAGES, CHUNK_PAGES};
        a->sum = (PallocSum){PAGES_PER_ARENA, PAGES_PER_ARENA, PAGES_PER_ARENA};
        // Insert in address order.
        uint32_t i = h->narenas;
        while (i > 0 && h->allarenas[i - 1]->base > a->base) {
            h->allarenas[i] = h->allarenas[i - 1];
            h->allarenas[i]->order = i;
            i--;
        }
        h->allarenas[i] = a;
        a->order = i;
        h->narenas++;
        if (i < h->search)
            h->search = i;
        atomic_store_explicit(&h->arenas[a->base >> ARENA_SHIFT], a, memory_order_release);
    }
    if (h->dirty_tracking && rt_os_dirty_register(base, size) != 0)
        h->dirty_failed = true;
    // Nothing counts in heap_sys yet: chunks do as they are first used.
}

bool
rt_mheap_dirty_enable(void)
{
    MHeap *h = &rt_mheap;
    rt_lock(&h->lock);
    if (!h->dirty_tracking) {
        h->dirty_tracking = true;
        for (uint32_t i = 0; i < h->narenas; i++)
            if (rt_os_dirty_register(h->allarenas[i]->base, ARENA_BYTES) != 0)
                h->dirty_failed = true;
    }
    bool ok = !h->dirty_failed;
    rt_unlock(&h->lock);
    return ok;
}

// ---- Page allocator ----------------------------------------------------------------

// Address of the first run of npages free pages, or 0. Requires h->lock.
static uintptr_t
pages_find(MHeap *h, uintptr_t npages)
{
    while (h->search < h->narenas && h->allarenas[h->search]->sum.max == 0)
        h->search++;
    uintptr_t run = 0, prev_end = 0; // free pages ending at prev_end
    for (uint32_t i = h->search; i < h->narenas; i++) {
        HeapArena *a = h->allarenas[i];
        if (a->base != prev_end)
            run = 0;
        if (run + a->sum.start >= npages)
            return a->base - (run << PAGE_SHIFT);
        if (a->sum.max >= npages) {
            // The fit is inside this arena: runs touching its start are short.
            uintptr_t crun = 0;
            for (uint32_t c = 0; c < CHUNKS_PER_ARENA; c++) {
                PallocSum cs = a->chunksum[c];
                if (crun + cs.start >= npages)
                    return a->base + (((uintptr_t)c * CHUNK_PAGES - crun) << PAGE_SHIFT);
                if (cs.max >= npages) {
                    uint32_t pg = find_run(a->pallocbits, c * CHUNK_PAGES, CHUNK_PAGES, npages);
                    if (pg == UINT32_MAX)
                        break;
                    return a->base + ((uintptr_t)pg << PAGE_SHIFT);
                }
                crun = cs.start == CHUNK_PAGES ? crun + CHUNK_PAGES : cs.end;
            }
            rt_throw("mheap: page summaries disagree with the bitmap");
        }
        run = a->sum.start == PAGES_PER_ARENA ? run + PAGES_PER_ARENA : a->sum.end;
        prev_end = a->base + ARENA_BYTES;
    }
    return 0;
}

// Marks [addr, addr + npages pages) allocated (alloc) or free. On
// allocation returns how many of the pages were released (hence zero) and
// clears their scav bits. Requires h->lock.
static uintptr_t
pages_mark(MHeap *h, uintptr_t addr, uintptr_t npages, bool alloc)
{
    uintptr_t nscav = 0;
    while (npages > 0) {
        HeapArena *a = arena_of(addr);
        uint32_t i = (uint32_t)((addr - a->base) >> PAGE_SHIFT);
        uint32_t n = (uint32_t)(PAGES_PER_ARENA - i < npages ? PAGES_PER_ARENA - i : npages);
        if (rt_unlikely(bits_count(a->pallocbits, i, n) != (alloc ? 0 : n)))
            rt_throw(alloc ? "mheap: allocating pages in use" : "mheap: freeing free pages");
        if (alloc) {
            // Chunks used for the first time join heap_sys, all released
            // (their pages were never touched); the caller then subtracts
            // the released pages it takes.
            uint32_t c0 = i / CHUNK_PAGES, c1 = (i + n - 1) / CHUNK_PAGES;
            uint16_t want = (uint16_t)(((1u << (c1 + 1)) - 1) & ~((1u << c0) - 1));
            uint16_t fresh = want & (uint16_t)~a->ready_chunks;
            if (fresh != 0) {
                uint64_t b = (uint64_t)__builtin_popcount(fresh) * CHUNK_PAGES * PAGE_SIZE;
                a->ready_chunks |= fresh;
                h->heap_sys += b;
                h->heap_released += b;
            }
            nscav += bits_count(a->scavbits, i, n);
            bits_set(a->scavbits, i, n, false);
        } else if (a->order < h->search) {
            h->search = a->order;
        }
        bits_set(a->pallocbits, i, n, alloc);
        for (uint32_t c = i / CHUNK_PAGES; c <= (i + n - 1) / CHUNK_PAGES; c++)
            a->chunksum[c] = summarize(a->pallocbits, c * CHUNK_PAGES, CHUNK_PAGES);
        a->sum = merge(a->chunksum, CHUNKS_PER_ARENA, CHUNK_PAGES);
        addr += (uintptr_t)n << PAGE_SHIFT;
        npages -= n;
    }
    return nscav;
}

static inline void
page_bit(_Atomic uint8_t *bm, uintptr_t p, bool val)
{
    uint32_t pg = (uint32_t)((p >> PAGE_SHIFT) % PAGES_PER_ARENA);
    uint8_t bit = (uint8_t)(1u << (pg % 8));
    if (val)
        atomic_fetch_or_explicit(&bm[pg / 8], bit, memory_order_relaxed);
    else
        atomic_fetch_and_explicit(&bm[pg / 8], (uint8_t)~bit, memory_order_relaxed);
}

// Points every page of s in the arena tables at s (or NULL).
static void
spans_set(Span *s, Span *val)
{
    for (uintptr_t i = 0; i < s->npages; i++) {
        uintptr_t p = s->startaddr + (i << PAGE_SHIFT);
        HeapArena *a = arena_of(p);
        atomic_store_explicit(&a->spans[(p >> PAGE_SHIFT) % PAGES_PER_ARENA], val,
                              memory_order_release);
    }
}

// ---- Spans ----------------------------------------------------------------------

void
rt_mheap_init(void)
{
    MHeap *h = &rt_mheap;
    if (h->inited)
        return;
    h->arenas = rt_os_map(ARENA_ENTRIES * sizeof(*h->arenas));
    h->allarenas = rt_os_map(ARENA_ENTRIES * sizeof(*h->allarenas));
    if (h->arenas == NULL || h->allarenas == NULL)
        rt_throw("mheap: cannot map the arena tables");
    h->arena_hint = ARENA_HINT;
    h->max_alloc = rt_os_mem_max();
    if (h->max_alloc > HEAP_ADDR_MAX / 2)
        h->max_alloc = HEAP_ADDR_MAX / 2; // the 47-bit user address space
    rt_fixalloc_init(&h->spanalloc, sizeof(Span));
    rt_fixalloc_init(&h->cachealloc, sizeof(MCache));
    rt_fixalloc_init(&h->specialalloc, sizeof(SpecialFinalizer));
    for (uint32_t i = 0; i < NUM_SPAN_CLASSES; i++)
        h->central[i].spanclass = (uint8_t)i;
    h->inited = true;
}

Span *
rt_mheap_alloc(uintptr_t npages, uint8_t spc)
{
    MHeap *h = &rt_mheap;
    if (rt_unlikely(npages == 0 || npages > (HEAP_ADDR_MAX >> PAGE_SHIFT)))
        rt_throw("mheap: out of memory (bad page count)");
    rt_lock(&h->lock);
    uintptr_t addr = pages_find(h, npages);
    if (addr == 0) {
        heap_grow(h, npages);
        addr = pages_find(h, npages);
        if (addr == 0)
            rt_throw("mheap: no fit after growing");
    }
    uintptr_t nscav = pages_mark(h, addr, npages, true);
    h->heap_inuse += npages << PAGE_SHIFT;
    h->heap_released -= nscav << PAGE_SHIFT;
    h->nspans++;

    Span *s = rt_fixalloc_alloc(&h->spanalloc);
    uint8_t sc = rt_spanclass_sizeclass(spc);
    s->startaddr = addr;
    s->npages = npages;
    s->spanclass = spc;
    s->needzero = nscav != npages;
    if (sc == 0) {
        s->elemsize = npages << PAGE_SHIFT;
        s->nelems = 1;
        s->divmagic = 0;
    } else {
        s->elemsize = rt_class_to_size[sc];
        s->nelems = rt_class_to_nelems[sc];
        s->divmagic = rt_class_to_divmagic[sc];
    }
    s->limit = addr + s->nelems * s->elemsize;
    s->scan_kind = sc == 0 ? SCAN_LARGE : SCAN_SLOT; // ptrdata.c
    uintptr_t nb = rt_span_bitmap_bytes(s->nelems);
    s->alloc_bits = rt_gcbits_alloc(nb);
    s->gcmark_bits = rt_gcbits_alloc(nb);
    s->full_bits = rt_gcbits_alloc(nb);
    atomic_store_explicit(&s->sweepgen, h->sweepgen, memory_order_relaxed);
    s->fresh_cycle = atomic_load_explicit(&rt_gc_fresh_cycle, memory_order_relaxed);
    s->state = SPAN_IN_USE;
    spans_set(s, s); // publishes the initialised span
    page_bit(arena_of(addr)->page_inuse, addr, true);
    rt_unlock(&h->lock);
    return s;
}

void
rt_mheap_free(Span *s)
{
    MHeap *h = &rt_mheap;
    if (rt_unlikely(s->state != SPAN_IN_USE || s->list != NULL))
        rt_throw("mheap: freeing a span not in use or still listed");
    if (s->scan_kind == SCAN_TABLE)
        rt_span_ptrdata_free(s);
    rt_lock(&h->lock);
    spans_set(s, NULL);
    HeapArena *a = arena_of(s->startaddr);
    page_bit(a->page_inuse, s->startaddr, false);
    page_bit(a->page_marks, s->startaddr, false);
    page_bit(a->page_specials, s->startaddr, false);
    pages_mark(h, s->startaddr, s->npages, false);
    h->heap_inuse -= s->npages << PAGE_SHIFT;
    h->nspans--;
    uintptr_t nb = rt_span_bitmap_bytes(s->nelems);
    rt_gcbits_free(s->alloc_bits, nb);
    rt_gcbits_free(s->gcmark_bits, nb);
    rt_gcbits_free(s->full_bits, nb);
    s->state = SPAN_DEAD;
    rt_fixalloc_free(&h->spanalloc, s);
    rt_unlock(&h->lock);
}

// ---- Scavenger --------------------------------------------------------------------

static inline bool
scav_candidate(const HeapArena *a, uint32_t pg)
{
    return !bit_get(a->pallocbits, pg) && !bit_get(a->scavbits, pg);
}

uint64_t
rt_mheap_scavenge(uint64_t bytes_to_keep)
{
    MHeap *h = &rt_mheap;
    uint64_t released = 0;
    bool refused = false; // the kernel refused a release: stop
    rt_lock(&h->lock);
    uint64_t resident_free = h->heap_sys - h->heap_inuse - h->heap_released;
    // From the top of the heap down: first fit keeps the low addresses busy.
    // The lock is held across madvise for now; Go drops it by marking the
    // run allocated while it releases (a refinement for the scavenger issue).
    for (uint32_t i = h->narenas; i-- > 0 && !refused && resident_free > bytes_to_keep;) {
        HeapArena *a = h->allarenas[i];
        int64_t pg = PAGES_PER_ARENA - 1;
        while (pg >= 0 && resident_free > bytes_to_keep) {
            uint32_t w = (uint32_t)pg / 64;
            uint64_t cand =
                    ~(a->pallocbits[w] | a->scavbits[w]) & word_mask(0, (uint32_t)pg % 64 + 1);
            if (cand == 0) {
                pg = (int64_t)w * 64 - 1;
                continue;
            }
            uint32_t top = w * 64 + 63 - (uint32_t)__builtin_clzll(cand);
            uint64_t need = (resident_free - bytes_to_keep + PAGE_SIZE - 1) >> PAGE_SHIFT;
            uint32_t lo = top;
            while (lo > 0 && top - lo + 1 < need && scav_candidate(a, lo - 1))
                lo--;
            uint32_t n = top - lo + 1;
            if (rt_os_release((void *)(a->base + ((uintptr_t)lo << PAGE_SHIFT)),
                              (uintptr_t)n << PAGE_SHIFT) != 0) {
                // Refused (locked memory): the pages keep their contents,
                // so they must not be marked as reading zero. Stop here.
                refused = true;
                break;
            }
            bits_set(a->scavbits, lo, n, true);
            released += (uint64_t)n << PAGE_SHIFT;
            resident_free -= resident_free < ((uint64_t)n << PAGE_SHIFT)
                                     ? resident_free
                                     : (uint64_t)n << PAGE_SHIFT;
            pg = (int64_t)lo - 1;
        }
    }
    h->heap_released += released;
    rt_unlock(&h->lock);
    return released;
}

// ---- Statistics -------------------------------------------------------------------
//
// heap_sys is what Go's HeapSys means: heap memory mapped ready for use, not
// the address space reserved. Arenas are reserved and mapped whole
// (MAP_NORESERVE: untouched pages cost nothing), but a 4 MiB chunk counts
// only from its first allocation on (HeapArena.ready_chunks), so heap_sys
// grows in steps of at most 4 MiB with use, like Go's, and a 5 MB heap
// reports about 8 MiB, not 64. A ready chunk never leaves heap_sys; its free
// pages are idle, and released once the scavenger returns them (fresh ones
// count as released from the start). So heap_inuse <= heap_sys and
// heap_released <= heap_idle = heap_sys - heap_inuse.

void
rt_mheap_read_stats(HeapStats *out)
{
    MHeap *h = &rt_mheap;
    memset(out, 0, sizeof *out);
    rt_lock(&h->lock);
    out->heap_sys = h->heap_sys;
    out->heap_inuse = h->heap_inuse;
    out->heap_released = h->heap_released;
    out->nspans = h->nspans;
    rt_unlock(&h->lock);
    out->heap_idle = out->heap_sys - out->heap_inuse;

    out->nmalloc = atomic_load_explicit(&h->nmalloc, memory_order_relaxed);
    out->total_alloc = atomic_load_explicit(&h->total_alloc, memory_order_relaxed);
    out->ntiny = atomic_load_explicit(&h->ntiny, memory_order_relaxed);
    out->nfree = atomic_load_explicit(&h->nfree, memory_order_relaxed);
    out->total_free = atomic_load_explicit(&h->total_free, memory_order_relaxed);
    rt_lock(&h->mcache_lock);
    for (MCache *c = h->allmcache; c != NULL; c = c->alllink) {
        out->nmalloc += atomic_load_explicit(&c->nmalloc, memory_order_relaxed);
        out->total_alloc += atomic_load_explicit(&c->total_alloc, memory_order_relaxed);
        out->ntiny += atomic_load_explicit(&c->ntiny, memory_order_relaxed);
        out->nfree += atomic_load_explicit(&c->nfree, memory_order_relaxed);
        out->total_free += atomic_load_explicit(&c->total_free, memory_order_relaxed);
    }
    rt_unlock(&h->mcache_lock);
}

// ---- Specials -----------------------------------------------------------------------

bool
rt_span_add_special(Span *s, uintptr_t p, Special *sp)
{
    sp->offset = p - s->startaddr;
    rt_lock(&s->speciallock);
    Special **t = &s->specials;
    for (; *t != NULL; t = &(*t)->next) {
        if ((*t)->offset == sp->offset && (*t)->kind == sp->kind) {
            rt_unlock(&s->speciallock);
            return false;
        }
        if ((*t)->offset > sp->offset || ((*t)->offset == sp->offset && (*t)->kind > sp->kind))
            break;
    }
    sp->next = *t;
    *t = sp;
    page_bit(arena_of(s->startaddr)->page_specials, s->startaddr, true);
    rt_unlock(&s->speciallock);
    return true;
}

Special *
rt_span_remove_special(Span *s, uintptr_t p, uint8_t kind)
{
    uintptr_t off = p - s->startaddr;
    Special *found = NULL;
    rt_lock(&s->speciallock);
    for (Special **t = &s->specials; *t != NULL; t = &(*t)->next) {
        if ((*t)->offset == off && (*t)->kind == kind) {
            found = *t;
            *t = found->next;
            break;
        }
    }
    if (s->specials == NULL)
        page_bit(arena_of(s->startaddr)->page_specials, s->startaddr, false);
    rt_unlock(&s->speciallock);
    return found;
}
