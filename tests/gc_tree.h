// gc_tree.h: the binary tree the collector tests build, check and hang
// things off. Nodes are numbered in build order from *next, so the sum of
// a whole tree follows from its first number and its size.
#ifndef GORT_TESTS_GC_TREE_H
#define GORT_TESTS_GC_TREE_H

#include <gort.h>
#include <stdint.h>

typedef struct Node {
    struct Node *l, *r;
    void *hang; // free for the test: something stored in the node later
    uint64_t v;
} Node;

// A full tree of the given depth (2^(depth+1) - 1 nodes) on the heap.
static inline Node *
tree_build(int depth, uint64_t *next)
{
    Node *n = gort_new(Node);
    n->v = (*next)++;
    if (depth > 0) {
        n->l = tree_build(depth - 1, next);
        n->r = tree_build(depth - 1, next);
    }
    return n;
}

// Sum of v over the tree; adds its node count to *count.
static inline uint64_t
tree_sum(const Node *n, uint64_t *count)
{
    if (n == NULL)
        return 0;
    ++*count;
    return n->v + tree_sum(n->l, count) + tree_sum(n->r, count);
}

// What tree_sum gives for count nodes numbered from first.
static inline uint64_t
tree_expect_sum(uint64_t first, uint64_t count)
{
    return count * first + count * (count - 1) / 2;
}

#endif // GORT_TESTS_GC_TREE_H
