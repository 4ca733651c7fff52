// traceback.c: goroutine dumps in Go's format, symbolized from ELF.
//
//   goroutine 5 [chan receive, 2 minutes]:
//   gort_chan_recv(...)
//   	/path/to/prog +0x4a
//   worker(...)
//   	/work/app/worker.c:17 +0x2d
//   created by main in goroutine 1
//   	/work/app/main.c:40 +0x88
//
// Stacks are walked through the frame-pointer chain (gort is built with
// -fno-omit-frame-pointer; user code compiled without it shows fewer
// frames). Each step must move strictly up the stack, stay inside the
// stack's bounds and be 8-aligned, so a corrupt chain ends the walk rather
// than faulting; at most MAX_FRAMES frames are printed. A parked goroutine
// starts from its saved context (offsets.h: rbp at CTX_RBP, return address at
// CTX_RET above gp->sched.sp).
//
// Symbols: rt_traceback_init records every loaded object (path, load bias,
// executable segments). On the first dump each object's file is mapped with
// open/fstat/mmap/close only, and .symtab (.dynsym when stripped) gives the
// function containing a pc. When .debug_line is present the location line is
// "file.c:LINE +0xOFF" as in Go; otherwise "<object path> +0xOFF", the offset
// of the pc into its function. No malloc, no locks: this runs in crash paths
// and signal handlers. Objects load at most once (an atomic state per object),
// so concurrent dumps only lose symbols, never crash.
//
// Hiding runtime frames (GOTRACEBACK below system), as Go hides runtime.*:
// a frame is the runtime's if its pc is in section gort_text (all runtime
// code, cmake/gort_text.ld) or in libgort.so, or its function is named rt_*.
// gort_* API frames are shown, as Go shows "panic(...)".
#include "core/traceback.h"

#include "offsets.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    MAX_FRAMES = 100,
    MAX_OBJS = 64,
    MAX_SEGS = 4,
    PATH_LEN = 256,
};

enum { OBJ_UNLOADED, OBJ_LOADING, OBJ_LOADED, OBJ_FAILED };

typedef struct Obj {
    char path[PATH_LEN];       // printed name (the executable's real path)
    bool is_exe;               // open /proc/self/exe rather than path
    bool is_gort;              // libgort.so itself: every frame is the runtime's
    uintptr_t bias;            // load bias: runtime address - ELF vaddr
    uintptr_t seglo[MAX_SEGS]; // executable segments, runtime addresses
    uintptr_t seghi[MAX_SEGS];
    int nseg;
    uintptr_t dseglo[MAX_SEGS]; // writable segments (globals), runtime addresses
    uintptr_t dseghi[MAX_SEGS];
    int ndseg;
    _Atomic int state;  // OBJ_*
    const uint8_t *map; // the mapped file
    size_t maplen;
    const Elf64_Sym *syms;
    size_t nsyms;
    const char *strs;
    size_t strsz;
    const uint8_t *line; // .debug_line, or NULL
    size_t linesz;
    const char *line_str; // .debug_line_str (DWARF 5)
    size_t line_strsz;
    const char *dstr; // .debug_str
    size_t dstrsz;
} Obj;

static Obj objs[MAX_OBJS];
static _Atomic int nobjs;
static _Atomic int objs_state; // 0 none, 1 recording, 2 recorded

// ---- Object table -----------------------------------------------------------

static bool
has_prefix(const char *s, const char *p)
{
    while (*p) {
        if (*s++ != *p++)
            return false;
    }
    return true;
}

static bool
streq(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

static void
scopy(char *dst, const char *src, size_t cap)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = src[i];
    dst[i] = '\0';
}

static const char *
base_name(const char *p)
{
    const char *b = p;
    for (; *p; p++) {
        if (*p == '/')
            b = p + 1;
    }
    return b;
}

static int
record_obj(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    int n = atomic_load_explicit(&nobjs, memory_order_relaxed);
    if (n >= MAX_OBJS)
        return 1;
    Obj *o = &objs[n];
    const char *name = info->dlpi_name;
    if (name == NULL || name[0] == '\0') {
        if (n != 0)
            return 0; // vdso or anonymous: nothing to open
        o->is_exe = true;
        ssize_t r = readlink("/proc/self/exe", o->path, sizeof(o->path) - 1);
        if (r <= 0)
            scopy(o->path, "/proc/self/exe", sizeof(o->path));
        else
            o->path[r] = '\0';
    } else {
        if (name[0] != '/')
            return 0; // "linux-vdso.so.1": not a file
        scopy(o->path, name, sizeof(o->path));
    }
    o->is_gort = has_prefix(base_name(o->path), "libgort.so");
    o->bias = (uintptr_t)info->dlpi_addr;
    for (int i = 0; i < info->dlpi_phnum && o->nseg < MAX_SEGS; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && o->ndseg < MAX_SEGS) {
            o->dseglo[o->ndseg] = o->bias + ph->p_vaddr;
            o->dseghi[o->ndseg] = o->bias + ph->p_vaddr + ph->p_memsz;
            o->ndseg++;
        }
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
            continue;
        o->seglo[o->nseg] = o->bias + ph->p_vaddr;
        o->seghi[o->nseg] = o->bias + ph->p_vaddr + ph->p_memsz;
        o->nseg++;
    }
    if (o->nseg == 0)
        return 0;
    atomic_store_explicit(&o->state, OBJ_UNLOADED, memory_order_relaxed);
    atomic_store_explicit(&nobjs, n + 1, memory_order_release);
    return 0;
}

void
rt_traceback_init(void)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&objs_state, &expect, 1))
        return;
    dl_iterate_phdr(record_obj, NULL);
    atomic_store(&objs_state, 2);
}

static Obj *
find_obj(uintptr_t pc)
{
    if (atomic_load(&objs_state) == 0)
        rt_traceback_init();
    int n = atomic_load_explicit(&nobjs, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < objs[i].nseg; j++) {
            if (pc >= objs[i].seglo[j] && pc < objs[i].seghi[j])
                return &objs[i];
        }
    }
    return NULL;
}

// Maps o's file and finds its symbol table and line table. Only open, fstat,
// mmap and close: async-signal-safe in practice.
static void
load_obj(Obj *o)
{
    int fd = open(o->is_exe ? "/proc/self/exe" : o->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        return;
    }
    size_t len = (size_t)st.st_size;
    void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return;
    const uint8_t *b = m;
    const Elf64_Ehdr *eh = m;
    if (b[EI_MAG0] != ELFMAG0 || b[EI_MAG1] != ELFMAG1 || b[EI_MAG2] != ELFMAG2 ||
        b[EI_MAG3] != ELFMAG3 || b[EI_CLASS] != ELFCLASS64 ||
        eh->e_shentsize != sizeof(Elf64_Shdr) || eh->e_shoff == 0 ||
        eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > len ||
        eh->e_shstrndx >= eh->e_shnum) {
        munmap(m, len);
        return;
    }
    const Elf64_Shdr *sh = (const Elf64_Shdr *)(const void *)(b + eh->e_shoff);
    const Elf64_Shdr *shstr = &sh[eh->e_shstrndx];
    const Elf64_Shdr *symtab = NULL, *dynsym = NULL;
    for (int i = 0; i < eh->e_shnum; i++) {
        const Elf64_Shdr *s = &sh[i];
        if (s->sh_type == SHT_NOBITS || s->sh_offset + s->sh_size > len)
            continue;
        if (s->sh_type == SHT_SYMTAB)
            symtab = s;
        else if (s->sh_type == SHT_DYNSYM)
            dynsym = s;
        if (s->sh_name >= shstr->sh_size)
            continue;
        const char *nm = (const char *)b + shstr->sh_offset + s->sh_name;
        const void *data = b + s->sh_offset;
        if (streq(nm, ".debug_line")) {
            o->line = data;
            o->linesz = s->sh_size;
        } else if (streq(nm, ".debug_line_str")) {
            o->line_str = data;
            o->line_strsz = s->sh_size;
        } else if (streq(nm, ".debug_str")) {
            o->dstr = data;
            o->dstrsz = s->sh_size;
        }
    }
    const Elf64_Shdr *st_sh = symtab ? symtab : dynsym;
    if (st_sh && st_sh->sh_link < eh->e_shnum && st_sh->sh_entsize == sizeof(Elf64_Sym)) {
        const Elf64_Shdr *strsh = &sh[st_sh->sh_link];
        if (strsh->sh_offset + strsh->sh_size <= len) {
            o->syms = (const Elf64_Sym *)(const void *)(b + st_sh->sh_offset);
            o->nsyms = st_sh->sh_size / sizeof(Elf64_Sym);
            o->strs = (const char *)b + strsh->sh_offset;
            o->strsz = strsh->sh_size;
        }
    }
    o->map = b;
    o->maplen = len;
}

static bool
obj_ready(Obj *o)
{
    int s = atomic_load_explicit(&o->state, memory_order_acquire);
    if (s == OBJ_UNLOADED) {
        if (atomic_compare_exchange_strong(&o->state, &s, OBJ_LOADING)) {
            load_obj(o);
            atomic_store_explicit(&o->state, o->map ? OBJ_LOADED : OBJ_FAILED,
                                  memory_order_release);
        }
        s = atomic_load_explicit(&o->state, memory_order_acquire);
    }
    return s == OBJ_LOADED;
}

// ---- Symbol lookup ----------------------------------------------------------

typedef struct Sym {
    Obj *obj;
    const char *name; // NULL if unknown
    uintptr_t entry;  // runtime address of the function's first byte
} Sym;

static const char *
symstr(const Obj *o, uint32_t off)
{
    if (off >= o->strsz)
        return "?";
    return o->strs + off;
}

// The symbol of o containing addr (a runtime address): a function, or with
// data a sized object (a global).
static Sym
lookup_in(Obj *o, uintptr_t pc, bool data)
{
    Sym r = {0};
    r.obj = o;
    if (o == NULL || !obj_ready(o) || o->syms == NULL)
        return r;
    uintptr_t addr = pc - o->bias;
    const Elf64_Sym *best = NULL;
    bool best_sized = false;
    for (size_t i = 0; i < o->nsyms; i++) {
        const Elf64_Sym *s = &o->syms[i];
        int type = ELF64_ST_TYPE(s->st_info);
        bool want = data ? type == STT_OBJECT && s->st_size != 0
                         : type == STT_FUNC || type == STT_GNU_IFUNC;
        if (!want || s->st_shndx == SHN_UNDEF || s->st_value > addr)
            continue;
        if (s->st_size != 0 && addr < s->st_value + s->st_size) {
            if (!best_sized || s->st_value > best->st_value) {
                best = s;
                best_sized = true;
            }
        } else if (!best_sized && (best == NULL || s->st_value > best->st_value) &&
                   s->st_size == 0) {
            best = s; // unsized (hand-written asm): the nearest one below
        }
    }
    if (best == NULL || (data && !best_sized))
        return r;
    r.name = symstr(o, best->st_name);
    r.entry = (uintptr_t)best->st_value + o->bias;
    return r;
}

// Finds the function containing pc (a runtime address).
static Sym
lookup(uintptr_t pc)
{
    return lookup_in(find_obj(pc), pc, false);
}

// ---- DWARF line tables (.debug_line, versions 2 to 5) ----------------------

typedef struct Rd {
    const uint8_t *p, *end;
    bool bad;
} Rd;

static uint64_t
rd_n(Rd *r, int n)
{
    if (r->end - r->p < n) {
        r->bad = true;
        r->p = r->end;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}

static uint64_t
rd_uleb(Rd *r)
{
    uint64_t v = 0;
    int shift = 0;
    while (r->p < r->end) {
        uint8_t b = *r->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true;
    return v;
}

static int64_t
rd_sleb(Rd *r)
{
    int64_t v = 0;
    int shift = 0;
    uint8_t b = 0x80;
    while (r->p < r->end && (b & 0x80)) {
        b = *r->p++;
        if (shift < 64)
            v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
    }
    if (shift < 64 && (b & 0x40))
        v |= (int64_t)(~(uint64_t)0 << shift);
    return v;
}

static const char *
rd_cstr(Rd *r)
{
    const char *s = (const char *)r->p;
    while (r->p < r->end && *r->p)
        r->p++;
    if (r->p >= r->end) {
        r->bad = true;
        return "";
    }
    r->p++;
    return s;
}

enum {
    DW_FORM_block = 0x09,
    DW_FORM_block1 = 0x0a,
    DW_FORM_data1 = 0x0b,
    DW_FORM_data2 = 0x05,
    DW_FORM_data4 = 0x06,
    DW_FORM_data8 = 0x07,
    DW_FORM_data16 = 0x1e,
    DW_FORM_string = 0x08,
    DW_FORM_strp = 0x0e,
    DW_FORM_line_strp = 0x1f,
    DW_FORM_udata = 0x0f,
    DW_FORM_sdata = 0x0d,
    DW_LNCT_path = 1,
    DW_LNCT_directory_index = 2,
};

// Reads one attribute of a DWARF 5 entry; strings are returned in *s,
// numbers in *n. false on an unsupported form.
static bool
rd_form(const Obj *o, Rd *r, uint64_t form, bool off64, const char **s, uint64_t *n)
{
    *s = NULL;
    *n = 0;
    switch (form) {
    case DW_FORM_string:
        *s = rd_cstr(r);
        return true;
    case DW_FORM_line_strp:
    case DW_FORM_strp: {
        uint64_t off = rd_n(r, off64 ? 8 : 4);
        const char *tab = form == DW_FORM_strp ? o->dstr : o->line_str;
        size_t tabsz = form == DW_FORM_strp ? o->dstrsz : o->line_strsz;
        *s = tab && off < tabsz ? tab + off : "?";
        return true;
    }
    case DW_FORM_udata:
        *n = rd_uleb(r);
        return true;
    case DW_FORM_sdata:
        *n = (uint64_t)rd_sleb(r);
        return true;
    case DW_FORM_data1:
        *n = rd_n(r, 1);
        return true;
    case DW_FORM_data2:
        *n = rd_n(r, 2);
        return true;
    case DW_FORM_data4:
        *n = rd_n(r, 4);
        return true;
    case DW_FORM_data8:
        *n = rd_n(r, 8);
        return true;
    case DW_FORM_data16:
        r->p = (size_t)(r->end - r->p) < 16 ? r->end : r->p + 16;
        return true;
    case DW_FORM_block:
    case DW_FORM_block1: {
        uint64_t l = form == DW_FORM_block ? rd_uleb(r) : rd_n(r, 1);
        r->p = (uint64_t)(r->end - r->p) < l ? r->end : r->p + l;
        return true;
    }
    default:
        return false;
    }
}

typedef struct LineHdr {
    int version;
    bool off64;
    uint8_t min_inst, line_range, opcode_base;
    int8_t line_base;
    const uint8_t *oplens;
    const uint8_t *dirs;   // start of the directory table
    const uint8_t *dirfmt; // DWARF 5 directory entry format
    uint8_t ndirfmt;
    const uint8_t *prog, *end; // line number program
} LineHdr;

// Skips (or, with want >= 0, finds) entries of a DWARF 5 directory or file
// table. Returns false on malformed input.
static bool
v5_entries(const Obj *o, Rd *r, const uint8_t *fmt, uint8_t nfmt, bool off64, int64_t want,
           const char **path, uint64_t *dir)
{
    uint64_t count = rd_uleb(r);
    for (uint64_t i = 0; i < count && !r->bad; i++) {
        Rd f = {fmt, fmt + 2 * 10 * (size_t)nfmt, false}; // formats are tiny ulebs
        for (uint8_t k = 0; k < nfmt; k++) {
            uint64_t type = rd_uleb(&f), form = rd_uleb(&f);
            const char *s;
            uint64_t n;
            if (!rd_form(o, r, form, off64, &s, &n))
                return false;
            if ((int64_t)i == want) {
                if (type == DW_LNCT_path)
                    *path = s;
                else if (type == DW_LNCT_directory_index)
                    *dir = n;
            }
        }
    }
    return !r->bad;
}

static bool
line_header(Rd *r, LineHdr *h)
{
    uint64_t ulen = rd_n(r, 4);
    h->off64 = false;
    if (ulen == 0xffffffff) {
        ulen = rd_n(r, 8);
        h->off64 = true;
    }
    if (r->bad || ulen > (uint64_t)(r->end - r->p))
        return false;
    h->end = r->p + ulen;
    Rd u = {r->p, h->end, false};
    r->p = h->end;
    h->version = (int)rd_n(&u, 2);
    if (h->version < 2 || h->version > 5)
        return false;
    if (h->version >= 5) {
        if (rd_n(&u, 1) != 8) // address_size
            return false;
        rd_n(&u, 1); // segment_selector_size
    }
    uint64_t hlen = rd_n(&u, h->off64 ? 8 : 4);
    if (u.bad || hlen > (uint64_t)(h->end - u.p))
        return false;
    h->prog = u.p + hlen;
    h->min_inst = (uint8_t)rd_n(&u, 1);
    if (h->version >= 4)
        rd_n(&u, 1); // maximum_operations_per_instruction (VLIW only)
    rd_n(&u, 1);     // default_is_stmt
    h->line_base = (int8_t)rd_n(&u, 1);
    h->line_range = (uint8_t)rd_n(&u, 1);
    h->opcode_base = (uint8_t)rd_n(&u, 1);
    if (u.bad || h->line_range == 0 || h->opcode_base == 0 ||
        (size_t)(h->end - u.p) < h->opcode_base - 1u)
        return false;
    h->oplens = u.p;
    u.p += h->opcode_base - 1;
    if (h->version >= 5) {
        h->ndirfmt = (uint8_t)rd_n(&u, 1);
        h->dirfmt = u.p;
        for (int i = 0; i < 2 * h->ndirfmt; i++)
            rd_uleb(&u);
        h->dirs = u.p;
    } else {
        h->dirs = u.p;
    }
    return !u.bad;
}

// Resolves file index idx of a unit to its directory and name.
static void
line_file(const Obj *o, const LineHdr *h, uint64_t idx, const char **dir, const char **name)
{
    *dir = NULL;
    *name = "?";
    Rd u = {h->dirs, h->prog, false};
    if (h->version >= 5) {
        const uint8_t *dirtab = u.p;
        const char *p = NULL;
        uint64_t di = 0;
        if (!v5_entries(o, &u, h->dirfmt, h->ndirfmt, h->off64, -1, &p, &di))
            return;
        uint8_t nfilefmt = (uint8_t)rd_n(&u, 1);
        const uint8_t *filefmt = u.p;
        for (int i = 0; i < 2 * nfilefmt; i++)
            rd_uleb(&u);
        if (!v5_entries(o, &u, filefmt, nfilefmt, h->off64, (int64_t)idx, &p, &di) || !p)
            return;
        *name = p;
        Rd d = {dirtab, h->prog, false};
        const char *dp = NULL;
        uint64_t unused = 0;
        if (v5_entries(o, &d, h->dirfmt, h->ndirfmt, h->off64, (int64_t)di, &dp, &unused))
            *dir = dp;
        return;
    }
    // DWARF 2-4: include_directories then file_names, each list ends with "".
    const char *dirv[1] = {NULL};
    uint64_t ndir = 0, want_dir = 0;
    const uint8_t *dirstart = u.p;
    while (!u.bad && u.p < u.end && *u.p) {
        rd_cstr(&u);
        ndir++;
    }
    rd_n(&u, 1);
    for (uint64_t i = 1; !u.bad && u.p < u.end && *u.p; i++) {
        const char *f = rd_cstr(&u);
        uint64_t di = rd_uleb(&u);
        rd_uleb(&u);
        rd_uleb(&u);
        if (i == idx) {
            *name = f;
            want_dir = di;
            break;
        }
    }
    if (want_dir == 0 || want_dir > ndir)
        return;
    Rd d = {dirstart, h->prog, false};
    for (uint64_t i = 1; i <= want_dir; i++)
        dirv[0] = rd_cstr(&d);
    *dir = dirv[0];
}

// Finds file and line of addr (an ELF vaddr) in o's .debug_line.
static bool
line_lookup(const Obj *o, uint64_t addr, const char **dir, const char **file, uint64_t *line)
{
    if (o->line == NULL)
        return false;
    Rd r = {o->line, o->line + o->linesz, false};
    while (r.p < r.end && !r.bad) {
        LineHdr h = {0};
        if (!line_header(&r, &h))
            return false;
        Rd p = {h.prog, h.end, false};
        uint64_t a = 0, fileno = 1, ln = 1;
        bool have_prev = false;
        uint64_t pa = 0, pfile = 0, pline = 0;
        while (p.p < p.end && !p.bad) {
            uint8_t op = (uint8_t)rd_n(&p, 1);
            bool emit = false, endseq = false;
            if (op >= h.opcode_base) {
                uint8_t adj = (uint8_t)(op - h.opcode_base);
                a += (uint64_t)(adj / h.line_range) * h.min_inst;
                ln += (uint64_t)(int64_t)(h.line_base + adj % h.line_range);
                emit = true;
            } else if (op == 0) {
                uint64_t l = rd_uleb(&p);
                const uint8_t *next = (uint64_t)(p.end - p.p) < l ? p.end : p.p + l;
                uint8_t sub = l ? (uint8_t)rd_n(&p, 1) : 0;
                if (sub == 1) {
                    emit = endseq = true;
                } else if (sub == 2) {
                    a = rd_n(&p, 8);
                }
                p.p = next;
            } else {
                switch (op) {
                case 1: // copy
                    emit = true;
                    break;
                case 2:
                    a += rd_uleb(&p) * h.min_inst;
                    break;
                case 3:
                    ln += (uint64_t)rd_sleb(&p);
                    break;
                case 4:
                    fileno = rd_uleb(&p);
                    break;
                case 8:
                    a += (uint64_t)((255 - h.opcode_base) / h.line_range) * h.min_inst;
                    break;
                case 9:
                    a += rd_n(&p, 2);
                    break;
                default: // 5, 6, 7, 10, 11, 12 and unknown: skip their operands
                    for (int i = 0; i < h.oplens[op - 1]; i++)
                        rd_uleb(&p);
                    break;
                }
            }
            if (!emit)
                continue;
            if (have_prev && pa <= addr && addr < a) {
                line_file(o, &h, pfile, dir, file);
                *line = pline;
                return true;
            }
            have_prev = !endseq;
            pa = a;
            pfile = fileno;
            pline = ln;
            if (endseq) {
                a = 0;
                fileno = 1;
                ln = 1;
            }
        }
    }
    return false;
}

// ---- Frames -----------------------------------------------------------------

// The runtime's code: all of it is in section gort_text (cmake/gort_text.ld,
// which defines these bounds); both are NULL in a build without that link
// step, and then only the rt_ prefix identifies runtime frames.
extern char __start_gort_text[] __attribute__((weak, visibility("hidden")));
extern char __stop_gort_text[] __attribute__((weak, visibility("hidden")));

// Whether the frame at pc is the runtime's (hidden below TB_SYSTEM). The
// gort_* API functions are shown, as Go shows "panic(...)": the call the user
// made into the runtime.
static bool
runtime_frame(const Sym *s, uintptr_t pc)
{
    const char *name = s->name ? s->name : "";
    if (has_prefix(name, "rt_") || has_prefix(name, "rt0_") || has_prefix(name, "_rt0_") ||
        streq(name, "gort_rt0_go"))
        return true;
    if (has_prefix(name, "gort_"))
        return false;
    uintptr_t lo = (uintptr_t)__start_gort_text, hi = (uintptr_t)__stop_gort_text;
    if (lo != 0 && pc >= lo && pc < hi)
        return true;
    return s->obj && s->obj->is_gort;
}

// Prints the location line of pc: "\tfile:line +0xoff" or
// "\t<object> +0xoff". lookup_pc is pc - 1 for return addresses, so the
// line is that of the call.
static void
print_location(const Sym *s, uintptr_t pc, uintptr_t lookup_pc, uintptr_t fp, int level)
{
    const char *dir = NULL, *file = NULL;
    uint64_t line = 0;
    uintptr_t off = s->name ? pc - s->entry : 0;
    if (s->obj && s->obj->map &&
        line_lookup(s->obj, lookup_pc - s->obj->bias, &dir, &file, &line)) {
        if (dir && file[0] != '/')
            rt_printf("\t%s/%s:%lu +0x%lx", dir, file, (unsigned long)line, (unsigned long)off);
        else
            rt_printf("\t%s:%lu +0x%lx", file, (unsigned long)line, (unsigned long)off);
    } else if (s->obj && s->name) {
        rt_printf("\t%s +0x%lx", s->obj->path, (unsigned long)off);
    } else if (s->obj) {
        // No symbol: the object-relative address, for addr2line.
        rt_printf("\t%s @0x%lx", s->obj->path, (unsigned long)(pc - s->obj->bias));
    } else {
        rt_printf("\t?:0 pc=%p", (void *)pc);
    }
    if (level >= TB_SYSTEM)
        rt_printf(" fp=%p pc=%p", (void *)fp, (void *)pc);
    rt_printf("\n");
}

// Prints one frame unless hidden. Returns whether it was shown.
static int nshown; // [owner: the dumping thread] frames shown by the current walk
static bool
print_frame(uintptr_t pc, bool exact, uintptr_t fp, int level)
{
    uintptr_t lpc = exact ? pc : pc - 1;
    Sym s = lookup(lpc);
    if (level < TB_SYSTEM && runtime_frame(&s, lpc))
        return false;
    if (s.name)
        rt_printf("%s(...)\n", s.name);
    else
        rt_printf("?()\n");
    print_location(&s, pc, lpc, fp, level);
    nshown++;
    return true;
}

static bool
frame_ok(uintptr_t fp, uintptr_t prev, uintptr_t lo, uintptr_t hi)
{
    return fp > prev && (fp & 7) == 0 && fp >= lo && fp + 16 <= hi;
}

// ---- Naming addresses ------------------------------------------------------

void
rt_traceback_print_func(uintptr_t pc, bool exact)
{
    uintptr_t lpc = exact ? pc : pc - 1;
    Sym s = lookup(lpc);
    const char *dir = NULL, *file = NULL;
    uint64_t line = 0;
    rt_printf("%s", s.name ? s.name : "?");
    if (s.obj && s.obj->map && line_lookup(s.obj, lpc - s.obj->bias, &dir, &file, &line)) {
        if (dir && file[0] != '/')
            rt_printf(" at %s/%s:%lu", dir, file, (unsigned long)line);
        else
            rt_printf(" at %s:%lu", file, (unsigned long)line);
    } else if (s.obj) {
        rt_printf(" in %s", s.obj->path);
    }
}

bool
rt_traceback_print_data(uintptr_t addr)
{
    if (atomic_load(&objs_state) == 0)
        rt_traceback_init();
    int n = atomic_load_explicit(&nobjs, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        Obj *o = &objs[i];
        for (int j = 0; j < o->ndseg; j++) {
            if (addr < o->dseglo[j] || addr >= o->dseghi[j])
                continue;
            Sym s = lookup_in(o, addr, true);
            if (s.name)
                rt_printf("%s+0x%lx in %s", s.name, (unsigned long)(addr - s.entry), o->path);
            else
                rt_printf("%s @0x%lx", o->path, (unsigned long)(addr - o->bias));
            return true;
        }
    }
    return false;
}

bool
rt_traceback_print_frame_of(uintptr_t pc, uintptr_t fp, uintptr_t lo, uintptr_t hi, uintptr_t slot)
{
    bool exact = true;
    uintptr_t below = lo; // the frame of pc's function is [below, fp + 16)
    for (int n = 0; n < MAX_FRAMES * 10 && pc != 0; n++) {
        if (slot < below || !frame_ok(fp, below > 16 ? below - 16 : 0, lo, hi))
            return false;
        if (slot >= fp + 16) {
            below = fp + 16;
            pc = ((uintptr_t *)fp)[1];
            fp = ((uintptr_t *)fp)[0];
            exact = false;
            continue;
        }
        rt_printf("in the frame of ");
        rt_traceback_print_func(pc, exact);
        // The word may be a register the function saved for its caller:
        // name the callers up to the first of the program's own frames.
        for (int k = 0; k < 8; k++) {
            uintptr_t lpc = exact ? pc : pc - 1;
            Sym s = lookup(lpc);
            if (!runtime_frame(&s, lpc) && !(s.name && has_prefix(s.name, "gort_")))
                break;
            uintptr_t nfp = ((uintptr_t *)fp)[0];
            pc = ((uintptr_t *)fp)[1];
            exact = false;
            if (pc == 0)
                break;
            rt_printf(", called from ");
            rt_traceback_print_func(pc, false);
            if (!frame_ok(nfp, fp, lo, hi))
                break;
            fp = nfp;
        }
        return true;
    }
    return false;
}

// Walks the frame-pointer chain from (pc, fp) within [lo, hi). Frame layout
// (SysV with frame pointers): [fp] = caller's fp, [fp+8] = return address.
static void
walk(uintptr_t pc, uintptr_t fp, bool exact, uintptr_t lo, uintptr_t hi, int level)
{
    print_frame(pc, exact, fp, level);
    if ((fp & 7) != 0 || fp < lo || fp + 16 > hi)
        return;
    for (int n = 1; n < MAX_FRAMES; n++) {
        uintptr_t nfp = ((uintptr_t *)fp)[0];
        pc = ((uintptr_t *)fp)[1];
        if (pc < 4096)
            return; // 0 (the end) or a sentinel: no code is mapped there
        // pc is a real return address even when its function keeps no frame
        // pointer; only the step beyond it needs a valid nfp.
        bool more = nfp != 0 && frame_ok(nfp, fp, lo, hi);
        print_frame(pc, false, more ? nfp : 0, level);
        if (!more)
            return;
        fp = nfp;
    }
    rt_printf("...additional frames elided...\n");
}

static void
print_header(G *gp, int level)
{
    uint32_t st = atomic_load_explicit(&gp->status, memory_order_relaxed);
    const char *status;
    switch (st) {
    case G_IDLE:
        status = "idle";
        break;
    case G_RUNNABLE:
        status = "runnable";
        break;
    case G_RUNNING:
        status = "running";
        break;
    case G_SYSCALL:
        status = "syscall";
        break;
    case G_WAITING:
        status = gp->waitreason != WAIT_ZERO ? rt_waitreason_str(gp->waitreason) : "waiting";
        break;
    case G_DEAD:
        status = "dead";
        break;
    case G_PREEMPTED:
        status = "preempted";
        break;
    default:
        status = "???";
        break;
    }
    rt_printf("goroutine %ld", (long)gp->goid);
    if (level >= TB_SYSTEM) {
        M *mp = gp->m;
        if (mp)
            rt_printf(" gp=%p m=%ld mp=%p", (void *)gp, (long)mp->id, (void *)mp);
        else
            rt_printf(" gp=%p m=nil", (void *)gp);
    }
    rt_printf(" [%s", status);
    if ((st == G_WAITING || st == G_SYSCALL) && gp->waitsince != 0) {
        int64_t mins = (rt_nanotime() - gp->waitsince) / 60000000000LL;
        if (mins >= 1)
            rt_printf(", %ld minutes", (long)mins);
    }
    rt_printf("]:\n");
}

static void
print_createdby(G *gp, int level)
{
    if (gp->gopc == 0 || gp->goid == 1)
        return;
    Sym s = lookup(gp->gopc - 1);
    if (level < TB_SYSTEM && runtime_frame(&s, gp->gopc - 1))
        return;
    rt_printf("created by %s", s.name ? s.name : "?");
    if (gp->parent_goid != 0)
        rt_printf(" in goroutine %ld", (long)gp->parent_goid);
    rt_printf("\n");
    print_location(&s, gp->gopc, gp->gopc - 1, 0, level < TB_SYSTEM ? level : TB_ALL);
}

void
rt_traceback_frames(G *gp, uintptr_t pc, uintptr_t fp, bool exact_pc, int level)
{
    uintptr_t lo, hi;
    uintptr_t sp = rt_arch_getsp();
    M *mp = rt_m();
    if (gp) {
        print_header(gp, level);
        lo = gp->stack_lo;
        hi = gp->stack_hi;
    } else {
        rt_printf("runtime stack:\n");
        lo = mp ? mp->g0_stack_lo : 0;
        hi = mp ? mp->g0_stack_hi : 0;
    }
    if (!(fp >= lo && fp < hi)) {
        // Unknown bounds (before boot, or a thread we did not record):
        // accept a window above the frame itself.
        lo = fp < sp ? fp : sp;
        hi = lo + ((uintptr_t)64 << 20);
    }
    nshown = 0;
    walk(pc, fp, exact_pc, lo, hi, level);
    if (gp && nshown == 0 && gp->fn) {
        // Every frame was hidden or tail-called away (a goroutine whose entry
        // function tail-calls into gort): name the entry function at least.
        Sym s = lookup((uintptr_t)gp->fn);
        if (s.name && !runtime_frame(&s, (uintptr_t)gp->fn)) {
            rt_printf("%s(...)\n", s.name);
            print_location(&s, (uintptr_t)gp->fn, (uintptr_t)gp->fn, 0, level);
        }
    }
    if (gp)
        print_createdby(gp, level);
}

// Walks a goroutine that is not running: from its saved context.
static void
traceback_saved(G *gp, int level)
{
    uintptr_t sp = gp->sched.sp;
    if (!gp->started || sp == 0) {
        print_header(gp, level);
        Sym s = lookup((uintptr_t)gp->fn);
        if (s.name)
            rt_printf("%s(...)\n", s.name);
        else
            rt_printf("?()\n");
        print_location(&s, (uintptr_t)gp->fn, (uintptr_t)gp->fn, 0, level);
        print_createdby(gp, level);
        return;
    }
    if (sp < gp->stack_lo || sp + CTX_SIZE > gp->stack_hi) {
        print_header(gp, level);
        rt_printf("\tstack unavailable (sp=%p outside [%p, %p))\n", (void *)sp,
                  (void *)gp->stack_lo, (void *)gp->stack_hi);
        print_createdby(gp, level);
        return;
    }
    uintptr_t fp = *(uintptr_t *)(sp + CTX_RBP);
    uintptr_t pc = *(uintptr_t *)(sp + CTX_RET);
    rt_traceback_frames(gp, pc, fp, false, level);
}

static bool
on_stack(G *gp, uintptr_t sp)
{
    return gp && sp >= gp->stack_lo && sp < gp->stack_hi;
}

static void
traceback_g_level(G *gp, int level)
{
    M *mp = rt_m();
    uint32_t st = atomic_load_explicit(&gp->status, memory_order_relaxed);
    uintptr_t sp = rt_arch_getsp();
    if (on_stack(gp, sp)) {
        // Ourselves: start at our caller's frame.
        uintptr_t *fp = __builtin_frame_address(0);
        rt_traceback_frames(gp, fp[1], fp[0], false, level);
        return;
    }
    if (st == G_SYSCALL && !(mp && gp->m == mp) && gp->syscallsp > gp->stack_lo &&
        gp->syscallsp < gp->stack_hi) {
        // In a system call on another thread: from the caller's frame at
        // gort_syscall_enter (its pc and frame pointer, saved there). The
        // walk stays within the stack's bounds if the goroutine moves on.
        rt_traceback_frames(gp, gp->syscallpc, gp->syscallregs[1], false, level);
        return;
    }
    if (st == G_RUNNING || st == G_SYSCALL) {
        // The current M's own curg while we run on g0 was saved by mcall.
        if (!(mp && gp->m == mp && mp->curg == gp && gp->sched.sp >= gp->stack_lo &&
              gp->sched.sp < gp->stack_hi)) {
            print_header(gp, level);
            rt_printf("\tgoroutine running on other thread; stack unavailable\n");
            print_createdby(gp, level);
            return;
        }
    }
    traceback_saved(gp, level);
}

void
rt_traceback_g(G *gp)
{
    traceback_g_level(gp, rt_debug.traceback);
}

RT_NOINLINE void
rt_traceback_current(void)
{
    M *mp = rt_m();
    G *gp = mp ? mp->curg : NULL;
    uintptr_t *fp = __builtin_frame_address(0);
    if (!on_stack(gp, rt_arch_getsp()))
        gp = NULL; // on g0 or a signal stack
    rt_traceback_frames(gp, fp[1], fp[0], false, rt_debug.traceback);
}

static void
traceback_other(G *gp, G *except, int level)
{
    uint32_t st = atomic_load_explicit(&gp->status, memory_order_relaxed);
    if (gp == except || st == G_DEAD || st == G_IDLE)
        return;
    if (gp->is_system && level < TB_SYSTEM)
        return;
    rt_printf("\n");
    traceback_g_level(gp, level);
}

// Prints every goroutine but except, oldest first as Go does. rt_allg is
// pushed at its head, so the list runs newest first: without memory to
// reverse it, each pass walks a snapshot of the list to collect the next
// ALLG_CHUNK entries from its tail into a stack buffer (O(n^2 / ALLG_CHUNK)
// pointer steps, small next to symbolizing n stacks).
//
// No rt_allglock: this is a crash path and the lock may be held by the
// failing thread. Gs are never freed and a G's alllink is set before it is
// published at the head, so the snapshot's chain never changes under us.
enum { ALLG_CHUNK = 256 };

static void
traceback_all_level(G *except, int level)
{
    G *head = rt_allg;
    size_t n = 0;
    for (G *gp = head; gp; gp = gp->alllink)
        n++;
    G *buf[ALLG_CHUNK];
    size_t end = n; // print positions [0, end) still to go, from the tail
    while (end > 0) {
        size_t start = end > ALLG_CHUNK ? end - ALLG_CHUNK : 0;
        size_t pos = 0;
        G *gp = head;
        for (; gp && pos < start; pos++)
            gp = gp->alllink;
        size_t k = 0;
        for (; gp && pos < end; pos++, gp = gp->alllink)
            buf[k++] = gp;
        while (k > 0)
            traceback_other(buf[--k], except, level);
        end = start;
    }
}

void
rt_traceback_all(G *except)
{
    traceback_all_level(except, rt_debug.traceback);
}

// Every section of a dump is preceded by a blank line, as in Go:
// "fatal error: msg\n" "\n" "goroutine 1 [running]:\n" ... "\n" "goroutine 5 ...".
RT_NOINLINE void
rt_traceback_dump(int level, bool all, uintptr_t ctx_pc, uintptr_t ctx_fp)
{
    M *mp = rt_m();
    G *gp = mp ? mp->curg : NULL;
    uintptr_t pc, fp;
    bool exact;
    if (ctx_pc != 0) {
        pc = ctx_pc;
        fp = ctx_fp;
        exact = true;
        if (!(gp && ctx_fp >= gp->stack_lo && ctx_fp < gp->stack_hi))
            gp = NULL;
    } else {
        uintptr_t *f = __builtin_frame_address(0);
        pc = f[1];
        fp = f[0];
        exact = false;
        if (!on_stack(gp, rt_arch_getsp()))
            gp = NULL;
    }
    if (gp == NULL)
        all = true; // a failure on g0 or a signal stack: show every goroutine
    if (gp != NULL || level >= TB_SYSTEM) {
        rt_printf("\n");
        rt_traceback_frames(gp, pc, fp, exact, level);
    }
    if (gp == NULL && mp && mp->curg && (level >= TB_SYSTEM || !mp->curg->is_system)) {
        // Failing on g0: the M's goroutine next, from its saved context.
        gp = mp->curg;
        rt_printf("\n");
        traceback_g_level(gp, level);
    }
    if (all)
        traceback_all_level(gp, level);
}
