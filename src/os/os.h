// os.h: what the runtime needs from the operating system.
//
// Each OS provides these in src/os/<os>/. Contract: functions return 0 (or a
// valid pointer) on success and a negative errno value (or NULL) on failure;
// none of them allocates from the gort heap or takes a runtime Lock, so all
// may be called from g0, sysmon and (where marked) signal handlers.
#ifndef GORT_OS_H
#define GORT_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Memory. Reserved memory is mapped PROT_NONE; rt_os_map maps read-write,
// zero-filled, lazily committed (MAP_NORESERVE). NULL on failure.
void *rt_os_map(size_t n);
void *rt_os_reserve(void *hint, size_t n);
int rt_os_commit(void *p, size_t n); // reserved -> read-write
void rt_os_unmap(void *p, size_t n);
// Gives pages back, keeps the mapping (they read zero on reuse); 0, or a
// negative errno value when the kernel refused and the pages are unchanged.
int rt_os_release(void *p, size_t n);
// Installs a guard page range: a fault on access, no extra VMA where the
// kernel supports MADV_GUARD_INSTALL; mprotect(PROT_NONE) otherwise.
int rt_os_guard(void *p, size_t n);
size_t rt_os_pagesize(void);
// The most memory this process could ever hold: physical RAM plus swap,
// lowered to RLIMIT_AS or RLIMIT_DATA where those are set. A request above
// it can never be met, whatever is freed first.
uint64_t rt_os_mem_max(void);

// Dirty-page tracking for the concurrent collector (src/os/linux/dirty.c).
// rt_os_dirty_init returns 0 when the kernel tracks writes for us
// (userfaultfd write protection in async mode plus PAGEMAP_SCAN); then a
// range registered once can be armed (every later write to a page is
// recorded, by the kernel, without a signal) and its written pages listed.
// Ranges are OS-page aligned.
int rt_os_dirty_init(void);
int rt_os_dirty_register(uintptr_t lo, size_t n);
int rt_os_dirty_protect(uintptr_t lo, size_t n, int arm); // arm 1: track, 0: stop
// Calls fn(lo, hi, arg) for each run of pages in [lo, hi) written since they
// were armed; rearm arms them again in the same walk. Returns the number of
// written pages, or a negative errno value.
long rt_os_dirty_scan(uintptr_t lo, uintptr_t hi, int rearm,
                      void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);

// Pages that may hold data: calls fn(lo, hi, arg) for each run of OS pages
// in [lo, hi) (page aligned) that are resident or swapped out, per
// /proc/self/pagemap. Pages never touched, or released with MADV_DONTNEED,
// read zero in a private anonymous mapping and are left out. Where the
// kernel will not say (no pagemap), the whole range is reported. Pages armed
// for dirty tracking while untouched read as swapped (a uffd-wp marker looks
// like a swap entry without CAP_SYS_ADMIN), so they are reported too. Not
// signal-safe (pread); opens pagemap on first use.
void rt_os_resident_scan(uintptr_t lo, uintptr_t hi,
                         void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);

// As rt_os_resident_scan, by mincore(2): pages in memory. Exact only where
// no swap is configured, and then it leaves out untouched pages armed for
// dirty tracking, which rt_os_resident_scan cannot tell from swapped ones.
void rt_os_core_scan(uintptr_t lo, uintptr_t hi, void (*fn)(uintptr_t lo, uintptr_t hi, void *arg),
                     void *arg);
// Whether any swap is configured (or sysinfo fails): then pages may leave
// memory with their data.
bool rt_os_swap_configured(void);
// The system's count of pages swapped out since boot; UINT64_MAX where it
// cannot be read. Two equal reads mean no page was swapped out between them.
uint64_t rt_os_swapouts(void);

// Time. [signal-safe]
int64_t rt_nanotime(void); // CLOCK_MONOTONIC
int64_t rt_walltime(void); // CLOCK_REALTIME, ns since the epoch
void rt_os_usleep(int64_t us);
void rt_os_osyield(void);

// Futex on a 32-bit word. sleep returns after a wake, a timeout (ns >= 0), or
// spuriously; callers re-check. [signal-safe]
void rt_os_futexsleep(_Atomic uint32_t *addr, uint32_t val, int64_t ns);
void rt_os_futexwake(_Atomic uint32_t *addr, uint32_t cnt);

// Threads. rt_os_newosproc starts fn(arg) on a new thread with its own OS
// stack and returns its pthread id in *thread (thread may be NULL).
int rt_os_newosproc(void *(*fn)(void *), void *arg, uintptr_t *thread);
int rt_os_gettid(void);
int rt_os_tgkill(int tid, int sig); // [signal-safe]
int rt_os_ncpu(void);
// CPUs the process may really use (src/os/linux/cpulimit.c): the affinity
// mask's count, lowered to the cgroup v2 CPU quota; *source says which
// limit applied (RT_CPU_*). Reads files: not signal-safe; no allocation.
enum { RT_CPU_MACHINE = 0, RT_CPU_AFFINITY = 1, RT_CPU_CGROUP = 2 };
int rt_os_cpu_limit(int *source);
// The CPUs cpu.max allows in cgroup directory dir and its parents up to
// (and including) stop, at least 1; 0 if none sets a quota.
int rt_os_cgroup_cpu_max(const char *dir, const char *stop);
// Bounds of the calling thread's own stack.
void rt_os_thread_stack(uintptr_t *lo, uintptr_t *hi);

// The auxiliary vector the kernel leaves above envp (src/os/linux/auxv.c,
// Go's sysauxv): *pagesz gets AT_PAGESZ and *random the first 8 bytes of
// AT_RANDOM, each left as it was when absent. Returns the number of entries.
int rt_os_auxv(char **envp, uintptr_t *pagesz, uint64_t *random);

// Loaded objects and their symbols (src/os/linux/symtab.c has the overview).
//
// rt_os_symtab_init records the loaded objects (dl_iterate_phdr) for
// symbolization. Call once from rt_schedinit, on the main thread, before
// other threads start and after rt_parsedebugvars. Symbol tables themselves
// are mapped lazily, on the first lookup, with open/fstat/mmap/close only.
// If it was never called, the first lookup calls it (not async-signal-safe
// then: dl_iterate_phdr takes the loader's lock). Objects dlopen'ed later
// are not symbolized. After it, the rt_os_sym_* lookups are signal-safe in
// practice (symtab.c says how far): no malloc, no lock; they may lose
// symbols to a concurrent first lookup of the same object.
void rt_os_symtab_init(void);
typedef struct SymObj SymObj; // a loaded object (opaque)
typedef struct Sym {
    const SymObj *obj; // the object holding the address; NULL: none, nor the rest
    const char *path;  // its printed name (the executable's real path)
    uintptr_t bias;    // its load bias: runtime address - ELF vaddr
    bool is_gort;      // it is libgort.so: all its code is the runtime's
    const char *name;  // the symbol holding the address; NULL if none
    uintptr_t entry;   // runtime address of that symbol's first byte
} Sym;
// The function holding pc (a runtime address); obj is NULL when pc is in no
// loaded object's executable segments.
Sym rt_os_sym_func(uintptr_t pc);
// The global (a sized ELF data symbol) holding addr, in *s; false, leaving
// *s alone, if addr is in no loaded object's writable segments.
bool rt_os_sym_data(uintptr_t addr, Sym *s);
// The source position of pc (a runtime address in s->obj) from the object's
// .debug_line: *file, with *dir its directory (NULL when unknown), and
// *line. false without a line table or a row for pc.
bool rt_os_sym_line(const Sym *s, uintptr_t pc, const char **dir, const char **file,
                    uint64_t *line);
// Calls fn(lo, hi, arg) for each writable PT_LOAD segment (data, bss) of
// every object loaded now, the executable first. Takes the loader's lock:
// never with the world stopped (a stopped thread may hold it) nor from a
// signal handler.
void rt_os_data_segments(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);

// I/O. [signal-safe]
long rt_os_write(int fd, const void *p, size_t n);
__attribute__((noreturn)) void rt_os_exit(int code); // exit_group, no atexit handlers
__attribute__((noreturn)) void rt_os_abort(void);    // SIGABRT with default action

// Network poller backend (src/os/linux/netpoll_epoll.c; src/netpoll/netpoll.h
// has the overview). One kernel queue per process. Each descriptor is
// registered once, edge-triggered, for both directions; `tag` (never 0) comes
// back with every event, so the caller can drop events of a descriptor that
// was deregistered since. rt_os_netpoll_open returns -EPERM for a descriptor
// the kernel cannot watch (a regular file). rt_os_netpoll_break makes a
// blocked or the next blocking rt_os_netpoll_wait return; calls between two
// such returns collapse into one wake-up. rt_os_netpoll_wait waits up to
// delay ns (< 0: forever, 0: just looks) and calls fn(tag, mode, arg) for each
// event, mode being RT_OS_POLL_READ | RT_OS_POLL_WRITE (errors and hang-ups
// report both); it returns the number of events, 0 after a timeout, a break
// or a signal.
enum { RT_OS_POLL_READ = 1, RT_OS_POLL_WRITE = 2 };
int rt_os_netpoll_init(void);
int rt_os_netpoll_open(int fd, uint64_t tag);
int rt_os_netpoll_close(int fd);
void rt_os_netpoll_break(void);
int rt_os_netpoll_wait(int64_t delay, void (*fn)(uint64_t tag, int mode, void *arg), void *arg);

#endif // GORT_OS_H
