# gort-gdb.py: gdb extension for programs linked with gort (Go's runtime
# model in C), after Go's runtime-gdb.py.
#
# Loaded by gdb's auto-load from the .debug_gdb_scripts entry in every gort
# executable (src/arch/amd64/rt0.S) once this folder is on the auto-load safe
# path (README: one line for ~/.gdbinit), or by `source`.
#
# Everything is read from the inferior's memory, never by calling into it, so
# it works on a live process and on a core file alike. Types come from the
# DWARF of src/debug/gdb_types.c (always built with -g into libgort_rt0.a);
# globals (rt_allg, rt_allp, rt_sched, rt_mheap, rt_gc) from the symbol table.
#
# Commands:
#   info goroutines [-u|-r|-s|-g]  id, state, wait reason and age, a frame
#                           (-u first user frame, the default; -r top frame;
#                           -s start function; -g creation site), creator;
#                           '*' marks goroutines running on a thread.
#   goroutine N|all CMD      run CMD (bt, info frame, frame N ...) on
#                           goroutine N. Live process: the registers of frame
#                           0 are swapped for the goroutine's saved context
#                           (a parked G: pc/rbp/sp from the 64-byte frame the
#                           switch pushed, asm.S) or its thread's (a running
#                           G: the LWP whose id is m->tid), then restored.
#                           Core file (registers cannot be written): a Python
#                           unwinder makes the goroutine's frames the callers
#                           of frame 0, which bt hides (frames count from 1);
#                           a running G uses its thread.
#   info gort sched          the schedtrace/scheddetail view
#   info gort heap           spans by size class, heap live, goal, cycles
# Printers: gort_chan * (len, cap, closed, waiting senders/receivers), G *,
# M *, P *, Span *.
import itertools

import gdb
import gdb.unwinder

# Go's words for the wait reasons, keyed by enumerator (rt.h, print.c).
WAIT_REASONS = {
    "WAIT_ZERO": "",
    "WAIT_CHAN_SEND": "chan send",
    "WAIT_CHAN_RECV": "chan receive",
    "WAIT_CHAN_SEND_NIL": "chan send (nil chan)",
    "WAIT_CHAN_RECV_NIL": "chan receive (nil chan)",
    "WAIT_SELECT": "select",
    "WAIT_SELECT_NO_CASES": "select (no cases)",
    "WAIT_SLEEP": "sleep",
    "WAIT_SYNC_MUTEX": "sync.Mutex.Lock",
    "WAIT_SYNC_RWMUTEX_RLOCK": "sync.RWMutex.RLock",
    "WAIT_SYNC_RWMUTEX_LOCK": "sync.RWMutex.Lock",
    "WAIT_SYNC_WAITGROUP": "sync.WaitGroup.Wait",
    "WAIT_SYNC_COND": "sync.Cond.Wait",
    "WAIT_SEMACQUIRE": "semacquire",
    "WAIT_GC_WORKER": "GC worker (idle)",
    "WAIT_FINALIZER": "finalizer wait",
    "WAIT_FORCEGC": "force gc (idle)",
    "WAIT_GC_SWEEP": "GC sweep wait",
    "WAIT_GC_SCAVENGE": "GC scavenge wait",
    "WAIT_IO": "IO wait",
    "WAIT_PREEMPTED": "preempted",
}
G_STATES = {
    "G_IDLE": "idle",
    "G_RUNNABLE": "runnable",
    "G_RUNNING": "running",
    "G_SYSCALL": "syscall",
    "G_WAITING": "waiting",
    "G_DEAD": "dead",
    "G_PREEMPTED": "preempted",
}
P_STATES = {"P_IDLE": "idle", "P_RUNNING": "running", "P_SYSCALL": "syscall",
            "P_GCSTOP": "gcstop", "P_DEAD": "dead"}
# The switch's saved context (src/arch/amd64/asm.S, offsets.h).
CTX_RBP, CTX_RET, CTX_SIZE = 48, 56, 64
RUNTIME_PREFIXES = ("rt_", "gort_", "_rt0", "__libc_start")


def _enum_names(tname):
    t = gdb.lookup_type(tname)
    return {int(f.enumval): f.name for f in t.fields()}


def _table(tname, words):
    try:
        return {v: words.get(n, n) for v, n in _enum_names(tname).items()}
    except gdb.error:
        return {}


def _type(tname):
    """A type by name; trailing '*'s make pointers ("P **")."""
    base = tname.rstrip("* ")
    t = gdb.lookup_type(base)
    for _ in range(tname.count("*")):
        t = t.pointer()
    return t


def _global(name, tname):
    """The global `name` as a value of type tname, from the symbol table."""
    t = _type(tname)
    addr = int(gdb.parse_and_eval("(unsigned long)&'%s'" % name))
    return gdb.Value(addr).cast(t.pointer()).dereference()


def _u64(addr):
    inf = gdb.selected_inferior()
    return int.from_bytes(bytes(inf.read_memory(addr, 8)), "little")


def _atomic(v):
    # _Atomic fields read as their plain type in DWARF 5; strip qualifiers.
    return int(v)


def _sym(pc):
    """Function name for pc (debug info or the ELF symbol table), or hex."""
    if pc == 0:
        return "?"
    try:
        b = gdb.block_for_pc(pc)
        while b is not None and b.function is None:
            b = b.superblock
        if b is not None and b.function is not None:
            return b.function.name
    except RuntimeError:
        pass
    out = gdb.execute("info symbol 0x%x" % pc, to_string=True)
    if out.startswith("No symbol"):
        return "0x%x" % pc
    return out.split(" in section")[0].split(" + ")[0].strip()


def _is_runtime_pc(pc):
    """True for gort's own code (its section gort_text, cmake/gort_text.ld),
    the entry point, and addresses without a symbol."""
    if pc == 0:
        return True
    out = gdb.execute("info symbol 0x%x" % pc, to_string=True)
    if out.startswith("No symbol"):
        return True
    return "section gort_text" in out or _sym(pc).startswith(RUNTIME_PREFIXES)


def all_gs():
    """Every G on rt_allg that is not dead, oldest last (list order)."""
    gp = _global("rt_allg", "G *")
    dead = [k for k, v in _enum_names("enum GStatus").items() if v == "G_DEAD"]
    out = []
    n = 0
    while int(gp) != 0 and n < 1000000:
        if _atomic(gp["status"]) not in dead:
            out.append(gp)
        gp = gp["alllink"]
        n += 1
    return sorted(out, key=lambda g: int(g["goid"]))


def find_g(goid):
    for gp in all_gs():
        if int(gp["goid"]) == goid:
            return gp
    return None


def saved_frames(gp, depth=64):
    """(pc, sp, rbp) frames of a G that is not running, walked with frame
    pointers from the context its last switch saved."""
    sp = int(gp["sched"]["sp"])
    if sp == 0:
        return []
    pc, rbp, sp = _u64(sp + CTX_RET), _u64(sp + CTX_RBP), sp + CTX_SIZE
    lo, hi = int(gp["stack_lo"]), int(gp["stack_hi"])
    frames = [(pc, sp, rbp)]
    while len(frames) < depth and lo <= rbp < hi and rbp != 0:
        ret, nrbp = _u64(rbp + 8), _u64(rbp)
        if ret == 0:
            break
        frames.append((ret, rbp + 16, nrbp))
        if nrbp <= rbp:
            break
        rbp = nrbp
    return frames


def thread_of(gp):
    m = gp["m"]
    if int(m) == 0:
        return None
    tid = int(m["tid"])
    for t in gdb.selected_inferior().threads():
        if t.ptid[1] == tid:
            return t
    return None


def g_state(gp):
    st = _table("enum GStatus", G_STATES).get(_atomic(gp["status"]), "?")
    if st == "waiting":
        r = _table("enum WaitReason", WAIT_REASONS).get(int(gp["waitreason"]), "")
        return r or "waiting"
    return st


def g_age_minutes(gp):
    try:
        now = _atomic(_global("rt_sched", "Sched")["coarse_now"])
    except gdb.error:
        return 0
    since = int(gp["waitsince"])
    if since == 0 or now <= since:
        return 0
    return (now - since) // 60000000000


def top_frames(gp):
    """(pc, name) of the G's stack, innermost first, without switching."""
    if int(gp["m"]) != 0:
        t = thread_of(gp)
        if t is None:
            return []
        cur = gdb.selected_thread()
        t.switch()
        names = []
        f = gdb.newest_frame()
        while f is not None and len(names) < 64:
            names.append((f.pc(), f.name() or _sym(f.pc())))
            f = f.older()
        cur.switch()
        return names
    return [(pc, _sym(pc)) for pc, _, _ in saved_frames(gp)]


class InfoGoroutines(gdb.Command):
    """info goroutines [-u|-r|-s|-g]: list gort's goroutines (see gort-gdb.py)."""

    def __init__(self):
        super().__init__("info goroutines", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        mode = arg.strip() or "-u"
        for gp in all_gs():
            star = "*" if int(gp["m"]) != 0 else " "
            st = g_state(gp)
            age = g_age_minutes(gp)
            if age:
                st += ", %d minutes" % age
            if gp["is_system"]:
                st += ", runtime"
            if mode == "-s":
                where = _sym(int(gp["fn"]))
            elif mode == "-g":
                where = _sym(int(gp["gopc"]))
            else:
                frames = top_frames(gp)
                where = frames[0][1] if frames else "?"
                if mode == "-u":
                    user = [n for pc, n in frames if not _is_runtime_pc(pc)]
                    where = user[0] if user else where
            print("%s %d [%s] %s created by goroutine %d at %s" % (
                star, int(gp["goid"]), st, where, int(gp["parent_goid"]),
                _sym(int(gp["gopc"]))))


def _live():
    inf = gdb.selected_inferior()
    return inf.pid != 0 and not _is_core()


def _is_core():
    # gdb 11 and later name the target's kind; gdb 13 says "Local core dump
    # file" in `info target`, older ones "core file".
    conn = getattr(gdb.selected_inferior(), "connection", None)
    if conn is not None:
        return conn.type == "core"
    try:
        out = gdb.execute("info target", to_string=True)
    except gdb.error:
        return False
    low = out.lower()
    return ("core file" in low or "core dump file" in low) and "child process" not in low


class GoroutineCmd(gdb.Command):
    """goroutine N|all CMD: run CMD (bt, info frame, ...) on goroutine N or on all."""

    def __init__(self):
        super().__init__("goroutine", gdb.COMMAND_STACK, gdb.COMPLETE_NONE)

    def invoke(self, arg, from_tty):
        parts = arg.split(None, 1)
        if len(parts) < 2:
            raise gdb.GdbError("usage: goroutine N|all CMD")
        which, cmd = parts
        gs = all_gs() if which == "all" else [find_g(int(which, 0))]
        if gs == [None]:
            raise gdb.GdbError("no goroutine %s" % which)
        for gp in gs:
            print("goroutine %d [%s]:" % (int(gp["goid"]), g_state(gp)))
            self.run_on(gp, cmd)
            print("")

    def run_on(self, gp, cmd):
        if int(gp["m"]) != 0:
            t = thread_of(gp)
            if t is None:
                print("(running on M %d, thread not found)" % int(gp["m"]["id"]))
                return
            cur = gdb.selected_thread()
            t.switch()
            try:
                gdb.execute(cmd)
            finally:
                cur.switch()
            return
        frames = saved_frames(gp)
        if not frames:
            print("(no saved context)")
            return
        if _is_core():
            # No register can be written: the unwinder says frame 0's caller
            # is the goroutine's innermost frame, and the frame filter hides
            # frame 0 (the thread's own) from bt. Frames are numbered from 1.
            pc, sp, rbp = frames[0]
            _UNWINDER.regs = (pc, sp, rbp)
            _HIDE.enabled = True
            gdb.invalidate_cached_frames()
            try:
                gdb.execute("select-frame 1")
                gdb.execute(cmd)
            finally:
                _UNWINDER.regs = None
                _HIDE.enabled = False
                gdb.invalidate_cached_frames()
                gdb.execute("select-frame 0")
            return
        pc, sp, rbp = frames[0]
        gdb.execute("select-frame 0")
        save = [int(gdb.parse_and_eval(r)) for r in ("$pc", "$sp", "$rbp")]
        try:
            gdb.execute("set $pc = 0x%x" % pc)
            gdb.execute("set $sp = 0x%x" % sp)
            gdb.execute("set $rbp = 0x%x" % rbp)
            gdb.execute(cmd)
        finally:
            gdb.execute("select-frame 0")
            gdb.execute("set $pc = 0x%x" % save[0])
            gdb.execute("set $sp = 0x%x" % save[1])
            gdb.execute("set $rbp = 0x%x" % save[2])


class InfoGort(gdb.Command):
    """info gort sched|heap: gort's scheduler or heap, read from memory."""

    def __init__(self):
        super().__init__("info gort", gdb.COMMAND_STATUS, gdb.COMPLETE_NONE, True)


class InfoGortSched(gdb.Command):
    """info gort sched: the schedtrace/scheddetail view (GODEBUG=schedtrace)."""

    def __init__(self):
        super().__init__("info gort sched", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        sched = _global("rt_sched", "Sched")
        n = int(_global("rt_gomaxprocs", "int"))
        allp = _global("rt_allp", "P **")
        pst = _table("enum PStatus", P_STATES)
        print("SCHED gomaxprocs=%d idleprocs=%d threads=%d spinningthreads=%d idlethreads=%d "
              "runqueue=%d goroutines=%d" % (
                  n, _atomic(sched["npidle"]), int(sched["mcount"]),
                  _atomic(sched["nmspinning"]), int(sched["nmidle"]),
                  _atomic(sched["runqsize"]), _atomic(sched["ngoroutines"])))
        for i in range(n):
            p = allp[i]
            m = p["m"]
            runq = (_atomic(p["runqtail"]) - _atomic(p["runqhead"])) & 0xffffffff
            print("  P%d: status=%s schedtick=%d m=%d runqsize=%d gfreecnt=%d timers=%d" % (
                int(p["id"]), pst.get(_atomic(p["status"]), "?"), int(p["schedtick"]),
                int(m["id"]) if int(m) else -1, runq, int(p["ngfree"]), int(p["ntimers"])))
        m = _global("rt_allm", "M *")
        while int(m) != 0:
            curg = m["curg"]
            print("  M%d: p=%d curg=%d spinning=%s locks=%d tid=%d%s" % (
                int(m["id"]), int(m["p"]["id"]) if int(m["p"]) else -1,
                int(curg["goid"]) if int(curg) else -1, bool(m["spinning"]),
                int(m["locks"]), int(m["tid"]), " sysmon" if m["is_sysmon"] else ""))
            m = m["alllink"]


class InfoGortHeap(gdb.Command):
    """info gort heap: in-use spans by size class, heap live and goal, GC cycles."""

    def __init__(self):
        super().__init__("info gort heap", gdb.COMMAND_STATUS)

    def invoke(self, arg, from_tty):
        h = _global("rt_mheap", "MHeap")
        gc = _global("rt_gc", "GCState")
        span_t = gdb.lookup_type("Span")
        print("heap: sys=%d inuse=%d released=%d live=%d goal=%d marked=%d cycles=%d spans=%d" % (
            int(h["heap_sys"]), int(h["heap_inuse"]), int(h["heap_released"]),
            _atomic(h["heap_live"]), _atomic(gc["goal"]), _atomic(gc["heap_marked"]),
            _atomic(gc["num_gc"]), int(h["nspans"])))
        npages = gdb.lookup_type("HeapArena")["spans"].type.range()[1] + 1
        inf = gdb.selected_inferior()
        bycl = {}
        seen = set()
        for i in range(int(h["narenas"])):
            a = h["allarenas"][i]
            raw = bytes(inf.read_memory(int(a["spans"].address), 8 * npages))
            for k in range(npages):
                sp = int.from_bytes(raw[8 * k:8 * k + 8], "little")
                if sp == 0 or sp in seen:
                    continue
                seen.add(sp)
                s = gdb.Value(sp).cast(span_t.pointer()).dereference()
                spc = int(s["spanclass"])
                e = bycl.setdefault(spc, [0, 0, 0, int(s["elemsize"])])
                e[0] += 1
                e[1] += int(s["alloc_count"])
                e[2] += int(s["nelems"])
        print("%-6s %-7s %8s %6s %10s %10s" % ("class", "kind", "elemsize", "spans", "objects",
                                               "slots"))
        for spc in sorted(bycl):
            n, objs, slots, size = bycl[spc]
            cl = spc >> 1
            print("%-6s %-7s %8d %6d %10d %10d" % (cl if cl else "large",
                                                   "noscan" if spc & 1 else "scan", size, n,
                                                   objs, slots))


# ---- printers ---------------------------------------------------------------

def _waiters(q):
    n = 0
    sg = q["first"]
    while int(sg) != 0 and n < 100000:
        n += 1
        sg = sg["next"]
    return n


class ChanPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        if int(self.val) == 0:
            return "gort_chan (nil)"
        c = self.val.dereference()
        return "gort_chan 0x%x {len = %d, cap = %d, elemsize = %d, closed = %d, " \
               "recv waiters = %d, send waiters = %d}" % (
                   int(self.val), _atomic(c["qcount"]), int(c["dataqsiz"]), int(c["elemsize"]),
                   _atomic(c["closed"]), _waiters(c["recvq"]), _waiters(c["sendq"]))


class GPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        if int(self.val) == 0:
            return "G (nil)"
        g = self.val.dereference()
        return "G 0x%x {goid = %d, state = %s, m = %s, fn = %s, created by goroutine %d}" % (
            int(self.val), int(g["goid"]), g_state(g),
            int(g["m"]["id"]) if int(g["m"]) else "nil", _sym(int(g["fn"])),
            int(g["parent_goid"]))


class MPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        if int(self.val) == 0:
            return "M (nil)"
        m = self.val.dereference()
        return "M 0x%x {id = %d, tid = %d, p = %s, curg = %s, locks = %d}" % (
            int(self.val), int(m["id"]), int(m["tid"]),
            int(m["p"]["id"]) if int(m["p"]) else "nil",
            int(m["curg"]["goid"]) if int(m["curg"]) else "nil", int(m["locks"]))


class PPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        if int(self.val) == 0:
            return "P (nil)"
        p = self.val.dereference()
        runq = (_atomic(p["runqtail"]) - _atomic(p["runqhead"])) & 0xffffffff
        return "P 0x%x {id = %d, status = %s, schedtick = %d, runqsize = %d, m = %s}" % (
            int(self.val), int(p["id"]),
            _table("enum PStatus", P_STATES).get(_atomic(p["status"]), "?"),
            int(p["schedtick"]), runq, int(p["m"]["id"]) if int(p["m"]) else "nil")


class SpanPrinter:
    def __init__(self, val):
        self.val = val

    def to_string(self):
        if int(self.val) == 0:
            return "Span (nil)"
        s = self.val.dereference()
        spc = int(s["spanclass"])
        return "Span 0x%x {start = 0x%x, npages = %d, class = %d%s, elemsize = %d, " \
               "objects = %d/%d}" % (
                   int(self.val), int(s["startaddr"]), int(s["npages"]), spc >> 1,
                   " noscan" if spc & 1 else "", int(s["elemsize"]), int(s["alloc_count"]),
                   int(s["nelems"]))


PRINTERS = {"gort_chan": ChanPrinter, "G": GPrinter, "M": MPrinter, "P": PPrinter,
            "Span": SpanPrinter}


class _FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class GoroutineUnwinder(gdb.unwinder.Unwinder):
    """On a core, where registers cannot be written: while regs is set
    (goroutine N CMD), frame 0's caller is the goroutine's innermost frame
    (pc, sp, rbp from the context its last switch saved). Frame 0's id is
    put just below the goroutine's stack pointer, so that gdb sees the
    goroutine's frames as outer ones and walks on."""

    def __init__(self):
        super().__init__("gort-goroutine")
        self.regs = None

    def __call__(self, pending):
        if self.regs is None or pending.level() != 0:
            return None
        pc, sp, rbp = self.regs
        vp = gdb.lookup_type("void").pointer()
        info = pending.create_unwind_info(
            _FrameId(gdb.Value(sp - 64).cast(vp), pending.read_register("rip")))
        info.add_saved_register("rip", gdb.Value(pc).cast(vp))
        info.add_saved_register("rsp", gdb.Value(sp).cast(vp))
        info.add_saved_register("rbp", gdb.Value(rbp).cast(vp))
        return info


class HideThreadFrame:
    """bt while GoroutineUnwinder stands in: frame 0 is the thread's, not
    the goroutine's."""

    def __init__(self):
        self.name = "gort-goroutine"
        self.priority = 100
        # Enabled only meanwhile: any enabled filter makes gdb print every
        # bt through Python's frame decorators, which name a frame whose pc
        # follows a noreturn call "" (rt_mstart's, at boot).
        self.enabled = False
        gdb.frame_filters[self.name] = self

    def filter(self, frames):
        return itertools.islice(frames, 1, None)


def lookup_printer(val):
    t = val.type
    if t.code == gdb.TYPE_CODE_TYPEDEF:
        t = t.strip_typedefs()
    if t.code != gdb.TYPE_CODE_PTR:
        return None
    target = t.target()
    name = target.name or target.strip_typedefs().tag
    if name is None:
        return None
    name = name.replace("struct ", "")
    cls = PRINTERS.get(name)
    return cls(val) if cls else None


def register(objfile):
    if objfile is None:
        gdb.pretty_printers.append(lookup_printer)
    else:
        objfile.pretty_printers.append(lookup_printer)


InfoGoroutines()
GoroutineCmd()
InfoGort()
InfoGortSched()
InfoGortHeap()
register(gdb.current_objfile())
_UNWINDER = GoroutineUnwinder()
gdb.unwinder.register_unwinder(None, _UNWINDER, replace=True)
_HIDE = HideThreadFrame()
print("gort gdb extension loaded (info goroutines, goroutine N CMD, info gort sched|heap)")
