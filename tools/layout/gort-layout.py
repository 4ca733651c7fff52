#!/usr/bin/python3
# gort-layout: struct layouts from DWARF, weighed against gort's size classes.
#
#   gort-layout FILE... [--struct NAME] [--json] [--fail]
#
# Reads the DWARF (4 or 5) of objects and executables with pyelftools and, for
# every struct with a definition (named, or an anonymous one named by a
# typedef), prints its size and alignment, its fields (offset, size, type),
# the holes between them and at the end, a field order with the least padding,
# the gort size class before and after that reordering, the bytes wasted per
# million objects, the bytes the collector scans per object and the
# allocation call to use. docs/layout.md describes the output.
#
# Reordering sorts the top-level fields by alignment, widest first, pointers
# first among equals, otherwise in source order; nested structs, unions and
# arrays move as units with their own alignment, and a flexible array member
# stays last. With alignments powers of two and sizes multiples of them, that
# order has no holes between fields, so only the tail padding the struct's
# alignment demands remains. Structs with bitfields, packed structs and
# structs with an _Alignas field are reported but never reordered.
#
# Alignment is not in DWARF (except DW_AT_alignment for _Alignas), so it is
# derived as the C ABI of x86-64 gives it: a scalar's alignment is its size
# (complex types: half of it), _Atomic rounds a power-of-two size up to its
# own alignment, an aggregate takes its widest member's, and a struct whose
# offsets or size contradict that was packed (alignment 1).
#
# --fail exits 1 when some struct would drop to a smaller size class by being
# reordered, and names it; other projects' CI can run it on their objects.
import argparse
import json
import signal
import sys

try:
    from elftools.elf.elffile import ELFFile
except ImportError:
    sys.exit("gort-layout: needs pyelftools (Debian package python3-pyelftools)")

# gort's size classes (src/mem/sizeclass.c, rt_class_to_size; Go's table):
# bytes per object of classes 1-67. tests/layout checks this copy against it.
CLASS_SIZES = [
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
    288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
    1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
    6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
    20480, 21760, 24576, 27264, 28672, 32768,
]
PAGE_SIZE = 8192  # objects over 32 KiB get whole pages of their own
PTR_SIZE = 8

QUALIFIERS = {
    "DW_TAG_const_type": "const",
    "DW_TAG_volatile_type": "volatile",
    "DW_TAG_restrict_type": "restrict",
    "DW_TAG_atomic_type": "_Atomic",
}


def attr(die, name, default=None):
    a = die.attributes.get(name)
    return default if a is None else a.value


def name_of(die):
    n = attr(die, "DW_AT_name")
    return n.decode() if n is not None else None


def target(die):
    """The DIE's DW_AT_type, or None (void)."""
    if "DW_AT_type" not in die.attributes:
        return None
    return die.get_DIE_from_attribute("DW_AT_type")


def strip(die):
    """die without typedefs and qualifiers (_Atomic included); None is void."""
    while die is not None and (die.tag == "DW_TAG_typedef" or die.tag in QUALIFIERS):
        die = target(die)
    return die


def array_dims(die):
    """Element counts of an array type, outermost first; None for an unbounded one."""
    dims = []
    for sub in die.iter_children():
        if sub.tag != "DW_TAG_subrange_type":
            continue
        count = attr(sub, "DW_AT_count")
        if count is None:
            upper = attr(sub, "DW_AT_upper_bound")
            # gcc gives a flexible array member no bound (older ones: -1).
            count = None if upper is None or upper == 0xFFFFFFFFFFFFFFFF else upper + 1
        dims.append(count if isinstance(count, int) else None)
    return dims


def type_size(die):
    if die is None:
        return 0
    size = attr(die, "DW_AT_byte_size")
    if size is not None:
        return size
    if die.tag == "DW_TAG_typedef" or die.tag in QUALIFIERS:
        return type_size(target(die))
    if die.tag == "DW_TAG_array_type":
        n = 1
        for d in array_dims(die):
            n *= d or 0
        return n * type_size(target(die))
    if die.tag == "DW_TAG_pointer_type":
        return PTR_SIZE
    return 0


def member_offset(m):
    loc = attr(m, "DW_AT_data_member_location")
    if loc is None:
        return 0
    if isinstance(loc, int):
        return loc
    if loc and loc[0] == 0x23:  # DW_OP_plus_uconst ULEB128 (DWARF 2 style)
        value, shift = 0, 0
        for byte in loc[1:]:
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        return value
    return 0


def bit_position(m):
    """(first bit from the struct's start, width) of a bitfield, else None."""
    width = attr(m, "DW_AT_bit_size")
    if width is None:
        return None
    first = attr(m, "DW_AT_data_bit_offset")
    if first is None:  # DWARF 4 style: counted from the storage unit's top bit
        unit = attr(m, "DW_AT_byte_size") or type_size(target(m))
        first = member_offset(m) * 8 + unit * 8 - attr(m, "DW_AT_bit_offset", 0) - width
    return first, width


def members(die):
    return [m for m in die.iter_children() if m.tag == "DW_TAG_member"]


def is_packed(die):
    """A struct whose offsets or size contradict its members' natural alignment."""
    widest = 1
    for m in members(die):
        if bit_position(m) is not None:
            continue
        a = type_align(target(m))
        widest = max(widest, a)
        if member_offset(m) % a:
            return True
    return type_size(die) % widest != 0


def type_align(die):
    if die is None:
        return 1
    explicit = attr(die, "DW_AT_alignment")
    if explicit is not None:
        return explicit
    tag = die.tag
    if tag == "DW_TAG_atomic_type":
        inner, size = type_align(target(die)), type_size(die)
        if size in (1, 2, 4, 8, 16):  # C11 _Atomic: power-of-two sizes align to themselves
            return max(inner, size)
        return inner
    if tag == "DW_TAG_typedef" or tag in QUALIFIERS:
        return type_align(target(die))
    if tag == "DW_TAG_base_type":
        size = type_size(die)
        if attr(die, "DW_AT_encoding") in (0x03,):  # DW_ATE_complex_float
            size //= 2
        return max(1, size)
    if tag in ("DW_TAG_pointer_type", "DW_TAG_reference_type"):
        return PTR_SIZE
    if tag == "DW_TAG_enumeration_type":
        return max(1, type_size(die))
    if tag == "DW_TAG_array_type":
        return type_align(target(die))
    if tag in ("DW_TAG_structure_type", "DW_TAG_union_type"):
        if tag == "DW_TAG_structure_type" and is_packed(die):
            return 1
        a = 1
        for m in members(die):
            a = max(a, attr(m, "DW_AT_alignment") or type_align(target(m)))
        return a
    return 1


def type_name(die):
    if die is None:
        return "void"
    tag = die.tag
    if tag in QUALIFIERS:
        inner = target(die)
        if inner is not None and inner.tag == "DW_TAG_pointer_type":
            return "%s %s" % (type_name(inner), QUALIFIERS[tag])
        return "%s %s" % (QUALIFIERS[tag], type_name(inner))
    if tag == "DW_TAG_pointer_type":
        inner = target(die)
        if inner is not None and inner.tag == "DW_TAG_subroutine_type":
            return "%s (*)()" % type_name(target(inner))
        return type_name(inner) + " *"
    if tag == "DW_TAG_array_type":
        dims = "".join("[%s]" % ("" if d is None else d) for d in array_dims(die))
        return type_name(target(die)) + " " + dims
    kind = {"DW_TAG_structure_type": "struct ", "DW_TAG_union_type": "union ",
            "DW_TAG_enumeration_type": "enum "}.get(tag, "")
    n = name_of(die)
    if n is None:
        return kind + "{...}" if kind else "?"
    return kind + n


def designator(parts):
    """offsetof's member designator: ['inner', 'p'] -> inner.p, ['a', '[3]'] -> a[3]."""
    out = ""
    for p in parts:
        out += p if p.startswith("[") or not out else "." + p
    return out


def last_pointer(die):
    """(offset, designator parts) of the pointer word ending last in the type, or None.

    Unions count every member's pointers: the collector cannot know which
    member is live. A flexible array contributes none (it lies past sizeof).
    """
    die = strip(die)
    if die is None:
        return None
    if die.tag == "DW_TAG_pointer_type":
        return 0, []
    if die.tag == "DW_TAG_array_type":
        dims = array_dims(die)
        if not dims or None in dims or 0 in dims:
            return None
        inner = last_pointer(target(die))
        if inner is None:
            return None
        total = 1
        for d in dims:
            total *= d
        index = "".join("[%d]" % (d - 1) for d in dims)
        return (total - 1) * type_size(target(die)) + inner[0], [index] + inner[1]
    if die.tag in ("DW_TAG_structure_type", "DW_TAG_union_type"):
        best = None
        for m in members(die):
            if bit_position(m) is not None:
                continue
            inner = last_pointer(target(m))
            if inner is None:
                continue
            off = member_offset(m) + inner[0]
            n = name_of(m)  # None: an anonymous struct or union, reached directly
            if best is None or off >= best[0]:
                best = off, ([n] if n else []) + inner[1]
        return best
    return None


def size_class(size):
    """(class number, bytes per object); class 0 is a large object (whole pages)."""
    if size == 0:
        return 0, 0
    for i, c in enumerate(CLASS_SIZES):
        if size <= c:
            return i + 1, c
    return 0, (size + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE


def align_up(n, a):
    return (n + a - 1) // a * a


def holes_of(fields, size):
    """Padding between fields (in offset order) and at the end."""
    holes, end, prev = [], 0, None
    for f in sorted(fields, key=lambda f: (f["bit_offset"] if "bit_offset" in f
                                           else f["offset"] * 8)):
        if "bit_offset" in f:
            start, stop = f["bit_offset"] // 8, (f["bit_offset"] + f["bit_size"] + 7) // 8
        else:
            start, stop = f["offset"], f["offset"] + f["size"]
        if start > end:
            holes.append({"offset": end, "size": start - end, "after": prev})
        end, prev = max(end, stop), f["name"]
    if size > end:
        holes.append({"offset": end, "size": size - end, "after": prev, "tail": True})
    return holes


def analyze(die, name, aliases, where):
    size = type_size(die)
    align = type_align(die)
    fields, units = [], []
    for i, m in enumerate(members(die)):
        t = target(m)
        f = {"name": name_of(m) or "(anonymous)", "offset": member_offset(m),
             "size": type_size(t), "type": type_name(t),
             "align": attr(m, "DW_AT_alignment") or type_align(t)}
        base = strip(t)
        f["pointer"] = base is not None and base.tag == "DW_TAG_pointer_type"
        if base is not None and base.tag == "DW_TAG_array_type" and None in array_dims(base):
            f["flexible"] = True
        bits = bit_position(m)
        if bits is not None:
            f["bit_offset"], f["bit_size"] = bits
            f["offset"] = bits[0] // 8
        if attr(m, "DW_AT_alignment") is not None:
            f["alignas"] = attr(m, "DW_AT_alignment")
        fields.append(f)
        units.append((f, last_pointer(t), i))

    s = {"name": name, "aliases": aliases, "anonymous": name_of(die) is None, "file": where,
         "size": size, "align": align, "fields": fields}
    s["holes"] = holes_of(fields, size)
    s["padding"] = sum(h["size"] for h in s["holes"])
    s["bitfields"] = any("bit_offset" in f for f in fields)
    s["packed"] = is_packed(die)
    s["alignas"] = attr(die, "DW_AT_alignment") is not None or any("alignas" in f
                                                                   for f in fields)
    s["flexible"] = any(f.get("flexible") for f in fields)
    # The collector reads aligned words only: a pointer off an 8-byte boundary
    # (packed) is invisible to it and what it points to may be freed.
    s["misaligned_pointers"] = [f["name"] for f in fields
                                if f["pointer"] and f["offset"] % PTR_SIZE]
    why = [w for w, on in (("bitfields", s["bitfields"]), ("packed", s["packed"]),
                           ("_Alignas", s["alignas"])) if on]
    s["reorderable"] = not why
    if why:
        s["not_reordered"] = ", ".join(why)

    # The proposed order and its layout (the present one where reordering is off).
    order = units
    if s["reorderable"]:
        order = sorted(units, key=lambda u: (bool(u[0].get("flexible")), -u[0]["align"],
                                             not u[0]["pointer"], u[2]))
    new_size, new_fields, new_offset, off = size, [], {}, 0
    if s["reorderable"]:
        for f, _, i in order:
            off = align_up(off, f["align"])
            new_fields.append(dict(f, offset=off))
            new_offset[i] = off
            off += f["size"]
        new_size = align_up(off, align) if fields else size
    else:
        new_fields = [dict(f) for f in fields]
        new_offset = {i: f["offset"] for i, f in enumerate(fields)}
    s["reordered"] = {"order": [f["name"] for f in new_fields], "size": new_size,
                      "saves": size - new_size, "fields": new_fields,
                      "holes": holes_of(new_fields, new_size)}

    for key, sz in (("before", size), ("after", new_size)):
        cls, bytes_ = size_class(sz)
        s["class_" + key] = {"class": cls, "size": bytes_}
        s["waste_per_million_" + key] = (bytes_ - sz) * 1000000
    s["drops_class"] = s["class_after"]["size"] < s["class_before"]["size"]

    # Scanning: gort_alloc scans the whole slot; gort_alloc_ptrs up to the
    # end of the last pointer word, in the proposed layout.
    def last_in(offset_of):
        last = None
        for f, lp, i in units:
            if lp is not None and "bit_offset" not in f:
                off = offset_of[i] + lp[0]
                if last is None or off >= last[0]:
                    parts = [] if f["name"] == "(anonymous)" else [f["name"]]
                    last = off, designator(parts + lp[1])
        return last

    last = last_in(new_offset)
    last_before = last_in({i: f["offset"] for i, f in enumerate(fields)})
    ctype = aliases[0] if aliases else "struct " + name
    flex_ptrs = any(f.get("flexible") and "*" in f["type"] for f in fields)
    s["c_type"] = ctype
    s["scan_alloc_before"] = s["class_before"]["size"]
    s["scan_alloc"] = s["class_after"]["size"]
    s["noscan"] = last is None and not flex_ptrs
    if flex_ptrs:
        s["scan_ptrs_before"] = s["scan_ptrs"] = s["last_pointer"] = None
        s["call"] = "gort_alloc(sizeof(%s) + n * sizeof(void *))" % ctype
    elif last is None:
        s["scan_ptrs_before"] = s["scan_ptrs"] = 0
        s["last_pointer"] = None
        s["call"] = "gort_alloc_noscan(sizeof(%s))" % ctype
    else:
        s["scan_ptrs_before"] = last_before[0] + PTR_SIZE
        s["scan_ptrs"] = last[0] + PTR_SIZE
        s["last_pointer"] = last[1]
        s["call"] = "gort_new_ptrs(%s, %s)" % (ctype, last[1])
    return s


def decl_files(dwarf, cu):
    """DW_AT_decl_file numbers of the CU -> file names (DWARF 5 counts from 0).
    Empty when the line table cannot be read: Debian 12's pyelftools 0.29
    fails on clang 14's DWARF 5 line tables; the layouts do not need them."""
    try:
        prog = dwarf.line_program_for_CU(cu)
    except Exception:  # noqa: BLE001 (any parse error: names are optional)
        return {}
    if prog is None:
        return {}
    first = 0 if prog.header["version"] >= 5 else 1
    names = {}
    for i, entry in enumerate(prog.header["file_entry"]):
        name = entry.name.decode(errors="replace")
        if not name.startswith("/") and entry.dir_index < len(prog.header["include_directory"]):
            d = prog.header["include_directory"][entry.dir_index].decode(errors="replace")
            if entry.dir_index or first == 0:
                name = d + "/" + name
        names[i + first] = name
    return names


def collect(paths):
    """Every defined struct in the files, once per distinct layout."""
    seen, out = set(), []
    for path in paths:
        with open(path, "rb") as fh:
            elf = ELFFile(fh)
            if not elf.has_dwarf_info():
                print("gort-layout: %s: no DWARF (build with -g)" % path, file=sys.stderr)
                continue
            dwarf = elf.get_dwarf_info()
            for cu in dwarf.iter_CUs():
                files = decl_files(dwarf, cu)
                typedefs = {}
                structs = []
                for die in cu.iter_DIEs():
                    if die.tag == "DW_TAG_typedef":
                        t = target(die)
                        while t is not None and t.tag == "DW_TAG_typedef":
                            t = target(t)  # typedef gort_chan Hchan: Hchan names the struct
                        if t is not None and t.tag == "DW_TAG_structure_type":
                            typedefs.setdefault(t.offset, []).append(name_of(die))
                    elif (die.tag == "DW_TAG_structure_type"
                          and "DW_AT_declaration" not in die.attributes
                          and "DW_AT_byte_size" in die.attributes):
                        structs.append(die)
                for die in structs:
                    aliases = typedefs.get(die.offset, [])
                    name = name_of(die) or (aliases[0] if aliases else None)
                    if name is None:
                        continue
                    where = "%s:%s" % (files.get(attr(die, "DW_AT_decl_file"), path),
                                       attr(die, "DW_AT_decl_line", "?"))
                    s = analyze(die, name, aliases, where)
                    key = (name, s["size"], tuple((f["name"], f["offset"], f["type"])
                                                  for f in s["fields"]))
                    if key not in seen:
                        seen.add(key)
                        out.append(s)
    return out


def show_fields(fields):
    lines = []
    for f in sorted(fields, key=lambda f: f.get("bit_offset", f["offset"] * 8)):
        if "bit_offset" in f:
            where = "%5d:%-2d" % (f["offset"], f["bit_offset"] % 8)
            size = "%2d bit" % f["bit_size"]
        else:
            where, size = "%5d   " % f["offset"], "%6d" % f["size"]
        lines.append("  %s %s  %-24s %s" % (where, size, f["type"], f["name"]))
    return lines


def show(s):
    alias = [a for a in s["aliases"] if a != s["name"]]
    if s["anonymous"]:
        title = "%s (typedef of an anonymous struct)" % s["name"]
    else:
        title = "struct %s%s" % (s["name"], " (typedef %s)" % ", ".join(alias) if alias else "")
    head = "%s: size %d, align %d (%s)" % (title, s["size"], s["align"], s["file"])
    lines = [head, "    offset   size  type                     field"]
    lines += show_fields(s["fields"])
    for h in s["holes"]:
        lines.append("  hole: %d bytes at %d%s" % (
            h["size"], h["offset"], " (end)" if h.get("tail") else " after " + str(h["after"])))
    flags = [k for k in ("packed", "alignas", "bitfields", "flexible") if s[k]]
    if flags:
        lines.append("  has: " + ", ".join(flags))
    if s["misaligned_pointers"]:
        lines.append("  warning: pointers the collector cannot see (not 8-byte aligned): "
                     + ", ".join(s["misaligned_pointers"]))
    r = s["reordered"]
    if not s["reorderable"]:
        lines.append("  reorder: no (%s)" % s["not_reordered"])
    elif r["saves"] > 0:
        lines.append("  reorder: %s -> size %d (saves %d)" % (", ".join(r["order"]), r["size"],
                                                             r["saves"]))
    elif r["order"] != [f["name"] for f in s["fields"]]:
        lines.append("  reorder: same size, pointers first: %s" % ", ".join(r["order"]))
    else:
        lines.append("  reorder: nothing to gain")
    def cls(c):
        if c["class"] == 0 and c["size"]:
            return "large (%d pages, %d B)" % (c["size"] // PAGE_SIZE, c["size"])
        return "%d (%d B)" % (c["class"], c["size"])

    lines.append("  size class: %s -> %s%s" % (cls(s["class_before"]), cls(s["class_after"]),
                                               "  <- drops a class" if s["drops_class"] else ""))
    lines.append("  wasted per million objects: %d B -> %d B" % (s["waste_per_million_before"],
                                                                 s["waste_per_million_after"]))
    if s["noscan"]:
        scan = "no pointers: can be gort_alloc_noscan"
    elif s["scan_ptrs"] is None:
        scan = "pointers in the flexible array: scan it all"
    else:
        scan = "gort_alloc_ptrs %d B -> %d B" % (s["scan_ptrs_before"], s["scan_ptrs"])
    lines.append("  scanned per object: gort_alloc %d B -> %d B; %s" % (
        s["scan_alloc_before"], s["scan_alloc"], scan))
    lines.append("  use: " + s["call"])
    return "\n".join(lines)


def main(argv):
    ap = argparse.ArgumentParser(prog="gort-layout",
                                 description="struct layouts and gort size classes, from DWARF")
    ap.add_argument("files", nargs="+", metavar="FILE")
    ap.add_argument("--struct", action="append", metavar="NAME",
                    help="only this struct (tag or typedef name); may repeat")
    ap.add_argument("--json", action="store_true", help="one JSON object per struct, in a list")
    ap.add_argument("--fail", action="store_true",
                    help="exit 1 if reordering some struct would drop its size class")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under `| head`
    try:
        structs = collect(args.files)
    except (OSError, ValueError) as e:
        sys.exit("gort-layout: %s" % e)
    if args.struct:
        want = set(args.struct)
        structs = [s for s in structs if s["name"] in want or want & set(s["aliases"])]
        missing = want - {n for s in structs for n in [s["name"]] + s["aliases"]}
        if missing:
            sys.exit("gort-layout: no struct %s in %s" % (", ".join(sorted(missing)),
                                                         " ".join(args.files)))
    if args.json:
        print(json.dumps(structs, indent=1))
    else:
        print("\n\n".join(show(s) for s in structs))
    if args.fail:
        drops = [s for s in structs if s["drops_class"]]
        for s in drops:
            print("gort-layout: struct %s: reordered it would take %d B instead of %d B (%s)"
                  % (s["name"], s["class_after"]["size"], s["class_before"]["size"],
                     ", ".join(s["reordered"]["order"])), file=sys.stderr)
        return 1 if drops else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
