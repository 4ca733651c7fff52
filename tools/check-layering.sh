#!/bin/bash
# check-layering.sh [SRCDIR]: platform tests (__linux__, __x86_64__) may
# appear only under src/os and src/arch (style.md 2.1); everything else goes
# through src/os/os.h and src/arch/<arch>/arch.h.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
hits=$(grep -rn -E '__linux__|__x86_64__' src --include='*.c' --include='*.h' --include='*.S' |
    grep -v -E '^src/(os|arch)/' || true)
if [ -n "$hits" ]; then
    echo "check-layering: platform macros outside src/os and src/arch:" >&2
    echo "$hits" | sed 's/^/  /' >&2
    exit 1
fi
echo "check-layering: ok"
