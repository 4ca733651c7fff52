// echo_load.c: the load client for echo servers (bench/run_net.py). Plain C
// on epoll and POSIX threads, no gort, so that it measures gort's server and
// Go's (bench/go/echo.go) with the same yardstick.
//
//   echo_load [-t THREADS] [-c CONNS] [-s SIZE] [-d SECONDS] [-w SECONDS] HOST:PORT
//   echo_load -idle -c CONNS HOST:PORT
//
// Ping-pong: CONNS connections (default 100), split over THREADS threads
// (default 2, as wrk -t2), each with an epoll set of its own. Every
// connection has one message of SIZE bytes (default 64) in flight: it sends,
// waits until all SIZE bytes came back, checks them, sends again. After a
// warm-up (-w, default 1 s) the threads count round trips for -d seconds
// (default 5) and time each; the program prints
//   msgs_per_sec N / lat_p50_us N / lat_p99_us N / errors N
// one per line. Latencies go into 10 us buckets up to 1 s.
//
// Idle: opens CONNS connections, makes one 1-byte round trip on each (so
// that the server has accepted it and is waiting in a read), prints
// "ready CONNS" and holds them until stdin reaches end of file: the server's
// memory with CONNS idle connections is read meanwhile.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
    MAX_SIZE = 65536,
    BUCKET_NS = 10000, // 10 us
    NBUCKETS = 100000, // up to 1 s; the last bucket takes the rest
};

typedef struct Conn {
    int fd;
    size_t got;      // bytes of the echo received so far
    int64_t sent_at; // when the message went out
    unsigned seq;    // the message's pattern
} Conn;

typedef struct Thread {
    pthread_t tid;
    Conn *conns;
    int nconns;
    uint64_t count; // round trips in the measured window
    uint64_t errors;
    uint32_t *hist; // [NBUCKETS] latencies in the window
} Thread;

static struct sockaddr_storage target; // [const] after main's setup
static socklen_t target_len;           // [const]
static size_t msg_size = 64;           // [const]
static int64_t start_ns, stop_ns;      // [const] the measured window
static atomic_bool stop_all;

static int64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
fill(char *p, size_t n, unsigned seq)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + (seq + i) % 26);
}

static int
connect_one(void)
{
    int fd = socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    for (int tries = 0;; tries++) {
        if (connect(fd, (struct sockaddr *)&target, target_len) == 0)
            break;
        if (errno == EINTR)
            continue;
        if ((errno == EAGAIN || errno == ECONNREFUSED) && tries < 50) {
            usleep(20000); // a full accept queue: try again
            close(fd);
            fd = socket(target.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
                return -1;
            continue;
        }
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static bool
send_msg(Conn *c, char *buf)
{
    c->seq++;
    fill(buf, msg_size, c->seq);
    c->got = 0;
    c->sent_at = now_ns();
    ssize_t w = send(c->fd, buf, msg_size, MSG_NOSIGNAL);
    return w == (ssize_t)msg_size; // one message in flight always fits the socket buffer
}

static void *
run_thread(void *arg)
{
    Thread *t = arg;
    char *buf = malloc(MAX_SIZE), *want = malloc(MAX_SIZE);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event evs[256];
    for (int i = 0; i < t->nconns; i++) {
        Conn *c = &t->conns[i];
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
        if (!send_msg(c, buf))
            t->errors++;
    }
    while (!atomic_load_explicit(&stop_all, memory_order_relaxed)) {
        int n = epoll_wait(ep, evs, 256, 100);
        int64_t now = now_ns();
        if (now >= stop_ns)
            break;
        for (int i = 0; i < n; i++) {
            Conn *c = evs[i].data.ptr;
            ssize_t r = recv(c->fd, buf + c->got, msg_size - c->got, 0);
            if (r <= 0) {
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                t->errors++;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                continue;
            }
            c->got += (size_t)r;
            if (c->got < msg_size)
                continue;
            fill(want, msg_size, c->seq);
            if (memcmp(buf, want, msg_size) != 0)
                t->errors++;
            if (now >= start_ns) {
                int64_t b = (now - c->sent_at) / BUCKET_NS;
                t->hist[b < NBUCKETS ? b : NBUCKETS - 1]++;
                t->count++;
            }
            if (!send_msg(c, buf))
                t->errors++;
        }
    }
    close(ep);
    free(buf);
    free(want);
    return NULL;
}

static double
percentile(const uint64_t *hist, uint64_t total, double q)
{
    uint64_t want = (uint64_t)((double)total * q), seen = 0;
    for (int b = 0; b < NBUCKETS; b++) {
        seen += hist[b];
        if (seen > want)
            return (b + 0.5) * BUCKET_NS / 1000.0;
    }
    return NBUCKETS * (double)BUCKET_NS / 1000.0;
}

static void
usage(void)
{
    fprintf(stderr, "usage: echo_load [-t THREADS] [-c CONNS] [-s SIZE] [-d SECONDS] "
                    "[-w SECONDS] HOST:PORT\n       echo_load -idle -c CONNS HOST:PORT\n");
    exit(2);
}

static void
resolve(const char *hostport)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL || (size_t)(colon - hostport) >= sizeof host)
        usage();
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    char *h = host;
    if (h[0] == '[') { // [::1]
        h++;
        h[strlen(h) - 1] = 0;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    int e = getaddrinfo(*h != 0 ? h : "127.0.0.1", colon + 1, &hints, &res);
    if (e != 0) {
        fprintf(stderr, "echo_load: %s: %s\n", hostport, gai_strerror(e));
        exit(1);
    }
    memcpy(&target, res->ai_addr, res->ai_addrlen);
    target_len = res->ai_addrlen;
    freeaddrinfo(res);
}

static int
idle(int nconns)
{
    int *fds = malloc(sizeof(int) * (size_t)nconns);
    for (int i = 0; i < nconns; i++) {
        fds[i] = connect_one();
        char b = 'x';
        if (fds[i] < 0 || send(fds[i], &b, 1, MSG_NOSIGNAL) != 1 || recv(fds[i], &b, 1, 0) != 1) {
            fprintf(stderr, "echo_load: idle connection %d: %s\n", i, strerror(errno));
            return 1;
        }
    }
    printf("ready %d\n", nconns);
    fflush(stdout);
    char b[64];
    while (read(0, b, sizeof b) > 0) {
    }
    for (int i = 0; i < nconns; i++)
        close(fds[i]);
    free(fds);
    return 0;
}

int
main(int argc, char **argv)
{
    int nthreads = 2, nconns = 100;
    double dur = 5, warm = 1;
    bool idle_mode = false;
    const char *addr = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-idle") == 0)
            idle_mode = true;
        else if (strcmp(a, "-t") == 0 && i + 1 < argc)
            nthreads = atoi(argv[++i]);
        else if (strcmp(a, "-c") == 0 && i + 1 < argc)
            nconns = atoi(argv[++i]);
        else if (strcmp(a, "-s") == 0 && i + 1 < argc)
            msg_size = (size_t)atol(argv[++i]);
        else if (strcmp(a, "-d") == 0 && i + 1 < argc)
            dur = atof(argv[++i]);
        else if (strcmp(a, "-w") == 0 && i + 1 < argc)
            warm = atof(argv[++i]);
        else if (a[0] != '-' && addr == NULL)
            addr = a;
        else
            usage();
    }
    if (addr == NULL || nthreads < 1 || nconns < 1 || msg_size < 1 || msg_size > MAX_SIZE)
        usage();
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    resolve(addr);
    if (idle_mode)
        return idle(nconns);

    if (nthreads > nconns)
        nthreads = nconns;
    Thread *ts = calloc((size_t)nthreads, sizeof(Thread));
    Conn *conns = calloc((size_t)nconns, sizeof(Conn));
    for (int i = 0; i < nconns; i++) {
        conns[i].fd = connect_one();
        if (conns[i].fd < 0) {
            fprintf(stderr, "echo_load: connection %d: %s\n", i, strerror(errno));
            return 1;
        }
    }
    int64_t t0 = now_ns();
    start_ns = t0 + (int64_t)(warm * 1e9);
    stop_ns = start_ns + (int64_t)(dur * 1e9);
    for (int i = 0, next = 0; i < nthreads; i++) {
        Thread *t = &ts[i];
        t->nconns = nconns / nthreads + (i < nconns % nthreads);
        t->conns = &conns[next];
        next += t->nconns;
        t->hist = calloc(NBUCKETS, sizeof(uint32_t));
        pthread_create(&t->tid, NULL, run_thread, t);
    }
    uint64_t *hist = calloc(NBUCKETS, sizeof(uint64_t)), total = 0, errors = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(ts[i].tid, NULL);
        total += ts[i].count;
        errors += ts[i].errors;
        for (int b = 0; b < NBUCKETS; b++)
            hist[b] += ts[i].hist[b];
    }
    printf("msgs_per_sec %.0f\nlat_p50_us %.0f\nlat_p99_us %.0f\nerrors %llu\n",
           (double)total / dur, percentile(hist, total, 0.50), percentile(hist, total, 0.99),
           (unsigned long long)errors);
    return errors != 0;
}
