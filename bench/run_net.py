#!/usr/bin/env python3
"""run_net.py: gort's network servers against Go's, on one machine.

Servers (each started fresh for every run, on 127.0.0.1:0; the port is read
from the "listening on HOST:PORT" line the server prints):
  gort  BUILD/examples/httphello, BUILD/examples/echo server
  Go    bench/go/httphello.go (net/http, a handler writing "hello"),
        bench/go/echo.go, built here into BUILD/bench/go/
Load:
  http  wrk -t2 -cN -dD --latency (Debian package wrk)
  echo  BUILD/bench/echo_load: plain C, epoll and 2 threads, no gort; one
        message in flight per connection (ping-pong), each echo checked
  idle  echo_load -idle: N connections, one round trip each, then held
        while the server's RSS and thread count are read

gort and Go run alternately (gort first in odd runs, Go first in even ones).
Reported: the median over the runs of req/s (msgs/s), p50 and p99 latency,
the server's CPU time during the load (utime + stime from /proc/PID/stat)
and its peak RSS (VmHWM from /proc/PID/status). The load generator shares
the machine's cores with the server.

  run_net.py --build-dir build/release                 the full table
  run_net.py --build-dir build/release --quick         1 run, 2 s, fewer cases
  run_net.py ... --only http --procs 2 --conns 100 --runs 3 --duration 10
"""
import argparse
import os
import re
import select
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from run import build_go  # noqa: E402  (bench/run.py: builds bench/go/<prog>.go)

TICK = os.sysconf("SC_CLK_TCK")


class Server:
    """A server process on 127.0.0.1:0, started and waited for."""

    def __init__(self, cmd, procs, log):
        env = dict(os.environ, GOMAXPROCS=str(procs))
        self.p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log,
                                  stdin=subprocess.DEVNULL)
        line = b""
        deadline = time.monotonic() + 20
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                self.stop()
                raise RuntimeError(f"{cmd}: no 'listening on' line")
            b = os.read(self.p.stdout.fileno(), 1)
            if not b:
                self.stop()
                raise RuntimeError(f"{cmd}: exited before listening")
            line += b
        m = re.search(rb"listening on (\S+):(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"{cmd}: bad line {line!r}")
        self.port = int(m.group(2))

    def cpu(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime

    def status(self, key):
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return None

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        if self.p.stdout:
            self.p.stdout.close()


def to_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)$", s)
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v


def run_wrk(port, conns, dur):
    p = subprocess.run(["wrk", "-t2", f"-c{conns}", f"-d{dur:g}s", "--latency",
                        f"http://127.0.0.1:{port}/"], capture_output=True, text=True,
                       timeout=dur + 60)
    out = p.stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(f"wrk failed: {out} {p.stderr}")
    rps = float(m.group(1))
    p50 = to_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = to_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errs = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errs += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errs += int(m.group(1))
    return {"rate": rps, "p50": p50, "p99": p99, "errors": errs}


def run_echo_load(load, port, conns, size, dur):
    out = subprocess.run([load, "-t", "2", "-c", str(conns), "-s", str(size), "-d", f"{dur:g}",
                          "-w", "1", f"127.0.0.1:{port}"], capture_output=True, text=True,
                         timeout=dur + 120)
    kv = dict(line.split() for line in out.stdout.splitlines() if len(line.split()) == 2)
    if "msgs_per_sec" not in kv:
        raise RuntimeError(f"echo_load failed: {out.stderr.strip()}")
    return {"rate": float(kv["msgs_per_sec"]), "p50": float(kv["lat_p50_us"]) / 1000,
            "p99": float(kv["lat_p99_us"]) / 1000, "errors": int(kv["errors"])}


def measure(server_cmd, procs, log, load):
    """Starts the server, runs load(port), returns the load's figures and the server's."""
    s = Server(server_cmd, procs, log)
    try:
        cpu0 = s.cpu()
        r = load(s.port)
        r["cpu"] = s.cpu() - cpu0
        r["rss"] = s.status("VmHWM")
        r["threads"] = s.status("Threads")
        alive = s.p.poll() is None
    finally:
        s.stop()
    if not alive:
        raise RuntimeError(f"{server_cmd[0]} died during the load")
    return r


def measure_idle(server_cmd, procs, log, load_exe, conns):
    s = Server(server_cmd, procs, log)
    try:
        time.sleep(0.2)
        base = s.status("VmRSS")
        c = subprocess.Popen([load_exe, "-idle", "-c", str(conns), f"127.0.0.1:{s.port}"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = c.stdout.readline()
        if not line.startswith("ready"):
            c.kill()
            c.wait()
            raise RuntimeError(f"echo_load -idle: {line!r}")
        time.sleep(1.0)  # let the server settle (a collection may follow the burst)
        r = {"rss": s.status("VmRSS"), "hwm": s.status("VmHWM"),
             "threads": s.status("Threads"), "base": base}
        c.stdin.close()
        c.wait(timeout=60)
    finally:
        s.stop()
    return r


def fmt_kib(k):
    return "-" if k is None else f"{k / 1024:.1f} MiB"


def med(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.path.join(HERE, "..", "build", "release"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=5, help="seconds of load per run")
    ap.add_argument("--only", default="http,echo,idle", help="comma list: http, echo, idle")
    ap.add_argument("--procs", default="2,1", help="GOMAXPROCS values for http")
    ap.add_argument("--conns", default="100,1000", help="wrk connection counts")
    ap.add_argument("--echo-sizes", default="64,512")
    ap.add_argument("--echo-conns", default="100,1000")
    ap.add_argument("--echo-procs", default="2")
    ap.add_argument("--idle-conns", type=int, default=10000)
    ap.add_argument("--quick", action="store_true",
                    help="1 run of 2 s; http at GOMAXPROCS=2 and -c100, echo 64 B x 100, 1000 idle")
    ap.add_argument("--impls", default="gort,Go", help="servers to run: gort, Go or both")
    ap.add_argument("--out", help="also write the tables (markdown) to this file")
    a = ap.parse_args()
    if a.quick:
        a.runs, a.duration, a.procs, a.conns = 1, 2, "2", "100"
        a.echo_sizes, a.echo_conns, a.idle_conns = "64", "100", 1000
    ints = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
    only = set(a.only.split(","))
    ex = os.path.join(a.build_dir, "examples")
    load_exe = os.path.join(a.build_dir, "bench", "echo_load")
    gobin = os.path.join(a.build_dir, "bench", "go")
    impls = [i for i in ("gort", "Go") if i in a.impls.split(",")]
    if "Go" in impls:
        build_go(a.build_dir, ["httphello", "echo"])
    servers = {
        "http": {"gort": [os.path.join(ex, "httphello"), "127.0.0.1:0"],
                 "Go": [os.path.join(gobin, "httphello"), "127.0.0.1:0"]},
        "echo": {"gort": [os.path.join(ex, "echo"), "server", "127.0.0.1:0"],
                 "Go": [os.path.join(gobin, "echo"), "127.0.0.1:0"]},
    }
    log = open(os.path.join(a.build_dir, "bench-net-servers.log"), "w")
    out = []

    def alternate(kind, procs, load, label):
        res = {i: [] for i in impls}
        for r in range(a.runs):
            order = impls if r % 2 == 0 else impls[::-1]
            for i in order:
                x = measure(servers[kind][i], procs, log, load)
                res[i].append(x)
                print(f"  {label} {i} run {r + 1}: {x['rate']:.0f}/s p50 {x['p50']:.2f} ms "
                      f"p99 {x['p99']:.2f} ms cpu {x['cpu']:.2f} s rss {fmt_kib(x['rss'])} "
                      f"errors {x['errors']}", file=sys.stderr, flush=True)
        return res

    def row(label, res):
        g = res.get("gort") or res.get("Go")
        o = res.get("Go") if "gort" in res else None
        cells = [label, f"{med(g, 'rate'):,.0f}", f"{med(o, 'rate'):,.0f}" if o else "-",
                 f"{med(g, 'rate') / med(o, 'rate'):.2f}" if o else "-",
                 f"{med(g, 'p50'):.2f} / {med(g, 'p99'):.2f}",
                 f"{med(o, 'p50'):.2f} / {med(o, 'p99'):.2f}" if o else "-",
                 f"{med(g, 'cpu'):.1f}", f"{med(o, 'cpu'):.1f}" if o else "-",
                 fmt_kib(max(x["rss"] for x in g)),
                 fmt_kib(max(x["rss"] for x in o)) if o else "-"]
        errs = sum(x["errors"] for v in res.values() for x in v)
        if errs:
            cells[0] += f" ({errs} errors)"
        return "| " + " | ".join(cells) + " |"

    head = ("| {} | gort {u}/s | Go {u}/s | gort/Go | gort p50 / p99 ms | Go p50 / p99 ms "
            "| gort CPU s | Go CPU s | gort peak RSS | Go peak RSS |")
    sep = "|---" * 10 + "|"
    note = (f"{a.runs} alternating runs of {a.duration:g} s each, medians; the load "
            f"generator shares the cores with the server; CPU is the server's over the load.")
    if "http" in only:
        out += ["HTTP hello, wrk -t2 --latency; " + note, "",
                head.format("workload", u="req"), sep]
        for procs in ints(a.procs):
            for conns in ints(a.conns):
                label = f"-c{conns} GOMAXPROCS={procs}"
                res = alternate("http", procs, lambda port: run_wrk(port, conns, a.duration),
                                label)
                out.append(row(label, res))
        out.append("")
    if "echo" in only:
        out += ["Echo ping-pong, bench/echo_load (C, epoll, 2 threads); " + note, "",
                head.format("workload", u="msgs"), sep]
        for procs in ints(a.echo_procs):
            for size in ints(a.echo_sizes):
                for conns in ints(a.echo_conns):
                    label = f"{size} B x {conns} conns GOMAXPROCS={procs}"
                    res = alternate("echo", procs, lambda port: run_echo_load(
                        load_exe, port, conns, size, a.duration), label)
                    out.append(row(label, res))
        out.append("")
    if "idle" in only:
        n = a.idle_conns
        out += [f"{n} idle echo connections (GOMAXPROCS=2), RSS after one round trip on each",
                "", "| server | RSS | per connection | peak RSS | threads |", "|---" * 5 + "|"]
        for i in impls:
            r = measure_idle(servers["echo"][i], 2, log, load_exe, n)
            per = (r["rss"] - r["base"]) * 1024 / n
            out.append(f"| {i} | {fmt_kib(r['rss'])} | {per / 1024:.1f} KiB | "
                       f"{fmt_kib(r['hwm'])} | {r['threads']} |")
            print(f"  idle {i}: {r}", file=sys.stderr, flush=True)
        out.append("")
    table = "\n".join(out)
    print(table)
    if a.out:
        with open(a.out, "w") as f:
            f.write(table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
