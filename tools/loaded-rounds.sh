#!/usr/bin/env bash
# tools/loaded-rounds.sh [N]: the proof that no test's verdict depends on the
# machine's speed (issue 10). Two busy loops compete for the cores while the
# release suite (ctest --preset release -j2) and the gcmodes stage
# (tools/mode-tests.py under GODEBUG=gccheckmark=1 and GODEBUG=gcstress=200)
# run N times in a row (default 20). Prints each round's result and time and
# a final "N passed, M failed" line; exits nonzero if any round failed.
# Run from the repository root after `cmake --build --preset release`; the
# busy loops are killed on exit, whatever ends the script.
set -u
rounds=${1:-20}
cd "$(dirname "$0")/.." || exit 2
if [ ! -d build/release ]; then
    echo "loaded-rounds: build/release missing (cmake --preset release && cmake --build --preset release)" >&2
    exit 2
fi

busy=()
stop_busy() {
    local p
    for p in "${busy[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${busy[@]}"; do
        wait "$p" 2>/dev/null
    done
    busy=()
}
trap stop_busy EXIT
trap 'exit 130' INT TERM HUP
for _ in 1 2; do
    nice -n 0 sh -c 'while :; do :; done' &
    busy+=($!)
done

log=${LOADED_ROUNDS_LOG:-build/loaded-rounds}
mkdir -p "$log"
passed=0
failed=0
t_all=$(date +%s)
for ((i = 1; i <= rounds; i++)); do
    t=$(date +%s)
    out="$log/round-$i.log"
    bad=
    ctest --preset release -j2 --output-on-failure >"$out" 2>&1 || bad="$bad release"
    python3 tools/mode-tests.py build/release GODEBUG=gccheckmark=1 >>"$out" 2>&1 ||
        bad="$bad gccheckmark"
    python3 tools/mode-tests.py build/release GODEBUG=gcstress=200 >>"$out" 2>&1 ||
        bad="$bad gcstress"
    if [ -z "$bad" ]; then
        passed=$((passed + 1))
        echo "round $i: passed in $(($(date +%s) - t)) s"
    else
        failed=$((failed + 1))
        echo "round $i: FAILED ($bad) in $(($(date +%s) - t)) s, log $out"
        grep -E "FAILED|FAIL |Failed|timed out|\(Timeout\)" "$out" | head -20
    fi
done
echo "loaded-rounds: $passed passed, $failed failed, $(($(date +%s) - t_all)) s"
[ "$failed" -eq 0 ]
