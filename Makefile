# Makefile: a thin front end over CMake presets (CMakePresets.json).
#
#   make demo       install missing packages, build, run examples/demo with
#                   GODEBUG=boottrace=1,schedtrace=100
#   make check      release build + all tests, then asan, tsan (api, stress),
#                   ubsan, and valgrind over the tests labelled valgrind
#   make bench      gort against Go (bench/run.py), table in build/release/bench.md;
#                   CONTENDED=1: also beside one busy loop per CPU (slowdown factors);
#                   memory workloads (bench/run_mem.py) in build/release/bench-mem.md;
#                   network servers (bench/run_net.py, wrk) in build/release/bench-net.md
#   make install PREFIX=dir
#   make format     clang-format -i over src include tests bench examples
#   make clean
SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
DEMO_GODEBUG ?= boottrace=1,schedtrace=100
# Every package the build, the tests and the tools take something from (tools/check-deps.sh
# runs this recipe with stand-ins in `make check`): gcc brings libasan/libubsan (asan, ubsan
# presets); libclang-rt-14-dev is clang's sanitizer runtimes (tsan preset; clang only
# recommends it); valgrind runs the valgrind stage (the runtime issues its client requests
# itself and needs no valgrind header);
# clang-format is version 14 (tools/check-format.sh is pinned to it); time is GNU time
# (bench/run.py); wrk and gdb are for the tools that drive and inspect programs.
DEB_PACKAGES := cmake make gcc clang libclang-rt-14-dev clang-format valgrind pkg-config \
	python3 python3-pyelftools dwarves golang-go time libgc-dev libmimalloc-dev wrk gdb
FORMAT_DIRS := src include tests bench examples tools

.PHONY: all deps release demo check check-release check-asan check-tsan check-ubsan \
	check-valgrind check-gcmodes check-debug bench install format clean

all: release

# Installs, with apt-get, only the Debian packages that are missing.
deps:
	@missing=; for p in $(DEB_PACKAGES); do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    sudo=; [ "$$(id -u)" -eq 0 ] || sudo=sudo; \
	    echo "make deps: installing$$missing"; \
	    $$sudo apt-get update -q && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi

# build-PRESET [extra cmake args]
define build
	cmake --preset $(1) $(2) >/dev/null
	cmake --build --preset $(1) -j $(JOBS)
endef

# -Werror is for `make check` (CI) only. Every target that builds runs deps first
# (it installs only what is missing); cmake alone names the package it lacks.
release: deps
	$(call build,release,-DGORT_WERROR=OFF)

demo: deps release
	GODEBUG=$(DEMO_GODEBUG) build/release/examples/demo

# Each stage prints its wall time; all stages run even when one fails, and
# check fails at the end if any did. On 2 cores it stays under 25 minutes.
check: deps
	@t0=$$(date +%s); failed=; \
	for s in release debug gcmodes asan tsan ubsan valgrind; do \
	    t=$$(date +%s); \
	    if $(MAKE) --no-print-directory check-$$s; then r=passed; else r=FAILED; failed="$$failed $$s"; fi; \
	    echo "== check-$$s: $$r in $$(( $$(date +%s) - t )) s"; \
	done; \
	echo "== make check: $$(( $$(date +%s) - t0 )) s, failed stages:$${failed:- none}"; \
	[ -z "$$failed" ]

check-release: deps
	$(call build,release,-DGORT_WERROR=ON)
	ctest --preset release -j $(JOBS)

# The debug tiers (GORT_DEBUG=2: invariant checks, rt_assert_held) and the
# white-box tests of tests/unit (GORT_TESTING).
check-debug: deps
	$(call build,debug)
	ctest --preset debug -j $(JOBS)

check-asan: deps
	$(call build,asan)
	ctest --preset asan -j $(JOBS)

check-tsan: deps
	$(call build,tsan)
	ctest --preset tsan -j $(JOBS)

check-ubsan: deps
	$(call build,ubsan)
	ctest --preset ubsan -j $(JOBS)

check-valgrind: deps
	$(call build,release)
	python3 tools/mode-tests.py build/release valgrind

# The whole program suite again with every cycle re-marked (checkmark), and
# with a cycle every 200 allocations (gcstress).
check-gcmodes: deps
	$(call build,release)
	python3 tools/mode-tests.py build/release GODEBUG=gccheckmark=1
	python3 tools/mode-tests.py build/release GODEBUG=gcstress=200

BENCH_FLAGS := $(if $(CONTENDED),--contended,)
bench: deps release
	python3 bench/run.py --build-dir build/release --out build/release/bench.md $(BENCH_FLAGS)
	python3 bench/run_mem.py --build-dir build/release --out build/release/bench-mem.md $(BENCH_FLAGS)
	python3 bench/run_net.py --build-dir build/release --out build/release/bench-net.md

install: release
	cmake --install build/release --prefix $(PREFIX)

format:
	find $(FORMAT_DIRS) -type f \( -name '*.c' -o -name '*.h' \) -print0 | \
	    xargs -0 -r clang-format -i --style=file

clean:
	rm -rf build
