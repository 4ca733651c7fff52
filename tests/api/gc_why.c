// gc_why.c: gort_gc_why names what keeps an object alive: a global by its
// symbol, a goroutine's stack and the function whose frame holds the word,
// a chain through the heap, a gort_add_roots range; it says when nothing
// does, and when the address is not a heap object.
//
// The report goes to stderr; each part captures it in a temporary file
// (fd 2 redirected around the call) and checks its lines. Addresses the
// test must not keep alive itself are held complemented (~p: a number).
#include "../harness.h"

#include <gort.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct Node {
    struct Node *next;
    long v;
} Node;

static char report[1 << 16];

// gort_gc_why(~hidden) with stderr captured into report.
static __attribute__((noinline)) int
why_captured(uintptr_t hidden)
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    if (tmp == NULL) {
        perror("tmpfile");
        exit(1);
    }
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    int r = gort_gc_why((const void *)~hidden);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(report, 1, sizeof report - 1, tmp);
    report[n] = '\0';
    fclose(tmp);
    fprintf(stderr, "%s", report);
    return r;
}

static int
count_lines_with(const char *needle)
{
    int n = 0;
    for (const char *p = report; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

// ---- A global, then a chain through the heap ----------------------------------------

Node *gc_why_keeper; // the global the report must name

static __attribute__((noinline)) uintptr_t
build_chain(int len)
{
    Node *head = gort_new(Node), *x = head;
    for (int i = 1; i < len; i++) {
        x->next = gort_new(Node);
        x = x->next;
    }
    gc_why_keeper = head;
    return ~(uintptr_t)x;
}

static void
test_global(void)
{
    uintptr_t h = build_chain(1);
    CHECK_EQ(why_captured(h), 1);
    CHECK(strstr(report, "is reachable") != NULL);
    CHECK(strstr(report, "the global gc_why_keeper+0x0") != NULL);
    gc_why_keeper = NULL;
}

static void
test_heap_chain(void)
{
    uintptr_t h = build_chain(4);
    CHECK_EQ(why_captured(h), 1);
    CHECK(strstr(report, "the global gc_why_keeper+0x0") != NULL);
    // Three objects point on (word +0x0, the next field), then the object.
    CHECK_EQ(count_lines_with("bytes): word +0x0 = "), 3);
    CHECK_EQ(count_lines_with("bytes): the object"), 1);
    gc_why_keeper = NULL;
}

// A long chain is printed by its ends.
static void
test_long_chain(void)
{
    uintptr_t h = build_chain(100000);
    CHECK_EQ(why_captured(h), 1);
    CHECK(strstr(report, "more objects ...") != NULL);
    CHECK(strstr(report, "the global gc_why_keeper+0x0") != NULL);
    gc_why_keeper = NULL;
}

// ---- A goroutine's stack ------------------------------------------------------------

static gort_chan *to_holder, *from_holder;
static uintptr_t held; // ~address of the object the holder keeps

static __attribute__((noinline)) void
gc_why_holder(void *arg)
{
    (void)arg;
    Node *mine = gort_new(Node);
    mine->v = 42;
    held = ~(uintptr_t)mine;
    gort_chan_send(from_holder, NULL);
    gort_chan_recv(to_holder, NULL); // parked here with mine live in this frame
    CHECK_EQ(mine->v, 42);
    gort_keep_alive(mine);
    gort_chan_send(from_holder, NULL);
}

static void
test_stack(void)
{
    to_holder = gort_chan_make(0, 0);
    from_holder = gort_chan_make(0, 0);
    gort_go(gc_why_holder, NULL);
    gort_chan_recv(from_holder, NULL);
    CHECK_EQ(why_captured(held), 1);
    // (It may not have reached its receive yet: runnable or waiting.)
    CHECK(strstr(report, "goroutine ") != NULL && strstr(report, "'s stack (") != NULL);
    // The word is in the holder's frame, or in a runtime frame below it
    // that saved the holder's register: either way the holder is named.
    const char *frame = strstr(report, "in the frame of ");
    CHECK(frame != NULL && strstr(frame, "gc_why_holder") != NULL);
    gort_chan_send(to_holder, NULL);
    gort_chan_recv(from_holder, NULL);
}

// ---- A registered range ---------------------------------------------------------

static void
test_user_roots(void)
{
    Node **box = malloc(4 * sizeof *box); // C's heap: a root only once registered
    memset(box, 0, 4 * sizeof *box);
    gort_add_roots(box, 4 * sizeof *box);
    box[2] = gort_new(Node);
    uintptr_t h = ~(uintptr_t)box[2];
    CHECK_EQ(why_captured(h), 1);
    CHECK(strstr(report, "a range registered with gort_add_roots") != NULL);
    gort_remove_roots(box, 4 * sizeof *box);
    free(box);
}

// ---- Nothing keeps it; not a heap object -------------------------------------------

static uintptr_t dropped;

static __attribute__((noinline)) void
drop_one(void *arg)
{
    Node *x = gort_new(Node);
    dropped = ~(uintptr_t)x;
    gort_chan_send(arg, NULL);
}

static void
test_unreachable(void)
{
    gort_chan *done = gort_chan_make(0, 0);
    gort_go(drop_one, done);
    gort_chan_recv(done, NULL);
    while (gort_num_goroutine() > 1) // its stack is a root until it has exited
        gort_yield();
    CHECK_EQ(why_captured(dropped), 0);
    CHECK(strstr(report, "is not reachable") != NULL);
}

static void
test_not_heap(void)
{
    static long not_heap;
    CHECK_EQ(why_captured(~(uintptr_t)&not_heap), -1);
    CHECK(strstr(report, "is not in an allocated heap object") != NULL);
}

int
main(void)
{
    RUN(test_global);
    RUN(test_heap_chain);
    RUN(test_long_chain);
    RUN(test_stack);
    RUN(test_user_roots);
    RUN(test_unreachable);
    RUN(test_not_heap);
    return harness_summary();
}
