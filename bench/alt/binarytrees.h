// binarytrees.h: the body of bench/binarytrees.c for other allocators, shared
// by binarytrees_{boehm,malloc,mimalloc}.c. The includer defines
//   BT_INIT()        once at the start of main
//   BT_ALLOC(size)   an allocation (need not be zeroed: every field is set)
//   BT_FREE_TREES    1 to free each tree after it is walked (manual heaps)
//   BT_FREE(p)       the matching free (unused when BT_FREE_TREES is 0)
//   BT_NUM_GC        optional: the number of collections, printed at the end
// ORDER (argv[3]) "fill" builds each node before its children.
// PAR=1 runs each depth in its own pthread (Boehm: redirected by GC_THREADS).
#include <pthread.h>
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
    Node *n = BT_ALLOC(sizeof(Node));
    n->l = l;
    n->r = r;
    return n;
}

static Node *
top_down(int depth)
{
    Node *n = BT_ALLOC(sizeof(Node));
    n->l = n->r = NULL;
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

static void
drop(Node *n)
{
#if BT_FREE_TREES
    if (n->l) {
        drop(n->l);
        drop(n->r);
    }
    BT_FREE(n);
#else
    (void)n;
#endif
}

static long
check_drop(Node *n)
{
    long c = check(n);
    drop(n);
    return c;
}

enum { MIN_DEPTH = 4 };

typedef struct {
    int depth;
    long iters, sum;
} Job;

static void *
run_job(void *arg)
{
    Job *j = arg;
    long sum = 0;
    for (long i = 0; i < j->iters; i++)
        sum += check_drop(build(j->depth));
    j->sum = sum;
    return NULL;
}

int
main(int argc, char **argv)
{
    BT_INIT();
    int max = argc > 1 ? atoi(argv[1]) : 20;
    int par = argc > 2 ? atoi(argv[2]) : 0;
    if (argc > 3 && strcmp(argv[3], "fill") == 0)
        build = top_down;
    if (max < MIN_DEPTH + 2)
        max = MIN_DEPTH + 2;

    int stretch = max + 1;
    printf("stretch tree of depth %d\t check: %ld\n", stretch, check_drop(build(stretch)));

    Node *long_lived = build(max);

    Job jobs[32];
    pthread_t th[32];
    int njobs = 0;
    for (int d = MIN_DEPTH; d <= max; d += 2)
        jobs[njobs++] = (Job){.depth = d, .iters = 1L << (max - d + MIN_DEPTH)};
    if (par) {
        for (int i = 0; i < njobs; i++)
            if (pthread_create(&th[i], NULL, run_job, &jobs[i]) != 0) {
                fprintf(stderr, "binarytrees: pthread_create failed\n");
                return 1;
            }
        for (int i = 0; i < njobs; i++)
            pthread_join(th[i], NULL);
    } else {
        for (int i = 0; i < njobs; i++)
            run_job(&jobs[i]);
    }
    for (int i = 0; i < njobs; i++)
        printf("%ld\t trees of depth %d\t check: %ld\n", jobs[i].iters, jobs[i].depth, jobs[i].sum);

    printf("long lived tree of depth %d\t check: %ld\n", max, check_drop(long_lived));
#ifdef BT_NUM_GC
    printf("# num_gc=%lu\n", (unsigned long)BT_NUM_GC);
#endif
    return 0;
}
