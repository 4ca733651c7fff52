#!/usr/bin/env python3
# gort_types.py TOOL EXE: gort-layout on gort's own G, M, P, Span, MCache and
# Hchan (struct gort_chan, named through two typedefs), as built into EXE
# (tests/layout/gort_types.c, -g). EXE prints each sizeof; the tool must
# report each struct with that size, fields in increasing offsets inside it,
# and a size class that holds it. Exits 77 (skipped) without pyelftools.
import json
import subprocess
import sys

tool, exe = sys.argv[1:3]
failures = 0


def check(ok, what):
    global failures
    if not ok:
        failures += 1
    print("%s: %s" % ("ok" if ok else "FAIL", what))


probe = subprocess.run([tool, "--help"], capture_output=True, text=True)
if probe.returncode != 0:
    print("SKIP: gort-layout cannot run: %s" % probe.stderr.strip())
    sys.exit(77)

sizes = {}
for line in subprocess.run([exe], capture_output=True, text=True, check=True).stdout.split("\n"):
    if line:
        name, size = line.split()
        sizes[name] = int(size)
check(sorted(sizes) == sorted(["G", "M", "P", "Span", "MCache", "Hchan"]),
      "sizeof printed for %s" % sorted(sizes))

args = [tool, "--json", exe]
for name in sizes:
    args += ["--struct", name]
r = subprocess.run(args, capture_output=True, text=True)
check(r.returncode == 0, "gort-layout exits 0 %s" % r.stderr.strip())
structs = {n: s for s in json.loads(r.stdout or "[]") for n in [s["name"]] + s["aliases"]}
for name, size in sizes.items():
    s = structs.get(name)
    check(s is not None, "%s reported" % name)
    if s is None:
        continue
    check(s["size"] == size, "%s: size %d, sizeof %d" % (name, s["size"], size))
    offs = [f["offset"] for f in s["fields"]]
    check(offs == sorted(offs) and all(f["offset"] + f["size"] <= size for f in s["fields"]),
          "%s: %d fields in order, inside the struct" % (name, len(offs)))
    check(s["class_before"]["size"] >= size and s["class_after"]["size"] >= s["reordered"]["size"],
          "%s: class %d (%d B), reordered %d B in class %d (%d B); %s" % (
              name, s["class_before"]["class"], s["class_before"]["size"],
              s["reordered"]["size"], s["class_after"]["class"], s["class_after"]["size"],
              s["call"]))

print("%d failed" % failures)
sys.exit(1 if failures else 0)
