/*
 * gort.h: Go's runtime model for C programs.
 *
 * Link a program with `pkg-config --cflags --libs gort` (or the CMake package
 * gort::gort) and its ordinary main() runs as goroutine 1 on gort's G/M/P
 * scheduler, after gort's own entry point has booted the allocator, the
 * collector and the scheduler. This header is the whole public API and its
 * contract: the comment at each declaration says what the call promises.
 * Where a comment is silent, gort does what Go does.
 */
#ifndef GORT_H
#define GORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

struct addrinfo; /* <netdb.h> */

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GORT_API          __attribute__((visibility("default")))
#define GORT_NORETURN     __attribute__((noreturn))
#define GORT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GORT_API
#define GORT_NORETURN
#define GORT_PRINTF(a, b)
#endif

/* ---- Goroutines ------------------------------------------------------- */

GORT_API void gort_go(void (*fn)(void *arg), void *arg); /* go fn(arg) */
GORT_API void gort_go_stack(void (*fn)(void *arg), void *arg, size_t stack_bytes);
GORT_API void gort_yield(void);        /* runtime.Gosched */
GORT_API void gort_goexit(void);       /* runtime.Goexit */
GORT_API int64_t gort_goid(void);      /* 1 for main */
GORT_API int gort_num_goroutine(void); /* runtime.NumGoroutine (user goroutines) */
GORT_API int gort_gomaxprocs(int n);   /* n < 1 only queries; returns the previous value */
GORT_API GORT_NORETURN void gort_exit(int code); /* os.Exit */
GORT_API GORT_NORETURN GORT_PRINTF(1, 2) void gort_panic(const char *fmt, ...);

/* ---- Time ------------------------------------------------------------- */

typedef struct gort_chan gort_chan;
typedef struct gort_ticker gort_ticker;

GORT_API int64_t gort_nanotime(void);       /* monotonic nanoseconds */
GORT_API void gort_sleep(int64_t ns);       /* parks the goroutine, not the thread */
GORT_API gort_chan *gort_after(int64_t ns); /* cap-1 chan of int64_t: nanotime at firing */
GORT_API gort_ticker *gort_ticker_make(int64_t period_ns);
GORT_API gort_chan *
gort_ticker_chan(gort_ticker *t); /* cap-1 chan of int64_t; late ticks dropped */
GORT_API void gort_ticker_stop(gort_ticker *t);

/* ---- Channels ----------------------------------------------------------- */

GORT_API gort_chan *gort_chan_make(size_t elem_size, size_t cap); /* elem_size 0 allowed */
GORT_API void gort_chan_send(gort_chan *c, const void *elem);     /* copies elem_size bytes */
GORT_API bool gort_chan_recv(gort_chan *c, void *out); /* false: closed and drained, *out zeroed */
GORT_API void gort_chan_close(gort_chan *c);
GORT_API size_t gort_chan_len(gort_chan *c);
GORT_API size_t gort_chan_cap(gort_chan *c);

typedef enum { GORT_SEND = 1, GORT_RECV = 2 } gort_dir;
typedef struct {
    gort_chan *chan; /* NULL: this case is never ready (Go's nil channel) */
    gort_dir dir;
    void *elem; /* SEND: value to send; RECV: where to store, may be NULL */
    bool ok;    /* RECV: true when a value was received, false when closed */
} gort_case;
/* Index of the case that proceeded, chosen uniformly among ready ones; -1 when
   block is false and none is ready; ncases == 0 && block parks forever. */
GORT_API int gort_select(gort_case *cases, int ncases, bool block);

/* ---- Synchronization: the zero value of every type is ready to use ------ */
/* The fields are private; they are here so the types can be embedded and
   allocated statically. */

typedef struct gort_mutex {
    int32_t state_;
    uint32_t sema_;
} gort_mutex;

typedef struct gort_rwmutex {
    gort_mutex w_;
    uint32_t writer_sem_;
    uint32_t reader_sem_;
    int32_t reader_count_;
    int32_t reader_wait_;
} gort_rwmutex;

typedef struct gort_waitgroup {
    uint64_t state_; /* high 32 bits: counter; low 32 bits: waiters */
    uint32_t sema_;
} gort_waitgroup;

typedef struct gort_once {
    uint32_t done_;
    gort_mutex m_;
} gort_once;

typedef struct gort_cond {
    uint32_t wait_;   /* ticket of the next waiter */
    uint32_t notify_; /* ticket of the next waiter to notify */
    uint32_t lock_;
    uint32_t pad_;
    void *head_;
    void *tail_;
} gort_cond;

GORT_API void gort_mutex_lock(gort_mutex *m);
GORT_API void gort_mutex_unlock(gort_mutex *m);
GORT_API bool gort_mutex_trylock(gort_mutex *m);
GORT_API void gort_rwmutex_lock(gort_rwmutex *m);
GORT_API void gort_rwmutex_unlock(gort_rwmutex *m);
GORT_API void gort_rwmutex_rlock(gort_rwmutex *m);
GORT_API void gort_rwmutex_runlock(gort_rwmutex *m);
GORT_API void gort_waitgroup_add(gort_waitgroup *wg, int delta);
GORT_API void gort_waitgroup_done(gort_waitgroup *wg);
GORT_API void gort_waitgroup_wait(gort_waitgroup *wg);
GORT_API void gort_once_do(gort_once *o, void (*fn)(void *arg), void *arg);
GORT_API void gort_cond_wait(gort_cond *c, gort_mutex *m);
GORT_API void gort_cond_signal(gort_cond *c);
GORT_API void gort_cond_broadcast(gort_cond *c);

/* ---- Memory --------------------------------------------------------------- */

GORT_API void *gort_alloc(size_t size);        /* zeroed; may hold pointers: scanned */
GORT_API void *gort_alloc_noscan(size_t size); /* zeroed; holds no gort heap pointers */
#define gort_new(T) ((T *)gort_alloc(sizeof(T)))
/* zeroed; only the first ptr_bytes may hold pointers (Go's ptrdata): the rest is never
   scanned. ptr_bytes 0 is gort_alloc_noscan; ptr_bytes > size panics. */
GORT_API void *gort_alloc_ptrs(size_t size, size_t ptr_bytes);
#define gort_new_ptrs(T, last_pointer_field)                                                       \
    ((T *)gort_alloc_ptrs(sizeof(T), offsetof(T, last_pointer_field) + sizeof(void *)))
GORT_API void gort_gc(void);
GORT_API int gort_set_gc_percent(int percent);
GORT_API int64_t gort_set_memory_limit(int64_t bytes);
GORT_API void gort_set_finalizer(void *obj, void (*fn)(void *obj));
GORT_API void gort_keep_alive(const void *p);
GORT_API void gort_add_roots(void *start, size_t size);
GORT_API void gort_remove_roots(void *start, size_t size);
/* Why is this object still alive? Runs a full collection and prints to stderr
   the chain that keeps the object containing p: the root (a goroutine's stack
   and the function whose frame holds the word, a thread's saved registers, a
   global by its symbol, a gort_add_roots range, a runtime structure) and each
   heap object on the way. Returns 1 if reachable, 0 if not (this collection
   frees it, or only the caller's own register copy of p keeps it), -1 if p is
   not in an allocated heap object. GODEBUG=gcwhy=ADDR asks the same at every
   collection.
   See docs/gc.md, "Why is it alive?". */
GORT_API int gort_gc_why(const void *p);

typedef struct gort_memstats {
    uint64_t heap_alloc;
    uint64_t heap_sys;
    uint64_t heap_idle;
    uint64_t heap_released;
    uint64_t heap_objects;
    uint64_t total_alloc;
    uint64_t mallocs, frees;
    uint64_t next_gc;
    uint64_t last_gc_ns;
    uint64_t pause_total_ns;
    uint64_t pause_ns[256];
    uint32_t num_gc;
    uint32_t num_forced_gc;
    double gc_cpu_fraction;
} gort_memstats;
GORT_API void gort_read_memstats(gort_memstats *out);

/* ---- System calls, file descriptors and the network --------------------
 *
 * A goroutine that blocks in the kernel never holds up the others. Functions
 * here return -1 (or NULL) and set errno on failure; errno belongs to the
 * goroutine (it survives parking and moving to another thread). Deadlines are
 * absolute gort_nanotime() values; 0 clears one; one already past makes the
 * next operation fail at once with ETIMEDOUT (Go's "i/o timeout"). An
 * operation on a closed gort_fd, or parked on one when it is closed, fails
 * with ECANCELED (Go's "use of closed network connection"). Writes never
 * raise SIGPIPE: they fail with EPIPE. EINTR is retried inside.
 */

/* Blocking calls gort does not wrap (a C library's own read, a DNS lookup):
   sysmon hands the P to another thread when the call outlasts a sysmon tick
   (Go's entersyscall/exitsyscall). No other gort call in between; errno kept.
   Between the two the goroutine stays on its thread. */
GORT_API void gort_syscall_enter(void);
GORT_API void gort_syscall_exit(void);
GORT_API void gort_syscall_enter_block(void); /* hand the P off at once */

enum { GORT_READ = 1, GORT_WRITE = 2 };
typedef struct gort_fd gort_fd;         /* owned by the runtime; on the gort heap; an unreachable
                                   one is closed by a finalizer */
GORT_API gort_fd *gort_fd_open(int fd); /* takes ownership, O_NONBLOCK, registers it with the
                                           poller; a regular file works through
                                           gort_syscall_enter/exit */
GORT_API int gort_fd_sysfd(const gort_fd *f);
GORT_API ssize_t gort_fd_read(gort_fd *f, void *buf, size_t n);        /* parks until data: > 0,
                                                                   0 at EOF, -1 on error */
GORT_API ssize_t gort_fd_write(gort_fd *f, const void *buf, size_t n); /* parks until all n are
                                           written; after a partial write and an error, the
                                           count written with errno set; -1 if none */
GORT_API int gort_fd_wait(gort_fd *f, int events);        /* GORT_READ | GORT_WRITE: parks until
                                           ready, then 0; may wake early (on EAGAIN, wait
                                           again); deadlines apply per direction */
GORT_API int gort_fd_wait_eagain(gort_fd *f, int events); /* gort_fd_wait for a caller whose
                                           own read or write on gort_fd_sysfd(f) just failed
                                           with EAGAIN in that direction: parks without
                                           looking first (one poll(2) fewer) */
GORT_API int gort_wait_fd(int fd, int events, int64_t deadline); /* a descriptor the caller
                                           keeps: the ready events (> 0), or -1 with ETIMEDOUT
                                           at the deadline (0: none) or EBADF; fd is not kept
                                           registered after the call */
GORT_API int gort_fd_set_deadline(gort_fd *f, int64_t when);     /* both directions */
GORT_API int gort_fd_set_read_deadline(gort_fd *f, int64_t when);
GORT_API int gort_fd_set_write_deadline(gort_fd *f, int64_t when);
GORT_API int gort_fd_close(gort_fd *f); /* parked operations fail (ECANCELED); closing
                                           again fails with ECANCELED */
GORT_API int gort_fd_local_addr(gort_fd *f, char *buf, size_t n); /* "127.0.0.1:41234",
                                                                     "[::1]:80", or a path */
GORT_API int gort_fd_remote_addr(gort_fd *f, char *buf, size_t n);

/* network: "tcp", "tcp4", "tcp6", "unix"; address "host:port", ":port", ":0",
   "[::1]:port", or a path for "unix" */
GORT_API gort_fd *gort_listen(const char *network, const char *address);
GORT_API gort_fd *gort_accept(gort_fd *listener); /* parks until a connection */
GORT_API gort_fd *gort_dial(const char *network, const char *address,
                            int64_t deadline); /* 0: none */
GORT_API int gort_getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                              struct addrinfo **res); /* without holding a P; 0 or EAI_* */
/* The calling goroutine's errno, read through a call the compiler cannot cache:
   glibc declares __errno_location const, so after a parking call in the same
   function a compiler may read errno through the old thread's address. */
GORT_API int gort_errno(void);
GORT_API void gort_lock_os_thread(void); /* runtime.LockOSThread (nests, as in Go) */
GORT_API void gort_unlock_os_thread(void);

#ifdef __cplusplus
}
#endif
#endif /* GORT_H */
