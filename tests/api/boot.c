// boot.c: the C environment is intact when main runs as goroutine 1:
// constructors ran first, stdio, TLS (__thread), errno, malloc, environment
// and arguments work, and atexit handlers run when main returns. Run also
// with GODEBUG=boottrace=1 (stages on stderr, checked by expect.sh).
#include "../harness.h"

#include <errno.h>
#include <gort.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int ctor_ran;
static int main_started;
static int ctor_saw_main;

__attribute__((constructor)) static void
ctor(void)
{
    ctor_ran = 1;
    ctor_saw_main = main_started;
}

static __thread int tls_value = 1234;
static __thread char tls_buf[64];

static void
at_exit(void)
{
    static const char msg[] = "boot: atexit handler ran\n";
    ssize_t r = write(2, msg, sizeof msg - 1);
    (void)r;
}

static atomic_int g_done;
static void
in_goroutine(void *arg)
{
    (void)arg;
    char buf[32];
    snprintf(buf, sizeof buf, "%s-%d", "g", 2);
    CHECK(strcmp(buf, "g-2") == 0);
    atomic_store(&g_done, 1);
}

int
main(int argc, char **argv)
{
    main_started = 1;
    CHECK(ctor_ran);
    CHECK(!ctor_saw_main);
    CHECK_EQ(gort_goid(), 1);

    // Arguments and environment.
    CHECK(argc >= 1);
    CHECK(argv[0] != NULL && strlen(argv[0]) > 0);
    CHECK(argv[argc] == NULL);
    CHECK(getenv("PATH") != NULL);

    // TLS of the main thread's module.
    CHECK_EQ(tls_value, 1234);
    tls_value++;
    CHECK_EQ(tls_value, 1235);
    strcpy(tls_buf, "tls");
    CHECK(strcmp(tls_buf, "tls") == 0);

    // stdio, including floating point formatting.
    char line[64];
    snprintf(line, sizeof line, "%d %.2f %s %lld", 5, 3.25, "str", (long long)INT64_MAX);
    CHECK(strcmp(line, "5 3.25 str 9223372036854775807") == 0);
    CHECK(printf("boot: stdout works\n") > 0);
    CHECK(fprintf(stderr, "boot: stderr works\n") > 0);

    // malloc and errno.
    char *m = malloc(1 << 20);
    CHECK(m != NULL);
    memset(m, 1, 1 << 20);
    free(m);
    errno = 0;
    CHECK(write(-1, "", 0) == -1);
    CHECK_EQ(errno, EBADF);

    gort_go(in_goroutine, NULL);
    int64_t deadline = gort_nanotime() + 30000 * MS;
    while (!atomic_load(&g_done) && gort_nanotime() < deadline)
        gort_sleep(1 * MS);
    CHECK(atomic_load(&g_done));

    CHECK_EQ(atexit(at_exit), 0);
    return harness_summary();
}
