#!/usr/bin/env bash
# expect.sh: run a program that must fail (or exit) in a given way.
#
# usage: expect.sh EXIT [--stderr STR]... [--stdout STR]... -- CMD [ARG]...
#
# Runs CMD, then checks that its exit status is EXIT and that its stderr
# (stdout) contains each STR as a fixed string; in STR, %5B, %5D and %25
# stand for "[", "]" and "%" (CMake lists cannot carry a lone "["). Prints
# what it saw on a mismatch and exits 1; exits 0 when everything matched. The
# same checks apply to sanitizer builds: the misuse tests are given sanitizer
# options that leave fatal signals to gort (tests/CMakeLists.txt).
set -u
decode() {
    local p=${1//"%5B"/"["}
    p=${p//"%5D"/"]"}
    printf '%s' "${p//"%25"/"%"}"
}
want_exit=$1
shift
err_pats=()
out_pats=()
while [ $# -gt 0 ]; do
    case $1 in
    --stderr) err_pats+=("$(decode "$2")"); shift 2 ;;
    --stdout) out_pats+=("$(decode "$2")"); shift 2 ;;
    --) shift; break ;;
    *) echo "expect.sh: bad argument: $1" >&2; exit 1 ;;
    esac
done
[ $# -gt 0 ] || { echo "expect.sh: no command" >&2; exit 1; }

ulimit -c 0 # crash tests must not leave cores behind
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
timeout --kill-after=5 "${EXPECT_TIMEOUT:-50}" "$@" >"$tmp/out" 2>"$tmp/err"
got_exit=$?

ok=1
if [ "$got_exit" != "$want_exit" ]; then
    echo "expect.sh: exit status $got_exit, want $want_exit" >&2
    [ "$got_exit" = 124 ] && echo "expect.sh: (124: timed out)" >&2
    ok=0
fi
for p in "${err_pats[@]+"${err_pats[@]}"}"; do
    if ! grep -qF -- "$p" "$tmp/err"; then
        echo "expect.sh: stderr lacks: $p" >&2
        ok=0
    fi
done
for p in "${out_pats[@]+"${out_pats[@]}"}"; do
    if ! grep -qF -- "$p" "$tmp/out"; then
        echo "expect.sh: stdout lacks: $p" >&2
        ok=0
    fi
done
if [ $ok = 0 ]; then
    echo "---- command: $*" >&2
    echo "---- stdout (first 40 lines):" >&2
    head -n 40 "$tmp/out" >&2
    echo "---- stderr (first 80 lines):" >&2
    head -n 80 "$tmp/err" >&2
    exit 1
fi
echo "expect.sh: exit $got_exit and all expected output seen"
exit 0
