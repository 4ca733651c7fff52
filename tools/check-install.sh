#!/bin/bash
# check-install.sh BUILDDIR SRCDIR: installs the build into a temporary prefix
# and builds a tiny program (main returns 3) against it four ways:
#   pkg-config --static (a fully static executable), pkg-config shared (run
#   with LD_LIBRARY_PATH), and a CMake consumer with find_package(gort)
#   linking gort::gort (static libgort) and gort::gort_shared.
# Each must run main as goroutine 1 and exit with status 3.
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
cc=${CC:-cc}
work=$build/check-install
rm -rf "$work"
mkdir -p "$work"
prefix=$work/prefix
cmake --install "$build" --prefix "$prefix" >"$work/install.log"

cat >"$work/main.c" <<'C'
#include <gort.h>
#include <stdio.h>

static void
child(void *arg)
{
    gort_chan_send(arg, &(int){3});
}

int
main(void)
{
    gort_chan *c = gort_chan_make(sizeof(int), 0);
    int v = 0;
    gort_go(child, c);
    gort_chan_recv(c, &v);
    printf("goid %lld got %d\n", (long long)gort_goid(), v);
    return gort_goid() == 1 ? v : 1;
}
C

pcdir=$(dirname "$(find "$prefix" -name gort.pc | head -n1)")
export PKG_CONFIG_PATH=$pcdir
expect3() { # NAME CMD...: runs CMD, which must exit with status 3
    local name=$1 rc=0
    shift
    "$@" || rc=$?
    if [ "$rc" -ne 3 ]; then
        echo "check-install: $name: exit status $rc, want 3" >&2
        exit 1
    fi
    echo "check-install: $name: ok"
}

# shellcheck disable=SC2046  # pkg-config output is meant to be split
$cc -o "$work/pc_static" "$work/main.c" -static $(pkg-config --static --cflags --libs gort)
if readelf -dW "$work/pc_static" | grep NEEDED >/dev/null; then
    echo "check-install: pc_static is not static" >&2
    exit 1
fi
expect3 pkg-config-static "$work/pc_static"

# shellcheck disable=SC2046
$cc -o "$work/pc_shared" "$work/main.c" $(pkg-config --cflags --libs gort)
readelf -dW "$work/pc_shared" | grep 'NEEDED.*libgort\.so\.0' >/dev/null || {
    echo "check-install: pc_shared does not need libgort.so.0" >&2
    exit 1
}
LD_LIBRARY_PATH=$(pkg-config --variable=libdir gort) expect3 pkg-config-shared "$work/pc_shared"

mkdir -p "$work/consumer"
cp "$work/main.c" "$work/consumer/"
cat >"$work/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(gort 0.1 REQUIRED)
add_executable(use_static main.c)
target_link_libraries(use_static PRIVATE gort::gort)
add_executable(use_shared main.c)
target_link_libraries(use_shared PRIVATE gort::gort_shared)
CM
cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" >"$work/consumer.log"
cmake --build "$work/consumer/build" >>"$work/consumer.log"
expect3 cmake-static "$work/consumer/build/use_static"
expect3 cmake-shared "$work/consumer/build/use_shared"   # found through the RUNPATH
