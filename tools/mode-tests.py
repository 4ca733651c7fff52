#!/usr/bin/env python3
"""mode-tests.py BUILDDIR MODE [LABELS]: runs the ctest tests whose labels
match the regular expression LABELS again in another mode, as `make check`
does for each mode once. MODE is one of

  valgrind        under valgrind memcheck (default LABELS "valgrind");
  GODEBUG=k=v,..  with these GODEBUG settings first in each test's GODEBUG,
                  so that a test's own settings win (default LABELS
                  "api|misuse|stress": every program test, not the
                  repository checks or the benchmark smoke runs).

ctest lists the tests (--show-only=json-v1); each test's command runs with
the test's ENVIRONMENT and WORKING_DIRECTORY, nproc at a time, and the
test's timeout times SLOW (below). A test fails on its own failure, on a
timeout or, under valgrind, on a memcheck error (status 99).

valgrind: each command runs under
  valgrind -q --error-exitcode=99 --suppressions=tools/valgrind.supp
The runtime registers goroutine and g0 stacks with valgrind
(VALGRIND_STACK_REGISTER), keeps the red zone under each switch target
addressable, and turns async preemption off when RUNNING_ON_VALGRIND (the
handler writes below the interrupted sp), so nothing here works around its
stack switches.

GODEBUG=gcstress=N collects every N allocations, so tests run with their
workload sizes divided by 10 (tests/harness.h, harness_scaled), as under
valgrind; tests that check how many cycles the pacer ran skip those checks
in that mode (harness_gcstress), and tests labelled no-gcstress are left
out.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    build, mode = sys.argv[1], sys.argv[2]
    valgrind = mode == "valgrind"
    if not valgrind and not mode.startswith("GODEBUG="):
        print(f"mode-tests: unknown mode {mode!r}")
        return 2
    godebug = "" if valgrind else mode[len("GODEBUG="):]
    label = sys.argv[3] if len(sys.argv) > 3 else ("valgrind" if valgrind
                                                   else "api|misuse|stress")
    stress = "gcstress=" in godebug
    slow = 10 if valgrind else 3 if stress else 1
    # Tests labelled no-gcstress do work that grows with the square of
    # their size when collected every N allocations.
    exclude = ["-LE", "no-gcstress"] if stress else []
    listing = subprocess.run(["ctest", "--test-dir", build, "-L", label] + exclude +
                             ["--show-only=json-v1"], check=True, capture_output=True,
                             text=True).stdout
    tests = json.loads(listing).get("tests", [])
    name = "valgrind-tests" if valgrind else f"{godebug}-tests"
    if not tests:
        print(f"{name}: no tests labelled {label} in {build}")
        return 0
    supp = os.path.join(HERE, "valgrind.supp")
    prefix = (["valgrind", "-q", "--error-exitcode=99", "--suppressions=" + supp]
              if valgrind else [])

    def run(t):
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        env = dict(os.environ)
        for kv in props.get("ENVIRONMENT", []):
            k, _, v = kv.partition("=")
            env[k] = v
        if godebug:
            # The mode's settings first: the test's own, later, win.
            env["GODEBUG"] = ",".join(g for g in (godebug, env.get("GODEBUG")) if g)
        # Workload sizes divided by 10 where each step costs far more:
        # memcheck runs every thread in turn at a fraction of native speed,
        # and gcstress collects every few allocations.
        if valgrind or stress:
            env.setdefault("GORT_TEST_SCALE", "10")
        timeout = float(props.get("TIMEOUT", 600)) * slow
        if "EXPECT_TIMEOUT" in env:  # expect.sh's own limit, inside ctest's
            env["EXPECT_TIMEOUT"] = str(int(float(env["EXPECT_TIMEOUT"]) * slow))
        t0 = time.monotonic()
        try:
            p = subprocess.run(prefix + t["command"], env=env,
                               cwd=props.get("WORKING_DIRECTORY"),
                               capture_output=True, text=True, timeout=timeout)
            rc, out = p.returncode, p.stdout + p.stderr
        except subprocess.TimeoutExpired:
            rc, out = -1, f"timed out after {timeout:.0f} s"
        skip_rc = props.get("SKIP_RETURN_CODE")
        return (t["name"], rc, out, time.monotonic() - t0,
                int(skip_rc) if skip_rc is not None else None)

    failed = 0
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        for tname, rc, out, secs, skip_rc in ex.map(run, tests):
            skipped = skip_rc is not None and rc == skip_rc
            ok = rc == 0 or skipped
            failed += not ok
            print(f"{'skip' if skipped else 'ok  ' if ok else 'FAIL'}  {tname:40} {secs:6.1f} s"
                  + ("" if ok else f"  (status {rc})"), flush=True)
            if skipped:
                print("    " + (out.strip().splitlines() or ["(no reason given)"])[-1])
            if not ok:
                print(out[-6000:])
    print(f"{name}: {len(tests) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
