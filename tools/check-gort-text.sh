#!/bin/bash
# check-gort-text.sh LIBGORT_A LIBGORT_SO STATIC_EXE SHARED_EXE
#
# Checks the gort_text layout (cmake/gort_text.ld): libgort.a holds one
# object whose code is all in section gort_text; in libgort.so and in an
# executable linked with libgort.a, __start_gort_text/__stop_gort_text are
# defined and bracket the runtime's code (gort_rt0_go, gort_go) but not the
# program's main; the shared executable has no gort_text of its own and
# libgort.so does not export the bounds.
set -euo pipefail
a=$1 so=$2 exe=$3 exe_so=$4
fail() { echo "check-gort-text: $*" >&2; exit 1; }

members=$(ar t "$a")
[ "$(echo "$members" | wc -l)" -eq 1 ] || fail "$a has more than one member: $members"
secs=$(readelf -SW "$a")
echo "$secs" | grep ' gort_text ' >/dev/null || fail "$a: no gort_text section"
# Code outside gort_text: any non-empty .text or .text.* section.
stray=$(echo "$secs" | sed -n 's/^ *\[ *[0-9]*\] *//p' |
    awk '$1 ~ /^\.text/ && $5 ~ /[1-9a-f]/ {print $1}')
[ -z "$stray" ] || fail "$a: code left outside gort_text: $stray"

# addr FILE SYMBOL: the symbol's value in FILE's symbol table, in hex.
addr() { nm "$1" | awk -v s="$2" '$3 == s && !seen {print $1; seen = 1}'; }
inside() { # FILE SYMBOL: within [__start_gort_text, __stop_gort_text)?
    local lo hi x
    lo=$(addr "$1" __start_gort_text) hi=$(addr "$1" __stop_gort_text) x=$(addr "$1" "$2")
    [ -n "$lo" ] && [ -n "$hi" ] || fail "$1: __start_gort_text/__stop_gort_text undefined"
    [ -n "$x" ] || fail "$1: no symbol $2"
    (( 16#$x >= 16#$lo && 16#$x < 16#$hi ))
}
for f in "$so" "$exe"; do
    readelf -SW "$f" | grep ' gort_text ' >/dev/null || fail "$f: no gort_text section"
    inside "$f" gort_rt0_go || fail "$f: gort_rt0_go outside gort_text"
    inside "$f" gort_go || fail "$f: gort_go outside gort_text"
done
inside "$exe" main && fail "$exe: main inside gort_text"
if readelf -SW "$exe_so" | grep ' gort_text ' >/dev/null; then fail "$exe_so: has its own gort_text"; fi
readelf -dW "$exe_so" | grep 'NEEDED.*libgort\.so\.0' >/dev/null || fail "$exe_so: not linked to libgort.so.0"
if nm -D --defined-only "$so" | grep '_gort_text' >/dev/null; then fail "$so exports the gort_text bounds"; fi
readelf -dW "$so" | grep 'SONAME.*libgort\.so\.0' >/dev/null || fail "$so: SONAME is not libgort.so.0"
lo=$(addr "$exe" __start_gort_text) hi=$(addr "$exe" __stop_gort_text)
echo "check-gort-text: ok (runtime code $((16#$hi - 16#$lo)) bytes in gort_text)"
