// mutex_storm.c: many goroutines hammer one mutex, an rwmutex and a cond.
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>

#define NG   1000
#define ITER 1000

static gort_mutex mu;
static long counter; // guarded by mu
static gort_rwmutex rw;
static long table[16]; // guarded by rw
static gort_waitgroup wg;
static atomic_int violations;
static long ng; // NG, scaled (harness_scaled)

static void
hammer(void *arg)
{
    intptr_t id = (intptr_t)arg;
    for (int i = 0; i < ITER; i++) {
        gort_mutex_lock(&mu);
        long v = counter;
        if ((i + id) % 64 == 0)
            gort_yield(); // sometimes hold the lock across a reschedule
        counter = v + 1;
        gort_mutex_unlock(&mu);
        if (i % 10 == 0) {
            if (id % 10 == 0) {
                gort_rwmutex_lock(&rw);
                for (int k = 0; k < 16; k++)
                    table[k]++;
                gort_rwmutex_unlock(&rw);
            } else {
                gort_rwmutex_rlock(&rw);
                for (int k = 1; k < 16; k++)
                    if (table[k] != table[0])
                        atomic_store(&violations, 1); // torn write seen
                gort_rwmutex_runlock(&rw);
            }
        }
    }
    gort_waitgroup_done(&wg);
}

// Producer/consumer through a cond-protected queue.
static gort_mutex qmu;
static gort_cond qcond;
static long queue_n, consumed; // guarded by qmu

static void
cond_producer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        gort_mutex_lock(&qmu);
        queue_n++;
        gort_cond_signal(&qcond);
        gort_mutex_unlock(&qmu);
    }
    gort_waitgroup_done(&wg);
}

static void
cond_consumer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        gort_mutex_lock(&qmu);
        while (queue_n == 0)
            gort_cond_wait(&qcond, &qmu);
        queue_n--;
        consumed++;
        gort_mutex_unlock(&qmu);
    }
    gort_waitgroup_done(&wg);
}

int
main(void)
{
    ng = harness_scaled(NG);
    int64_t t0 = gort_nanotime();
    gort_waitgroup_add(&wg, ng);
    for (intptr_t i = 0; i < ng; i++)
        gort_go(hammer, (void *)i);
    gort_waitgroup_wait(&wg);
    CHECK_EQ(counter, ng * ITER);
    CHECK_EQ(atomic_load(&violations), 0);
    // Writers: the ids that are multiples of 10, each every 10th iteration.
    CHECK_EQ(table[0], ((ng + 9) / 10) * ((ITER + 9) / 10));

    gort_waitgroup_add(&wg, 100);
    for (int i = 0; i < 50; i++) {
        gort_go(cond_consumer, NULL);
        gort_go(cond_producer, NULL);
    }
    gort_waitgroup_wait(&wg);
    CHECK_EQ(consumed, 50L * 1000);
    CHECK_EQ(queue_n, 0);
    fprintf(stderr, "    %.2f s at GOMAXPROCS=%d\n", (gort_nanotime() - t0) / 1e9,
            gort_gomaxprocs(0));
    return harness_summary();
}
