// chan.c: channels (contract: "Channels").
#include "../harness.h"

#include <gort.h>
#include <stdatomic.h>
#include <string.h>

static void
wait_goroutines(int n)
{
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (gort_num_goroutine() > n && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
}

// ---- unbuffered: a rendezvous ------------------------------------------------
static atomic_int sent_flag;
static void
send_one(void *arg)
{
    int v = 42;
    gort_chan_send((gort_chan *)arg, &v);
    atomic_store(&sent_flag, 1);
}

static void
test_unbuffered(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    CHECK_EQ(gort_chan_cap(c), 0);
    CHECK_EQ(gort_chan_len(c), 0);
    gort_go(send_one, c);
    gort_sleep(20 * MS);
    // The sender cannot finish before someone receives.
    CHECK_EQ(atomic_load(&sent_flag), 0);
    CHECK_EQ(gort_chan_len(c), 0);
    int v = 0;
    CHECK(gort_chan_recv(c, &v));
    CHECK_EQ(v, 42);
    wait_goroutines(1);
    CHECK_EQ(atomic_load(&sent_flag), 1);
}

// Receiver first: a blocked receiver gets the value.
static void
recv_check(void *arg)
{
    gort_chan **cs = arg;
    long v = 0;
    bool ok = gort_chan_recv(cs[0], &v);
    long reply = ok ? v + 1 : -1;
    gort_chan_send(cs[1], &reply);
}

static void
test_unbuffered_recv_first(void)
{
    gort_chan *cs[2] = {gort_chan_make(sizeof(long), 0), gort_chan_make(sizeof(long), 0)};
    gort_go(recv_check, cs);
    gort_sleep(10 * MS); // let it block in recv
    long v = 1000;
    gort_chan_send(cs[0], &v);
    long r = 0;
    CHECK(gort_chan_recv(cs[1], &r));
    CHECK_EQ(r, 1001);
}

// Ping-pong many times between two goroutines.
static void
ponger(void *arg)
{
    gort_chan **cs = arg;
    int v;
    while (gort_chan_recv(cs[0], &v)) {
        v++;
        gort_chan_send(cs[1], &v);
    }
}

static void
test_pingpong(void)
{
    gort_chan *cs[2] = {gort_chan_make(sizeof(int), 0), gort_chan_make(sizeof(int), 0)};
    gort_go(ponger, cs);
    int v = 0, bad = 0;
    for (int i = 0; i < 10000; i++) {
        int w = v;
        gort_chan_send(cs[0], &w);
        CHECK(gort_chan_recv(cs[1], &w) || (bad = 1));
        bad |= w != v + 1;
        v = w;
    }
    CHECK(!bad);
    CHECK_EQ(v, 10000);
    gort_chan_close(cs[0]);
    wait_goroutines(1);
}

// ---- buffered: FIFO, len and cap ----------------------------------------------
static void
test_buffered_fifo(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 5);
    CHECK_EQ(gort_chan_cap(c), 5);
    CHECK_EQ(gort_chan_len(c), 0);
    for (int i = 0; i < 3; i++)
        gort_chan_send(c, &i);
    CHECK_EQ(gort_chan_len(c), 3);
    CHECK_EQ(gort_chan_cap(c), 5);
    int v = -1;
    CHECK(gort_chan_recv(c, &v));
    CHECK_EQ(v, 0);
    for (int i = 3; i < 6; i++)
        gort_chan_send(c, &i); // wraps around the ring
    CHECK_EQ(gort_chan_len(c), 5);
    for (int i = 1; i < 6; i++) {
        CHECK(gort_chan_recv(c, &v));
        CHECK_EQ(v, i);
    }
    CHECK_EQ(gort_chan_len(c), 0);
}

// A full buffer blocks the sender until a receive makes room.
static void
fill_and_more(void *arg)
{
    gort_chan *c = arg;
    for (int i = 0; i < 5; i++)
        gort_chan_send(c, &i);
    atomic_store(&sent_flag, 1);
}

static void
test_buffered_blocks(void)
{
    atomic_store(&sent_flag, 0);
    gort_chan *c = gort_chan_make(sizeof(int), 2);
    gort_go(fill_and_more, c);
    // Wait for the buffer to fill (on a loaded machine the sender may not
    // have run within a fixed sleep), then give it time to block on the third.
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (gort_chan_len(c) < 2 && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    gort_sleep(20 * MS);
    CHECK_EQ(gort_chan_len(c), 2);
    CHECK_EQ(atomic_load(&sent_flag), 0);
    for (int i = 0; i < 5; i++) {
        int v = -1;
        CHECK(gort_chan_recv(c, &v));
        CHECK_EQ(v, i);
    }
    wait_goroutines(1);
    CHECK_EQ(atomic_load(&sent_flag), 1);
}

// Each producer's values arrive in order, whatever the interleaving.
#define NPROD 8
#define NPER  2000
typedef struct {
    gort_chan *c;
    int id;
} ProdArg;

static void
producer(void *arg)
{
    ProdArg *a = arg;
    for (int i = 0; i < NPER; i++) {
        int v = a->id * 100000 + i;
        gort_chan_send(a->c, &v);
    }
}

static void
test_multi_producer_fifo(void)
{
    static ProdArg args[NPROD];
    gort_chan *c = gort_chan_make(sizeof(int), 16);
    for (int p = 0; p < NPROD; p++) {
        args[p].c = c;
        args[p].id = p;
        gort_go(producer, &args[p]);
    }
    int next[NPROD] = {0};
    int bad = 0;
    for (int n = 0; n < NPROD * NPER; n++) {
        int v;
        if (!gort_chan_recv(c, &v)) {
            bad = 1;
            break;
        }
        int p = v / 100000, i = v % 100000;
        if (p < 0 || p >= NPROD || next[p] != i)
            bad = 1;
        else
            next[p]++;
    }
    CHECK(!bad);
    for (int p = 0; p < NPROD; p++)
        CHECK_EQ(next[p], NPER);
    CHECK_EQ(gort_chan_len(c), 0);
}

// ---- element sizes ---------------------------------------------------------------
typedef struct {
    unsigned char b[1000];
} Big;

static void
send_big(void *arg)
{
    Big v;
    for (int i = 0; i < 1000; i++)
        v.b[i] = (unsigned char)(i * 7);
    gort_chan_send((gort_chan *)arg, &v);
    gort_chan_send((gort_chan *)arg, &v);
}

static void
test_big_elements(void)
{
    gort_chan *c = gort_chan_make(sizeof(Big), 1);
    gort_go(send_big, c);
    for (int k = 0; k < 2; k++) {
        Big v;
        memset(&v, 0xEE, sizeof v);
        CHECK(gort_chan_recv(c, &v));
        int bad = 0;
        for (int i = 0; i < 1000; i++)
            bad |= v.b[i] != (unsigned char)(i * 7);
        CHECK(!bad);
    }
}

// elem_size 0: a channel of struct{}.
static void
send_empty(void *arg)
{
    char dummy = 0;
    for (int i = 0; i < 100; i++)
        gort_chan_send((gort_chan *)arg, &dummy);
    gort_chan_close((gort_chan *)arg);
}

static void
test_elem_size_zero(void)
{
    char dummy = 0;
    gort_chan *b = gort_chan_make(0, 3);
    CHECK_EQ(gort_chan_cap(b), 3);
    for (int i = 0; i < 3; i++)
        gort_chan_send(b, &dummy);
    CHECK_EQ(gort_chan_len(b), 3);
    gort_case full = {.chan = b, .dir = GORT_SEND, .elem = &dummy};
    CHECK_EQ(gort_select(&full, 1, false), -1); // no room for a fourth
    CHECK(gort_chan_recv(b, NULL));
    CHECK_EQ(gort_chan_len(b), 2);

    gort_chan *u = gort_chan_make(0, 0);
    gort_go(send_empty, u);
    int n = 0;
    while (gort_chan_recv(u, NULL))
        n++;
    CHECK_EQ(n, 100);
}

// ---- close ----------------------------------------------------------------------
static atomic_int woke_false;
static void
recv_until_closed(void *arg)
{
    long v = 77;
    bool ok = gort_chan_recv((gort_chan *)arg, &v);
    if (!ok && v == 0)
        atomic_fetch_add(&woke_false, 1);
}

static void
test_close_wakes_receivers(void)
{
    wait_goroutines(1); // earlier parts' goroutines are gone
    gort_chan *c = gort_chan_make(sizeof(long), 0);
    for (int i = 0; i < 20; i++)
        gort_go(recv_until_closed, c);
    gort_sleep(20 * MS); // let them all block
    CHECK_EQ(gort_num_goroutine(), 21);
    gort_chan_close(c);
    wait_goroutines(1);
    CHECK_EQ(gort_num_goroutine(), 1);
    CHECK_EQ(atomic_load(&woke_false), 20);
}

static void
test_close_drains_then_false(void)
{
    gort_chan *c = gort_chan_make(sizeof(long), 4);
    for (long i = 1; i <= 3; i++)
        gort_chan_send(c, &i);
    gort_chan_close(c);
    CHECK_EQ(gort_chan_len(c), 3);
    for (long i = 1; i <= 3; i++) {
        long v = 0;
        CHECK(gort_chan_recv(c, &v)); // buffered values survive close
        CHECK_EQ(v, i);
    }
    long v = 12345;
    CHECK(!gort_chan_recv(c, &v));
    CHECK_EQ(v, 0);                  // *out zeroed
    CHECK(!gort_chan_recv(c, NULL)); // out may be NULL
    CHECK(!gort_chan_recv(c, &v));   // and again: never blocks
    CHECK_EQ(gort_chan_len(c), 0);
    CHECK_EQ(gort_chan_cap(c), 4);

    // Every byte of a large element is zeroed.
    gort_chan *bc = gort_chan_make(sizeof(Big), 0);
    gort_chan_close(bc);
    Big b;
    memset(&b, 0xAB, sizeof b);
    CHECK(!gort_chan_recv(bc, &b));
    int nonzero = 0;
    for (int i = 0; i < 1000; i++)
        nonzero |= b.b[i];
    CHECK_EQ(nonzero, 0);
}

static void
test_recv_null_out(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 1);
    int v = 9;
    gort_chan_send(c, &v);
    CHECK(gort_chan_recv(c, NULL)); // value discarded
    CHECK_EQ(gort_chan_len(c), 0);
}

// ---- NULL channel ------------------------------------------------------------------
static atomic_int nil_returned;
static void
recv_nil(void *arg)
{
    (void)arg;
    gort_chan_recv(NULL, NULL); // blocks forever
    atomic_store(&nil_returned, 1);
}

static void
send_nil(void *arg)
{
    (void)arg;
    int v = 1;
    gort_chan_send(NULL, &v); // blocks forever
    atomic_store(&nil_returned, 1);
}

static void
test_nil_channel(void)
{
    CHECK_EQ(gort_chan_len(NULL), 0);
    CHECK_EQ(gort_chan_cap(NULL), 0);
    int base = gort_num_goroutine();
    gort_go(recv_nil, NULL);
    gort_go(send_nil, NULL);
    gort_sleep(20 * MS);
    CHECK_EQ(atomic_load(&nil_returned), 0);
    CHECK_EQ(gort_num_goroutine(), base + 2); // they stay blocked; main may still return
}

int
main(void)
{
    RUN(test_unbuffered);
    RUN(test_unbuffered_recv_first);
    RUN(test_pingpong);
    RUN(test_buffered_fifo);
    RUN(test_buffered_blocks);
    RUN(test_multi_producer_fifo);
    RUN(test_big_elements);
    RUN(test_elem_size_zero);
    RUN(test_close_wakes_receivers);
    RUN(test_close_drains_then_false);
    RUN(test_recv_null_out);
    RUN(test_nil_channel);
    return harness_summary();
}
