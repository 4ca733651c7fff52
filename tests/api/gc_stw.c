// gc_stw.c: a collection never waits on user code. While one goroutine
// sits in a blocking read(2) and another spins in a loop without calls,
// gort_gc() still completes, and the objects that only those goroutines
// hold (in their frames or registers) survive it.
#include "../harness.h"

#include <gort.h>
#include <string.h>
#include <unistd.h>

#define WORDS 64

typedef struct Obj {
    uint64_t magic;
    uint64_t words[WORDS];
} Obj;

static int pipefd[2];
static _Atomic int reader_ready, spinner_ready, stop_spinning;
static _Atomic int reader_ok, spinner_ok;

static Obj *
make_obj(uint64_t seed)
{
    Obj *o = gort_alloc(sizeof(Obj));
    o->magic = seed;
    for (int i = 0; i < WORDS; i++)
        o->words[i] = seed * 31 + (uint64_t)i;
    return o;
}

static bool
obj_intact(const Obj *o, uint64_t seed)
{
    if (o->magic != seed)
        return false;
    for (int i = 0; i < WORDS; i++)
        if (o->words[i] != seed * 31 + (uint64_t)i)
            return false;
    return true;
}

// Holds its object only in its own frame while blocked in read().
static void
reader(void *arg)
{
    (void)arg;
    Obj *volatile mine = make_obj(0x5eed1);
    atomic_store(&reader_ready, 1);
    char c;
    ssize_t n = read(pipefd[0], &c, 1); // blocks this thread (no runtime hook)
    atomic_store(&reader_ok, n == 1 && obj_intact(mine, 0x5eed1));
    gort_keep_alive(mine);
}

// Holds its object only in its frame while spinning without any call.
static void
spinner(void *arg)
{
    (void)arg;
    Obj *volatile mine = make_obj(0x5eed2);
    atomic_store(&spinner_ready, 1);
    while (!atomic_load_explicit(&stop_spinning, memory_order_relaxed)) {
    }
    atomic_store(&spinner_ok, obj_intact(mine, 0x5eed2));
    gort_keep_alive(mine);
}

int
main(void)
{
    // The reader keeps its P while blocked in read (there is no system-call
    // hook to hand it off), the spinner keeps another: main needs a third.
    gort_gomaxprocs(3);
    CHECK(pipe(pipefd) == 0);
    gort_go(reader, NULL);
    gort_go(spinner, NULL);
    while (!atomic_load(&reader_ready) || !atomic_load(&spinner_ready))
        gort_sleep(1 * MS);
    gort_sleep(20 * MS); // the reader is in read(2) by now

    gort_memstats ms;
    gort_read_memstats(&ms);
    uint32_t before = ms.num_gc;
    for (int i = 0; i < 5; i++) {
        int64_t t0 = gort_nanotime();
        gort_gc();
        int64_t took = gort_nanotime() - t0;
        CHECK(took < 20000 * MS); // bounded: it did not wait for read() or the loop
        // Churn the heap so that a wrongly freed object would be reused.
        for (int j = 0; j < 20000; j++)
            (void)make_obj((uint64_t)j);
    }
    gort_read_memstats(&ms);
    CHECK(ms.num_gc >= before + 5);

    atomic_store(&stop_spinning, 1);
    CHECK(write(pipefd[1], "x", 1) == 1);
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while ((!atomic_load(&reader_ok) || !atomic_load(&spinner_ok)) && gort_nanotime() < deadline)
        gort_sleep(10 * MS);
    CHECK(atomic_load(&reader_ok));
    CHECK(atomic_load(&spinner_ok));
    return harness_summary();
}
