#!/usr/bin/env bash
# contended.sh: runs a test beside a busy loop pinned to the first CPU the
# test may use, at the highest priority the kernel grants (nice -n -20 as
# root; the plain priority otherwise, said on stderr), then stops the loop.
#   contended.sh PROGRAM [ARGS...]
set -u
cpu=$(taskset -pc $$ 2>/dev/null | sed 's/.*: //; s/[-,].*//')
cpu=${cpu:-0}
prio="nice -n -20"
if ! nice -n -20 true 2>/dev/null; then
  echo "contended.sh: cannot raise priority (not root?); the busy loop runs at nice 0" >&2
  prio=""
fi
$prio taskset -c "$cpu" sh -c 'while :; do :; done' &
busy=$!
trap 'kill $busy 2>/dev/null; wait $busy 2>/dev/null' EXIT
echo "contended.sh: busy loop $busy on CPU $cpu (${prio:-nice 0})" >&2
"$@"
