#!/usr/bin/env python3
"""valgrind-tests.py BUILDDIR [LABEL]: runs the ctest tests labelled LABEL
(default "valgrind") under valgrind memcheck, as `make check` does once.

ctest lists the tests (--show-only=json-v1); each test's command runs under
  valgrind -q --error-exitcode=99 --suppressions=tools/valgrind.supp
with the test's ENVIRONMENT and WORKING_DIRECTORY, nproc at a time. A test
fails on a memcheck error (status 99) or on its own failure. The runtime
registers goroutine and g0 stacks with valgrind (VALGRIND_STACK_REGISTER),
keeps the red zone under each switch target addressable, and turns async
preemption off when RUNNING_ON_VALGRIND (the handler writes below the
interrupted sp), so nothing here works around its stack switches.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build/release"
    label = sys.argv[2] if len(sys.argv) > 2 else "valgrind"
    listing = subprocess.run(["ctest", "--test-dir", build, "-L", label,
                              "--show-only=json-v1"], check=True, capture_output=True,
                             text=True).stdout
    tests = json.loads(listing).get("tests", [])
    if not tests:
        print(f"valgrind-tests: no tests labelled {label} in {build}")
        return 0
    supp = os.path.join(HERE, "valgrind.supp")
    vg = ["valgrind", "-q", "--error-exitcode=99", "--suppressions=" + supp]

    def run(t):
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        env = dict(os.environ)
        for kv in props.get("ENVIRONMENT", []):
            k, _, v = kv.partition("=")
            env[k] = v
        # Workload sizes divided by 10 (tests/harness.h, harness_scaled):
        # memcheck runs every thread in turn at a fraction of native speed.
        env.setdefault("GORT_TEST_SCALE", "10")
        timeout = float(props.get("TIMEOUT", 600)) * 10
        t0 = time.monotonic()
        try:
            p = subprocess.run(vg + t["command"], env=env, cwd=props.get("WORKING_DIRECTORY"),
                               capture_output=True, text=True, timeout=timeout)
            rc, out = p.returncode, p.stdout + p.stderr
        except subprocess.TimeoutExpired:
            rc, out = -1, f"timed out after {timeout:.0f} s"
        return t["name"], rc, out, time.monotonic() - t0

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        for name, rc, out, secs in ex.map(run, tests):
            ok = rc == 0
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'}  {name:40} {secs:6.1f} s"
                  + ("" if ok else f"  (status {rc})"), flush=True)
            if not ok:
                print(out[-6000:])
    print(f"valgrind-tests: {len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
