// gcbench.c: GCBench (John Ellis and Pete Kovac, C version by Hans Boehm) on
// the gort heap. A stretch tree of depth MAX+2 (18), a long-lived tree of
// depth MAX (16) and a 500 000-double pointer-free array that stay live to the
// end, then for depths 4, 6, .., MAX, NumIters(d) short-lived trees built
// top-down (Populate) and as many bottom-up (MakeTree); that depth loop runs
// REPS times. Nodes are {left, right, i, j} (24 bytes). To check the work, the
// last tree of each batch and the long-lived tree are walked.
// Usage: gcbench [MAX=16] [REPS=5] [ORDER=up]; ORDER=fill builds MakeTree's
// trees node first, children after (allocate, then fill), as C usually is. Twins: go/gcbench.go, alt/gcbench_boehm.c.
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Node {
    struct Node *left, *right;
    int i, j;
} Node;

enum { ARRAY_SIZE = 500000, MIN_DEPTH = 4 };

static long
tree_size(int d)
{
    return (1L << (d + 1)) - 1;
}

static void
populate(int depth, Node *n)
{
    if (depth <= 0)
        return;
    depth--;
    n->left = gort_new(Node);
    n->right = gort_new(Node);
    populate(depth, n->left);
    populate(depth, n->right);
}

static Node *
make_tree(int depth)
{
    if (depth <= 0)
        return gort_new(Node);
    Node *l = make_tree(depth - 1);
    Node *r = make_tree(depth - 1);
    Node *n = gort_new(Node);
    n->left = l;
    n->right = r;
    return n;
}

// MakeTree written the way C usually is: the node first, then its fields.
static Node *
make_tree_fill(int depth)
{
    Node *n = gort_new(Node);
    if (depth > 0) {
        n->left = make_tree_fill(depth - 1);
        n->right = make_tree_fill(depth - 1);
    }
    return n;
}

static Node *(*make)(int) = make_tree;

static long
walk(const Node *n)
{
    return n == NULL ? 0 : 1 + walk(n->left) + walk(n->right);
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
    int max = argc > 1 ? atoi(argv[1]) : 16;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (argc > 3 && strcmp(argv[3], "fill") == 0)
        make = make_tree_fill;
    if (max < MIN_DEPTH)
        max = MIN_DEPTH;
    int stretch = max + 2;

    printf("stretch tree of depth %d: check %ld\n", stretch, walk(make(stretch)));

    Node *long_lived = gort_new(Node);
    populate(max, long_lived);
    double *array = gort_alloc_noscan(sizeof(double) * ARRAY_SIZE);
    for (int i = 0; i < ARRAY_SIZE / 2; i++)
        array[i] = 1.0 / i;

    for (int rep = 0; rep < reps; rep++) {
        for (int d = MIN_DEPTH; d <= max; d += 2) {
            long iters = 2 * tree_size(stretch) / tree_size(d);
            Node *t = NULL;
            for (long i = 0; i < iters; i++) {
                t = gort_new(Node);
                populate(d, t);
            }
            long top_down = walk(t);
            for (long i = 0; i < iters; i++)
                t = make(d);
            printf("rep %d depth %d: %ld trees top-down check %ld, bottom-up check %ld\n", rep, d,
                   iters, top_down, walk(t));
        }
    }
    long ll = walk(long_lived);
    int ok = array[1000] == 1.0 / 1000;
    printf("long lived tree of depth %d: check %ld, array %s\n", max, ll, ok ? "ok" : "BAD");
    print_num_gc();
    return ok && ll == tree_size(max) ? 0 : 1;
}
