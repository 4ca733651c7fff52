#!/usr/bin/env python3
# check.py TOOL FIXTURE SIZECLASS_C CC: gort-layout on tests/layout/fixture.c.
#
# Compiles the fixture with -g (DWARF 5) and -gdwarf-4 (the compiler checks
# its _Static_asserts), runs TOOL --json on each object and compares every
# answer with the values worked out by hand below, with the fixture's own
# CHECK_SIZE/CHECK_OFF/CHECK_ALIGN lines, and, where pahole is installed,
# with pahole's sizes and offsets on the DWARF 4 object. Then --fail's exit
# status both ways, --struct, and the tool's size-class table against
# SIZECLASS_C's rt_class_to_size. Exits 77 (skipped) without pyelftools.
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

tool, fixture, sizeclass_c, cc = sys.argv[1:5]
failures = 0


def check(ok, what):
    global failures
    if not ok:
        failures += 1
    print("%s: %s" % ("ok" if ok else "FAIL", what))


def run(*args):
    return subprocess.run([tool, *args], capture_output=True, text=True)


probe = run("--help")
if probe.returncode != 0:
    print("SKIP: gort-layout cannot run: %s" % (probe.stderr.strip() or probe.stdout.strip()))
    sys.exit(77)

M = 1000000
# Hand-computed: (offset, size, type) per field; holes as (offset, size);
# order, size and classes after reordering; scanned bytes (gort_alloc_ptrs,
# present layout and reordered); the call. Classes: (number, bytes).
WANT = {
    "mix": dict(
        size=32, align=8,
        fields={"a": (0, 1, "char"), "p": (8, 8, "void *"), "b": (16, 1, "char"),
                "i": (20, 4, "int"), "s": (24, 2, "short int")},
        holes=[(1, 7), (17, 3), (26, 6)],
        order=["p", "i", "s", "a", "b"], new_size=16,
        before=(4, 32), after=(2, 16), waste=(0, 0),
        scan=(16, 8), call="gort_new_ptrs(struct mix, p)"),
    "drops": dict(
        size=56, align=8,
        fields={"a": (0, 1, "char"), "p": (8, 8, "void *"), "name": (16, 12, "char [12]"),
                "q": (32, 8, "void *"), "c": (40, 1, "char"), "r": (48, 8, "void *")},
        holes=[(1, 7), (28, 4), (41, 7)],
        order=["p", "q", "r", "a", "name", "c"], new_size=40,
        before=(6, 64), after=(5, 48), waste=(8 * M, 8 * M),
        scan=(56, 24), call="gort_new_ptrs(struct drops, r)"),
    "nested": dict(
        size=48, align=8,
        fields={"tag": (0, 1, "char"), "m": (8, 32, "struct mix"),
                "kind": (40, 2, "short int")},
        holes=[(1, 7), (42, 6)],
        order=["m", "kind", "tag"], new_size=40,
        before=(5, 48), after=(5, 48), waste=(0, 8 * M),
        scan=(24, 16), call="gort_new_ptrs(struct nested, m.p)"),
    "with_union": dict(
        size=24, align=8,
        fields={"kind": (0, 4, "int"), "u": (8, 8, "union {...}"), "tail": (16, 1, "char")},
        holes=[(4, 4), (17, 7)],
        order=["u", "kind", "tail"], new_size=16,
        before=(3, 24), after=(2, 16), waste=(0, 0),
        scan=(16, 8), call="gort_new_ptrs(struct with_union, u.p)"),
    "arrays": dict(
        size=104, align=8,
        fields={"tag": (0, 1, "char"), "grid": (4, 60, "int [3][5]"),
                "ptrs": (64, 32, "void * [4]"), "s": (96, 2, "short int")},
        holes=[(1, 3), (98, 6)],
        order=["ptrs", "grid", "s", "tag"], new_size=96,
        before=(9, 112), after=(8, 96), waste=(8 * M, 0),
        scan=(96, 32), call="gort_new_ptrs(struct arrays, ptrs[3])"),
    "bits": dict(
        size=24, align=8, not_reordered="bitfields",
        fields={"a": (0, 4, "unsigned int"), "b": (0, 4, "unsigned int"),
                "p": (8, 8, "void *"), "c": (16, 4, "unsigned int"), "d": (19, 1, "char")},
        bits={"a": (0, 3), "b": (3, 7), "c": (128, 20)},
        holes=[(2, 6), (20, 4)],
        order=["a", "b", "p", "c", "d"], new_size=24,
        before=(3, 24), after=(3, 24), waste=(0, 0),
        scan=(16, 16), call="gort_new_ptrs(struct bits, p)"),
    "flex": dict(
        size=24, align=8, flexible=True,
        fields={"kind": (0, 1, "char"), "owner": (8, 8, "void *"), "n": (16, 4, "int"),
                "data": (20, 0, "char []")},
        holes=[(1, 7), (20, 4)],
        order=["owner", "n", "kind", "data"], new_size=16,
        before=(3, 24), after=(2, 16), waste=(0, 0),
        scan=(16, 8), call="gort_new_ptrs(struct flex, owner)"),
    "packed": dict(
        size=13, align=1, packed=True, not_reordered="packed", misaligned=["p"],
        fields={"a": (0, 1, "char"), "p": (1, 8, "void *"), "i": (9, 4, "int")},
        holes=[],
        order=["a", "p", "i"], new_size=13,
        before=(2, 16), after=(2, 16), waste=(3 * M, 3 * M),
        scan=(9, 9), call="gort_new_ptrs(struct packed, p)"),
    "aligned": dict(
        size=64, align=32, alignas=True, not_reordered="_Alignas",
        fields={"a": (0, 1, "char"), "x": (32, 4, "int"), "p": (40, 8, "void *")},
        holes=[(1, 31), (36, 4), (48, 16)],
        order=["a", "x", "p"], new_size=64,
        before=(6, 64), after=(6, 64), waste=(0, 0),
        scan=(48, 48), call="gort_new_ptrs(struct aligned, p)"),
    "atomics": dict(
        size=32, align=8,
        fields={"flag": (0, 1, "_Atomic char"), "total": (8, 8, "_Atomic long int"),
                "count": (16, 4, "_Atomic int"), "c": (20, 1, "char"),
                "ptr": (24, 8, "void * _Atomic")},
        holes=[(1, 7), (21, 3)],
        order=["ptr", "total", "count", "flag", "c"], new_size=24,
        before=(4, 32), after=(3, 24), waste=(0, 0),
        scan=(32, 8), call="gort_new_ptrs(struct atomics, ptr)"),
    "noptrs": dict(
        size=16, align=8, noscan=True,
        fields={"d": (0, 8, "double"), "i": (8, 4, "int"), "a": (12, 1, "char")},
        holes=[(13, 3)],
        order=["d", "i", "a"], new_size=16,
        before=(2, 16), after=(2, 16), waste=(0, 0),
        scan=(0, 0), call="gort_alloc_noscan(sizeof(struct noptrs))"),
    "anon_t": dict(
        size=24, align=8, anonymous=True,
        fields={"c": (0, 1, "char"), "p": (8, 8, "void *"), "s": (16, 2, "short int")},
        holes=[(1, 7), (18, 6)],
        order=["p", "s", "c"], new_size=16,
        before=(3, 24), after=(2, 16), waste=(0, 0),
        scan=(16, 8), call="gort_new_ptrs(anon_t, p)"),
    "big": dict(
        size=40016, align=8,
        fields={"c": (0, 1, "char"), "p": (8, 8, "void *"), "buf": (16, 40000, "char [40000]")},
        holes=[(1, 7)],
        order=["p", "c", "buf"], new_size=40016,
        before=(0, 40960), after=(0, 40960), waste=(944 * M, 944 * M),
        scan=(16, 8), call="gort_new_ptrs(struct big, p)"),
}
DROPS = {"mix", "drops", "with_union", "arrays", "flex", "atomics", "anon_t"}


def plain(typ):
    """gcc's base type names as clang writes them: short int -> short."""
    return re.sub(r"\b(short|long) int\b", r"\1", typ or "")


def check_struct(s, w, dwarf):
    n = s["name"]
    check(s["size"] == w["size"], "%s %s: size %d, want %d" % (dwarf, n, s["size"], w["size"]))
    check(s["align"] == w["align"], "%s %s: align %d, want %d" % (dwarf, n, s["align"],
                                                                  w["align"]))
    got = {f["name"]: f for f in s["fields"]}
    check(list(got) == list(w["fields"]), "%s %s: fields %s" % (dwarf, n, list(got)))
    for fname, (off, size, typ) in w["fields"].items():
        f = got.get(fname, {})
        # gcc writes no DW_TAG_atomic_type in DWARF 4: the type is the plain one there.
        want_type = typ if dwarf == "dwarf5" else typ.replace("_Atomic ", "").replace(
            " _Atomic", "")
        check((f.get("offset"), f.get("size")) == (off, size) and
              plain(f.get("type")) in (plain(typ), plain(want_type)),
              "%s %s.%s: offset %s size %s type %r, want %d %d %r" % (
                  dwarf, n, fname, f.get("offset"), f.get("size"), f.get("type"), off, size,
                  typ))
        want_bits = w.get("bits", {}).get(fname)
        got_bits = (f["bit_offset"], f["bit_size"]) if "bit_offset" in f else None
        check(got_bits == want_bits, "%s %s.%s: bits %s, want %s" % (dwarf, n, fname, got_bits,
                                                                     want_bits))
        check(f.get("pointer") == (typ.endswith("*") or typ.endswith("_Atomic")),
              "%s %s.%s: pointer %s" % (dwarf, n, fname, f.get("pointer")))
    holes = [(h["offset"], h["size"]) for h in s["holes"]]
    check(holes == w["holes"], "%s %s: holes %s, want %s" % (dwarf, n, holes, w["holes"]))
    check(s["padding"] == sum(h[1] for h in w["holes"]), "%s %s: padding %d" % (dwarf, n,
                                                                              s["padding"]))
    for flag in ("packed", "alignas", "flexible", "noscan", "anonymous"):
        check(s[flag] == w.get(flag, False), "%s %s: %s %s" % (dwarf, n, flag, s[flag]))
    check(s["bitfields"] == ("bits" in w), "%s %s: bitfields %s" % (dwarf, n, s["bitfields"]))
    check(s["reorderable"] == ("not_reordered" not in w), "%s %s: reorderable %s" % (
        dwarf, n, s["reorderable"]))
    check(s.get("not_reordered") == w.get("not_reordered"), "%s %s: not_reordered %r" % (
        dwarf, n, s.get("not_reordered")))
    check(s["misaligned_pointers"] == w.get("misaligned", []), "%s %s: misaligned %s" % (
        dwarf, n, s["misaligned_pointers"]))
    r = s["reordered"]
    check(r["order"] == w["order"], "%s %s: order %s, want %s" % (dwarf, n, r["order"],
                                                                   w["order"]))
    check(r["size"] == w["new_size"] and r["saves"] == w["size"] - w["new_size"],
          "%s %s: reordered size %d, want %d" % (dwarf, n, r["size"], w["new_size"]))
    # The reordered layout itself: each field aligned, in order, no overlap.
    end = 0
    ok = True
    for f in r["fields"]:
        ok = ok and f["offset"] % f["align"] == 0 and f["offset"] >= end
        end = f["offset"] + f["size"]
    check(ok or not s["reorderable"], "%s %s: reordered offsets aligned, no overlap" % (dwarf, n))
    for key, want in (("class_before", w["before"]), ("class_after", w["after"])):
        got_c = (s[key]["class"], s[key]["size"])
        check(got_c == want, "%s %s: %s %s, want %s" % (dwarf, n, key, got_c, want))
    waste = (s["waste_per_million_before"], s["waste_per_million_after"])
    check(waste == w["waste"], "%s %s: waste %s, want %s" % (dwarf, n, waste, w["waste"]))
    check(s["drops_class"] == (n in DROPS), "%s %s: drops_class %s" % (dwarf, n,
                                                                       s["drops_class"]))
    check(s["scan_alloc_before"] == w["before"][1] and s["scan_alloc"] == w["after"][1],
          "%s %s: gort_alloc scans %d -> %d" % (dwarf, n, s["scan_alloc_before"],
                                                s["scan_alloc"]))
    scan = (s["scan_ptrs_before"], s["scan_ptrs"])
    check(scan == w["scan"], "%s %s: gort_alloc_ptrs scans %s, want %s" % (dwarf, n, scan,
                                                                           w["scan"]))
    check(s["call"] == w["call"], "%s %s: call %r, want %r" % (dwarf, n, s["call"], w["call"]))


def static_asserts():
    """The fixture's CHECK_* lines: {struct: {"size": n, "align": n, field: offset}}."""
    out = {}
    with open(fixture) as fh:
        for m in re.finditer(r"^CHECK_(SIZE|OFF|ALIGN)\((?:struct )?(\w+), (?:(\w+), )?(\d+)\);",
                             fh.read(), re.M):
            kind, name, field, value = m.groups()
            key = field if kind == "OFF" else kind.lower()
            out.setdefault(name, {})[key] = int(value)
    return out


def pahole_layouts(obj):
    """pahole's {struct: (size, {field: (offset, size)})} for obj, top-level fields only."""
    text = subprocess.run(["pahole", obj], capture_output=True, text=True, check=True).stdout
    out, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^struct (\w+) \{", line)
        if m:
            cur = m.group(1)
            out[cur] = [None, {}]
            continue
        if cur is None:
            continue
        m = re.match(r"^\t(?:[^\t/].*?)?(\w+)(?:\[[\d\]\[]*\])?(?::\d+)?"
                     r"(?: __attribute__\(\(.*\)\))?;\s+/\*\s+(\d+)(?::\s*\d+)?\s+(\d+) \*/", line)
        if m:
            out[cur][1][m.group(1)] = (int(m.group(2)), int(m.group(3)))
        m = re.match(r"^\t/\* size: (\d+),", line)
        if m:
            out[cur][0] = int(m.group(1))
        if line.startswith("}"):
            cur = None
    return out


tmp = tempfile.mkdtemp()
try:
    asserts = static_asserts()
    check(len(asserts) == len(WANT), "fixture asserts cover %d structs" % len(asserts))
    objs = {}
    for dwarf, flag in (("dwarf5", "-g"), ("dwarf4", "-gdwarf-4")):
        obj = os.path.join(tmp, "fixture-%s.o" % dwarf)
        cp = subprocess.run([cc, "-std=c11", flag, "-c", fixture, "-o", obj],
                            capture_output=True, text=True)
        check(cp.returncode == 0, "%s: %s %s compiles (static asserts hold) %s" % (
            dwarf, cc, flag, cp.stderr.strip()))
        if cp.returncode != 0:
            continue
        objs[dwarf] = obj
        out = run("--json", obj)
        check(out.returncode == 0, "%s: gort-layout --json exits 0 %s" % (dwarf, out.stderr))
        structs = {s["name"]: s for s in json.loads(out.stdout or "[]")}
        check(sorted(structs) == sorted(WANT), "%s: structs %s (opaque left out)" % (
            dwarf, sorted(structs)))
        for name, w in WANT.items():
            if name in structs:
                check_struct(structs[name], w, dwarf)
        # The tool against the compiler's own answers.
        for name, a in asserts.items():
            s = structs.get(name)
            if s is None:
                continue
            offs = {f["name"]: f["offset"] for f in s["fields"]}
            for key, value in a.items():
                got = s["size"] if key == "size" else s["align"] if key == "align" else \
                    offs.get(key)
                check(got == value, "%s %s: %s %s, static assert says %d" % (
                    dwarf, name, key, got, value))
        # Text output: one block per struct, each with its call.
        text = run(obj)
        check(text.returncode == 0 and all(w["call"] in text.stdout for w in WANT.values()),
              "%s: text output names every call" % dwarf)

    obj = objs.get("dwarf5")
    if obj:
        r = run("--fail", "--json", obj)
        check(r.returncode == 1, "--fail exits 1 when a struct drops a class (rc %d)" %
              r.returncode)
        for n in DROPS:
            check(("struct %s:" % n) in r.stderr, "--fail names %s" % n)
        check("struct noptrs:" not in r.stderr, "--fail leaves out noptrs")
        r = run("--fail", "--struct", "noptrs", "--struct", "aligned", obj)
        check(r.returncode == 0, "--fail exits 0 when no struct drops a class (rc %d)" %
              r.returncode)
        r = run("--fail", "--struct", "drops", obj)
        check(r.returncode == 1 and "struct drops:" in r.stderr, "--fail --struct drops exits 1")
        r = run("--json", "--struct", "drops", "--struct", "anon_t", obj)
        names = [s["name"] for s in json.loads(r.stdout)] if r.returncode == 0 else []
        check(names == ["drops", "anon_t"], "--struct picks drops and anon_t: %s" % names)
        r = run("--struct", "drops", obj)
        check(r.stdout.startswith("struct drops:") and "struct mix" not in r.stdout,
              "--struct drops prints that struct only")
        r = run("--struct", "nosuch", obj)
        check(r.returncode != 0 and "nosuch" in r.stderr, "--struct nosuch fails, naming it")
        r = run(obj, objs.get("dwarf4", obj), "--json")
        check(r.returncode == 0 and len(json.loads(r.stdout)) >= len(WANT),
              "two files at once")

    obj = objs.get("dwarf4")
    if obj and shutil.which("pahole"):
        ph = pahole_layouts(obj)
        structs = {s["name"]: s for s in json.loads(run("--json", obj).stdout)}
        compared = 0
        for name, (size, fields) in ph.items():
            s = structs.get(name)
            check(s is not None, "pahole's struct %s is reported" % name)
            if s is None:
                continue
            compared += 1
            check(s["size"] == size, "pahole %s: size %d, gort-layout %d" % (name, size,
                                                                            s["size"]))
            mine = {f["name"]: f for f in s["fields"]}
            for fname, (off, fsize) in fields.items():
                f = mine.get(fname, {})
                if "bit_offset" in f:  # pahole gives the storage unit's size
                    fsize = f["size"]
                check((f.get("offset"), f.get("size")) == (off, fsize),
                      "pahole %s.%s: %d %d, gort-layout %s %s" % (
                          name, fname, off, fsize, f.get("offset"), f.get("size")))
            check(set(fields) == set(mine), "pahole %s: same fields" % name)
        check(compared >= 12, "pahole compared %d structs" % compared)
    elif obj:
        print("SKIP: pahole comparison: pahole not installed (Debian package dwarves)")

    # The tool's own copy of the size classes against src/mem/sizeclass.c.
    with open(sizeclass_c) as fh:
        m = re.search(r"rt_class_to_size\[\d+\] = \{([^}]*)\}", fh.read())
    runtime = [int(x) for x in m.group(1).replace(",", " ").split()] if m else []
    with open(tool) as fh:
        m = re.search(r"^CLASS_SIZES = \[([^\]]*)\]", fh.read(), re.M)
    mine = [int(x) for x in m.group(1).replace(",", " ").split()] if m else []
    check(len(runtime) == 68 and runtime[0] == 0 and mine == runtime[1:],
          "the tool's %d size classes equal rt_class_to_size's %d" % (len(mine),
                                                                     len(runtime) - 1))
finally:
    shutil.rmtree(tmp)

print("%d failed" % failures)
sys.exit(1 if failures else 0)
