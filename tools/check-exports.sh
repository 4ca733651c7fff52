#!/bin/bash
# check-exports.sh LIBGORT_SO: fails if libgort.so exports a symbol outside
# the public gort_ namespace (style.md 2.2). The runtime builds with
# -fvisibility=hidden and marks its API GORT_API; anything else that leaks
# (an rt_ helper, a static library's symbol) shows up here.
set -euo pipefail
so=${1:?usage: check-exports.sh libgort.so}
bad=$(nm -D --defined-only "$so" | awk '{print $NF}' |
    grep -v -E '^(gort_[A-Za-z0-9_]*|_init|_fini|__bss_start|_edata|_end)(@.*)?$' || true)
if [ -n "$bad" ]; then
    echo "check-exports: $so exports symbols outside gort_:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    exit 1
fi
n=$(nm -D --defined-only "$so" | grep -c ' gort_' || true)
echo "check-exports: $n gort_ symbols, nothing else"
