// rt.h: the map of the runtime: its core types (G, M, P, Sched, Lock, Note)
// and the internal interfaces between subsystems.
//
// G is a goroutine, M an OS thread, P a processor: the right to run Go code.
// An M must hold a P to run goroutines; there are exactly GOMAXPROCS Ps. Each
// P has a local run queue; Ms without work steal from other Ps. A goroutine
// that blocks parks (rt_park) and is made runnable again by rt_ready. Each M
// has a g0: the thread's own stack, on which the scheduler runs. User
// goroutines switch to g0 through rt_mcall() and g0 resumes a goroutine with
// rt_gogo(); neither switch saves more than the x86-64 ABI's callee-saved
// registers (src/arch/<arch>/asm.S).
//
// Naming: rt_<subsys>_<verb> for cross-file functions, all hidden from the
// shared library; file-local helpers are static bare verbs (and so may be
// the static inline helpers of a subsystem's own header: they are no
// symbols).
//
// Not here: what the files of one subsystem share is in that subsystem's
// header (src/sched/sched.h, src/gc/mark.h, src/mem/malloc.h, ...); types
// that only a few subsystems use have headers of their own: the Sudog
// (src/sched/sudog.h: the scheduler, channels, sync), the Timer
// (src/time/timer.h), DebugVars, rt_debug and the environment
// (src/core/debugvars.h). The forward typedefs below let the core types
// point to them.
//
// Locking: the order of runtime locks is in docs/locking.md. Holding any Lock
// raises m->locks, which forbids async preemption of that M.
#ifndef GORT_RT_H
#define GORT_RT_H

#include "arch.h"
#include "gort.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RT_NORETURN    __attribute__((noreturn))
#define RT_NOINLINE    __attribute__((noinline))
#define RT_COLD        __attribute__((cold))
#define RT_UNUSED      __attribute__((unused))
#define RT_ALIGNED(n)  __attribute__((aligned(n)))
#define rt_likely(x)   __builtin_expect(!!(x), 1)
#define rt_unlikely(x) __builtin_expect(!!(x), 0)
#define RT_CACHE_LINE  64
// Relaxed atomic access to plain fields that other threads peek at without
// a lock (sysmon reading a P's schedtick, an M's curg): the readers act on
// a possibly stale value by design, as Go's do; this only makes the race
// well defined (and visible as such to TSan).
#define RT_LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define RT_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define RT_NELEM(a)    (sizeof(a) / sizeof((a)[0]))

// String tests without libc, for code that may run in a signal handler or
// a crashing process (tracebacks, the symbol table).
static inline bool
rt_str_has_prefix(const char *s, const char *p)
{
    while (*p) {
        if (*s++ != *p++)
            return false;
    }
    return true;
}

static inline bool
rt_str_eq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

#ifndef GORT_DEBUG
#define GORT_DEBUG 0
#endif
#ifndef GORT_TESTING
#define GORT_TESTING 0 // 1: the hooks of src/export_test.h are built in
#endif
// Debug tiers (GORT_DEBUG, the build's level: 0 in release, 2 in the debug
// preset). A check below the build's level compiles to nothing, but its
// expression is still parsed, so it stays valid code.
//   RT_ASSERT(x)            1: cheap checks of an argument or a state
//   RT_ASSERT_INVARIANT(x)  2: a structure's invariant, where the code relies
//                              on it (run queue bounds, span sweep states,
//                              lock held, g0 or user stack, free slots)
//   RT_ASSERT_EXPENSIVE(x)  3: checks that walk a structure
// A failed check throws "assertion failed: x" with the goroutine dump.
#define RT_ASSERT_LEVEL(level, x)                                                                  \
    do {                                                                                           \
        if (GORT_DEBUG >= (level) && rt_unlikely(!(x)))                                            \
            rt_throw("assertion failed: " #x);                                                     \
    } while (0)
#define RT_ASSERT(x)           RT_ASSERT_LEVEL(1, x)
#define RT_ASSERT_INVARIANT(x) RT_ASSERT_LEVEL(2, x)
#define RT_ASSERT_EXPENSIVE(x) RT_ASSERT_LEVEL(3, x)

typedef struct G G;
typedef struct M M;
typedef struct P P;
typedef struct Sudog Sudog;
typedef struct Timer Timer;
typedef struct MCache MCache;

// ---- Lock and Note (src/lock/lock_futex.c) -------------------------------
//
// Lock is a futex-based mutex for the runtime's own short critical sections.
// It never parks a goroutine: a contended lock sleeps the thread. Holding one
// raises m->locks (no async preemption, no GC stop of this M in the middle).
// Note is a one-shot event: one sleeper, one waker; rt_note_clear re-arms.
typedef struct Lock {
    _Atomic uint32_t key; // 0 unlocked, 1 locked, 2 locked with sleepers
} Lock;
typedef struct Note {
    _Atomic uint32_t key; // 0 clear, 1 woken
} Note;

void rt_lock(Lock *l);
void rt_unlock(Lock *l);
bool rt_trylock(Lock *l);
// Debug builds (GORT_DEBUG >= 2): throws unless the calling thread holds l.
// A function that requires a lock states it so; release builds check nothing.
#if GORT_DEBUG >= 2
void rt_assert_held(Lock *l);
#else
static inline void
rt_assert_held(Lock *l)
{
    (void)l;
}
#endif
void rt_note_clear(Note *n);
void rt_note_wakeup(Note *n);
void rt_note_sleep(Note *n);
bool rt_note_tsleep(Note *n, int64_t ns); // false on timeout; ns < 0 sleeps forever

// ---- G ----------------------------------------------------------------------

enum GStatus {
    G_IDLE = 0,      // just allocated, not yet initialized
    G_RUNNABLE = 1,  // on a run queue
    G_RUNNING = 2,   // owned by an M
    G_SYSCALL = 3,   // in a blocking call known to the runtime
    G_WAITING = 4,   // parked; waitreason says why
    G_DEAD = 6,      // finished; on a free list
    G_PREEMPTED = 9, // stopped by async preemption (transient)
};

// Why a goroutine waits; the text appears in goroutine dumps, in Go's words.
enum WaitReason {
    WAIT_ZERO = 0,
    WAIT_CHAN_SEND,          // "chan send"
    WAIT_CHAN_RECV,          // "chan receive"
    WAIT_CHAN_SEND_NIL,      // "chan send (nil chan)"
    WAIT_CHAN_RECV_NIL,      // "chan receive (nil chan)"
    WAIT_SELECT,             // "select"
    WAIT_SELECT_NO_CASES,    // "select (no cases)"
    WAIT_SLEEP,              // "sleep"
    WAIT_SYNC_MUTEX,         // "sync.Mutex.Lock"
    WAIT_SYNC_RWMUTEX_RLOCK, // "sync.RWMutex.RLock"
    WAIT_SYNC_RWMUTEX_LOCK,  // "sync.RWMutex.Lock"
    WAIT_SYNC_WAITGROUP,     // "sync.WaitGroup.Wait"
    WAIT_SYNC_COND,          // "sync.Cond.Wait"
    WAIT_SEMACQUIRE,         // "semacquire"
    WAIT_GC_WORKER,          // "GC worker (idle)"
    WAIT_FINALIZER,          // "finalizer wait"
    WAIT_FORCEGC,            // "force gc (idle)"
    WAIT_GC_SWEEP,           // "GC sweep wait"
    WAIT_GC_SCAVENGE,        // "GC scavenge wait"
    WAIT_IO,                 // "IO wait"
    WAIT_PREEMPTED,          // "preempted"
    WAIT_UPDATE_MAXPROCS,    // "GOMAXPROCS updater (idle)"
    WAIT_N
};
const char *rt_waitreason_str(uint8_t r);

// Gobuf: a suspended goroutine's context. The callee-saved registers are
// pushed on the goroutine's own stack by the switch routine; only the stack
// pointer is kept here (src/arch/<arch>/offsets.h fixes the layout).
typedef struct Gobuf {
    uintptr_t sp;
} Gobuf;

// Fields are [owner] (the M running the G, or the M that holds it off any
// queue) unless tagged.
struct G {
    Gobuf sched;                  // [owner] saved context while not running; offset 0 (asm)
    uintptr_t stack_lo;           // [owner] usable stack [lo, hi); 0 until the first run
    uintptr_t stack_hi;           //
    size_t stack_size;            // [owner] size asked for (0: the default)
    void (*fn)(void *);           // [const] entry function and its argument
    void *arg;                    //
    M *m;                         // [owner] the M running it, or NULL
    _Atomic uint32_t status;      // [atomic] enum GStatus
    uint8_t waitreason;           // [owner] enum WaitReason while G_WAITING
    bool is_system;               // [const] runtime goroutine: not counted, hidden in dumps
    _Atomic bool preempt;         // [atomic] a preemption was requested (relaxed)
    bool started;                 // [owner] has run at least once
    int64_t goid;                 // [const] goroutine id; 1 is main
    int64_t parent_goid;          // [const] the goroutine that created it
    uintptr_t gopc;               // [const] return address of the gort_go call (created by)
    int64_t waitsince;            // [owner] nanotime when it parked (for "N minutes")
    G *schedlink;                 // [lock: the queue it is on] run queue and free list link
    G *alllink;                   // [lock: allglock] list of all Gs ever created
    void *param;                  // [owner] wake-up value passed by the waker (select: Sudog)
    Sudog *waiting;               // [owner] sudogs of a blocked select, in lock order
    _Atomic uint32_t select_done; // [atomic] a select waker won the race
    Timer *sleep_timer;           // [owner] timer used by gort_sleep
    void *san_fiber;              // [owner] TSan fiber of this goroutine
    void *san_fake_stack;         // [owner] ASan fake stack save slot
    // Return-address trap (src/sched/preempt.c): the return slot on this
    // goroutine's stack that was redirected to rt_arch_preempt_trap, and the
    // return address it held. Written by the SIGURG handler on the thread
    // that runs the goroutine, read by the trap stub on the same goroutine.
    uintptr_t trap_slot; // [owner] 0: no trap armed
    uintptr_t trap_ret;  // [owner]
    int goerrno;         // [owner] errno while switched out (saved by mcall)
    M *lockedm;          // [owner] gort_lock_os_thread: the only M it may run on
    // gort_syscall_enter (src/sched/syscall.c, asm.S): the caller's sp and
    // callee-saved registers at the call, from which the collector scans a
    // G_SYSCALL goroutine without stopping its thread. [owner] written
    // before status becomes G_SYSCALL, read by the collector while it is
    uintptr_t syscallsp;
    uintptr_t syscallpc; // the caller's pc there, for goroutine dumps
    uintptr_t syscallregs[RT_ARCH_NCALLEE];
};

// ---- M ------------------------------------------------------------------

struct M {
    G *g0;                            // [const] scheduler context on the thread's own stack
    G *curg;                          // [owner] the user goroutine running now, or NULL on g0
    P *p;                             // [owner] attached P, or NULL
    P *nextp;                         // [lock: sched.lock] P handed over by the waker
    int64_t id;                       // [const]
    int32_t locks;                    // [owner] >0: holds runtime locks; no async preemption
    bool spinning;                    // [owner] looking for work without any
    bool is_sysmon;                   // [const]
    Note park;                        // sleeps here when idle
    M *schedlink;                     // [lock: sched.lock] idle M list
    M *alllink;                       // [const] list of all Ms; set before the push on rt_allm
    int tid;                          // [const] kernel thread id
    uint64_t fastrand;                // [owner] per-M random state
    void *signal_stack;               // [const] sigaltstack area
    uintptr_t g0_stack_lo;            // [const] bounds of the OS thread's stack
    uintptr_t g0_stack_hi;            //
    _Atomic uint32_t preempt_pending; // [atomic] 1: SIGURG in flight; RT_M_INSYSCALL: in a call
    RtArchFPCtl fpctl;                // [owner] thread's floating-point control state (asm.S)
    int *errnop;                      // [const] this thread's errno (set by minit)
    void *san_fiber;                  // [owner] TSan fiber of g0
    // rt_park hands these to g0 (park_m).
    bool (*waitunlockf)(G *gp, void *arg); // [owner]
    void *waitlock;                        // [owner]
    int64_t timed_until; // [lock: sched.lock] deadline of a timed idle sleep, 0 if none
    // Collector stop-the-world (rt_gc_stop_world): the M is suspended in its
    // signal handler with the interrupted sp and registers saved here.
    _Atomic uint32_t gc_suspend_req; // [atomic] the stopper asked for a suspension
    bool gc_pending; // [owner] asked while holding locks: suspend at the last unlock
    uintptr_t gc_sp; // [owner] 0 unless suspended; read with the world stopped
    uintptr_t gc_regs[RT_ARCH_NGREG]; // [owner] read with the world stopped
    // System calls (src/sched/syscall.c).
    P *oldp; // [owner] the P left in P_SYSCALL by gort_syscall_enter
    // gort_lock_os_thread: the G wired to this M, and the nesting count.
    G *lockedg;         // [owner]
    uint32_t lockedext; // [owner]
};

// ---- P ------------------------------------------------------------------

enum PStatus {
    P_IDLE = 0,
    P_RUNNING = 1,
    P_SYSCALL = 2,
    P_GCSTOP = 3,
    P_DEAD = 4,
};

#define RUNQ_SIZE 256

struct P {
    int32_t id;                   // [const]
    _Atomic uint32_t status;      // [atomic] enum PStatus
    M *m;                         // [owner] back link to the M holding it
    P *link;                      // [lock: sched.lock] idle P list
    uint32_t schedtick;           // [owner] incremented on every schedule
    _Atomic uint32_t syscalltick; // [atomic] incremented at every system call entry and retake
    _Atomic uint32_t sysmontick;  // [owner] sysmon: last schedtick sysmon saw
    int64_t sysmonwhen;           // [owner] sysmon: when sysmon saw it
    uint32_t sysmon_syscalltick;  // [owner] sysmon: last syscalltick sysmon saw
    int64_t sysmon_syscallwhen;   // [owner] sysmon: when sysmon saw it
    // Lock-free local run queue: the owner puts at tail, anyone takes from head.
    _Atomic uint32_t runqhead;    // [atomic]
    _Atomic uint32_t runqtail;    // [atomic]
    _Atomic(G *) runq[RUNQ_SIZE]; // [atomic] slots published by runqtail
    _Atomic(G *) runnext;         // [atomic] runs next, inheriting the time slice
    int64_t goidcache;            // [owner] next goid to hand out
    int64_t goidcacheend;         // [owner]
    G *gfree;                     // [owner] dead Gs for reuse
    int32_t ngfree;               //
    void *stackcache[32];         // [owner] free goroutine stacks of the default size
    int32_t nstackcache;          //
    Sudog *sudogcache;            // [owner] free sudogs
    int32_t nsudogcache;          //
    MCache *mcache;               // [owner] per-P allocation cache (src/mem)
    // Timers (src/time/timer.c): a 4-ary min-heap ordered by when.
    Lock timerlock;             // guards the fields below
    Timer **timers;             // [lock: timerlock] heap array
    int32_t ntimers;            // [lock: timerlock]
    int32_t timercap;           // [lock: timerlock]
    _Atomic int64_t timer0when; // [atomic] when of the first timer, 0 if none
    uint8_t pad[RT_CACHE_LINE];
};

// ---- The scheduler's global state (src/sched/proc.c) ---------------------

typedef struct Sched {
    Lock lock;                   // guards all fields tagged [lock] below
    M *midle;                    // [lock] idle Ms
    int32_t nmidle;              // [lock]
    int32_t nmidlelocked;        // [lock] Ms of locked goroutines waiting for them (stoplockedm),
                                 // less one while sysmon queues what its poll readied
    int32_t mcount;              // [lock] Ms created
    int64_t mnext;               // [lock] next M id
    P *pidle;                    // [lock] idle Ps
    _Atomic int32_t npidle;      // [atomic] written under lock
    _Atomic int32_t nmspinning;  // [atomic]
    G *runq_head;                // [lock] global run queue
    G *runq_tail;                // [lock]
    _Atomic int32_t runqsize;    // [atomic] written under lock
    Lock gflock;                 // guards the global free G list
    G *gfree;                    // [lock: gflock]
    int32_t ngfree;              // [lock: gflock]
    _Atomic uint32_t gcwaiting;  // [atomic] a stop-the-world is pending
    int32_t stopwait;            // [lock] Ps still to stop
    Note stopnote;               // the stopper sleeps here
    _Atomic int64_t goidgen;     // [atomic]
    _Atomic int32_t ngsys;       // [atomic] runtime goroutines alive
    _Atomic int32_t ngoroutines; // [atomic] live goroutines of all kinds
    _Atomic uint32_t sysmonwait; // [atomic] sysmon is sleeping on sysmonnote
    Note sysmonnote;
    M *timed_sleeper;              // [lock] the idle M sleeping until the next timer, if any
    _Atomic int64_t coarse_now;    // [atomic] nanotime, refreshed by sysmon (wait ages)
    _Atomic uint32_t main_started; // [atomic] rt_main is running
    _Atomic bool main_goexited;    // [atomic] goroutine 1 called gort_goexit
    _Atomic uint32_t gcsuspend;    // [atomic] a collector stop is in progress
    _Atomic uint32_t gc_epoch;     // [atomic] +1 at each collector start-the-world (futex)
    Lock sudoglock;                // guards the central sudog cache
    Sudog *sudogcache;             // [lock: sudoglock]
} Sched;

extern Sched rt_sched;
extern P **rt_allp; // [stw] GOMAXPROCS Ps; grows only with the world stopped
extern _Atomic int32_t rt_gomaxprocs;
extern int32_t rt_ncpu;
extern G *rt_allg; // [lock: rt_allglock] every G ever created (reused Gs stay)
extern Lock rt_allglock;
extern _Atomic(M *) rt_allm; // [atomic] every M; pushed by a CAS (allocm), never popped
extern M rt_m0;
extern G rt_g0;

// Current M: read through the thread pointer on every call, so that a
// goroutine that moved to another thread never uses the old thread's M.
static inline M *
rt_m(void)
{
    return (M *)rt_arch_tls_get();
}
static inline G *
rt_getg(void)
{
    return rt_m()->curg;
}

// ---- Scheduler interface (src/sched/proc.c) -----------------------------
// (What only the scheduler's own files share is in src/sched/sched.h; the
// Sudog and rt_sudog_acquire/release, for channels and sync, in
// src/sched/sudog.h.)

// Creates a goroutine; sys marks a runtime goroutine. Returns it.
G *rt_newproc(void (*fn)(void *), void *arg, size_t stack_size, bool sys, uintptr_t callerpc);
// Parks the calling goroutine. On g0, after the switch, unlockf(gp, arg) is
// called; if it returns false the goroutine resumes at once. May not be
// called with runtime locks held other than the one unlockf releases.
void rt_park(bool (*unlockf)(G *gp, void *arg), void *arg, uint8_t reason);
// Parks, releasing l on g0 once the goroutine is off its stack.
void rt_parkunlock(Lock *l, uint8_t reason);
// Makes gp runnable. next: put it in runnext (it runs right after the caller).
// Callable from goroutines, g0, sysmon and timer callbacks.
void rt_ready(G *gp, bool next);
void rt_gosched(void);
RT_NORETURN void rt_goexit1(void);
// Stop/start the world: every P stops at a safe point; used by the collector
// and gort_gomaxprocs. Called on a user goroutine.
void rt_stop_the_world(const char *why);
void rt_start_the_world(void);
// Queues n goroutines made ready by the poller (linked by schedlink, still
// G_WAITING) and starts Ms for idle Ps (Go's injectglist). g0 or sysmon.
void rt_sched_injectglist(G *list, int32_t n);
uint32_t rt_fastrand(void);
static inline uint32_t
rt_fastrandn(uint32_t n)
{
    return (uint32_t)(((uint64_t)rt_fastrand() * n) >> 32);
}
// Called by the async preemption stub on the goroutine's stack; ret is the
// slot of the return address the stub will return to (0 in it: the return
// trap fills it, see src/sched/preempt.c).
void rt_async_preempt2(uintptr_t *ret);
// Deadlock check: called when an M finds nothing to run.
void rt_checkdead(void);
// Boot: creates the first GOMAXPROCS Ps and gives P0 to m0.
void rt_procinit(int32_t nprocs);
// Starts sysmon (src/sched/sysmon.c) on its own M, without a P.
void rt_sysmon_start(void);
// Count user goroutines.
int rt_gcount(void);
// A timer earlier than any before on its P was added: make sure some M will
// look at timers by `when` (wakes the M sleeping until the next timer).
void rt_sched_timer_wake(int64_t when);
// Is spinning worthwhile for a sync.Mutex waiter (Go's sync_runtime_canSpin)?
bool rt_sync_canspin(int iter);
void rt_sync_dospin(void);

// ---- The collector's stop-the-world (src/sched/gcstop.c) -----------------

// The collector's stop-the-world: like rt_stop_the_world, but a goroutine
// that does not reach a safe point at once (user code, a blocking libc
// call) is suspended in its signal handler with its registers saved, so
// the stop never waits on user code. Only an M holding a runtime Lock is
// waited for, until its last unlock. Called on a user goroutine.
void rt_gc_stop_world(void);
void rt_gc_start_world(void);
// With the world stopped by rt_gc_stop_world: calls fn for every memory
// range that may hold roots of goroutines and threads: the live part of each
// goroutine stack, each M's g0 stack in use, saved registers. The calling
// goroutine's stack is scanned from self_sp (0: from the current sp, with
// its registers spilled there), so that the collector's own deeper frames,
// which differ from one scan to the next, are not roots.
void rt_gc_scan_stacks(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg,
                       uintptr_t self_sp);
// Signal handler side (src/os/<os>/signal.c): the M was asked to suspend.
void rt_gc_suspend(M *m, uintptr_t sp, const uintptr_t *regs);
// rt_unlock side: the M was asked while it held locks.
void rt_gc_suspend_self(void);

// ---- Preemption at gort's entry points (src/sched/preempt.c) -------------

// Yields if a preemption of the calling goroutine is pending and it holds
// nothing (m->locks == 0, a P). Called from gort's public entry points.
void rt_preempt_yield(void);
// The return trap fired (rt_arch_preempt_trap): puts the saved return
// address into *ret and disarms. Returns whether to yield now.
bool rt_preempt_trap_fire(G *gp, uintptr_t *ret);
// Arms the return trap for gp interrupted at pc, sp outside the program's
// own code; called by the SIGURG handler on gp's thread. Returns true if armed.
bool rt_preempt_trap_arm(G *gp, uintptr_t pc, uintptr_t sp);
// gp was interrupted in its own code at sp: a trap whose frame lies below sp
// was left without returning (longjmp); forget it.
void rt_preempt_trap_forget(G *gp, uintptr_t sp);

// One relaxed load and one predictable branch: the cheap test at a safe
// point of a public entry point (the allocation fast path among them).
static inline void
rt_preempt_point_m(M *m)
{
    G *gp = m->curg;
    if (__builtin_expect(gp != NULL && atomic_load_explicit(&gp->preempt, memory_order_relaxed), 0))
        rt_preempt_yield();
}

// The same for an entry point that has not read its M (NULL: a thread gort
// did not start).
static inline void
rt_preempt_point(void)
{
    M *m = rt_m();
    if (m != NULL)
        rt_preempt_point_m(m);
}

// ---- System calls: the signal protocol (src/sched/syscall.c) -------------
// Signal protocol against the system-call path: before sending SIGURG for
// any reason, a sender moves m->preempt_pending from 0 to 1; the handler
// moves it back. gort_syscall_enter moves it from 0 to RT_M_INSYSCALL
// (waiting out a signal in flight), so no signal is sent to a thread inside
// the system-call path. True if the caller may send.
enum { RT_M_INSYSCALL = 2 };
bool rt_signal_claim(M *mp);
// The handler's side: a claimed signal arrived (leaves RT_M_INSYSCALL alone).
void rt_signal_done(M *mp);

// ---- sysmon and GOMAXPROCS (src/sched/sysmon.c) --------------------------
// Wakes sysmon if it sleeps with every P idle (any thread, even one without an M).
void rt_sysmon_wake(void);
// The default GOMAXPROCS: what the process may use (affinity, cgroup quota:
// rt_os_cpu_limit) unless the GOMAXPROCS variable is set; sysmon re-checks
// it about once a second and follows a change, until the program sets
// GOMAXPROCS itself (gort_gomaxprocs, which calls rt_maxprocs_user_set).
int32_t rt_maxprocs_default(void);
void rt_maxprocs_start(void);
void rt_maxprocs_user_set(void);

// ---- Sanitizers at exit (src/sched/fiber.c) -------------------------------
// The process exits from a goroutine: under TSan, back to the thread's own
// fiber first.
void rt_sched_before_exit(void);

// ---- Boot (src/core/init.c) -----------------------------------------------
// Called in order by rt0 (src/arch/<arch>/rt0.S).
void rt_args(int argc, char **argv, char **envp);
void rt_osinit(void);
void rt_schedinit(void);
RT_NORETURN void rt_mstart(void);
void rt_main(void *unused); // goroutine 1: starts sysmon, then calls user main
extern int (*rt_user_main)(int, char **, char **);
extern int rt_argc;
extern char **rt_argv;
extern char **rt_envp;
extern int64_t rt_starttime; // nanotime at boot
void rt_boottrace(const char *stage, int64_t t0, const char *fmt, ...);

// ---- Printing, throw, panic, tracebacks (src/core) -------------------------
// All of these write with write(2) and never allocate or take a Lock that
// may be held by the failing thread.
void rt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_vprintf(const char *fmt, va_list ap);
RT_NORETURN RT_COLD void rt_throw(const char *msg);
RT_NORETURN RT_COLD void rt_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
RT_NORETURN RT_COLD void rt_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
// Goroutine dump in Go's format: "goroutine N [status]:" then frames.
void rt_traceback_current(void);
void rt_traceback_g(G *gp);
void rt_traceback_all(G *except);
// Exits the process now (no atexit handlers): exit_group.
RT_NORETURN void rt_exit(int code);

// ---- Stacks (src/mem/stack.c) --------------------------------------------
// Goroutine stacks: mmap'd, lazily committed, a guard page below each.
extern size_t rt_stack_default; // bytes, GORT_STACK_SIZE or 256 KiB
void rt_stack_init(void);
// Gives gp a stack of gp->stack_size (or the default); sets stack_lo/hi.
void rt_stack_alloc(G *gp);
// Takes gp's stack back (to the P's cache when possible).
void rt_stack_free(G *gp);
// Zeroes RT_STACK_CLEAR_DEAD bytes of dead stack below the caller's frame
// (the conservative collector's stale words; Boehm's GC_clear_stack). The
// allocator calls it at each span refill, rt_gc_start before its frame.
#define RT_STACK_CLEAR_DEAD 2048
void rt_stack_clear_dead(void);
// Returns long-idle cached stacks to the OS (called by sysmon).
void rt_stack_scavenge(int64_t now);
// True if addr (a fault address) hits gp's guard zone; safe in a signal handler.
bool rt_stack_guard_hit(G *gp, uintptr_t addr, uintptr_t sp);
// Moves a P's cached stacks to the global cache (P destroyed).
void rt_stack_cache_flush(P *pp);

// ---- Signals (src/os/<os>/signal.c) --------------------------------------
void rt_signal_init(void);   // handlers for SIGSEGV/SIGBUS (overflow), SIGURG, SIGQUIT
void rt_signal_minit(M *mp); // per-thread: sigaltstack
// Asks mp to preempt its current goroutine asynchronously (SIGURG).
void rt_preempt_m(M *mp);
// Sends mp the collector's suspension request (m->gc_suspend_req is set).
void rt_signal_gc_suspend(M *mp);
// Address range checks for async preemption: true if pc is in user code.
bool rt_async_safe_pc(uintptr_t pc);

// ---- Timers (src/time/timer.c) --------------------------------------------
// A timer fires f(arg, now) on g0 or sysmon, with no locks held, when
// nanotime() >= when; f must not block (it may call rt_ready and
// non-blocking channel sends). period > 0 re-arms it. The Timer struct, for
// those who embed one, is in src/time/timer.h.
void rt_timer_add(Timer *t, int64_t when); // arms on the current P
bool rt_timer_del(Timer *t);               // true if it was armed
void rt_timer_reset(Timer *t, int64_t when);
// Runs expired timers of pp. Returns the next when (0 if none).
int64_t rt_timers_run(P *pp, int64_t now);
// Earliest when over all Ps (0 if none).
int64_t rt_timers_next(void);
// Moves every timer of `from` (a P being destroyed) to `to`.
void rt_timers_move(P *from, P *to);

// ---- Channels used by the runtime (src/chan) -------------------------------
typedef gort_chan Hchan;
// Non-blocking send; true if sent. Used by timers.
bool rt_chan_trysend(Hchan *c, const void *elem);

// ---- Memory (src/mem) -------------------------------------------------------
// Heap allocation. flags: RT_NOSCAN (no pointers inside).
enum { RT_NOSCAN = 1 };
void rt_malloc_init(void);
void *rt_mallocgc(size_t size, int flags);
// The largest allocation that could ever be met (RAM plus swap, rlimits;
// see rt_os_mem_max): Go's maxAlloc for gort. [const] after rt_malloc_init
uint64_t rt_malloc_max(void);
// Go's failure for a request that cannot be met: "runtime: out of memory:
// cannot allocate N-byte block (M in use)", then "fatal error: runtime: out of
// memory" (the contract's words).
RT_NORETURN RT_COLD void rt_out_of_memory(uintptr_t size);
MCache *rt_mcache_new(void);       // for a new P
void rt_mcache_release(MCache *c); // P destroyed: flush its cache
// Off-heap, never-freed memory for runtime structures (G, M, P, Sudog).
void *rt_persistentalloc(size_t size, size_t align);
void rt_gc_init(void); // src/gc: pacer init (GOGC, GOMEMLIMIT)

// ---- OS interface (src/os/<os>; contract in src/os/os.h) -----------------
#include "os/os.h"

#endif // GORT_RT_H
