// dirty.c: which heap pages were written since a point in time.
//
// The concurrent collector (src/gc/mark.c) marks while goroutines run and
// must then revisit every page they wrote meanwhile. Linux >= 6.7 tracks
// this for us without a signal per write:
//
//   userfaultfd(UFFD_USER_MODE_ONLY) with UFFD_FEATURE_WP_ASYNC: a range
//     registered in write-protect mode can be armed (UFFDIO_WRITEPROTECT);
//     the first write to an armed page then faults, and the kernel itself
//     clears the protection and lets the write through (about 0.7 us a page
//     here). UFFD_FEATURE_WP_UNPOPULATED arms pages never touched as well.
//   ioctl(PAGEMAP_SCAN) on /proc/self/pagemap lists the pages whose
//     protection is gone (PAGE_IS_WRITTEN) and, with PM_SCAN_WP_MATCHING,
//     arms them again in the same walk (about 35 ns per written page).
//
// Writes by the kernel on the program's behalf (read(2) into a heap buffer)
// take the same fault and are recorded too. Pages that were never armed
// read as written, so callers scan only ranges they armed. Debian 12's
// headers predate these interfaces: the constants are the kernel's UAPI
// values, and every call may fail on an older kernel (EINVAL, ENOSYS,
// ENOTTY), which leaves the collector stopping the world instead.
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define FEATURE_WP_UNPOPULATED (1ULL << 13)
#define FEATURE_WP_ASYNC       (1ULL << 15)

struct page_region {
    uint64_t start, end, categories;
};
struct pm_scan_arg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
    uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN          _IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_WRITTEN       (1ULL << 1)
#define PM_SCAN_WP_MATCHING   (1ULL << 0)
#define PM_SCAN_CHECK_WPASYNC (1ULL << 1)

enum { SCAN_VEC = 256 }; // regions per PAGEMAP_SCAN call

static int uffd = -1;    // [const] after rt_os_dirty_init
static int pagemap = -1; // [const] after rt_os_dirty_init

int
rt_os_dirty_init(void)
{
    if (uffd >= 0)
        return 0;
    int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0)
        return -errno;
    struct uffdio_api api = {.api = UFFD_API,
                             .features = FEATURE_WP_ASYNC | FEATURE_WP_UNPOPULATED};
    if (ioctl(fd, UFFDIO_API, &api) != 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
    if (pm < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    // Probe PAGEMAP_SCAN (an empty range is enough to tell ENOTTY apart).
    struct page_region vec[1];
    struct pm_scan_arg arg = {.size = sizeof arg,
                              .flags = PM_SCAN_CHECK_WPASYNC,
                              .start = 0,
                              .end = 0,
                              .vec = (uint64_t)(uintptr_t)vec,
                              .vec_len = 1,
                              .category_mask = PAGE_IS_WRITTEN,
                              .return_mask = PAGE_IS_WRITTEN};
    if (ioctl(pm, PAGEMAP_SCAN, &arg) < 0) {
        int e = errno;
        close(pm);
        close(fd);
        return -e;
    }
    uffd = fd;
    pagemap = pm;
    return 0;
}

int
rt_os_dirty_register(uintptr_t lo, size_t n)
{
    struct uffdio_register r = {.range = {.start = lo, .len = n}, .mode = UFFDIO_REGISTER_MODE_WP};
    return ioctl(uffd, UFFDIO_REGISTER, &r) == 0 ? 0 : -errno;
}

int
rt_os_dirty_protect(uintptr_t lo, size_t n, int arm)
{
    struct uffdio_writeprotect wp = {.range = {.start = lo, .len = n},
                                     .mode = arm ? UFFDIO_WRITEPROTECT_MODE_WP : 0};
    return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) == 0 ? 0 : -errno;
}

long
rt_os_dirty_scan(uintptr_t lo, uintptr_t hi, int rearm,
                 void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
    struct page_region vec[SCAN_VEC];
    long pages = 0;
    while (lo < hi) {
        struct pm_scan_arg a = {.size = sizeof a,
                                .flags = PM_SCAN_CHECK_WPASYNC | (rearm ? PM_SCAN_WP_MATCHING : 0),
                                .start = lo,
                                .end = hi,
                                .vec = (uint64_t)(uintptr_t)vec,
                                .vec_len = SCAN_VEC,
                                .category_mask = PAGE_IS_WRITTEN,
                                .return_mask = PAGE_IS_WRITTEN};
        long n = ioctl(pagemap, PAGEMAP_SCAN, &a);
        if (n < 0)
            return -errno;
        for (long i = 0; i < n; i++) {
            pages += (long)((vec[i].end - vec[i].start) / rt_os_pagesize());
            fn((uintptr_t)vec[i].start, (uintptr_t)vec[i].end, arg);
        }
        if (a.walk_end <= lo)
            return -EIO; // no progress: never loop forever
        lo = (uintptr_t)a.walk_end;
    }
    return pages;
}
