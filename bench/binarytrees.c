// binarytrees.c: the benchmarks-game binary-trees on the gort heap.
// A stretch tree of depth MAX+1, a long-lived tree of depth MAX, then for
// depths 4, 6, .., MAX, 2^(MAX-d+4) trees built bottom-up and walked. Nodes
// are two child pointers from gort_alloc; nothing is freed by hand.
// Usage: binarytrees [MAX=20] [PAR=0] [ORDER=up]; PAR=1 runs each depth in
// its own goroutine (gort_go + WaitGroup); ORDER=fill allocates each node
// before its children (allocate, then fill), ORDER=up after them. The output is the benchmarks-game text,
// identical for PAR 0 and 1 and for the twins: go/binarytrees.go,
// alt/binarytrees_{boehm,malloc,mimalloc}.c (bench/run_mem.py compares them).
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Node {
    struct Node *l, *r;
} Node;

static Node *
bottom_up(int depth)
{
    Node *l = NULL, *r = NULL;
    if (depth > 0) {
        l = bottom_up(depth - 1);
        r = bottom_up(depth - 1);
    }
    Node *n = gort_new(Node);
    n->l = l;
    n->r = r;
    return n;
}

// The same tree, allocated before its children: the way C is usually
// written (allocate the struct, then fill its fields).
static Node *
top_down(int depth)
{
    Node *n = gort_new(Node);
    if (depth > 0) {
        n->l = top_down(depth - 1);
        n->r = top_down(depth - 1);
    }
    return n;
}

static Node *(*build)(int) = bottom_up;

static long
check(const Node *n)
{
    return n->l ? 1 + check(n->l) + check(n->r) : 1;
}

enum { MIN_DEPTH = 4 };

typedef struct {
    int depth;
    long iters, sum;
} Job;

static gort_waitgroup wg;

static void
run_job(Job *j)
{
    long sum = 0;
    for (long i = 0; i < j->iters; i++)
        sum += check(build(j->depth));
    j->sum = sum;
}

static void
job_goroutine(void *arg)
{
    run_job(arg);
    gort_waitgroup_done(&wg);
}

static void
print_num_gc(void)
{
    gort_memstats ms;
    gort_read_memstats(&ms);
    printf("# num_gc=%u\n", ms.num_gc);
}

int
main(int argc, char **argv)
{
    int max = argc > 1 ? atoi(argv[1]) : 20;
    int par = argc > 2 ? atoi(argv[2]) : 0;
    if (argc > 3 && strcmp(argv[3], "fill") == 0)
        build = top_down;
    if (max < MIN_DEPTH + 2)
        max = MIN_DEPTH + 2;

    int stretch = max + 1;
    printf("stretch tree of depth %d\t check: %ld\n", stretch, check(build(stretch)));

    Node *long_lived = build(max);

    Job jobs[32];
    int njobs = 0;
    for (int d = MIN_DEPTH; d <= max; d += 2)
        jobs[njobs++] = (Job){.depth = d, .iters = 1L << (max - d + MIN_DEPTH)};
    if (par) {
        gort_waitgroup_add(&wg, njobs);
        for (int i = 0; i < njobs; i++)
            gort_go(job_goroutine, &jobs[i]);
        gort_waitgroup_wait(&wg);
    } else {
        for (int i = 0; i < njobs; i++)
            run_job(&jobs[i]);
    }
    for (int i = 0; i < njobs; i++)
        printf("%ld\t trees of depth %d\t check: %ld\n", jobs[i].iters, jobs[i].depth, jobs[i].sum);

    printf("long lived tree of depth %d\t check: %ld\n", max, check(long_lived));
    print_num_gc();
    return 0;
}
