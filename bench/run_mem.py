#!/usr/bin/env python3
"""run_mem.py: gort's memory benchmarks (issue 3) side by side with Go, the
Boehm collector, glibc malloc and mimalloc, all in the same run.

Each workload is one line in WORKLOADS below and names a program:
  bench/<prog>.c                 gort             -> BUILD/bench/<prog>
  bench/go/<prog>.go             Go               -> BUILD/bench/go/<prog> (built here)
  bench/alt/<prog>_<impl>.c      boehm, malloc, mimalloc -> BUILD/bench/<prog>_<impl>
Implementations: gort, go, boehm (GC_MARKERS=1), boehm2 (the same binary with
GC_MARKERS=2), malloc (glibc), mimalloc. gort and Go run with their default
GOMAXPROCS (the machine's cores), so their collectors may use the other cores
even where the program itself is single-threaded.

Every program takes its sizes as arguments, prints its answer on stdout and
exits 0; lines starting with "# " are measurements (key=value), the rest is the
answer, which must be identical for every implementation and run (checked
here: "ok" in the table, or MISMATCH and exit status 1).

  run_mem.py --build-dir build/release                 timed tables
  run_mem.py --build-dir build/release --smoke         each C program once, tiny
  run_mem.py ... --only gcbench,alloc --runs 1 --out FILE
  run_mem.py ... --contended     also beside one busy loop per CPU (issue 18)
With --contended every run is made twice, quiet and then beside as many busy
loops (`sh -c 'while :; do :; done'`) as the process may use CPUs, the
implementations still alternating; a second table gives each system's loaded
median and slowdown factor (loaded / quiet).
Wall time is measured here, peak RSS comes from wait4()'s rusage; the
allocation workloads report the program's own loop time per object. Runs
alternate between implementations; a workload's "runs" says how many, and the
table gives the median (1 run for the long ones to keep `make bench` short;
3 for binary-trees 20, whose ratio to Go moves by a quarter from run to run on
a 2-core VM).
"""
import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no bench/__pycache__ from importing run.py
import run as sched_run  # noqa: E402  (build_go: bench/go/<prog>.go -> BUILD/bench/go)

IMPL_NAMES = {"gort": "gort", "go": "Go", "boehm": "Boehm", "boehm2": "Boehm 2 markers",
              "malloc": "glibc malloc", "mimalloc": "mimalloc"}
IMPL_ORDER = ["gort", "go", "boehm", "boehm2", "malloc", "mimalloc"]


class W:
    def __init__(self, id, title, prog, args, smoke, impls, runs, kind="time", per=None):
        self.id, self.title, self.prog, self.args, self.smoke = id, title, prog, args, smoke
        self.impls, self.runs, self.kind, self.per = impls, runs, kind, per


ALL = ("gort", "go", "boehm", "boehm2", "malloc", "mimalloc")
GCS = ("gort", "go", "boehm", "boehm2")
WORKLOADS = [
    W("binarytrees-20", "binary-trees 20, 1 thread (s)", "binarytrees", ["20", "0"],
      ["6", "0"], ALL, runs=3),
    W("binarytrees-20-par", "binary-trees 20, thread per depth (s)", "binarytrees",
      ["20", "1"], ["6", "1"], ALL, runs=1),
    W("binarytrees-20-fill", "binary-trees 20, allocate-then-fill (s)", "binarytrees",
      ["20", "0", "fill"], ["6", "0", "fill"], ALL, runs=3),
    W("gcbench", "GCBench 18/16/4-16, 5 reps (s)", "gcbench", ["16", "5"], ["6", "1"], GCS,
      runs=3),
    W("gcbench-fill", "GCBench, MakeTree allocate-then-fill (s)", "gcbench",
      ["16", "5", "fill"], ["6", "1", "fill"], GCS, runs=3),
    W("list-append", "lists appended at the tail, 40 x 1M (s)", "list", ["1000000", "40"],
      ["1000", "2"], GCS, runs=3),
    # Field order (issue 15, bench/layout.c): Go runs the reordered layout
    # for "ptrs", since its ptrdata already scans only the pointer words.
    W("layout-careless", "10M structs, careless field order, 64 B (s)", "layout",
      ["10000000", "4", "careless"], ["10000", "1", "careless"], ("gort", "go"), runs=3),
    W("layout-reordered", "10M structs, reordered by gort-layout, 40 B (s)", "layout",
      ["10000000", "4", "reordered"], ["10000", "1", "reordered"], ("gort", "go"), runs=3),
    W("layout-ptrs", "10M structs, reordered + gort_new_ptrs (Go: reordered) (s)", "layout",
      ["10000000", "4", "ptrs"], ["10000", "1", "ptrs"], ("gort", "go"), runs=3),
    W("alloc-scan", "alloc 100M x 32 B, pointerful (ns/obj)", "alloc", ["100000000", "scan"],
      ["10000", "scan"], ("gort", "go", "boehm", "malloc", "mimalloc"), runs=3, kind="alloc",
      per=100000000),
    W("alloc-noscan", "alloc 100M x 32 B, noscan/atomic (ns/obj)", "alloc",
      ["100000000", "noscan"], ["10000", "noscan"], ("gort", "go", "boehm", "malloc",
                                                       "mimalloc"),
      runs=3, kind="alloc", per=100000000),
    W("gcpause-1G", "pauses: 1 GiB live, 4 GiB churn", "gcpause", ["1024", "4096"], ["8", "32"],
      GCS, runs=1, kind="pause"),
]


def impl_exe(bench_bin, prog, impl):
    if impl == "gort":
        return os.path.join(bench_bin, prog)
    if impl == "go":
        return os.path.join(bench_bin, "go", prog)
    return os.path.join(bench_bin, f"{prog}_{'boehm' if impl == 'boehm2' else impl}")


def impl_env(impl, kind):
    env = {}
    if impl == "boehm":
        env["GC_MARKERS"] = "1"
    elif impl == "boehm2":
        env["GC_MARKERS"] = "2"
    elif impl == "go" and kind == "pause":
        env["GODEBUG"] = "gctrace=1"
    return env


class Result:
    def __init__(self, wall, rss, out, err):
        self.wall, self.rss, self.out, self.err = wall, rss, out, err
        self.answer = "\n".join(l for l in out.splitlines() if not l.startswith("#"))
        self.meas = {}
        for l in out.splitlines():
            m = re.match(r"# (\w+)=(.*)$", l)
            if m:
                self.meas[m.group(1)] = m.group(2)


def run_once(exe, args, env, timeout, maxrss=None):
    """Returns a Result; raises if the program fails or times out. With maxrss
    (the path of BUILD/bench/maxrss) peak RSS comes from that wrapper, else from
    our own wait4, which floors it at this script's RSS (see alt/maxrss.c)."""
    full_env = dict(os.environ)
    for k in ("GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG", "GC_MARKERS", "GC_NPROCS"):
        full_env.pop(k, None)
    full_env.update(env)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile() as rssf:
        cmd = ([maxrss, rssf.name] if maxrss else []) + [exe] + args
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=err, start_new_session=True)
        killer = threading.Timer(timeout, os.killpg, (p.pid, 9))
        killer.start()
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
        killer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        o = out.read().decode(errors="replace")
        e = err.read().decode(errors="replace")
        if p.returncode != 0:
            why = "timed out" if wall >= timeout else f"exit status {p.returncode}"
            raise RuntimeError(f"{exe} {' '.join(args)}: {why}\n{(o + e)[-1500:]}")
        rss = int(open(rssf.name).read()) if maxrss else ru.ru_maxrss
    return Result(wall, rss, o, e)


def build_alt(build_dir, todo):
    """Builds the alt programs (EXCLUDE_FROM_ALL in bench/CMakeLists.txt);
    returns the set of target names that failed (e.g. libgc-dev missing)."""
    targets = sorted({f"bench_{w.prog}_{'boehm' if i == 'boehm2' else i}"
                      for w in todo for i in w.impls if i not in ("gort", "go")})
    targets.append("bench_maxrss")
    cmd = ["cmake", "--build", build_dir, "--target"]
    if subprocess.run(cmd + targets, stdout=subprocess.DEVNULL).returncode == 0:
        return set()
    failed = set()
    for t in targets:
        if subprocess.run(cmd + [t], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode != 0:
            failed.add(t)
    print(f"run_mem.py: could not build {', '.join(sorted(failed))}; skipped", file=sys.stderr)
    return failed


def pct(xs, p):
    """Nearest-rank percentile."""
    s = sorted(xs)
    return s[max(0, min(len(s) - 1, -(-len(s) * p // 100) - 1))]


def ms(ns):
    if ns >= 1e9:
        return f"{ns / 1e9:.2f} s"
    return f"{ns / 1e6:.2f} ms" if ns >= 1e5 else f"{ns / 1e3:.0f} us"


def mib(kib):
    return f"{kib / 1024:.0f} MiB"


GCTRACE = re.compile(r"^gc (\d+) @\S+ \d+%: ([\d.]+)\+([\d.]+)\+([\d.]+) ms clock", re.M)


def pause_figures(impl, r):
    """(source, per-cycle pauses in ns, gc count, GC CPU share) from a run."""
    m = r.meas
    pauses = [int(x) for x in m.get("pauses_ns", "").split(",") if x]
    frac = float(m.get("gc_cpu_fraction", "nan"))
    if impl == "go":
        tr = [(float(a) + float(c)) * 1e6 for _, a, _, c in GCTRACE.findall(r.err)]
        return ("gctrace: STW a+c per cycle; GCCPUFraction", tr, len(tr), frac)
    if impl == "gort":
        return ("gort_read_memstats: pause_ns ring, gc_cpu_fraction", pauses,
                int(m.get("num_gc", 0)), frac)
    return ("on_collection_event: PRE_STOP_WORLD..POST_START_WORLD; STW/wall", pauses,
            len(pauses), frac)


def smoke(a, bench_bin):
    failed = 0
    for w in WORKLOADS:
        if a.only and w.id not in a.only and w.prog not in a.only:
            continue
        answers = {}
        for impl in w.impls:
            if impl == "go":
                continue  # the Go twins are built only for timed runs
            exe = impl_exe(bench_bin, w.prog, impl)
            if impl != "gort" and not os.path.exists(exe):
                continue  # alt programs are built on demand (EXCLUDE_FROM_ALL)
            try:
                r = run_once(exe, w.smoke, impl_env(impl, w.kind), 120)
                answers[impl] = r.answer
                print(f"ok    {w.id:20} {impl:9} {' '.join(w.smoke):>12}  {r.wall * 1000:.0f} ms")
            except Exception as e:
                failed += 1
                print(f"FAIL  {w.id:20} {impl:9} {e}")
        if len(set(answers.values())) > 1:
            failed += 1
            print(f"FAIL  {w.id:20} answers differ between {', '.join(answers)}")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build", "release"))
    ap.add_argument("--runs", type=int, help="runs per implementation (default: per workload)")
    ap.add_argument("--only", default="", help="comma list of workload ids or programs")
    ap.add_argument("--skip", default="", help="comma list of implementations to leave out")
    ap.add_argument("--smoke", action="store_true", help="each C program once, tiny size")
    ap.add_argument("--no-build", action="store_true", help="use the programs already in "
                    "BUILD/bench (no cmake, no go build)")
    ap.add_argument("--tiny", action="store_true", help="timed tables at the smoke sizes "
                    "(to test this script)")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--contended", action="store_true",
                    help="also run each beside one busy loop per CPU; report slowdowns")
    ap.add_argument("--out", help="also write the tables to this file "
                    "(default BUILD/bench-mem.md)")
    a = ap.parse_args()
    a.only = set(filter(None, a.only.split(",")))
    skip = set(filter(None, a.skip.split(",")))
    bench_bin = os.path.join(a.build_dir, "bench")
    if a.smoke:
        return smoke(a, bench_bin)

    todo = [w for w in WORKLOADS if not a.only or w.id in a.only or w.prog in a.only]
    for w in todo if a.tiny else ():
        w.args = w.smoke
        w.per = int(w.smoke[0])
    if a.no_build:
        bad_targets = {f"bench_{w.prog}_{'boehm' if i == 'boehm2' else i}" for w in todo
                       for i in w.impls if i not in ("gort", "go") and
                       not os.path.exists(impl_exe(bench_bin, w.prog, i))}
    else:
        bad_targets = build_alt(a.build_dir, todo)
    maxrss = os.path.join(bench_bin, "maxrss")
    maxrss = maxrss if os.path.exists(maxrss) else None
    if "go" not in skip and not a.no_build:
        sched_run.build_go(a.build_dir, [w.prog for w in todo])
    load0 = os.getloadavg()[0]
    t_start = time.monotonic()
    rows, pause_rows, crows, notes, status = [], [], [], [], 0
    for w in todo:
        impls = [i for i in w.impls if i not in skip and
                 f"bench_{w.prog}_{'boehm' if i == 'boehm2' else i}" not in bad_targets]
        runs = a.runs or w.runs
        res = {i: [] for i in impls}
        loaded = {i: [] for i in impls}
        fails = {}
        for r in range(runs):  # alternate: gort, go, boehm, ..., gort, go, ...
            for impl in impls:
                for mode, nbusy in sched_run.modes(a.contended):
                    if impl in fails:
                        continue
                    try:
                        with sched_run.busy_loops(nbusy):
                            x = run_once(impl_exe(bench_bin, w.prog, impl), w.args,
                                         impl_env(impl, w.kind), a.timeout, maxrss)
                    except Exception as e:
                        fails[impl] = str(e).splitlines()[0]
                        print(f"  {w.id} {impl} run {r + 1}: FAILED: {e}", file=sys.stderr)
                        status = 1
                        continue
                    (loaded if nbusy else res)[impl].append(x)
                    extra = (f", {int(x.meas['loop_ns']) / w.per:.1f} ns/obj"
                             if w.kind == "alloc" else "")
                    print(f"  {w.id} {impl} run {r + 1} {mode}: {x.wall:.2f} s, "
                          f"{mib(x.rss)}{extra}", file=sys.stderr, flush=True)
        # The answer must agree across implementations and runs.
        answers = {x.answer for v in res.values() for x in v}
        check = "ok" if len(answers) == 1 else ("MISMATCH" if answers else "-")
        if len(answers) > 1:
            status = 1
            notes.append(f"{w.id}: answers differ: " + "; ".join(
                f"{i}: {v[0].answer.splitlines()[-1]!r}" for i, v in res.items() if v))
        for impl, why in fails.items():
            notes.append(f"{w.id} [{impl}] failed: {why}")
        ngc = [f"{IMPL_NAMES[i]} {v[-1].meas['num_gc']}" for i, v in res.items()
               if v and "num_gc" in v[-1].meas]
        if ngc and w.kind != "pause":
            notes.append(f"{w.id}: collections (last run): " + ", ".join(ngc))

        def value(impl):
            v = res.get(impl)
            if not v:
                return None
            if w.kind == "alloc":
                return statistics.median(int(x.meas["loop_ns"]) for x in v) / w.per
            return statistics.median(x.wall for x in v)

        vals = {i: value(i) for i in IMPL_ORDER}
        if a.contended and w.kind in ("time", "alloc"):
            def lval(impl):
                v = loaded.get(impl)
                if not v:
                    return None
                if w.kind == "alloc":
                    return statistics.median(int(x.meas["loop_ns"]) for x in v) / w.per
                return statistics.median(x.wall for x in v)
            lv = {i: lval(i) for i in IMPL_ORDER}
            cells = []
            for i in IMPL_ORDER:
                if lv[i] is None or not vals[i]:
                    cells.append("-")
                else:
                    cells.append(f"{lv[i]:.2f} ({lv[i] / vals[i]:.2f}x)")
            crows.append([w.title] + cells + [
                f"{lv['gort'] / lv['go']:.2f}" if lv["gort"] and lv["go"] else "-",
                f"{lv['gort'] / lv['boehm']:.2f}" if lv["gort"] and lv["boehm"] else "-"])
        rss = {i: max(x.rss for x in res[i]) if res.get(i) else None for i in IMPL_ORDER}
        fmt = (lambda x: f"{x:.1f}") if w.kind == "alloc" else (lambda x: f"{x:.2f}")

        def cell(i):
            if i in fails:
                return "FAIL"
            return "-" if vals[i] is None else fmt(vals[i])

        def ratio(x, y):
            return f"{vals[x] / vals[y]:.2f}" if vals[x] and vals[y] else "-"

        rows.append([w.title] + [cell(i) for i in IMPL_ORDER] +
                    [ratio("gort", "go"), ratio("gort", "boehm")] +
                    [mib(rss[i]) if rss[i] else "-" for i in IMPL_ORDER] +
                    [str(runs), check])

        if w.kind == "pause":
            for impl in impls:
                for x in res[impl]:
                    src, p, n, frac = pause_figures(impl, x)
                    cells = ([ms(pct(p, 50)), ms(pct(p, 99)), ms(max(p)), ms(sum(p))]
                             if p else ["-"] * 4)
                    pause_rows.append([IMPL_NAMES[impl], str(n)] + cells +
                                      [f"{frac * 100:.1f}%", f"{x.wall:.1f}", mib(x.rss), src])
                    if impl == "go":  # cross-check: runtime.MemStats.PauseNs
                        q = [int(v) for v in x.meas.get("pauses_ns", "").split(",") if v]
                        if q:
                            pause_rows.append(
                                ["Go (MemStats)", x.meas.get("num_gc", "?"), ms(pct(q, 50)),
                                 ms(pct(q, 99)), ms(max(q)), ms(sum(q)),
                                 f"{float(x.meas['gc_cpu_fraction']) * 100:.1f}%",
                                 f"{x.wall:.1f}", mib(x.rss),
                                 "runtime.MemStats PauseNs, GCCPUFraction"])
                    if impl.startswith("boehm") and "boehm_full_gc_total_ms" in x.meas:
                        notes.append(f"gcpause [{impl}]: Boehm's own GC_get_full_gc_total_time"
                                     f" = {x.meas['boehm_full_gc_total_ms']} ms (callback sum "
                                     f"{sum(p) / 1e6:.0f} ms)")
    total = time.monotonic() - t_start

    def table(head, body):
        return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] +
                         ["| " + " | ".join(r) + " |" for r in body])

    head = (["workload"] + [IMPL_NAMES[i] for i in IMPL_ORDER] + ["gort/Go", "gort/Boehm"] +
            [f"RSS {IMPL_NAMES[i]}" for i in IMPL_ORDER] + ["runs", "check"])
    load1 = os.getloadavg()[0]
    try:
        goversion = subprocess.run(["go", "version"], capture_output=True,
                                   text=True).stdout.strip()
    except OSError:
        goversion = "Go (prebuilt)"
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.machine())
    command = " ".join(["python3", "bench/run_mem.py"] + sys.argv[1:])
    ncpu, when = len(os.sched_getaffinity(0)), time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    parts = [
        "## Memory benchmarks (issue 3)\n",
        f"`{command}` on {ncpu} x {cpu} (of {os.cpu_count()} CPUs), {goversion}, {when}; "
        f"took {total:.0f} s; load average {load0:.1f} at the start, {load1:.1f} at the end"
        + (" (above the core count: other processes shared the CPUs, times are noisy)"
           if max(load0, load1) > ncpu + 0.5 else "") + ".\n",
        "Times are medians of the runs column (runs alternate between implementations); "
        "seconds of wall time, except the alloc rows: the program's own loop time per "
        "object in ns. RSS is the peak over the runs. Boehm runs with GC_MARKERS=1, "
        "\"Boehm 2 markers\" with GC_MARKERS=2; gort and Go with default GOMAXPROCS. "
        "glibc and mimalloc free each tree / the previous object. "
        "check: every implementation printed the same answer.\n",
        table(head, rows) + "\n",
    ]
    if crows:
        parts += [
            f"Contended (issue 18): each run also beside {ncpu} busy loops "
            "(`sh -c 'while :; do :; done'`), quiet and loaded runs alternating; each cell "
            "is the loaded median and, in brackets, the slowdown factor (loaded / quiet "
            "median of the table above).\n",
            table(["workload"] + [IMPL_NAMES[i] for i in IMPL_ORDER] +
                  ["gort/Go loaded", "gort/Boehm loaded"], crows) + "\n",
        ]
    if pause_rows:
        parts += [
            "Pauses (gcpause: 1 GiB live in 64-byte pointerful nodes, 4 GiB replaced at "
            "random; one run each). Per-cycle stop-the-world time over every cycle of the "
            "run (nearest-rank percentiles; with few cycles p99 is the max). GC CPU: gort "
            "and Go report their own fraction of GOMAXPROCS x wall; for Boehm it is STW "
            "time / wall (its marking happens only inside the pause; lazy sweeping in the "
            "allocator is not counted).\n",
            table(["impl", "GCs", "pause p50", "pause p99", "pause max", "total STW",
                   "GC CPU", "wall s", "peak RSS", "source"], pause_rows) + "\n",
        ]
    if notes:
        parts.append("Notes:\n" + "\n".join(f"- {n}" for n in notes) + "\n")
    text = "\n".join(parts)
    print(text)
    out = a.out or os.path.join(a.build_dir, "bench-mem.md")
    with open(out, "w") as f:
        f.write(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
