#!/bin/bash
# check-layering.sh [SRCDIR]: what belongs to the OS or the CPU stays in
# src/os and src/arch (style.md 2.1); everything else goes through
# src/os/os.h and src/arch/<arch>/arch.h. In the runtime's sources (src/,
# *.c, *.h, *.S) it finds:
#
#   platform tests   __linux__, __x86_64__              outside src/os, src/arch
#   ELF, the loader  <elf.h>, <link.h>, Elf32_/Elf64_    outside src/os
#                    types, ElfW(...), dl_iterate_phdr
#   raw memory       <sys/mman.h>, mmap, munmap,         outside src/os
#                    mprotect, madvise calls             (rt_os_map & co.)
#
# The platform macros are looked for anywhere on a line, as they always were;
# the other two groups only in code: comments and string literals are
# blanked first, so a sentence may still say "mmap'd" or "dl_iterate_phdr".
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
fail=0

report() { # report TITLE HITS
    if [ -n "$2" ]; then
        echo "check-layering: $1:" >&2
        echo "$2" | sed 's/^/  /' >&2
        fail=1
    fi
}

hits=$(grep -rn -E '__linux__|__x86_64__' src --include='*.c' --include='*.h' --include='*.S' |
    grep -v -E '^src/(os|arch)/' || true)
report "platform macros outside src/os and src/arch" "$hits"

# Prints FILE:LINE: TEXT for each line of the files on stdin whose code (its
# comments and string and character literals blanked) matches the ERE $1.
code_grep() {
    RE="$1" xargs -r awk '
    FNR == 1 { incomment = 0 }
    {
        line = $0; code = ""; n = length(line); i = 1
        while (i <= n) {
            c = substr(line, i, 1); c2 = substr(line, i, 2)
            if (incomment) {
                if (c2 == "*/") { incomment = 0; i += 2 } else i++
                continue
            }
            if (c2 == "//") break
            if (c2 == "/*") { incomment = 1; i += 2; continue }
            if (c == "\"" || c == "\047") {
                q = c; i++
                while (i <= n) {
                    c = substr(line, i, 1)
                    if (c == "\\") { i += 2; continue }
                    i++
                    if (c == q) break
                }
                code = code q q
                continue
            }
            code = code c; i++
        }
        if (code ~ ENVIRON["RE"]) print FILENAME ":" FNR ": " line
    }'
}

outside_os=$(find src \( -name '*.c' -o -name '*.h' -o -name '*.S' \) -not -path 'src/os/*' | sort)
w='(^|[^A-Za-z0-9_])'

elf_re="#[[:blank:]]*include[[:blank:]]*<(elf|link)\.h>|${w}Elf(32|64)_|${w}ElfW[[:blank:]]*\(|${w}dl_iterate_phdr(\$|[^A-Za-z0-9_])"
hits=$(echo "$outside_os" | code_grep "$elf_re")
report "ELF or loader code outside src/os (put it behind src/os/os.h)" "$hits"

mem_re="#[[:blank:]]*include[[:blank:]]*<sys/mman\.h>|${w}(mmap|munmap|mprotect|madvise)[[:blank:]]*\("
hits=$(echo "$outside_os" | code_grep "$mem_re")
report "raw mmap/munmap/mprotect/madvise outside src/os (use rt_os_map, rt_os_unmap, rt_os_guard, rt_os_release, ...)" "$hits"

if [ "$fail" -ne 0 ]; then
    exit 1
fi
echo "check-layering: ok"
