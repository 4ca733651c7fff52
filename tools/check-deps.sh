#!/bin/bash
# check-deps.sh [SRCDIR]: runs the Makefile's `deps` recipe for real, with
# stand-ins first on PATH, and checks the exact commands it would run:
#   dpkg     reports every package missing (and logs which were asked about)
#   id       `id -u` answers $FAKE_UID: 0 (root) or 1000 (a user)
#   sudo     logs its argv and runs nothing
#   apt-get  logs DEBIAN_FRONTEND and its argv, installs nothing
# As root the recipe must call apt-get itself, with DEBIAN_FRONTEND set through
# env; as a user, the same two commands behind sudo. The package list is the
# Makefile's DEB_PACKAGES.
set -euo pipefail
src=$(cd "${1:-$(dirname "$0")/..}" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
log=$tmp/log
cat >"$tmp/bin/dpkg" <<STUB
#!/bin/bash
echo "dpkg \$*" >>"$log"
exit 1
STUB
cat >"$tmp/bin/id" <<'STUB'
#!/bin/bash
[ "$1" = -u ] && { echo "$FAKE_UID"; exit 0; }
exec /usr/bin/id "$@"
STUB
cat >"$tmp/bin/sudo" <<STUB
#!/bin/bash
echo "sudo \$*" >>"$log"
STUB
cat >"$tmp/bin/apt-get" <<STUB
#!/bin/bash
echo "DEBIAN_FRONTEND=\${DEBIAN_FRONTEND-} apt-get \$*" >>"$log"
STUB
chmod +x "$tmp/bin/"*

unset MAKEFLAGS MAKELEVEL MFLAGS DEBIAN_FRONTEND
pkgs=$(make -s -C "$src" --no-print-directory \
    --eval 'gort-print-deps: ; @echo $(DEB_PACKAGES)' gort-print-deps)
[ -n "$pkgs" ] || { echo "check-deps: DEB_PACKAGES is empty" >&2; exit 1; }
fail=0
run() { # run UID EXPECTED...
    local uid=$1; shift
    : >"$log"
    local out rc=0
    out=$(FAKE_UID=$uid PATH="$tmp/bin:$PATH" make -s -C "$src" --no-print-directory deps 2>&1) || rc=$?
    {
        for p in $pkgs; do echo "dpkg -s $p"; done
        printf '%s\n' "$@"
    } >"$tmp/want"
    local same=0
    diff -u "$tmp/want" "$log" >"$tmp/diff" || same=$?
    if [ $rc -ne 0 ] || [ $same -ne 0 ]; then
        echo "check-deps: FAILED as uid $uid (make deps exit $rc)"
        echo "$out" | sed 's/^/  make: /'
        sed 's/^/  /' "$tmp/diff"
        fail=1
    else
        echo "check-deps: ok as uid $uid: $(sed -n '$p' "$log")"
    fi
}
run 0 "DEBIAN_FRONTEND= apt-get update -q" \
    "DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs"
run 1000 "sudo apt-get update -q" \
    "sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $pkgs"
exit $fail
