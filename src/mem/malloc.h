// malloc.h: the gort heap allocator, built the way Go's is.
//
// The heap hands out objects in three tiers, each with its own lock rule:
//
//   MCache    per P, no lock. One cached span per span class; the fast path
//             pops the next free slot with a count-trailing-zeros over a
//             64-bit window of the span's inverted allocation bits.
//   MCentral  per span class, one Lock each. Spans with free slots
//             (partial) and spans without (full); an MCache trades a used-up
//             span for a fresh one here.
//   MHeap     one, one Lock. Pages of 8 KiB grouped into 64 MiB arenas,
//             handed out as runs (spans) by an address-ordered first-fit page
//             allocator; large objects (> 32 KiB) get a span of their own.
//
// Structures:
//   Span       a run of pages. In use: holds objects of one size class
//              (nelems slots of elemsize bytes) or one large object. Its
//              alloc_bits (1 = allocated at the last sweep) and gcmark_bits
//              (set by the collector) are off-heap bitmaps (fixalloc.c).
//   HeapArena  per 64 MiB arena, off-heap: spans[8192] (page -> in-use Span),
//              the page allocator's bitmaps (pallocbits: 1 = page in use;
//              scavbits: 1 = page released to the OS, so it reads zero) and
//              free-run summaries; pageInUse/pageMarks/pageSpecials bitmaps
//              for the collector.
//   rt_mheap.arenas  flat table, index = address >> 26 (2^22 entries for a
//              48-bit address space, mapped lazily), so rt_span_of(p) is two
//              loads for any address.
//   FixAlloc / rt_persistentalloc  off-heap memory for Spans, MCaches,
//              HeapArenas, specials and the scheduler's G/M/P/Sudog; never
//              calls malloc and is never returned to the OS.
//
// Size classes (sizeclass.c): Go's 67 classes plus class 0 (large), exact
// table from Go's sizeclasses.go. Span class = class << 1 | noscan, so 136
// span classes; pointer-free objects never share a span with scanned ones.
// Object index in a span = (offset * divmagic) >> 32, exact for every offset
// of every class (checked at init), so interior-pointer lookup needs no
// divide.
//
// Allocation path (malloc.c, rt_mallocgc):
//   1. size 0 -> &rt_zerobase.
//   2. noscan and size < 16: tiny allocator. Packs into the current 16-byte
//      block (class 2 noscan) at an offset aligned by size (8/4/2/1); a new
//      block comes from step 3 and is zeroed explicitly.
//   3. size <= 32 KiB: class from rt_size_to_class8/128; c->alloc[spc];
//      next_free_fast(); on a miss, rt_mcache_next_free() scans further
//      64-slot windows, then refills: the used-up span goes to its
//      MCentral's full list, MCentral hands a partial span or grows one from
//      MHeap. Slots are zeroed only if the span's needzero says so.
//   4. larger: rt_mheap_alloc(npages, spc 0|noscan) directly; zeroed after
//      the M is released, only if any of its pages was used before.
//   No lock and no atomic read-modify-write on the fast path: the M's
//   m->locks is raised (plain increment) so it is not preempted while it
//   uses its P's MCache, and per-MCache statistics are plain stores read
//   relaxed by gort_read_memstats.
//
// Partial scans (ptrdata.c): gort_alloc_ptrs(size, ptr_bytes) promises that
//   only the first ptr_bytes may hold pointers (Go's ptrdata). Its objects
//   share the ordinary scan span classes; a span records how to find an
//   object's scan length in Span.scan_kind, which replaces the old
//   "large or small" test at the one place the collector queues an object
//   (mark_word), so objects of gort_alloc and gort_alloc_noscan cost nothing
//   more to allocate or to mark:
//     SCAN_SLOT   the whole slot (every span until a gort_alloc_ptrs object
//                 lands in it);
//     SCAN_LARGE  a large object: its own span, ptr_bytes in the Span
//                 (large_ptr_bytes, 0 = the whole object) - Go's header,
//                 kept outside the object;
//     SCAN_TABLE  a small span holding gort_alloc_ptrs objects: an off-heap
//                 table of one uint32 per slot (words to scan, 0 = all),
//                 allocated the first time, zero for gort_alloc slots - Go's
//                 heap bits, at one entry per object instead of one bit per
//                 word. Sweeping zeroes the entries of freed slots, so a
//                 slot gort_alloc reuses is scanned whole again.
//   Some paths still scan a whole slot (finalizer roots, objects born during
//   a concurrent mark, rescans of written pages): more scanning is always
//   safe for a conservative collector, it only delays a free by a cycle.
//
// Free path (the collector, issue 3; the pieces are here):
//   Objects are never freed one by one. Sweeping a span (sweepgen below)
//   makes gcmark_bits the new alloc_bits, takes fresh zeroed mark bits,
//   resets freeindex to 0 and sets needzero; an empty span goes back to
//   MHeap through rt_mheap_free(), which clears its pages in the page bitmap.
//   rt_mheap_scavenge() later returns free pages to the OS (MADV_DONTNEED),
//   after which they read as zero again and are not cleared twice.
//
// sweepgen (h = rt_mheap.sweepgen, += 2 per GC cycle), for a Span s:
//   s->sweepgen == h - 2   needs sweeping
//   s->sweepgen == h - 1   being swept
//   s->sweepgen == h       swept, ready to use
//   s->sweepgen == h + 1   cached before sweeping began: still to sweep
//   s->sweepgen == h + 3   swept and then cached
// MCentral keeps partial[2] and full[2]: index (h / 2) % 2 is the swept set,
// the other the unswept one; the roles swap when h advances.
//
// Lock order (docs/locking.md): MCentral.lock and rt_mheap.lock are never
// held together; the gcbits lock is a leaf below rt_mheap.lock; the span
// and heap specials locks are taken apart from it (finalizer queueing takes
// finq.lock under them).
// rt_mheap.lock is held only by code that does not park or allocate from the
// heap. A span cached in an MCache is owned by that MCache's P.
#ifndef GORT_MEM_MALLOC_H
#define GORT_MEM_MALLOC_H

#include "rt.h"

// ---- Constants ---------------------------------------------------------------

enum {
    PAGE_SHIFT = 13,
    PAGE_SIZE = 1 << PAGE_SHIFT, // 8 KiB heap page (not the OS page)
    NUM_SIZE_CLASSES = 68,       // 67 small classes + class 0 (large)
    NUM_SPAN_CLASSES = NUM_SIZE_CLASSES << 1,
    MAX_SMALL_SIZE = 32768, // largest small object
    SMALL_SIZE_DIV = 8,     // rt_size_to_class8 step, sizes <= SMALL_SIZE_MAX
    SMALL_SIZE_MAX = 1024,
    LARGE_SIZE_DIV = 128,           // rt_size_to_class128 step above that
    TINY_SIZE = 16,                 // tiny allocator block
    TINY_SPAN_CLASS = (2 << 1) | 1, // class 2 (16 B), noscan
    MAX_OBJS_PER_SPAN = 1024,

    ARENA_SHIFT = 26,
    PAGES_PER_ARENA = 1 << (ARENA_SHIFT - PAGE_SHIFT), // 8192
    CHUNK_PAGES = 512,                                 // page-allocator chunk: 4 MiB
    CHUNKS_PER_ARENA = PAGES_PER_ARENA / CHUNK_PAGES,  // 16
    ARENA_L2_BITS = 48 - ARENA_SHIFT,                  // 22: flat arena index
};
#define ARENA_BYTES   ((uintptr_t)1 << ARENA_SHIFT) // 64 MiB
#define CHUNK_BYTES   ((uintptr_t)CHUNK_PAGES << PAGE_SHIFT)
#define ARENA_ENTRIES ((uintptr_t)1 << ARENA_L2_BITS)
#define HEAP_ADDR_MAX ((uintptr_t)1 << 48)        // arena table covers [0, 2^48)
#define ARENA_HINT    ((uintptr_t)0x00c000000000) // first hint, as Go

// ---- Size classes (sizeclass.c) -------------------------------------------

extern const uint16_t rt_class_to_size[NUM_SIZE_CLASSES];
extern const uint8_t rt_class_to_npages[NUM_SIZE_CLASSES];
extern const uint16_t rt_class_to_nelems[NUM_SIZE_CLASSES];
extern const uint32_t rt_class_to_divmagic[NUM_SIZE_CLASSES];
extern const uint8_t rt_size_to_class8[SMALL_SIZE_MAX / SMALL_SIZE_DIV + 1];
extern const uint8_t rt_size_to_class128[(MAX_SMALL_SIZE - SMALL_SIZE_MAX) / LARGE_SIZE_DIV + 1];
// Checks the tables against each other and the magic division; throws on error.
void rt_sizeclass_init(void);

static inline uint8_t
rt_size_to_class(uintptr_t size)
{
    if (size <= SMALL_SIZE_MAX)
        return rt_size_to_class8[(size + SMALL_SIZE_DIV - 1) / SMALL_SIZE_DIV];
    return rt_size_to_class128[(size - SMALL_SIZE_MAX + LARGE_SIZE_DIV - 1) / LARGE_SIZE_DIV];
}
static inline uint8_t
rt_spanclass(uint8_t sizeclass, bool noscan)
{
    return (uint8_t)(sizeclass << 1 | (noscan ? 1 : 0));
}
static inline uint8_t
rt_spanclass_sizeclass(uint8_t spc)
{
    return spc >> 1;
}
static inline bool
rt_spanclass_noscan(uint8_t spc)
{
    return spc & 1;
}

// ---- Off-heap allocation (fixalloc.c) ---------------------------------------

// FixAlloc: a free list of fixed-size blocks carved from rt_persistentalloc.
// Not locked itself: the owner's lock guards it (tagged at each use). Blocks
// from fixalloc_alloc are zeroed.
typedef struct FixAlloc {
    uintptr_t size;  // [const] block size
    void *list;      // free blocks, linked through their first word
    uintptr_t chunk; // current carve area [chunk, chunk + nchunk)
    uintptr_t nchunk;
    uint64_t inuse; // bytes handed out and not freed
    uint64_t sys;   // bytes taken from rt_persistentalloc
} FixAlloc;
void rt_fixalloc_init(FixAlloc *f, uintptr_t size);
void *rt_fixalloc_alloc(FixAlloc *f);
void rt_fixalloc_free(FixAlloc *f, void *p);
// Bytes obtained from the OS by rt_persistentalloc (memstats "other sys").
uint64_t rt_persistent_sys(void);

// gcbits: off-heap bitmaps for alloc_bits/gcmark_bits, nbytes a multiple of
// 8 up to 128, zeroed. Own leaf Lock; callable with rt_mheap.lock held.
uint8_t *rt_gcbits_alloc(uintptr_t nbytes);
void rt_gcbits_free(uint8_t *b, uintptr_t nbytes);

// ---- Span ----------------------------------------------------------------------

enum SpanState {
    SPAN_DEAD = 0,   // not in use (Span struct on the free list)
    SPAN_IN_USE = 1, // holds heap objects
};

// Specials: per-object records attached to a span (finalizers now; Go also
// keeps profiling and cleanups here), sorted by offset then kind.
enum SpecialKind { SPECIAL_FINALIZER = 1 };
typedef struct Special {
    struct Special *next; // [lock: span->speciallock]
    uintptr_t offset;     // [const] object offset from the span start
    uint8_t kind;         // [const] enum SpecialKind
} Special;
typedef struct SpecialFinalizer {
    Special special;
    void (*fn)(void *obj); // [const]
} SpecialFinalizer;

typedef struct SpanList SpanList;
typedef struct Span Span;

// Invariants: objects occupy [startaddr, limit), limit = startaddr +
// nelems * elemsize <= startaddr + npages * PAGE_SIZE. Slot i is allocated iff
// i < freeindex or alloc_bits[i] is set. alloc_cache holds the inverted
// alloc_bits of the 64-slot window containing freeindex, shifted so bit 0 is
// slot freeindex. alloc_count counts allocated slots.
// Locking: while cached by an MCache, the allocation fields are [owner] that
// MCache's P; while on an MCentral list, [lock: that MCentral's lock]; the
// page fields are [const] while in use.
struct Span {
    struct Span *next;         // [lock: list] on a SpanList (MCentral), or the FixAlloc list
    struct Span *prev;         //
    SpanList *list;            // [lock: list] the list it is on, or NULL
    uintptr_t startaddr;       // [const] first byte
    uintptr_t npages;          // [const] length in pages
    uintptr_t limit;           // [const] end of the last object
    uint64_t alloc_cache;      // [owner] inverted alloc_bits window at freeindex
    uint32_t freeindex;        // [owner] slots below are allocated; next scan starts here
    uint32_t nelems;           // [const] number of slots
    uint32_t alloc_count;      // [owner] allocated slots
    uintptr_t elemsize;        // [const] slot size; npages * PAGE_SIZE for a large span
    uint32_t divmagic;         // [const] (offset * divmagic) >> 32 == offset / elemsize; 0 if large
    uint8_t spanclass;         // [const]
    uint8_t state;             // [lock: rt_mheap.lock] enum SpanState; read racily by rt_span_of
    bool needzero;             // [owner] free slots may hold stale bytes
    uint8_t scan_kind;         // [const] set at span allocation, then SCAN_SLOT -> SCAN_TABLE
                               // once, by the CAS winner: SCAN_SLOT, SCAN_LARGE or SCAN_TABLE
    uint8_t *alloc_bits;       // [owner] 1 = allocated as of the last sweep; swapped by the
                               // sweep or with the world stopped
    uint8_t *gcmark_bits;      // [atomic] its bits, set by the collector; swapped like
                               // alloc_bits
    uint8_t *gcmark_saved;     // [stw] real mark bits while GODEBUG=gccheckmark re-marks
    uint8_t *full_bits;        // [owner] the sweeper: marked by the last full cycle (not
                               // minor or medium), not freed since (mark.c, "Minor cycles")
    _Atomic uint32_t sweepgen; // [atomic] see the sweepgen table above
    uint32_t fresh_cycle;      // [const] rt_gc_fresh_cycle when allocated: a span born
                               // during a concurrent mark is not scanned until its end
    Lock speciallock;          // guards specials
    Special *specials;         // [lock: speciallock] sorted by offset, then kind
    // Scan lengths (ptrdata.c, "Partial scans" above); scan_kind is beside
    // needzero. The table is [atomic]: entries written by their objects'
    // allocators, read by markers.
    _Atomic(uint32_t *) ptr_words; // SCAN_TABLE: per slot, words to scan (0 = all)
    uintptr_t large_ptr_bytes;     // [const] SCAN_LARGE: bytes to scan, 0 = all
};

// How the collector finds an object's scan length (Span.scan_kind).
enum ScanKind {
    SCAN_SLOT = 0,  // the whole slot, elemsize: every gort_alloc-only small span
    SCAN_LARGE = 1, // a large object: limit - base, or large_ptr_bytes
    SCAN_TABLE = 2, // small, some slots from gort_alloc_ptrs: ptr_words[slot]
};

// Scan length of the object at slot idx (base) of a span whose scan_kind is
// not SCAN_SLOT (ptrdata.c). Lock-free; callable by any marker.
uintptr_t rt_span_scan_len(const Span *s, uint32_t idx, uintptr_t base);
// Sweep: forgets the scan lengths of the slots just freed (alloc_bits is the
// new bitmap). Only for spans with a table.
void rt_span_ptrdata_sweep(Span *s);
// Frees a span's table (rt_mheap_free).
void rt_span_ptrdata_free(Span *s);

// SWAR popcount: the baseline x86-64 target has no popcnt instruction and
// __builtin_popcountll would call libgcc for every word.
static inline uint32_t
rt_popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ULL);
    x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
    return (uint32_t)((x * 0x0101010101010101ULL) >> 56);
}

// Bytes of one alloc/mark bitmap for n slots: whole 64-bit words.
static inline uintptr_t
rt_span_bitmap_bytes(uint32_t nelems)
{
    return ((uintptr_t)nelems + 63) / 64 * 8;
}
static inline uint32_t
rt_span_obj_index(const Span *s, uintptr_t p)
{
    return (uint32_t)(((uint64_t)(p - s->startaddr) * s->divmagic) >> 32);
}
// True if slot i is free (not allocated as of freeindex and the last sweep).
static inline bool
rt_span_is_free(const Span *s, uint32_t i)
{
    if (i < s->freeindex)
        return false;
    return !(s->alloc_bits[i / 8] & (1u << (i % 8)));
}
// Loads alloc_cache with the inverted 64 alloc bits starting at byte
// whichbyte (a multiple of 8: bitmaps are whole words).
static inline void
rt_span_refill_alloc_cache(Span *s, uint32_t whichbyte)
{
    uint64_t bits;
    __builtin_memcpy(&bits, s->alloc_bits + whichbyte, sizeof bits); // little-endian
    s->alloc_cache = ~bits;
}
// The empty span every MCache slot starts with: no slots, so the first
// allocation refills.
extern Span rt_emptyspan;

// ---- HeapArena and the page allocator (mheap.c) ---------------------------

// Free-run summary of a bitmap range: free pages at its start, the longest
// free run anywhere in it, free pages at its end.
typedef struct PallocSum {
    uint16_t start, max, end;
} PallocSum;

// All fields but base/order are [lock: rt_mheap.lock] for writers; spans[]
// and the page_* bitmaps are read without it (atomic loads).
typedef struct HeapArena {
    _Atomic(Span *) spans[PAGES_PER_ARENA];             // page -> in-use span; NULL for free pages
    uint64_t pallocbits[PAGES_PER_ARENA / 64];          // 1 = page allocated
    uint64_t scavbits[PAGES_PER_ARENA / 64];            // 1 = page released to the OS (reads zero)
    _Atomic uint8_t page_inuse[PAGES_PER_ARENA / 8];    // first page of each in-use span
    _Atomic uint8_t page_marks[PAGES_PER_ARENA / 8];    // collector: span has marked objects
    _Atomic uint8_t page_specials[PAGES_PER_ARENA / 8]; // first page of spans with specials
    // Collector: pages written since the last full cycle (src/gc/mark.c,
    // "Minor cycles"). [atomic] bits set by the collector, cleared with the world stopped
    _Atomic uint64_t written_since_full[PAGES_PER_ARENA / 64];
    PallocSum chunksum[CHUNKS_PER_ARENA]; // per 4 MiB chunk
    PallocSum sum;                        // whole arena (coarse level)
    uintptr_t base;                       // [const] first byte, ARENA_BYTES aligned
    uint32_t order;                       // [lock: rt_mheap.lock] index in allarenas
    // Chunks (4 MiB) ever handed to the page allocator's users: bit c set
    // once a page of chunk c was first allocated. Only these count in
    // heap_sys (see mheap.c, "Statistics"). [lock: rt_mheap.lock]
    uint16_t ready_chunks;
} HeapArena;

// ---- MCentral (mcentral.c) -------------------------------------------------

struct SpanList {
    Span *first; // [lock: owner's lock]
    Span *last;
};

typedef struct MCentral {
    Lock lock;           // guards the lists and the spans on them
    uint8_t spanclass;   // [const]
    SpanList partial[2]; // [lock] spans with free slots: [(sg/2)%2] swept, other unswept
    SpanList full[2];    // [lock] spans without free slots, same indexing
    uint8_t pad[RT_CACHE_LINE];
} MCentral;

// Returns a span with at least one free slot, its alloc_cache loaded; the
// caller owns it. Takes c->lock, then (unlocked) may grow from the MHeap.
Span *rt_mcentral_cache_span(MCentral *c);
// Gives back a span that an MCache held; files it as partial or full.
void rt_mcentral_uncache_span(MCentral *c, Span *s);
// Sweeping (src/gc/sweep.c): pops an unswept span and claims it (sweepgen
// h - 1), or NULL; files a swept span as partial or full.
Span *rt_mcentral_pop_unswept(MCentral *c);
void rt_mcentral_put_swept(MCentral *c, Span *s);
// Sweeps s (claimed: sweepgen h - 1). Returns false if the span was empty
// and went back to the heap; otherwise it is swept and, unless preserve,
// filed on its MCentral (preserve: the caller keeps it). Run with m->locks
// raised or the world stopped. Defined in src/gc/sweep.c.
bool rt_gc_sweep_span(Span *s, bool preserve);
// Files a freshly allocated large span (on its central's full list) so the
// sweeper will find it.
void rt_mcentral_add_large(MCentral *c, Span *s);

// ---- MCache (mcache.c) -------------------------------------------------------

// One per P ([owner] that P; the boot/sysmon MCache: [lock: global_mcache_lock]
// in malloc.c). Statistics are written by the owner with plain relaxed stores
// and read relaxed by gort_read_memstats.
struct MCache {
    uintptr_t tiny;                // current tiny block, 0 if none
    uintptr_t tinyoffset;          // next free byte in it
    Span *alloc[NUM_SPAN_CLASSES]; // cached span per span class (&rt_emptyspan if none)
    _Atomic uint64_t nmalloc;      // objects allocated (tiny blocks counted once)
    _Atomic uint64_t total_alloc;  // bytes allocated (slot or span size)
    _Atomic uint64_t ntiny;        // tiny allocations packed into blocks
    _Atomic uint64_t nfree;        // objects freed by sweeps run on this P
    _Atomic uint64_t total_free;   // bytes freed by sweeps run on this P
    MCache *alllink;               // [lock: rt_mheap.mcache_lock] list of live MCaches
    MCache *allprev;               //
};

static inline void
rt_stat_add(_Atomic uint64_t *v, uint64_t n)
{
    // Single writer: a load and a store, no locked instruction.
    atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

// Slow path: the next free slot of c's span for spc, refilling if the span
// is used up. Returns the object; it came from c->alloc[spc] (as it is now).
void *rt_mcache_next_free(MCache *c, uint8_t spc);
void rt_mcache_init(MCache *c);
// Returns every cached span to its MCentral and folds the statistics.
void rt_mcache_flush(MCache *c);

// Fast path: Go's nextFreeFast. The next free slot in the current 64-slot
// window, or NULL (then rt_mcache_next_free).
static inline void *
rt_span_next_free_fast(Span *s)
{
    uint64_t cache = s->alloc_cache;
    if (rt_likely(cache != 0)) {
        unsigned b = (unsigned)__builtin_ctzll(cache);
        uint32_t result = s->freeindex + b;
        if (rt_likely(result < s->nelems)) {
            uint32_t freeidx = result + 1;
            if (freeidx % 64 == 0 && freeidx != s->nelems)
                return NULL;                    // window exhausted: the slow path reloads it
            s->alloc_cache = (cache >> b) >> 1; // b + 1 may be 64
            s->freeindex = freeidx;
            s->alloc_count++;
            return (void *)(s->startaddr + (uintptr_t)result * s->elemsize);
        }
    }
    return NULL;
}

// ---- MHeap (mheap.c) -------------------------------------------------------------

typedef struct MHeap {
    Lock lock; // guards every field tagged [lock] and all HeapArena page bitmaps
    // Arena table: index = address >> ARENA_SHIFT; entries published with a
    // release store and read with acquire loads without the lock.
    _Atomic(HeapArena *) *arenas; // [const] after init: ARENA_ENTRIES slots, lazily mapped
    HeapArena **allarenas;        // [lock] in address order
    uint32_t narenas;             // [lock]
    uint32_t search;              // [lock] arenas below this index have no free page
    uintptr_t arena_hint;         // [lock] where the next arena is reserved
    uint32_t sweepgen;            // [stw] += 2 per cycle (read atomically by spans' owners)
    bool dirty_tracking;          // [lock] new arenas are registered for dirty-page tracking
    bool dirty_failed;            // [lock] a registration failed: no concurrent marking
    bool inited;                  // [const] after init
    FixAlloc spanalloc;           // [lock] Span structures
    FixAlloc cachealloc;          // [lock] MCache structures
    Lock speciallock;             // guards specialalloc
    FixAlloc specialalloc;        // [lock: speciallock] SpecialFinalizer records
    Lock mcache_lock;             // guards the MCache list
    MCache *allmcache;            // [lock: mcache_lock] live MCaches (for memstats)
    // Largest request that could ever be met (rt_os_mem_max at init): a
    // larger large object is refused at once. [const] after init
    uint64_t max_alloc;
    // Statistics, bytes. heap_idle = heap_sys - heap_inuse; released <= idle.
    uint64_t heap_sys;      // [lock] ready chunks of the arenas (mapped for use)
    uint64_t heap_inuse;    // [lock] pages in in-use spans
    uint64_t heap_released; // [lock] free pages returned to the OS
    uint64_t nspans;        // [lock] in-use spans
    // Counters of MCaches that have been released, and of frees credited
    // outside any MCache.
    _Atomic uint64_t nmalloc, total_alloc, ntiny, nfree, total_free; // [atomic]
    _Atomic uint64_t heap_live;         // [atomic] bytes in cached spans' slots + live objects
    MCentral central[NUM_SPAN_CLASSES]; // [const] the centrals (own locks)
} MHeap;

extern MHeap rt_mheap;

void rt_mheap_init(void);
// Allocates npages contiguous pages and returns an in-use Span for span class
// spc (small: slots and bitmaps set up; class 0: one large object), its
// needzero set if any page was used before. Takes rt_mheap.lock; may map
// memory; throws when out of memory. Runs on any stack, never parks.
Span *rt_mheap_alloc(uintptr_t npages, uint8_t spc);
// Returns s's pages to the page allocator and s to the free list. Takes
// rt_mheap.lock. The caller has taken s off every list.
void rt_mheap_free(Span *s);
// Releases free pages to the OS (highest addresses first) until at most
// bytes_to_keep bytes of free memory stay resident. Returns bytes released.
// Takes rt_mheap.lock; 0 releases everything (debug.FreeOSMemory).
uint64_t rt_mheap_scavenge(uint64_t bytes_to_keep);

typedef struct HeapStats {
    uint64_t heap_sys, heap_inuse, heap_idle, heap_released;
    uint64_t nmalloc, nfree, total_alloc, total_free, ntiny;
    uint64_t nspans;
} HeapStats;
// Page figures from the heap, counters summed over every MCache.
void rt_mheap_read_stats(HeapStats *out);

// Specials (mheap.c): attach/detach per-object records. add returns false if
// one of the same kind is already there; remove returns the record or NULL.
bool rt_span_add_special(Span *s, uintptr_t p, Special *sp);
Special *rt_span_remove_special(Span *s, uintptr_t p, uint8_t kind);

// Registers every arena, and from now on every new one, for dirty-page
// tracking (rt_os_dirty_register). False if any registration failed.
bool rt_mheap_dirty_enable(void);

// ---- Collector hooks (src/gc/pacer.c) ----------------------------------------

// Nonzero while a concurrent mark runs: the number of that cycle, stamped on
// every span allocated meanwhile (Span.fresh_cycle). Written [stw].
extern _Atomic uint32_t rt_gc_fresh_cycle;

// Heap size (rt_mheap.heap_live) at which the next cycle starts.
extern _Atomic uint64_t rt_gc_trigger;
// Nonzero: mallocgc calls rt_gc_malloc_slow after an allocation (the
// trigger was crossed by a refill, GODEBUG=gcstress, or the runtime
// goroutines are still to start). One relaxed load on the fast path.
extern _Atomic uint32_t rt_gc_malloc_hook;
void rt_gc_malloc_slow(void);
// Called where heap_live grows (span refill, large object): sets the hook
// when the trigger is crossed.
static inline void
rt_gc_check_trigger(uint64_t heap_live)
{
    if (rt_unlikely(heap_live >= atomic_load_explicit(&rt_gc_trigger, memory_order_relaxed)))
        atomic_store_explicit(&rt_gc_malloc_hook, 1, memory_order_relaxed);
}
// Flushes every MCache (the global one included) back to the MCentrals.
// With the world stopped (src/gc/mark.c).
void rt_malloc_flush_all(void);

// ---- Lookups for the collector and the API (malloc.c) ------------------------

// The in-use span whose pages contain p, or NULL (not in the heap, or a free
// page). Lock-free; O(1): two loads.
static inline Span *
rt_span_of(uintptr_t p)
{
    if (rt_unlikely(p >= HEAP_ADDR_MAX))
        return NULL;
    HeapArena *ha = atomic_load_explicit(&rt_mheap.arenas[p >> ARENA_SHIFT], memory_order_acquire);
    if (ha == NULL)
        return NULL;
    Span *s = atomic_load_explicit(&ha->spans[(p >> PAGE_SHIFT) % PAGES_PER_ARENA],
                                   memory_order_acquire);
    if (s == NULL || s->state != SPAN_IN_USE || p < s->startaddr ||
        p >= s->startaddr + (s->npages << PAGE_SHIFT))
        return NULL;
    return s;
}

// Maps a pointer anywhere inside a heap object (interior pointers included)
// to the object's first byte and span. Returns false for addresses outside
// every object (free pages, span tail, not the heap). base, span may be NULL.
bool rt_find_object(uintptr_t p, uintptr_t *base, Span **span);

// The address every zero-size allocation returns (Go's zerobase).
extern uintptr_t rt_zerobase;

#endif // GORT_MEM_MALLOC_H
