// mem.c (Linux): memory from the kernel for the heap, stacks and runtime data.
//
// Everything is mapped MAP_NORESERVE: the overcommit heuristic does not
// charge it, and pages cost nothing until touched. Guard pages use
// MADV_GUARD_INSTALL (Linux >= 6.13), which marks page table entries instead
// of splitting the mapping, so a million stacks do not need a million VMAs;
// older kernels get mprotect(PROT_NONE).
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

static size_t pagesize = 4096;
static _Atomic int pagemap_fd = -1;      // [atomic] opened once; -2: unavailable
static _Atomic int guard_madvise_ok = 1; // cleared when the kernel refuses

size_t
rt_os_pagesize(void)
{
    static int init;
    if (!init) {
        long ps = sysconf(_SC_PAGESIZE);
        if (ps > 0)
            pagesize = (size_t)ps;
        init = 1;
    }
    return pagesize;
}

uint64_t
rt_os_mem_max(void)
{
    uint64_t max = UINT64_MAX;
    struct sysinfo si;
    if (sysinfo(&si) == 0 && si.mem_unit != 0)
        max = ((uint64_t)si.totalram + (uint64_t)si.totalswap) * si.mem_unit;
    // Every heap mapping is private and writable: both limits apply to it.
    const int lims[] = {RLIMIT_AS, RLIMIT_DATA};
    for (size_t i = 0; i < sizeof lims / sizeof lims[0]; i++) {
        struct rlimit rl;
        if (getrlimit(lims[i], &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
            (uint64_t)rl.rlim_cur < max)
            max = (uint64_t)rl.rlim_cur;
    }
    return max;
}

void *
rt_os_map(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                   0);
    return p == MAP_FAILED ? NULL : p;
}

void *
rt_os_reserve(void *hint, size_t n)
{
    void *p = mmap(hint, n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int
rt_os_commit(void *p, size_t n)
{
    void *q = mmap(p, n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
    return q == MAP_FAILED ? -errno : 0;
}

void
rt_os_unmap(void *p, size_t n)
{
    munmap(p, n);
}

int
rt_os_release(void *p, size_t n)
{
    // Fails on locked memory (mlockall) and bad ranges: then the pages keep
    // their contents, and the caller must not count them as zero.
    return madvise(p, n, MADV_DONTNEED) == 0 ? 0 : -errno;
}

int
rt_os_guard(void *p, size_t n)
{
    if (atomic_load_explicit(&guard_madvise_ok, memory_order_relaxed)) {
        if (madvise(p, n, MADV_GUARD_INSTALL) == 0)
            return 0;
        if (errno == EINVAL || errno == ENOSYS || errno == EPERM)
            atomic_store_explicit(&guard_madvise_ok, 0, memory_order_relaxed);
    }
    return mprotect(p, n, PROT_NONE) == 0 ? 0 : -errno;
}

// /proc/self/pagemap: one 64-bit entry per page; bit 63 present, bit 62
// swapped (or a non-present entry of another kind: migration, uffd-wp
// marker). Entries are read PM_BATCH at a time from a buffer on the stack.
enum { PM_BATCH = 256 };
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP    (1ULL << 62)

static int
pagemap_open(void)
{
    int fd = atomic_load_explicit(&pagemap_fd, memory_order_acquire);
    if (fd != -1)
        return fd;
    int nfd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (nfd < 0)
        nfd = -2;
    int expect = -1;
    if (!atomic_compare_exchange_strong(&pagemap_fd, &expect, nfd)) {
        if (nfd >= 0)
            close(nfd); // another thread opened it first
        return expect;
    }
    return nfd;
}

// One page of a walk that reports runs of pages with data: run is the start
// of the current run (0: none); returns the new one, reporting a run it ends.
static inline uintptr_t
run_page(uintptr_t run, uintptr_t p, bool data, void (*fn)(uintptr_t lo, uintptr_t hi, void *arg),
         void *arg)
{
    if (data && run == 0)
        return p;
    if (!data && run != 0) {
        fn(run, p, arg);
        return 0;
    }
    return run;
}

void
rt_os_resident_scan(uintptr_t lo, uintptr_t hi, void (*fn)(uintptr_t lo, uintptr_t hi, void *arg),
                    void *arg)
{
    size_t ps = rt_os_pagesize();
    int fd = pagemap_open();
    if (fd < 0) {
        fn(lo, hi, arg);
        return;
    }
    uint64_t ent[PM_BATCH];
    uintptr_t run = 0; // start of the current run of pages with data, or 0
    for (uintptr_t p = lo; p < hi;) {
        size_t n = (hi - p) / ps < PM_BATCH ? (hi - p) / ps : PM_BATCH;
        ssize_t r = pread(fd, ent, n * sizeof ent[0], (off_t)(p / ps * sizeof ent[0]));
        if (r <= 0 || (size_t)r % sizeof ent[0] != 0) {
            fn(run != 0 ? run : p, hi, arg); // cannot tell: all of the rest
            return;
        }
        n = (size_t)r / sizeof ent[0];
        for (size_t i = 0; i < n; i++, p += ps)
            run = run_page(run, p, (ent[i] & (PM_PRESENT | PM_SWAP)) != 0, fn, arg);
    }
    if (run != 0)
        fn(run, hi, arg);
}

// mincore(2) on a private anonymous mapping reports 1 for a page in memory
// (or being migrated: its data is kept) and 0 for one never touched, one
// released, one swapped out and not in the swap cache, and a uffd-wp marker
// (the entry arming an untouched page for dirty tracking: the kernel counts
// it as none). So without swap, 0 means the page reads zero, armed or not.
enum { CORE_BATCH = 4096 }; // pages per mincore call (a 4 KiB vector on the stack)

void
rt_os_core_scan(uintptr_t lo, uintptr_t hi, void (*fn)(uintptr_t lo, uintptr_t hi, void *arg),
                void *arg)
{
    size_t ps = rt_os_pagesize();
    unsigned char vec[CORE_BATCH];
    uintptr_t run = 0; // start of the current run of pages in memory, or 0
    for (uintptr_t p = lo; p < hi;) {
        size_t n = (hi - p) / ps < CORE_BATCH ? (hi - p) / ps : CORE_BATCH;
        if (mincore((void *)p, n * ps, vec) != 0) {
            fn(run != 0 ? run : p, hi, arg); // cannot tell: all of the rest
            return;
        }
        for (size_t i = 0; i < n; i++, p += ps)
            run = run_page(run, p, (vec[i] & 1) != 0, fn, arg);
    }
    if (run != 0)
        fn(run, hi, arg);
}

// The system's count of pages swapped out since boot (pswpout in
// /proc/vmstat), or UINT64_MAX where it cannot be read. Read in small pieces
// from a buffer on the stack; the field is matched at a line's start.
uint64_t
rt_os_swapouts(void)
{
    static const char key[] = "pswpout ";
    int fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return UINT64_MAX;
    char buf[512];
    size_t match = 0; // bytes of key matched at the current line's start
    bool bol = true, num = false;
    uint64_t v = 0;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        for (ssize_t i = 0; i < r; i++) {
            char c = buf[i];
            if (num) {
                if (c >= '0' && c <= '9') {
                    v = v * 10 + (uint64_t)(c - '0');
                    continue;
                }
                close(fd);
                return v;
            }
            if (bol || match > 0) {
                if (c == key[match]) {
                    bol = false;
                    if (++match == sizeof key - 1)
                        num = true;
                    continue;
                }
                match = 0;
            }
            bol = c == '\n';
        }
    }
    close(fd);
    return num ? v : UINT64_MAX;
}

bool
rt_os_swap_configured(void)
{
    struct sysinfo si;
    return sysinfo(&si) != 0 || si.totalswap != 0;
}
