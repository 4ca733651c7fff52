// maxprocs.c: the default GOMAXPROCS follows what the process may use
// (src/os/linux/cpulimit.c, sysmon.c's updater). Run without GOMAXPROCS in
// the environment. Asserts:
//   - under `taskset -c 0` (ctest runs api.maxprocs.taskset so, with
//     MAXPROCS_EXPECT=1) GOMAXPROCS is 1 from the start;
//   - cpu.max parsing: a quota of 1.5 CPUs in a parent and 0.5 in the
//     child gives 1 (the lowest level, rounded up, at least 1), "max" none;
//   - narrowing every thread's affinity to one CPU makes sysmon set
//     GOMAXPROCS to 1, and widening it again restores it (bound: a minute);
//   - a cgroup v2 child with cpu.max "100000 100000" makes it 1, where the
//     test may create one (root, writable cgroup2, cpu controller); it
//     prints why it skips otherwise, and removes what it made.
#define _GNU_SOURCE
#include "../harness.h"
#include "export_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gort.h>
#include <sched.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

// Waits up to a minute for GOMAXPROCS to become n; true if it did.
static bool
wait_procs(int n)
{
    for (double end = now_s() + 60; now_s() < end;) {
        if (gort_gomaxprocs(0) == n)
            return true;
        gort_sleep(100 * 1000 * 1000);
    }
    fprintf(stderr, "    GOMAXPROCS is %d, want %d\n", gort_gomaxprocs(0), n);
    return false;
}

static void
write_file(const char *path, const char *s)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        perror(path);
        return;
    }
    fputs(s, f);
    fclose(f);
}

static void
test_start(void)
{
    const char *e = getenv("MAXPROCS_EXPECT");
    if (e == NULL) {
        fprintf(stderr, "    GOMAXPROCS=%d (no MAXPROCS_EXPECT)\n", gort_gomaxprocs(0));
        return;
    }
    CHECK_EQ(gort_gomaxprocs(0), atoi(e));
}

static void
test_parse(void)
{
    char root[] = "/tmp/gort-cg-XXXXXX";
    CHECK(mkdtemp(root) != NULL);
    char parent[256], child[256], f[300];
    snprintf(parent, sizeof parent, "%s/p", root);
    snprintf(child, sizeof child, "%s/p/c", root);
    CHECK(mkdir(parent, 0700) == 0);
    CHECK(mkdir(child, 0700) == 0);
    CHECK_EQ(rt_os_cgroup_cpu_max(child, root), 0); // no cpu.max anywhere
    snprintf(f, sizeof f, "%s/cpu.max", parent);
    write_file(f, "150000 100000\n");
    CHECK_EQ(rt_os_cgroup_cpu_max(child, root), 2); // 1.5 rounded up
    snprintf(f, sizeof f, "%s/cpu.max", child);
    write_file(f, "max 100000\n");
    CHECK_EQ(rt_os_cgroup_cpu_max(child, root), 2); // the parent's still counts
    write_file(f, "50000 100000\n");
    CHECK_EQ(rt_os_cgroup_cpu_max(child, root), 1); // 0.5: at least 1
    write_file(f, "400000 100000\n");
    CHECK_EQ(rt_os_cgroup_cpu_max(child, root), 2);  // the lowest level wins
    CHECK_EQ(rt_os_cgroup_cpu_max(child, child), 4); // not above stop
    snprintf(f, sizeof f, "%s/cpu.max", root);
    write_file(f, "100000 100000\n");
    CHECK_EQ(rt_os_cgroup_cpu_max(child, root), 1); // stop itself is read
    unlink(f);
    snprintf(f, sizeof f, "%s/cpu.max", child);
    unlink(f);
    snprintf(f, sizeof f, "%s/cpu.max", parent);
    unlink(f);
    rmdir(child);
    rmdir(parent);
    rmdir(root);
}

// Sets the affinity of every thread of the process.
static void
set_all_affinity(const cpu_set_t *set)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int tid = atoi(e->d_name);
        if (tid > 0)
            sched_setaffinity(tid, sizeof *set, set);
    }
    closedir(d);
}

static void
test_follow_affinity(void)
{
    cpu_set_t orig, one;
    CHECK(sched_getaffinity(0, sizeof orig, &orig) == 0);
    int before = gort_gomaxprocs(0);
    if (CPU_COUNT(&orig) < 2 || before < 2) {
        fprintf(stderr, "    skipped: %d CPUs allowed, GOMAXPROCS=%d\n", CPU_COUNT(&orig), before);
        return;
    }
    int first = 0;
    while (!CPU_ISSET(first, &orig))
        first++;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    set_all_affinity(&one);
    CHECK(wait_procs(1));
    set_all_affinity(&orig);
    CHECK(wait_procs(before));
}

// The cgroup2 mount point and the process's cgroup in it.
static bool
cgroup_self(char *dir, size_t n, char *why, size_t whyn)
{
    char line[1024], mnt[512] = "";
    FILE *f = fopen("/proc/self/mountinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        char *sep = strstr(line, " - cgroup2 ");
        if (sep == NULL)
            continue;
        char root[512], mp[512];
        if (sscanf(line, "%*s %*s %*s %511s %511s", root, mp) == 2 && strcmp(root, "/") == 0)
            snprintf(mnt, sizeof mnt, "%s", mp);
        break;
    }
    if (f)
        fclose(f);
    if (!mnt[0]) {
        snprintf(why, whyn, "no cgroup2 mount (with its root at /)");
        return false;
    }
    char cg[1100] = "";
    f = fopen("/proc/self/cgroup", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "0::", 3) == 0) {
            line[strcspn(line, "\n")] = 0;
            snprintf(cg, sizeof cg, "%s", line + 3);
        }
    }
    if (f)
        fclose(f);
    if (!cg[0]) {
        snprintf(why, whyn, "no cgroup v2 line in /proc/self/cgroup");
        return false;
    }
    snprintf(dir, n, "%s%s", mnt, strcmp(cg, "/") == 0 ? "" : cg);
    return true;
}

static void
test_cgroup(void)
{
    char dir[1700], why[256], path[1800], child[1760], buf[256] = "";
    int before = gort_gomaxprocs(0);
    if (before < 2) {
        fprintf(stderr, "    skipped: GOMAXPROCS is already %d\n", before);
        return;
    }
    if (!cgroup_self(dir, sizeof dir, why, sizeof why)) {
        fprintf(stderr, "    skipped: %s\n", why);
        return;
    }
    snprintf(path, sizeof path, "%s/cgroup.controllers", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = 0;
        fclose(f);
    }
    bool has = false; // "cpu" as a word of its own
    char list[256];
    snprintf(list, sizeof list, "%s", buf);
    char *save = NULL;
    for (char *t = strtok_r(list, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
        has = has || strcmp(t, "cpu") == 0;
    if (!has) {
        buf[strcspn(buf, "\n")] = 0;
        fprintf(stderr, "    skipped: the cgroup v2 %s has no cpu controller (controllers: %s)\n",
                dir, buf[0] ? buf : "none");
        return;
    }
    snprintf(path, sizeof path, "%s/cgroup.subtree_control", dir);
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, "+cpu", 4) != 4) {
        fprintf(stderr, "    skipped: cannot enable cpu in %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    close(fd);
    snprintf(child, sizeof child, "%s/gort-maxprocs-%d", dir, (int)getpid());
    if (mkdir(child, 0755) != 0) {
        fprintf(stderr, "    skipped: mkdir %s: %s\n", child, strerror(errno));
        return;
    }
    snprintf(path, sizeof path, "%s/cpu.max", child);
    write_file(path, "100000 100000");
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(path, sizeof path, "%s/cgroup.procs", child);
    fd = open(path, O_WRONLY);
    bool moved = fd >= 0 && write(fd, pid, strlen(pid)) == (ssize_t)strlen(pid);
    if (fd >= 0)
        close(fd);
    if (!moved) {
        fprintf(stderr, "    skipped: cannot move into %s: %s\n", child, strerror(errno));
    } else {
        CHECK(wait_procs(1));
        snprintf(path, sizeof path, "%s/cgroup.procs", dir);
        write_file(path, pid);
        CHECK(wait_procs(before));
    }
    CHECK(rmdir(child) == 0);
}

int
main(void)
{
    RUN(test_start);
    RUN(test_parse);
    RUN(test_follow_affinity);
    RUN(test_cgroup);
    return harness_summary();
}
