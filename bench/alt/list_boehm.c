// list_boehm.c: bench/list.c on the Boehm collector (GC_MALLOC; nothing
// freed). Same output as bench/list.c. Usage: list_boehm [N=1000000] [REPS=40].
#include <gc.h>
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
        Node *x = GC_MALLOC(sizeof(Node));
        x->next = NULL;
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
    GC_INIT();
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int reps = argc > 2 ? atoi(argv[2]) : 40;
    Node *long_lived = build(n / 4);
    long total = 0;
    for (int r = 0; r < reps; r++)
        total += sum(build(n));
    printf("%d lists of %ld: sum %ld\n", reps, n, total);
    printf("long lived list of %ld: sum %ld\n", n / 4, sum(long_lived));
    printf("# num_gc=%lu\n", (unsigned long)GC_get_gc_no());
    return 0;
}
