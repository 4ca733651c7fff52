// sieve.c: the concurrent prime sieve, a daisy chain of filter goroutines,
// one per prime found. Usage: sieve [NPRIMES=7000]. Go twin: go/sieve.go.
#include <gort.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    gort_chan *in, *out;
    long prime;
} Filter;

static void
generate(void *arg)
{
    for (long i = 2;; i++)
        gort_chan_send(arg, &i);
}

static void
filter(void *arg)
{
    Filter *f = arg;
    long i;
    for (;;) {
        gort_chan_recv(f->in, &i);
        if (i % f->prime != 0)
            gort_chan_send(f->out, &i);
    }
}

// The nth prime by trial division, to check the chain's answer.
static long
nth_prime(long n)
{
    long p = 1;
    while (n > 0) {
        p++;
        bool isprime = true;
        for (long d = 2; d * d <= p && isprime; d++)
            isprime = p % d != 0;
        n -= isprime;
    }
    return p;
}

int
main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 7000;
    gort_chan *ch = gort_chan_make(sizeof(long), 0);
    gort_go(generate, ch);
    long prime = 0;
    for (long i = 0; i < n; i++) {
        gort_chan_recv(ch, &prime);
        Filter *f = gort_new(Filter);
        *f = (Filter){.in = ch, .out = gort_chan_make(sizeof(long), 0), .prime = prime};
        gort_go(filter, f);
        ch = f->out;
    }
    printf("sieve: prime %ld is %ld\n", n, prime);
    return prime == nth_prime(n) ? 0 : 1;
}
