// gcbench_boehm.c: bench/gcbench.c on the Boehm collector (GC_MALLOC nodes,
// GC_MALLOC_ATOMIC array), as in Boehm's own GCBench.c. run_mem.py runs it
// with GC_MARKERS=1 and GC_MARKERS=2.
#include <gc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct Node {
    struct Node *left, *right;
    int i, j;
} Node;

#define NEW_NODE() ((Node *)GC_MALLOC(sizeof(Node)))

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
    n->left = NEW_NODE();
    n->right = NEW_NODE();
    populate(depth, n->left);
    populate(depth, n->right);
}

static Node *
make_tree(int depth)
{
    if (depth <= 0)
        return NEW_NODE();
    Node *l = make_tree(depth - 1);
    Node *r = make_tree(depth - 1);
    Node *n = NEW_NODE();
    n->left = l;
    n->right = r;
    return n;
}

static Node *
make_tree_fill(int depth)
{
    Node *n = NEW_NODE();
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

int
main(int argc, char **argv)
{
    GC_INIT();
    int max = argc > 1 ? atoi(argv[1]) : 16;
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (argc > 3 && strcmp(argv[3], "fill") == 0)
        make = make_tree_fill;
    if (max < MIN_DEPTH)
        max = MIN_DEPTH;
    int stretch = max + 2;

    printf("stretch tree of depth %d: check %ld\n", stretch, walk(make(stretch)));

    Node *long_lived = NEW_NODE();
    populate(max, long_lived);
    double *array = GC_MALLOC_ATOMIC(sizeof(double) * ARRAY_SIZE);
    for (int i = 0; i < ARRAY_SIZE / 2; i++)
        array[i] = 1.0 / i;

    for (int rep = 0; rep < reps; rep++) {
        for (int d = MIN_DEPTH; d <= max; d += 2) {
            long iters = 2 * tree_size(stretch) / tree_size(d);
            Node *t = NULL;
            for (long i = 0; i < iters; i++) {
                t = NEW_NODE();
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
    printf("# num_gc=%lu\n", (unsigned long)GC_get_gc_no());
    return ok && ll == tree_size(max) ? 0 : 1;
}
