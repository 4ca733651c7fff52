// syscall_exit_unpaired.c: gort_syscall_exit without gort_syscall_enter.
#include <gort.h>

int
main(void)
{
    gort_syscall_exit(); // fatal error: exitsyscall: syscall frame is no longer valid
    return 0;
}
