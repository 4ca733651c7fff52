// auxv.c (Linux): the auxiliary vector, read once at boot.
//
// The kernel leaves it on the initial stack after envp's NULL: pairs of
// (AT_* type, value) ending with AT_NULL. rt_args (src/core/init.c) takes
// the page size and the AT_RANDOM bytes from it, as Go's sysauxv does.
#include "rt.h"

#include <elf.h>
#include <string.h>

int
rt_os_auxv(char **envp, uintptr_t *pagesz, uint64_t *random)
{
    char **e = envp;
    while (*e)
        e++;
    int n = 0;
    for (Elf64_auxv_t *a = (Elf64_auxv_t *)(e + 1); a->a_type != AT_NULL; a++, n++) {
        if (a->a_type == AT_PAGESZ)
            *pagesz = a->a_un.a_val;
        else if (a->a_type == AT_RANDOM && a->a_un.a_val)
            memcpy(random, (void *)a->a_un.a_val, sizeof *random);
    }
    return n;
}
