// skynet.c: the skynet benchmark. Each node starts 10 children and sums what
// they send back over its channel; the leaves send their own number.
// Usage: skynet [LEAVES=1000000] (a power of 10). Go twin: go/skynet.go.
#include <gort.h>
#include <stdio.h>
#include <stdlib.h>

enum { DIV = 10 };

typedef struct {
    gort_chan *c;
    long num, size;
} Node;

static void
skynet(void *arg)
{
    Node *nd = arg;
    if (nd->size == 1) {
        gort_chan_send(nd->c, &nd->num);
        return;
    }
    gort_chan *rc = gort_chan_make(sizeof(long), 0);
    long sub = nd->size / DIV;
    for (long i = 0; i < DIV; i++) {
        Node *child = gort_new(Node);
        *child = (Node){.c = rc, .num = nd->num + i * sub, .size = sub};
        gort_go(skynet, child);
    }
    long sum = 0, v;
    for (long i = 0; i < DIV; i++) {
        gort_chan_recv(rc, &v);
        sum += v;
    }
    gort_chan_send(nd->c, &sum);
}

int
main(int argc, char **argv)
{
    long leaves = argc > 1 ? atol(argv[1]) : 1000000;
    Node *root = gort_new(Node);
    *root = (Node){.c = gort_chan_make(sizeof(long), 0), .num = 0, .size = leaves};
    gort_go(skynet, root);
    long sum;
    gort_chan_recv(root->c, &sum);
    printf("skynet: sum %ld\n", sum);
    return sum == leaves * (leaves - 1) / 2 ? 0 : 1;
}
