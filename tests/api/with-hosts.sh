#!/bin/sh
# with-hosts.sh PROG [ARG...]: runs PROG in a mount namespace of its own in
# which /etc/hosts also names dual.test for ::1 and 127.0.0.1 (api.dial_dual,
# gort_dial's happy eyeballs). Exits 77 with the reason where the namespace
# cannot be made (no unshare, no privilege for it).
hosts=$(mktemp "${TMPDIR:-/tmp}/gort-hosts.XXXXXX") || exit 77
{ cat /etc/hosts; printf '::1 dual.test\n127.0.0.1 dual.test\n'; } >"$hosts"
if [ "$(id -u)" = 0 ]; then
    set -- unshare -m "$@"
else
    set -- unshare -rm "$@"
fi
if ! "$1" "$2" true 2>/dev/null; then
    echo "skip: cannot make a mount namespace ($1 $2)"
    rm -f "$hosts"
    exit 77
fi
un=$1 flag=$2
shift 2
exec "$un" "$flag" sh -c '
    hosts=$1
    shift
    if ! mount --bind "$hosts" /etc/hosts 2>/dev/null; then
        echo "skip: cannot bind-mount over /etc/hosts"
        rm -f "$hosts"
        exit 77
    fi
    rm -f "$hosts"
    exec "$@"' sh "$hosts" "$@"
