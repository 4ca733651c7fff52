#!/usr/bin/env python3
"""run.py: gort against Go (and, for memory workloads, other allocators).

Each workload is one line in WORKLOADS below. A workload names a program:
  bench/<prog>.c        the gort version   -> BUILD/bench/<prog>
  bench/go/<prog>.go    the Go version     -> BUILD/bench/go/<prog> (built here)
  bench/alt/<prog>_<impl>.c  optional others (impl: boehm, malloc, mimalloc),
                        linked by bench/CMakeLists.txt -> BUILD/bench/<prog>_<impl>
Every program takes its size as argv[1], checks its own answer and exits 0.

  run.py --build-dir build/release            timed table (3 alternating runs)
  run.py --build-dir build/release --smoke    each program once at a tiny size
  run.py ... --only spawn,sieve --runs 5
  run.py ... --contended                      each run also beside busy loops
Wall time is measured here; peak RSS is GNU time's %M (/usr/bin/time).

--contended (issue 18, a machine it shares): every run is done twice, quiet
and then beside as many busy loops (`sh -c 'while :; do :; done'`) as the
process may use CPUs, implementations still alternating; the table gains each
system's loaded median and its slowdown factor (loaded / quiet).
"""
import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


class W:
    def __init__(self, id, prog, args, smoke, env=None, go=True, others=()):
        self.id, self.prog, self.args, self.smoke = id, prog, args, smoke
        self.env, self.go, self.others = env or {}, go, others


P1, P2 = {"GOMAXPROCS": "1"}, {"GOMAXPROCS": "2"}
WORKLOADS = [
    # id                  program      timed args     smoke args  env / others
    W("spawn-1M",         "spawn",     ["1000000"],   ["1000"]),
    W("pingpong-10M-P1",  "pingpong",  ["10000000"],  ["1000"],   P1),
    W("pingpong-10M-P2",  "pingpong",  ["10000000"],  ["1000"],   P2),
    W("buffered-10M-P1",  "buffered",  ["10000000"],  ["10000"],  P1),
    W("buffered-10M-P2",  "buffered",  ["10000000"],  ["10000"],  P2),
    W("skynet-1M",        "skynet",    ["1000000"],   ["1000"]),
    W("sieve-7000-P2",    "sieve",     ["7000"],      ["100"],    P2),
    # Memory workloads (issue 3) are timed by bench/run_mem.py (Boehm, malloc, mimalloc too).
]


def build_go(build_dir, progs):
    """Builds bench/go/<prog>.go into BUILD/bench/go/<prog> (no modules)."""
    out = os.path.abspath(os.path.join(build_dir, "bench", "go"))
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, GO111MODULE="off", GOCACHE=os.path.join(out, "cache"),
               GOPATH=os.path.join(out, "gopath"))
    env.pop("GOFLAGS", None)
    for prog in sorted(set(progs)):
        src, exe = os.path.join(HERE, "go", prog + ".go"), os.path.join(out, prog)
        if os.path.exists(exe) and os.path.getmtime(exe) >= os.path.getmtime(src):
            continue
        subprocess.run(["go", "build", "-o", exe, src], env=env, check=True)


TIME = "/usr/bin/time"  # GNU time (Debian package "time")


def run_once(exe, args, env, timeout):
    """Returns (wall seconds, peak RSS KiB); raises if the program fails.

    Peak RSS comes from GNU time's %M: the rusage that wait4 reports for a
    child forked from this Python process would count Python's own pages."""
    full_env = dict(os.environ)
    full_env.pop("GOMAXPROCS", None)
    full_env.update(env)
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as rss_file:
        cmd = [exe] + args
        if os.access(TIME, os.X_OK):
            cmd = [TIME, "-q", "-f", "%M", "-o", rss_file.name] + cmd
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        wall = time.monotonic() - t0
        if p.returncode != 0:
            out.seek(0)
            tail = out.read().decode(errors="replace")[-2000:]
            why = "timed out" if wall >= timeout else f"exit status {p.returncode}"
            raise RuntimeError(f"{exe} {' '.join(args)}: {why}\n{tail}")
        rss = rss_file.read().strip().splitlines()
    return wall, int(rss[-1]) if rss and rss[-1].isdigit() else None


@contextlib.contextmanager
def busy_loops(n):
    """n shell busy loops for the duration of the block (none if n is 0)."""
    procs = [subprocess.Popen(["sh", "-c", "while :; do :; done"], start_new_session=True)
             for _ in range(n)]
    try:
        yield
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def modes(contended):
    """(label, busy loops) for each way a run is made."""
    return [("quiet", 0)] + ([("loaded", len(os.sched_getaffinity(0)))] if contended else [])


def fmt_rss(kib):
    return "-" if kib is None else f"{kib / 1024:.0f} MiB"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build", "release"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--only", default="", help="comma list of workload ids or programs")
    ap.add_argument("--smoke", action="store_true", help="each gort program once, tiny size")
    ap.add_argument("--no-go", action="store_true", help="skip the Go twins")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--out", help="also write the table to this file")
    ap.add_argument("--contended", action="store_true",
                    help="also run each beside one busy loop per CPU; report slowdowns")
    a = ap.parse_args()
    bench_bin = os.path.join(a.build_dir, "bench")
    only = set(filter(None, a.only.split(",")))
    todo = [w for w in WORKLOADS if not only or w.id in only or w.prog in only]

    if a.smoke:
        failed = 0
        for w in todo:
            try:
                wall, _ = run_once(os.path.join(bench_bin, w.prog), w.smoke, w.env, 120)
                print(f"ok    {w.id:20} {' '.join(w.smoke):>8}  {wall * 1000:.0f} ms")
            except Exception as e:  # report every failure, then fail
                failed += 1
                print(f"FAIL  {w.id:20} {e}")
        return 1 if failed else 0

    with_go = not a.no_go
    if with_go:
        build_go(a.build_dir, [w.prog for w in todo if w.go])
    rows, crows = [], []
    for w in todo:
        impls = [("gort", os.path.join(bench_bin, w.prog))]
        if with_go and w.go:
            impls.append(("go", os.path.join(bench_bin, "go", w.prog)))
        impls += [(o, os.path.join(bench_bin, f"{w.prog}_{o}")) for o in w.others]
        res = {name: ([], []) for name, _ in impls}
        loaded = {name: [] for name, _ in impls}
        for r in range(a.runs):  # alternate: gort, go, others, gort, go, ...
            for name, exe in impls:
                for mode, nbusy in modes(a.contended):
                    with busy_loops(nbusy):
                        wall, rss = run_once(exe, w.args, w.env, a.timeout)
                    if nbusy:
                        loaded[name].append(wall)
                    else:
                        res[name][0].append(wall)
                        res[name][1].append(rss or 0)
                    print(f"  {w.id} {name} run {r + 1} {mode}: {wall:.3f} s, {fmt_rss(rss)}",
                          file=sys.stderr, flush=True)
        med = {n: statistics.median(v[0]) for n, v in res.items()}
        if a.contended:
            lmed = {n: statistics.median(v) for n, v in loaded.items()}
            crows.append([w.id] + [x for n, _ in impls for x in (
                f"{lmed[n]:.3f}", f"{lmed[n] / med[n]:.2f}x")] +
                ([f"{lmed['gort'] / lmed['go']:.2f}"] if "go" in lmed else ["-"]))
        rss = {n: max(v[1]) for n, v in res.items()}
        go_t = med.get("go")
        rows.append([w.id, f"{med['gort']:.3f}", f"{go_t:.3f}" if go_t else "-",
                     f"{med['gort'] / go_t:.2f}" if go_t else "-",
                     fmt_rss(rss["gort"]), fmt_rss(rss.get("go"))])
        for o in w.others:
            rows.append([f"{w.id} [{o}]", f"{med[o]:.3f}", "-",
                         f"{med[o] / go_t:.2f}" if go_t else "-", fmt_rss(rss[o]), "-"])

    head = ["workload", "gort median s", "Go median s", "gort/Go", "gort peak RSS",
            "Go peak RSS"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    if crows:
        n = len(os.sched_getaffinity(0))
        chead = ["workload", "gort loaded s", "gort slowdown", "Go loaded s", "Go slowdown",
                 "gort/Go loaded"]
        table += (f"\n\nContended ({n} busy loops beside every run; slowdown = loaded "
                  "median / quiet median):\n\n" + "\n".join(
                      ["| " + " | ".join(chead) + " |", "|" + "---|" * len(chead)] +
                      ["| " + " | ".join(r) + " |" for r in crows if len(r) == len(chead)]))
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
