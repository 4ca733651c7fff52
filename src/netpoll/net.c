// net.c: gort_listen, gort_accept, gort_dial and socket addresses (Go's net
// package, its Unix socket layer).
//
// Networks "tcp", "tcp4", "tcp6" and "unix". A TCP address is host:port,
// with the host a numeric IPv4 address, a bracketed IPv6 one ("[::1]:80"), a
// name (resolved through gort_getaddrinfo, which holds no P while it works),
// or empty: every interface for a listener ("tcp" listens dual-stack on [::]
// when the kernel has IPv6), the local system for a dial. A "unix" address is
// a path; a leading '@' names an abstract socket.
//
// Sockets are created SOCK_NONBLOCK|SOCK_CLOEXEC and wrapped in a gort_fd
// (fd.c). Listeners get SO_REUSEADDR (TCP) and Go's backlog (somaxconn).
// accept uses accept4(SOCK_NONBLOCK|SOCK_CLOEXEC), parks on EAGAIN, retries
// ECONNABORTED and EINTR, and returns every other error (EMFILE) to the
// caller. dial is Go's: a non-blocking connect, on EINPROGRESS a wait for
// writability bounded by the dial deadline (the write deadline while it
// waits), then SO_ERROR; each resolved address in turn, the last error
// reported, each given its share of the time left (at least 2 s, Go's
// partialDeadline). TCP connections get TCP_NODELAY, as Go's do.
//
// Happy eyeballs (RFC 6555, Go's dialParallel): when "tcp" resolves a name
// to both families, the addresses of the first one's family are the
// primaries, the others the fallbacks. A goroutine dials the primaries in
// turn; if it has not connected after 300 ms, or failed before, a second
// one dials the fallbacks beside it. The first to connect takes the race
// and cancels the other's connect in progress (its write deadline moved
// into the past); a loser that connects anyway closes its socket. When both
// fail, the primaries' error is reported.
#include "netpoll/fd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum {
    NET_TCP = 1,
    NET_TCP4 = 2,
    NET_TCP6 = 3,
    NET_UNIX = 4,
    MAX_ADDRS = 8,
};

typedef struct Addr {
    struct sockaddr_storage sa;
    socklen_t len;
} Addr;

static int
parse_network(const char *network)
{
    if (network == NULL)
        return 0;
    if (strcmp(network, "tcp") == 0)
        return NET_TCP;
    if (strcmp(network, "tcp4") == 0)
        return NET_TCP4;
    if (strcmp(network, "tcp6") == 0)
        return NET_TCP6;
    if (strcmp(network, "unix") == 0)
        return NET_UNIX;
    return 0;
}

static int
unix_addr(const char *path, Addr *a)
{
    struct sockaddr_un *un = (struct sockaddr_un *)&a->sa;
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof un->sun_path)
        return EINVAL;
    memset(un, 0, sizeof *un);
    un->sun_family = AF_UNIX;
    memcpy(un->sun_path, path, n);
    if (path[0] == '@')
        un->sun_path[0] = 0; // abstract namespace, as Go
    a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '@' ? 0 : 1));
    return 0;
}

static bool
ip_addr(int fam, const char *host, int port, Addr *a)
{
    memset(&a->sa, 0, sizeof a->sa);
    if (fam == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&a->sa;
        if (host && inet_pton(AF_INET, host, &in->sin_addr) != 1)
            return false;
        in->sin_family = AF_INET;
        in->sin_port = htons((uint16_t)port);
        a->len = sizeof *in;
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->sa;
        if (host && inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
            return false;
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        a->len = sizeof *in6;
    }
    return true;
}

// Resolves a TCP address into up to MAX_ADDRS socket addresses. 0 or an
// errno value (EINVAL for a bad address, EADDRNOTAVAIL for an unknown host).
static int
tcp_addrs(int net, const char *address, bool listen, Addr *out, int *nout)
{
    *nout = 0;
    const char *colon = strrchr(address, ':');
    if (colon == NULL)
        return EINVAL;
    char host[256];
    size_t hl = (size_t)(colon - address);
    if (hl >= sizeof host)
        return EINVAL;
    memcpy(host, address, hl);
    host[hl] = 0;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
    } else if (strchr(host, ':')) {
        return EINVAL; // an IPv6 literal needs brackets
    }
    const char *ps = colon + 1;
    char *end;
    long port = strtol(ps, &end, 10);
    if (*ps == 0 || *end != 0 || port < 0 || port > 65535) {
        // A service name ("http"): ask the resolver.
        struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
        if (*ps == 0 || gort_getaddrinfo(NULL, ps, &hints, &res) != 0 || res == NULL)
            return EINVAL;
        port = ntohs(((struct sockaddr_in *)res->ai_addr)->sin_port);
        freeaddrinfo(res);
    }
    int fam4 = net != NET_TCP6, fam6 = net != NET_TCP4;
    if (host[0] == 0) {
        if (listen) {
            // All interfaces: "tcp" dual-stack on [::] (fallback in listen).
            ip_addr(fam6 ? AF_INET6 : AF_INET, NULL, (int)port, &out[0]);
        } else {
            ip_addr(fam4 ? AF_INET : AF_INET6, fam4 ? "127.0.0.1" : "::1", (int)port, &out[0]);
        }
        *nout = 1;
        return 0;
    }
    if (fam4 && ip_addr(AF_INET, host, (int)port, &out[0])) {
        *nout = 1;
        return 0;
    }
    if (fam6 && ip_addr(AF_INET6, host, (int)port, &out[0])) {
        *nout = 1;
        return 0;
    }
    struct in6_addr probe;
    if (inet_pton(AF_INET, host, &probe) == 1 || inet_pton(AF_INET6, host, &probe) == 1)
        return EADDRNOTAVAIL; // a literal of the other family
    struct addrinfo hints = {.ai_family = net == NET_TCP4   ? AF_INET
                                          : net == NET_TCP6 ? AF_INET6
                                                            : AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM},
                    *res = NULL;
    int r = gort_getaddrinfo(host, NULL, &hints, &res);
    if (r != 0)
        return r == EAI_SYSTEM ? gort_errno() : EADDRNOTAVAIL;
    for (struct addrinfo *ai = res; ai && *nout < MAX_ADDRS; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof(struct sockaddr_storage))
            continue;
        Addr *a = &out[(*nout)++];
        memcpy(&a->sa, ai->ai_addr, ai->ai_addrlen);
        a->len = ai->ai_addrlen;
        if (ai->ai_family == AF_INET)
            ((struct sockaddr_in *)&a->sa)->sin_port = htons((uint16_t)port);
        else
            ((struct sockaddr_in6 *)&a->sa)->sin6_port = htons((uint16_t)port);
    }
    freeaddrinfo(res);
    return *nout > 0 ? 0 : EADDRNOTAVAIL;
}

static int
somaxconn(void)
{
    static _Atomic int cached;
    int n = atomic_load_explicit(&cached, memory_order_relaxed);
    if (n > 0)
        return n;
    n = SOMAXCONN;
    int fd = open("/proc/sys/net/core/somaxconn", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        char b[32];
        ssize_t k = read(fd, b, sizeof b - 1);
        close(fd);
        if (k > 0) {
            b[k] = 0;
            long v = strtol(b, NULL, 10);
            if (v > 0)
                n = v > 65535 ? 65535 : (int)v; // the kernel keeps 16 bits
        }
    }
    atomic_store_explicit(&cached, n, memory_order_relaxed);
    return n;
}

static int
new_socket(int fam)
{
    return socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static void
set_nodelay(int s)
{
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static char *
heap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = rt_mallocgc(n, RT_NOSCAN);
    memcpy(p, s, n);
    return p;
}

// ---- listen and accept ------------------------------------------------------------

static int
listen_on(Addr *a, bool dualstack, bool reuse)
{
    int fam = a->sa.ss_family;
    int s = new_socket(fam);
    if (s < 0)
        return -1;
    int one = 1, zero = 0;
    if (reuse)
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fam == AF_INET6)
        setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, dualstack ? &zero : &one, sizeof one);
    if (bind(s, (struct sockaddr *)&a->sa, a->len) < 0 || listen(s, somaxconn()) < 0) {
        int e = gort_errno();
        close(s);
        rt_errno_set(e);
        return -1;
    }
    return s;
}

// Parses network and address into *net and a[0..*n) (listen: the address
// to listen on rather than to dial). 0, or an errno value.
static int
resolve(const char *network, const char *address, bool listen, int *net, Addr *a, int *n)
{
    *net = parse_network(network);
    *n = 1;
    if (*net == 0 || address == NULL)
        return EINVAL;
    if (*net == NET_UNIX)
        return unix_addr(address, &a[0]);
    return tcp_addrs(*net, address, listen, a, n);
}

gort_fd *
gort_listen(const char *network, const char *address)
{
    Addr a[MAX_ADDRS];
    int net, n, s;
    int e = resolve(network, address, true, &net, a, &n);
    if (e) {
        rt_errno_set(e);
        return NULL;
    }
    if (net == NET_UNIX) {
        s = listen_on(&a[0], false, false);
    } else {
        bool wildcard6 = net == NET_TCP && a[0].sa.ss_family == AF_INET6 &&
                         IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&a[0].sa)->sin6_addr);
        s = listen_on(&a[0], wildcard6, true);
        if (s < 0 && wildcard6 && (gort_errno() == EAFNOSUPPORT || gort_errno() == EADDRNOTAVAIL)) {
            // No IPv6 here: every IPv4 interface instead.
            ip_addr(AF_INET, NULL, ntohs(((struct sockaddr_in6 *)&a[0].sa)->sin6_port), &a[0]);
            s = listen_on(&a[0], false, true);
        }
    }
    if (s < 0)
        return NULL;
    gort_fd *f = rt_fd_new(s, true);
    if (f == NULL) {
        e = gort_errno();
        close(s);
        rt_errno_set(e);
        return NULL;
    }
    if (net == NET_UNIX && address[0] != '@')
        f->unlink_path = heap_strdup(address);
    return f;
}

gort_fd *
gort_accept(gort_fd *l)
{
    if (!rt_fd_acquire(l, true))
        return NULL;
    int c = -1, e = l->pd ? rt_netpoll_reset(l->pd, PD_READ) : ENOTSOCK;
    while (e == 0) {
        c = accept4(l->sysfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c >= 0)
            break;
        e = gort_errno();
        if (e == EINTR || e == ECONNABORTED) {
            e = 0; // the peer gave up before we took it: the next one
            continue;
        }
        if (e != EAGAIN)
            break;
        e = rt_netpoll_wait(l->pd, PD_READ);
    }
    rt_fd_release(l, true);
    if (c < 0) {
        rt_errno_set(e);
        return NULL;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(c, (struct sockaddr *)&ss, &sl) == 0 &&
        (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
        set_nodelay(c);
    gort_fd *f = rt_fd_new(c, true);
    if (f == NULL) {
        e = gort_errno();
        close(c);
        rt_errno_set(e);
    }
    return f;
}

// ---- dial -------------------------------------------------------------------------

// Connects f to a; 0 or an errno value. The caller has set f's write
// deadline to deadline (the wait is bounded by it); it is cleared on success.
static int
connect_fd(gort_fd *f, Addr *a, int64_t deadline)
{
    int r;
    while ((r = connect(f->sysfd, (struct sockaddr *)&a->sa, a->len)) < 0 &&
           gort_errno() == EINTR) {
    }
    if (r == 0)
        return 0;
    int e = gort_errno();
    if (e != EINPROGRESS && e != EALREADY)
        return e;
    if (f->pd == NULL)
        return e;
    if (!rt_fd_acquire(f, false))
        return gort_errno();
    for (;;) {
        e = rt_netpoll_wait(f->pd, PD_WRITE);
        if (e)
            break;
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(f->sysfd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
            e = gort_errno();
            break;
        }
        if (soerr == EINPROGRESS || soerr == EALREADY || soerr == EINTR)
            continue;
        if (soerr == EISCONN) {
            e = 0;
            break;
        }
        if (soerr != 0) {
            e = soerr;
            break;
        }
        struct sockaddr_storage ss;
        sl = sizeof ss;
        if (getpeername(f->sysfd, (struct sockaddr *)&ss, &sl) == 0) {
            e = 0;
            break;
        }
        // Not connected yet: a spurious wake-up.
    }
    rt_fd_release(f, false);
    if (deadline != 0 && e == 0)
        rt_netpoll_set_deadline(f->pd, 0, PD_WRITE);
    return e;
}

enum {
    FALLBACK_DELAY_NS = 300 * 1000 * 1000, // Go's Dialer.FallbackDelay default
    PARTIAL_MIN_NS = 2000LL * 1000 * 1000, // Go's saneMinimum
};

// The deadline for one of left addresses: an equal share of the time to
// deadline, but at least PARTIAL_MIN_NS (or all of it, if less is left).
static int64_t
partial_deadline(int64_t now, int64_t deadline, int left)
{
    if (deadline == 0)
        return 0;
    int64_t remain = deadline - now;
    int64_t share = remain / left;
    if (share < PARTIAL_MIN_NS)
        share = remain < PARTIAL_MIN_NS ? remain : PARTIAL_MIN_NS;
    return now + share;
}

// Two dialers racing (see the overview). Allocated in the collected heap:
// the racers' goroutines reach it through their arguments.
typedef struct DialRace {
    gort_mutex mu;
    bool won;           // [lock: mu] a racer connected and took the race
    gort_fd *cur[2];    // [lock: mu] each racer's socket while it connects
    gort_chan *results; // [const] cap 2, DialResult: every racer sends one
} DialRace;

typedef struct DialResult {
    gort_fd *f; // the winner's connection, or NULL
    int err;    // when f is NULL: the racer's error
    int idx;    // 0 primaries, 1 fallbacks
} DialResult;

typedef struct Racer {
    DialRace *race;        // [const]
    int idx;               // [const]
    int n;                 // [const]
    int net;               // [const]
    int64_t deadline;      // [const]
    Addr addrs[MAX_ADDRS]; // [const]
} Racer;

// Before side idx connects f: whether the other side has won already;
// else f is published, for the other side to cancel.
static bool
race_lost(DialRace *race, int idx, gort_fd *f)
{
    gort_mutex_lock(&race->mu);
    bool lost = race->won;
    if (!lost)
        race->cur[idx] = f;
    gort_mutex_unlock(&race->mu);
    return lost;
}

// After side idx's connect ended (connected or not): whether the other side
// had won meanwhile. A connection that wins cancels the other side's
// connect in progress.
static bool
race_ended(DialRace *race, int idx, bool connected)
{
    gort_mutex_lock(&race->mu);
    race->cur[idx] = NULL;
    bool lost = race->won;
    if (connected && !lost) {
        race->won = true;
        gort_fd *other = race->cur[1 - idx];
        if (other)
            gort_fd_set_write_deadline(other, 1); // long past: its wait ends
    }
    gort_mutex_unlock(&race->mu);
    return lost;
}

// Dials a[0..n) in turn; the connection, or NULL with *err set. In a race
// (race != NULL, idx its side) it stops once the other side has won.
static gort_fd *
dial_serial(int net, Addr *a, int n, int64_t deadline, DialRace *race, int idx, int *err)
{
    int e = 0;
    for (int i = 0; i < n; i++) {
        int64_t now = rt_nanotime();
        if (deadline != 0 && deadline <= now) {
            e = ETIMEDOUT;
            break;
        }
        int s = new_socket(a[i].sa.ss_family);
        if (s < 0) {
            e = gort_errno();
            continue;
        }
        if (net != NET_UNIX)
            set_nodelay(s);
        gort_fd *f = rt_fd_new(s, true);
        if (f == NULL) {
            e = gort_errno();
            close(s);
            continue;
        }
        // Before the socket is published to the other racer, whose cancel
        // (a deadline in the past) this must not overwrite.
        int64_t pdl = partial_deadline(now, deadline, n - i);
        if (pdl != 0 && f->pd)
            rt_netpoll_set_deadline(f->pd, pdl, PD_WRITE);
        if (race && race_lost(race, idx, f)) {
            gort_fd_close(f);
            e = ECANCELED;
            break;
        }
        e = connect_fd(f, &a[i], pdl);
        if (race && race_ended(race, idx, e == 0)) {
            gort_fd_close(f);
            e = ECANCELED;
            break;
        }
        if (e == 0)
            return f;
        gort_fd_close(f);
    }
    *err = e;
    return NULL;
}

static void
racer_main(void *arg)
{
    Racer *r = arg;
    DialResult res = {.idx = r->idx};
    res.f = dial_serial(r->net, r->addrs, r->n, r->deadline, r->race, r->idx, &res.err);
    gort_chan_send(r->race->results, &res); // cap 2: never blocks
}

static void
start_racer(DialRace *race, int idx, int net, const Addr *a, int n, int64_t deadline)
{
    Racer *r = gort_alloc(sizeof *r);
    r->race = race;
    r->idx = idx;
    r->n = n;
    r->net = net;
    r->deadline = deadline;
    memcpy(r->addrs, a, (size_t)n * sizeof *a);
    gort_go(racer_main, r);
}

// Races the primaries against the fallbacks (the overview's happy eyeballs).
static gort_fd *
dial_parallel(int net, const Addr *prim, int np, const Addr *fb, int nf, int64_t deadline, int *err)
{
    DialRace *race = gort_alloc(sizeof *race);
    race->results = gort_chan_make(sizeof(DialResult), 2);
    start_racer(race, 0, net, prim, np, deadline);
    gort_chan *delay = gort_after(FALLBACK_DELAY_NS);
    bool fb_started = false;
    int pending = 1, perr = 0, ferr = 0;
    for (;;) {
        DialResult res;
        int64_t fired;
        gort_case cases[2] = {
                {.chan = race->results, .dir = GORT_RECV, .elem = &res},
                {.chan = fb_started ? NULL : delay, .dir = GORT_RECV, .elem = &fired},
        };
        int k = gort_select(cases, 2, true);
        if (k == 0) {
            pending--;
            if (res.f)
                return res.f; // it took the race; the other stops or closes its own
            if (res.idx == 0)
                perr = res.err;
            else
                ferr = res.err;
        }
        if (!fb_started) { // the delay ran out, or the primaries failed first
            fb_started = true;
            pending++;
            start_racer(race, 1, net, fb, nf, deadline);
        }
        if (pending == 0) {
            *err = perr ? perr : ferr;
            return NULL;
        }
    }
}

gort_fd *
gort_dial(const char *network, const char *address, int64_t deadline)
{
    Addr a[MAX_ADDRS];
    int net, n;
    int e = resolve(network, address, false, &net, a, &n);
    if (e) {
        rt_errno_set(e);
        return NULL;
    }
    // The primaries: the first address's family; the fallbacks: the other.
    Addr prim[MAX_ADDRS], fb[MAX_ADDRS];
    int np = 0, nf = 0;
    for (int i = 0; i < n; i++) {
        if (a[i].sa.ss_family == a[0].sa.ss_family)
            prim[np++] = a[i];
        else
            fb[nf++] = a[i];
    }
    gort_fd *f = net == NET_TCP && nf > 0 ? dial_parallel(net, prim, np, fb, nf, deadline, &e)
                                          : dial_serial(net, a, n, deadline, NULL, 0, &e);
    if (f == NULL)
        rt_errno_set(e);
    return f;
}

// ---- addresses --------------------------------------------------------------------

static int
format_addr(const struct sockaddr_storage *ss, socklen_t sl, char *buf, size_t n)
{
    char ip[INET6_ADDRSTRLEN];
    int k;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        k = snprintf(buf, n, "%s:%u", ip, ntohs(in->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            // Go shows an IPv4 peer of a dual-stack socket as IPv4.
            inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, sizeof ip);
            k = snprintf(buf, n, "%s:%u", ip, ntohs(in6->sin6_port));
        } else {
            inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
            k = snprintf(buf, n, "[%s]:%u", ip, ntohs(in6->sin6_port));
        }
    } else if (ss->ss_family == AF_UNIX) {
        const struct sockaddr_un *un = (const struct sockaddr_un *)ss;
        size_t pl = sl > offsetof(struct sockaddr_un, sun_path)
                            ? sl - offsetof(struct sockaddr_un, sun_path)
                            : 0;
        if (pl > 0 && un->sun_path[0] == 0) {
            k = snprintf(buf, n, "@%.*s", (int)(pl - 1), un->sun_path + 1);
        } else {
            k = snprintf(buf, n, "%.*s", (int)strnlen(un->sun_path, pl), un->sun_path);
        }
    } else {
        rt_errno_set(EAFNOSUPPORT);
        return -1;
    }
    if (k < 0 || (size_t)k >= n) {
        rt_errno_set(ENOSPC);
        return -1;
    }
    return 0;
}

static int
sock_addr(gort_fd *f, char *buf, size_t n, bool peer)
{
    if (!rt_fd_ref(f))
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    memset(&ss, 0, sizeof ss);
    int r = peer ? getpeername(f->sysfd, (struct sockaddr *)&ss, &sl)
                 : getsockname(f->sysfd, (struct sockaddr *)&ss, &sl);
    if (r == 0)
        r = format_addr(&ss, sl, buf, n);
    int e = gort_errno();
    rt_fd_unref(f);
    rt_errno_set(e);
    return r;
}

int
gort_fd_local_addr(gort_fd *f, char *buf, size_t n)
{
    return sock_addr(f, buf, n, false);
}

int
gort_fd_remote_addr(gort_fd *f, char *buf, size_t n)
{
    return sock_addr(f, buf, n, true);
}
