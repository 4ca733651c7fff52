#!/bin/bash
# check-format.sh [SRCDIR] [CLANG_FORMAT]: clang-format --dry-run -Werror over
# the C sources and headers of src/ include/ tests/ (.S excluded), with the
# repository's .clang-format (style.md 2.8). `make format` fixes what it finds.
# The style is pinned to clang-format 14, the version Debian 12 ships (package
# clang-format): other versions format some constructs differently, so with
# one of them, or none, it says so and exits 77 (skipped).
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
cf=${2:-$(command -v clang-format-14 || command -v clang-format || true)}
if [ -z "$cf" ] || ! [ -x "$cf" ]; then
    echo "check-format: clang-format not found, skipped"
    exit 77
fi
ver=$("$cf" --version 2>/dev/null | sed -n 's/.*clang-format version \([0-9][0-9]*\)\..*/\1/p' | head -1)
if [ "$ver" != 14 ]; then
    echo "check-format: $cf is version ${ver:-unknown}; the style is pinned to clang-format 14 (Debian 12's package clang-format), skipped"
    exit 77
fi
mapfile -t files < <(find src include tests -type f \( -name '*.c' -o -name '*.h' \) | sort)
[ ${#files[@]} -gt 0 ] || { echo "check-format: no files"; exit 0; }
if ! out=$("$cf" --style=file --dry-run -Werror "${files[@]}" 2>&1); then
    echo "$out" | sed -n 1,60p
    bad=$(echo "$out" | grep -E '^[^ ]+:[0-9]+:[0-9]+: error' | cut -d: -f1 | sort -u)
    echo "check-format: $(echo "$bad" | wc -l) of ${#files[@]} files need \`make format\`:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    exit 1
fi
echo "check-format: ${#files[@]} files formatted"
