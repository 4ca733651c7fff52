// netpoll.h: the network poller, Go's design (runtime/netpoll.go).
//
// Goroutines wait for descriptors here instead of blocking their thread in
// read(2). The kernel side is one edge-triggered epoll instance
// (src/os/linux/netpoll_epoll.c, behind the contract in src/os/os.h); this
// side keeps what the kernel reported and who waits for it.
//
// Poll descriptors (PollDesc) live in persistent memory and are never freed:
// epoll may still report a descriptor after it was closed, and such a late
// event must find memory that is still a PollDesc. Each has an index (a slot
// in a two-level table of blocks) and a sequence number fdseq, bumped when it
// is freed; the tag given to epoll is index << 32 | fdseq, so an event whose
// fdseq no longer matches belongs to an earlier descriptor and is dropped.
//
// Per direction a PollDesc has a binary semaphore, rg (read) and wg (write),
// holding one of:
//   PD_NIL    nothing is known, nobody waits;
//   PD_READY  the kernel reported readiness that nobody has consumed;
//   PD_WAIT   a goroutine is about to park;
//   a G *     that goroutine is parked (WAIT_IO).
// The waiter CASes NIL -> WAIT, re-checks closing and the deadline, and parks;
// the park's commit (on g0, after the switch) CASes WAIT -> G and counts it in
// rt_netpoll_waiters. A notifier (the poll, a deadline, close) swaps in READY
// (I/O) or NIL (error) and readies the G it took out. A waiter that finds
// READY consumes it and returns at once, so readiness reported between an
// EAGAIN and the park is never lost. Each direction has at most one waiter:
// gort_fd serializes its readers and its writers (src/netpoll/fd.c). A wait
// for either direction (gort_fd_wait with both bits) parks on rg with
// `dualwait` set: write readiness and the write deadline then also wake rg.
//
// Deadlines: rd and wd are absolute nanotimes, 0 for none, -1 once expired;
// each direction has its own Timer. rseq/wseq count the changes of the
// deadline; a timer remembers the seq it was armed for, and a fire that finds
// another seq, or a deadline not yet due, is stale and does nothing. A
// deadline set in the past expires at once and wakes the waiters. The expired
// and closing states are also published in the atomic `info` bits, which the
// I/O paths read without the lock.
//
// Close (rt_netpoll_evict): sets closing, cancels the timers and wakes both
// waiters; they fail with ECANCELED. The owner deregisters (rt_netpoll_close)
// once no operation uses the descriptor any more, closes it and frees the
// PollDesc (rt_netpoll_free).
//
// Scheduling (src/sched/proc.c, sysmon.c): rt_netpoll(delay) returns the
// goroutines that became ready as a list linked by schedlink, still
// G_WAITING; the scheduler queues them with rt_sched_injectglist. findrunnable
// looks (delay 0) before stealing when there are waiters; an M with nothing
// to run blocks in rt_netpoll until the next timer, with rt_netpoll_lastpoll
// set to 0 and rt_netpoll_polluntil to that timer, and rt_netpoll_break
// (rt_sched_timer_wake, for an earlier timer) ends the wait; sysmon looks
// when nobody did for 10 ms. rt_checkdead counts rt_netpoll_waiters as able
// to wake.
//
// Locking: pd->lock guards the deadlines, their seqs and timers, and the
// closing state; it is taken before a P's timerlock (the timers are re-armed
// under it) and never held while readying a goroutine. rg/wg and info are
// atomic. pdcache.lock (netpoll.c) guards the free list and is a leaf.
#ifndef GORT_NETPOLL_H
#define GORT_NETPOLL_H

#include "rt.h"

enum { PD_READ = 1, PD_WRITE = 2 }; // modes; equal to GORT_READ / GORT_WRITE

typedef struct PollDesc PollDesc;

// Started on first use (any goroutine); idempotent.
void rt_netpoll_init(void);
// Has rt_netpoll_init run? [any thread]
bool rt_netpoll_inited(void);

// Registers fd with the poller. NULL with *err set (an errno value) on
// failure; EPERM: the kernel cannot watch fd (a regular file).
PollDesc *rt_netpoll_open(int fd, int *err);
// Close, step 1: operations parked now or later fail with ECANCELED.
void rt_netpoll_evict(PollDesc *pd);
// Close, step 2, once nothing uses pd: deregisters the descriptor (before it
// is closed, so its number may be reused).
void rt_netpoll_close(PollDesc *pd);
// Close, step 3: pd goes back to the cache; late events for it are dropped.
void rt_netpoll_free(PollDesc *pd);

// 0, or ECANCELED (closing) / ETIMEDOUT (the deadline of mode has passed).
int rt_netpoll_check(PollDesc *pd, int mode);
// Before an operation: 0, or ECANCELED / ETIMEDOUT; forgets stale readiness.
int rt_netpoll_reset(PollDesc *pd, int mode);
// Parks until pd is ready for mode (PD_READ, PD_WRITE or both: either):
// 0, or ECANCELED (closed) / ETIMEDOUT (deadline). User goroutine only.
int rt_netpoll_wait(PollDesc *pd, int mode);
// The same, and *fresh says whether the readiness was reported while this
// wait was published (so it is current: epoll re-reads the descriptor's
// state when it reports), rather than left from an edge taken before it
// began, which may be stale.
int rt_netpoll_wait_fresh(PollDesc *pd, int mode, bool *fresh);
// Sets the deadline of the directions in mode (absolute nanotime; 0 clears;
// one already past expires at once and wakes the waiters).
void rt_netpoll_set_deadline(PollDesc *pd, int64_t d, int mode);

// Scheduler side. Returns the goroutines made ready by I/O, linked through
// schedlink (NULL if none), waiting up to delay ns (< 0 forever, 0 just a
// look). Sets *n to their count. g0 or sysmon.
G *rt_netpoll(int64_t delay, int32_t *n);
// Wakes an M blocked in rt_netpoll. Any thread.
void rt_netpoll_break(void);
// Goroutines parked on descriptors. [atomic]
int32_t rt_netpoll_waiters(void);
// 0 while an M blocks in rt_netpoll; else the nanotime of the last poll.
extern _Atomic int64_t rt_netpoll_lastpoll;
// When the blocked M wakes by itself (0: not before an event).
extern _Atomic int64_t rt_netpoll_polluntil;

#endif // GORT_NETPOLL_H
