// sync.c: mutex, rwmutex, waitgroup, once and cond (contract:
// "Synchronization"). The zero value of each type is used as is.
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>
#include <string.h>

static void
wait_for(atomic_int *v, int want)
{
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (atomic_load(v) < want && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
}

// ---- mutex: exclusion among many goroutines --------------------------------------
#define NLOCKERS 64
#define NITER    2000
static gort_mutex mu;       // zero value
static long shared_counter; // guarded by mu, deliberately not atomic
static atomic_int inside, overlap, lockers_done;

static void
locker(void *arg)
{
    (void)arg;
    for (int i = 0; i < NITER; i++) {
        gort_mutex_lock(&mu);
        if (atomic_fetch_add(&inside, 1) != 0)
            atomic_store(&overlap, 1);
        long v = shared_counter;
        if (i % 100 == 0)
            gort_yield(); // give others a chance to break in
        shared_counter = v + 1;
        atomic_fetch_sub(&inside, 1);
        gort_mutex_unlock(&mu);
    }
    atomic_fetch_add(&lockers_done, 1);
}

static void
test_mutex_exclusion(void)
{
    for (int i = 0; i < NLOCKERS; i++)
        gort_go(locker, NULL);
    wait_for(&lockers_done, NLOCKERS);
    CHECK_EQ(atomic_load(&lockers_done), NLOCKERS);
    gort_mutex_lock(&mu);
    CHECK_EQ(shared_counter, (long)NLOCKERS * NITER);
    gort_mutex_unlock(&mu);
    CHECK_EQ(atomic_load(&overlap), 0);
}

// ---- trylock ---------------------------------------------------------------------
static atomic_int try_result;
static void
try_other(void *arg)
{
    atomic_store(&try_result, gort_mutex_trylock((gort_mutex *)arg) ? 1 : 2);
}

static void
test_trylock(void)
{
    gort_mutex m;
    memset(&m, 0, sizeof m);
    CHECK(gort_mutex_trylock(&m));
    CHECK(!gort_mutex_trylock(&m)); // not reentrant
    gort_go(try_other, &m);
    wait_for(&try_result, 1);
    CHECK_EQ(atomic_load(&try_result), 2);
    gort_mutex_unlock(&m);
    CHECK(gort_mutex_trylock(&m));
    gort_mutex_unlock(&m);
}

// ---- mutex: another goroutine may unlock ------------------------------------------
static atomic_int unlocked_by_other;
static void
unlock_it(void *arg)
{
    gort_mutex_unlock((gort_mutex *)arg);
    atomic_store(&unlocked_by_other, 1);
}

static void
test_unlock_by_other(void)
{
    static gort_mutex m;
    gort_mutex_lock(&m);
    gort_go(unlock_it, &m);
    gort_mutex_lock(&m); // blocks until the other goroutine unlocks
    CHECK_EQ(atomic_load(&unlocked_by_other), 1);
    gort_mutex_unlock(&m);
}

// A goroutine blocked in lock parks: with one P, the holder still runs.
static atomic_int blocked_got;
static void
lock_then_flag(void *arg)
{
    gort_mutex_lock((gort_mutex *)arg);
    atomic_store(&blocked_got, 1);
    gort_mutex_unlock((gort_mutex *)arg);
}

static void
test_lock_blocks(void)
{
    static gort_mutex m;
    int old = gort_gomaxprocs(1);
    gort_mutex_lock(&m);
    gort_go(lock_then_flag, &m);
    gort_sleep(20 * MS);
    CHECK_EQ(atomic_load(&blocked_got), 0);
    gort_mutex_unlock(&m);
    wait_for(&blocked_got, 1);
    CHECK_EQ(atomic_load(&blocked_got), 1);
    gort_gomaxprocs(old);
}

// ---- rwmutex ----------------------------------------------------------------------
static gort_rwmutex rw;
static atomic_int readers_in, max_readers, readers_done;

#define NREADERS 4
static void
reader_waits_for_all(void *arg)
{
    (void)arg;
    gort_rwmutex_rlock(&rw);
    atomic_fetch_add(&readers_in, 1);
    // Hold the read lock until every reader holds it: only possible if
    // readers are admitted together.
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (atomic_load(&readers_in) < NREADERS && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    int n = atomic_load(&readers_in);
    int m = atomic_load(&max_readers);
    while (n > m && !atomic_compare_exchange_weak(&max_readers, &m, n))
        ;
    gort_rwmutex_runlock(&rw);
    atomic_fetch_add(&readers_done, 1);
}

static void
test_rw_readers_concurrent(void)
{
    for (int i = 0; i < NREADERS; i++)
        gort_go(reader_waits_for_all, NULL);
    wait_for(&readers_done, NREADERS);
    CHECK_EQ(atomic_load(&readers_done), NREADERS);
    CHECK_EQ(atomic_load(&max_readers), NREADERS);
}

// Writers exclude readers and each other.
static atomic_int w_in, r_in, rw_violation, rw_done;
static long rw_value; // written under the write lock

static void
rw_writer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 500; i++) {
        gort_rwmutex_lock(&rw);
        if (atomic_fetch_add(&w_in, 1) != 0 || atomic_load(&r_in) != 0)
            atomic_store(&rw_violation, 1);
        long v = rw_value;
        if (i % 50 == 0)
            gort_yield();
        rw_value = v + 1;
        atomic_fetch_sub(&w_in, 1);
        gort_rwmutex_unlock(&rw);
    }
    atomic_fetch_add(&rw_done, 1);
}

static void
rw_reader(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2000; i++) {
        gort_rwmutex_rlock(&rw);
        atomic_fetch_add(&r_in, 1);
        if (atomic_load(&w_in) != 0)
            atomic_store(&rw_violation, 1);
        if (i % 100 == 0)
            gort_yield();
        atomic_fetch_sub(&r_in, 1);
        gort_rwmutex_runlock(&rw);
    }
    atomic_fetch_add(&rw_done, 1);
}

static void
test_rw_writer_exclusive(void)
{
    for (int i = 0; i < 4; i++)
        gort_go(rw_writer, NULL);
    for (int i = 0; i < 8; i++)
        gort_go(rw_reader, NULL);
    wait_for(&rw_done, 12);
    CHECK_EQ(atomic_load(&rw_done), 12);
    CHECK_EQ(atomic_load(&rw_violation), 0);
    gort_rwmutex_rlock(&rw);
    CHECK_EQ(rw_value, 4 * 500);
    gort_rwmutex_runlock(&rw);
}

// A writer waiting in lock keeps new readers out until it has had its turn.
static atomic_int order_seq, writer_at, late_reader_at;
static void
blocked_writer(void *arg)
{
    (void)arg;
    gort_rwmutex_lock(&rw);
    atomic_store(&writer_at, atomic_fetch_add(&order_seq, 1) + 1);
    gort_sleep(5 * MS);
    gort_rwmutex_unlock(&rw);
}

static void
late_reader(void *arg)
{
    (void)arg;
    gort_rwmutex_rlock(&rw);
    atomic_store(&late_reader_at, atomic_fetch_add(&order_seq, 1) + 1);
    gort_rwmutex_runlock(&rw);
}

static void
test_rw_writer_blocks_readers(void)
{
    gort_rwmutex_rlock(&rw); // main: the first reader
    gort_go(blocked_writer, NULL);
    // Wait until the writer is waiting for main's read lock: it has made
    // reader_count negative (rwmutex.c). A fixed sleep is not enough on a
    // loaded machine, where the late reader could then come first.
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (__atomic_load_n(&rw.reader_count_, __ATOMIC_ACQUIRE) >= 0 && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    CHECK(__atomic_load_n(&rw.reader_count_, __ATOMIC_ACQUIRE) < 0);
    CHECK_EQ(atomic_load(&writer_at), 0);
    gort_go(late_reader, NULL);
    gort_sleep(20 * MS);
    CHECK_EQ(atomic_load(&late_reader_at), 0); // kept out by the waiting writer
    gort_rwmutex_runlock(&rw);
    wait_for(&late_reader_at, 1);
    CHECK_EQ(atomic_load(&writer_at), 1);
    CHECK_EQ(atomic_load(&late_reader_at), 2);
}

// ---- waitgroup ------------------------------------------------------------------------
static atomic_int wg_work, wg_waiters_out;
static void
wg_worker(void *arg)
{
    gort_sleep(2 * MS);
    atomic_fetch_add(&wg_work, 1);
    gort_waitgroup_done((gort_waitgroup *)arg);
}

static void
wg_waiter(void *arg)
{
    gort_waitgroup_wait((gort_waitgroup *)arg);
    if (atomic_load(&wg_work) == 100)
        atomic_fetch_add(&wg_waiters_out, 1);
}

static void
test_waitgroup(void)
{
    static gort_waitgroup wg;
    gort_waitgroup_wait(&wg); // zero counter: returns at once
    gort_waitgroup_add(&wg, 0);
    gort_waitgroup_wait(&wg);
    gort_waitgroup_add(&wg, 100);
    for (int i = 0; i < 3; i++)
        gort_go(wg_waiter, &wg); // several waiters
    for (int i = 0; i < 100; i++)
        gort_go(wg_worker, &wg);
    gort_waitgroup_wait(&wg);
    CHECK_EQ(atomic_load(&wg_work), 100);
    wait_for(&wg_waiters_out, 3);
    CHECK_EQ(atomic_load(&wg_waiters_out), 3);

    // Reuse after it reached zero; add in steps, negative deltas too.
    atomic_store(&wg_work, 0);
    gort_waitgroup_add(&wg, 30);
    gort_waitgroup_add(&wg, 80);
    gort_waitgroup_add(&wg, -10);
    for (int i = 0; i < 100; i++)
        gort_go(wg_worker, &wg);
    gort_waitgroup_wait(&wg);
    CHECK_EQ(atomic_load(&wg_work), 100);
}

// ---- once: exactly once under races ---------------------------------------------------
static gort_once once;
static atomic_int once_calls, once_seen_done, once_racers_done;
static gort_chan *once_start;

static void
once_fn(void *arg)
{
    CHECK(arg == &once_calls);
    gort_sleep(10 * MS); // everyone else piles up behind us
    atomic_fetch_add(&once_calls, 1);
}

static void
once_racer(void *arg)
{
    (void)arg;
    gort_chan_recv(once_start, NULL);
    gort_once_do(&once, once_fn, &once_calls);
    // once_do returns only after fn has finished, for every caller.
    if (atomic_load(&once_calls) == 1)
        atomic_fetch_add(&once_seen_done, 1);
    atomic_fetch_add(&once_racers_done, 1);
}

static void
never(void *arg)
{
    (void)arg;
    atomic_fetch_add(&once_calls, 100);
}

static void
test_once(void)
{
    once_start = gort_chan_make(0, 0);
    for (int i = 0; i < 100; i++)
        gort_go(once_racer, NULL);
    gort_chan_close(once_start); // release them together
    wait_for(&once_racers_done, 100);
    CHECK_EQ(atomic_load(&once_racers_done), 100);
    CHECK_EQ(atomic_load(&once_calls), 1);
    CHECK_EQ(atomic_load(&once_seen_done), 100);
    gort_once_do(&once, never, NULL);
    CHECK_EQ(atomic_load(&once_calls), 1);
}

// ---- cond --------------------------------------------------------------------------------
static gort_mutex cmu;
static gort_cond cond;
static int tokens; // guarded by cmu
static atomic_int cwaiting, cwoken;

static void
cond_waiter(void *arg)
{
    (void)arg;
    gort_mutex_lock(&cmu);
    atomic_fetch_add(&cwaiting, 1);
    while (tokens == 0)
        gort_cond_wait(&cond, &cmu);
    tokens--;
    atomic_fetch_add(&cwoken, 1);
    gort_mutex_unlock(&cmu);
}

static void
test_cond(void)
{
    gort_cond_signal(&cond); // no waiters: nothing happens
    gort_cond_broadcast(&cond);
    enum { NW = 6 };
    for (int i = 0; i < NW; i++)
        gort_go(cond_waiter, NULL);
    wait_for(&cwaiting, NW);
    gort_sleep(10 * MS); // all inside cond_wait
    CHECK_EQ(atomic_load(&cwoken), 0);

    // signal wakes one waiter.
    gort_mutex_lock(&cmu);
    tokens = 1;
    gort_cond_signal(&cond);
    gort_mutex_unlock(&cmu);
    wait_for(&cwoken, 1);
    gort_sleep(20 * MS);
    CHECK_EQ(atomic_load(&cwoken), 1);

    // signal with tokens for all wakes only one at a time: the others stay
    // asleep until signalled or broadcast.
    gort_mutex_lock(&cmu);
    tokens = NW - 1;
    gort_cond_signal(&cond);
    gort_mutex_unlock(&cmu);
    wait_for(&cwoken, 2);
    gort_sleep(20 * MS);
    CHECK_EQ(atomic_load(&cwoken), 2);

    // broadcast wakes all the rest.
    gort_mutex_lock(&cmu);
    gort_cond_broadcast(&cond);
    gort_mutex_unlock(&cmu);
    wait_for(&cwoken, NW);
    CHECK_EQ(atomic_load(&cwoken), NW);
    CHECK_EQ(tokens, 0);
}

int
main(void)
{
    RUN(test_mutex_exclusion);
    RUN(test_trylock);
    RUN(test_unlock_by_other);
    RUN(test_lock_blocks);
    RUN(test_rw_readers_concurrent);
    RUN(test_rw_writer_exclusive);
    RUN(test_rw_writer_blocks_readers);
    RUN(test_waitgroup);
    RUN(test_once);
    RUN(test_cond);
    return harness_summary();
}
