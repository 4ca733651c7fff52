// cpulimit.c (Linux): how many CPUs the process may really use, for the
// default GOMAXPROCS (as Go 1.25 computes it).
//
// Two limits: the CPU affinity mask (sched_getaffinity: taskset, cpusets)
// and the cgroup v2 CPU bandwidth quota. The quota is read from cpu.max
// ("QUOTA PERIOD" or "max PERIOD") of the process's cgroup and of each of
// its parents up to the cgroup2 mount; each level allows
// ceil(QUOTA / PERIOD) CPUs, at least 1, and the lowest level wins. The
// cgroup is the "0::PATH" line of /proc/self/cgroup, the mount the
// cgroup2 line of /proc/self/mountinfo (PATH is relative to its root).
// Files are read with plain syscalls into stack buffers: no allocation, so
// sysmon may call this once a second.
#include "rt.h"

#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CG_PATH_MAX = 1024, CG_BUF = 8192 };

// Reads up to n-1 bytes of path into buf, NUL-terminated; length or -1.
static long
read_file(const char *path, char *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got + 1 < n) {
        long r = read(fd, buf + got, n - 1 - got);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    buf[got] = '\0';
    return (long)got;
}

int
rt_os_cgroup_cpu_max(const char *dir, const char *stop)
{
    char path[CG_PATH_MAX + 16], buf[128];
    size_t len = strlen(dir), stoplen = strlen(stop);
    if (len >= CG_PATH_MAX)
        return 0;
    int best = 0;
    char d[CG_PATH_MAX];
    memcpy(d, dir, len + 1);
    for (;;) {
        memcpy(path, d, len);
        memcpy(path + len, "/cpu.max", sizeof "/cpu.max");
        if (read_file(path, buf, sizeof buf) > 0 && strncmp(buf, "max", 3) != 0) {
            char *end;
            long long quota = strtoll(buf, &end, 10), period = strtoll(end, NULL, 10);
            if (quota > 0 && period > 0) {
                long long n = (quota + period - 1) / period;
                int cpus = n < 1 ? 1 : n > 1 << 20 ? 1 << 20 : (int)n;
                if (best == 0 || cpus < best)
                    best = cpus;
            }
        }
        // Up one level, not above the mount.
        if (len <= stoplen)
            break;
        while (len > stoplen && d[len - 1] != '/')
            len--;
        if (len > 0 && d[len - 1] == '/')
            len--;
        if (len < stoplen)
            break;
        d[len] = '\0';
    }
    return best;
}

// The cgroup2 mount of the process's cgroup: its directory in *dir and
// the mount point in *stop. False if none.
static bool
cgroup_dir(char *dir, size_t dirn, char *stop, size_t stopn)
{
    char buf[CG_BUF];
    if (read_file("/proc/self/cgroup", buf, sizeof buf) <= 0)
        return false;
    const char *cg = NULL;
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, "0::", 3) == 0) {
            cg = l + 3;
            break;
        }
    }
    if (cg == NULL)
        return false;
    size_t cglen = strcspn(cg, "\n");
    char cgpath[CG_PATH_MAX];
    if (cglen >= sizeof cgpath)
        return false;
    memcpy(cgpath, cg, cglen);
    cgpath[cglen] = '\0';

    if (read_file("/proc/self/mountinfo", buf, sizeof buf) <= 0)
        return false;
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        size_t ll = strcspn(l, "\n");
        const char *sep = strstr(l, " - cgroup2 ");
        if (sep == NULL || (size_t)(sep - l) > ll)
            continue;
        // id parent maj:min root mountpoint ...
        const char *f = l;
        for (int i = 0; i < 3 && f; i++)
            f = strchr(f, ' ') ? strchr(f, ' ') + 1 : NULL;
        if (f == NULL)
            return false;
        size_t rootlen = strcspn(f, " ");
        const char *mp = f + rootlen + 1;
        size_t mplen = strcspn(mp, " ");
        // PATH relative to the mount's root ("/" usually).
        const char *rel = cgpath;
        if (!(rootlen == 1 && f[0] == '/')) {
            if (strncmp(cgpath, f, rootlen) != 0)
                return false;
            rel = cgpath + rootlen;
        }
        if (strcmp(rel, "/") == 0)
            rel = "";
        if (mplen + strlen(rel) + 1 > dirn || mplen + 1 > stopn)
            return false;
        memcpy(stop, mp, mplen);
        stop[mplen] = '\0';
        memcpy(dir, mp, mplen);
        strcpy(dir + mplen, rel);
        return true;
    }
    return false;
}

int
rt_os_cpu_limit(int *source)
{
    int n = 0;
    *source = RT_CPU_MACHINE;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
        n = CPU_COUNT(&set);
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        if (online > 0 && n < online)
            *source = RT_CPU_AFFINITY;
    } else {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        n = online > 0 ? (int)online : 1;
    }
    char dir[CG_PATH_MAX], stop[CG_PATH_MAX];
    if (cgroup_dir(dir, sizeof dir, stop, sizeof stop)) {
        int q = rt_os_cgroup_cpu_max(dir, stop);
        if (q > 0 && q < n) {
            n = q;
            *source = RT_CPU_CGROUP;
        }
    }
    return n;
}
