#!/bin/bash
# boot-doc.sh DOC FIXTURE SCRIPT: runs docs/gdb.md's command block in gdb and
# checks the lines quoted in its expect block appear in order. Exit 77 without
# gdb or ptrace.
set -uo pipefail
doc=$1 fix=$2 script=$3
command -v gdb >/dev/null || { echo "SKIP: gdb not installed (Debian package gdb)"; exit 77; }
# Sanitizer builds: their runtimes map terabytes of shadow memory (a core of
# it would fill the disk) and add frames of their own to the boot.
# (grep -c, not -q: with pipefail, readelf's SIGPIPE would fail the test.)
if [ "$(readelf -Ws "$fix" 2>/dev/null | grep -Ec '__(asan|tsan|ubsan)_|__sanitizer_')" != 0 ]; then
    echo "SKIP: sanitizer build; the gdb tests run on the plain build"; exit 77
fi
ulimit -f 1048576 # no file written here may pass 512 MiB (a runaway core)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
sed -n '/<!-- gdb-boot-begin -->/,/<!-- gdb-boot-end -->/p' "$doc" | sed '1,2d;$d' | sed '$d' >"$tmp/boot.gdb"
sed -n '/<!-- gdb-boot-expect-begin -->/,/<!-- gdb-boot-expect-end -->/p' "$doc" | sed '1,2d;$d' | sed '$d' >"$tmp/expect"
[ -s "$tmp/boot.gdb" ] && [ -s "$tmp/expect" ] || { echo "FAIL: blocks not found in $doc"; exit 1; }
GOMAXPROCS=1 timeout 120 gdb -batch -nx -iex 'set debuginfod enabled off' \
    -iex 'set auto-load python-scripts off' -iex "source $script" -x "$tmp/boot.gdb" "$fix" \
    >"$tmp/out" 2>&1
if grep -q "ptrace: Operation not permitted" "$tmp/out"; then echo "SKIP: ptrace not permitted"; exit 77; fi
cat "$tmp/out"
python3 - "$tmp/expect" "$tmp/out" <<'PY'
import re, sys
pats = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
out = open(sys.argv[2]).read().splitlines()
i = 0
for p in pats:
    r = re.compile(p)
    while i < len(out) and not r.search(out[i]):
        i += 1
    if i == len(out):
        print("FAIL: not found (in order): " + p)
        sys.exit(1)
    print("ok: " + p)
    i += 1
print("PASS")
PY
