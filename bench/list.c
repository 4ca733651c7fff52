// list.c: linked lists built the way C builds a queue, by appending at the
// tail: each node is allocated, filled, then linked from the old tail (an
// old object mutated to point at a young one). A long-lived list of N/4
// nodes stays reachable to the end; then REPS lists of N nodes are built,
// summed and dropped. The output is the sums, identical for the twins
// go/list.go and alt/list_boehm.c.
// Usage: list [N=1000000] [REPS=40].
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct Node {
    struct Node *next;
    long v;
} Node;

static Node *
build(long n)
{
    Node *head = NULL, *tail = NULL;
    for (long i = 0; i < n; i++) {
        Node *x = gort_new(Node);
        x->v = i;
        if (tail != NULL)
            tail->next = x;
        else
            head = x;
        tail = x;
    }
    return head;
}

static long
sum(const Node *x)
{
    long s = 0;
    for (; x != NULL; x = x->next)
        s += x->v;
    return s;
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int reps = argc > 2 ? atoi(argv[2]) : 40;
    Node *long_lived = build(n / 4);
    long total = 0;
    for (int r = 0; r < reps; r++)
        total += sum(build(n));
    printf("%d lists of %ld: sum %ld\n", reps, n, total);
    printf("long lived list of %ld: sum %ld\n", n / 4, sum(long_lived));
    gort_memstats ms;
    gort_read_memstats(&ms);
    printf("# num_gc=%u\n", ms.num_gc);
    return 0;
}
