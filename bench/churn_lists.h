// churn_lists.h: the heap of bench/gcpause.c, its Boehm twin and the test
// tests/api/gc_grow.c: a pointer array of slots, each a list of LIST
// 64-byte nodes, where random slots get new lists while the live set stays
// the same size. Each node records its list's seed and its position, and a
// check word of both, so a walk can tell a whole list from a broken one.
//
// The includer defines CHURN_NEW() as its collector's allocation of one
// Node (gort_new(Node), GC_MALLOC(sizeof(Node))) before including this.
#ifndef GORT_BENCH_CHURN_LISTS_H
#define GORT_BENCH_CHURN_LISTS_H

#include <stdbool.h>
#include <stdint.h>

#ifndef CHURN_NEW
#error "define CHURN_NEW() before including churn_lists.h"
#endif

enum { LIST = 4 };

typedef struct Node {
    struct Node *next;
    uint64_t seed, pos, check;
    uint64_t pad[4]; // 64 bytes, a Go-sized small object with one pointer
} Node;

static uint64_t churn_rng = 88172645463325252ull;

// Marsaglia's xorshift64: the same sequence in every twin.
static inline uint64_t
churn_rand(void)
{
    churn_rng ^= churn_rng << 13;
    churn_rng ^= churn_rng >> 7;
    churn_rng ^= churn_rng << 17;
    return churn_rng;
}

static inline uint64_t
churn_check(uint64_t seed, uint64_t pos)
{
    return ~(seed * 0x9e3779b97f4a7c15ull + pos);
}

// A new list for seed: its nodes hold positions LIST-1 (the head) down to 0.
static inline Node *
churn_list(uint64_t seed)
{
    Node *head = 0;
    for (uint64_t i = 0; i < LIST; i++) {
        Node *n = CHURN_NEW();
        n->next = head;
        n->seed = seed;
        n->pos = i;
        n->check = churn_check(seed, i);
        head = n;
    }
    return head;
}

// True if the list at head is whole: LIST nodes of one seed, in order.
static inline bool
churn_list_ok(const Node *head)
{
    if (head == 0)
        return false;
    uint64_t pos = LIST, seed = head->seed;
    for (const Node *n = head; n != 0; n = n->next) {
        if (pos == 0)
            return false;
        pos--;
        if (n->seed != seed || n->pos != pos || n->check != churn_check(seed, pos))
            return false;
    }
    return pos == 0;
}

#endif
