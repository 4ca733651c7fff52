// symtab.c (Linux): the loaded ELF objects, their symbols and line tables.
//
// What the traceback (src/core/traceback.c) and the collector's retention
// reports (src/gc/why.c) print about an address comes from here, as Go's
// comes from runtime/symtab.go; so do the writable segments the collector
// scans as roots (src/gc/roots.c), Go's moduledata data and bss.
//
//   Objects  rt_os_symtab_init records every object loaded at boot with
//       dl_iterate_phdr: path, load bias, executable and writable PT_LOAD
//       segments, in a static table of MAX_OBJS entries. An address belongs
//       to the object whose segment holds it.
//   Symbols  the first lookup in an object maps its file read-only with
//       open/fstat/mmap/close (the mapping stays for the life of the
//       process). .symtab, or .dynsym when stripped, gives the function
//       holding a pc: the sized STT_FUNC covering it, else the nearest
//       unsized one below (hand-written asm); for data, the sized STT_OBJECT
//       covering the address. A linear scan each time: dumps are rare, and
//       a sorted index would need memory.
//   Lines    .debug_line (DWARF 2 to 5) is interpreted from the start for
//       each lookup: each unit's line program runs until two rows bracket
//       the address, and the earlier row's file index is resolved through the
//       unit's directory and file tables (DWARF 5 names may live in
//       .debug_line_str or .debug_str). The headers and line programs are
//       read with bounds checks, so a truncated or corrupt unit gives no
//       line rather than a fault; strings are trusted to end in their table.
//
// Concurrency: the table is filled once, on the main thread before other
// threads start (or by the first lookup if boot never got there), and nobjs
// is published with release. Each object is mapped at most once: the thread
// that moves its state from OBJ_UNLOADED to OBJ_LOADING maps it, then
// publishes OBJ_LOADED or OBJ_FAILED; a dump that finds it OBJ_LOADING gets
// no symbols from it, never half a table. So concurrent dumps only lose
// symbols, they never crash.
//
// Why not a library. elfutils' libdw (Debian's libdw1) reads more than this:
// compressed debug sections, separate debug files under
// /usr/lib/debug/.build-id, inlined functions. libunwind (libunwind8) names
// functions, signal-safely for the local address space, but gives no
// file:line, and gort walks frame pointers itself (traceback.c). gort keeps
// its own readers because the runtime links nothing beyond libc (glibc's
// libpthread, libdl and libm), a project rule, and because these readers run
// where libdw may not: in a crashing process, from a signal handler
// (rt_throw_sigctx), perhaps while the thread that faulted holds malloc's
// lock or has broken its heap. libdw allocates with malloc throughout (its
// Dwarf handles, the Dwfl session, the cached line tables). What the code
// here needs, checked: no malloc and no lock (a static table, stack
// variables and the file mappings); after rt_os_symtab_init a lookup makes
// only the system calls open, fstat, mmap, munmap (a file it cannot read as
// 64-bit ELF) and close. open, fstat and close are on POSIX's
// async-signal-safe list; mmap and munmap are not, but in glibc they are
// bare system calls. Without rt_os_symtab_init the first lookup runs
// dl_iterate_phdr, which takes the loader's lock: not signal-safe then.
#include "rt.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
    MAX_OBJS = 64,
    MAX_SEGS = 4,
    PATH_LEN = 256,
};

enum { OBJ_UNLOADED, OBJ_LOADING, OBJ_LOADED, OBJ_FAILED };

// One loaded object. Fields up to state are [const] after init: written by
// record_obj before nobjs publishes the entry. The rest are written by the
// thread that moved state to OBJ_LOADING, before it publishes OBJ_LOADED,
// and read only after an acquire load of OBJ_LOADED.
struct SymObj {
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
    _Atomic int state;  // [atomic] OBJ_*
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
};
typedef struct SymObj Obj;

static Obj objs[MAX_OBJS];     // entries [0, nobjs); Obj says which fields are fixed
static _Atomic int nobjs;      // [atomic] recorded entries, published with release
static _Atomic int objs_state; // [atomic] 0 none, 1 recording, 2 recorded

// ---- Object table -----------------------------------------------------------

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
    o->is_gort = rt_str_has_prefix(base_name(o->path), "libgort.so");
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
rt_os_symtab_init(void)
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
        rt_os_symtab_init();
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
// mmap (munmap again for a file it cannot read) and close: async-signal-safe
// in practice.
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
        if (rt_str_eq(nm, ".debug_line")) {
            o->line = data;
            o->linesz = s->sh_size;
        } else if (rt_str_eq(nm, ".debug_line_str")) {
            o->line_str = data;
            o->line_strsz = s->sh_size;
        } else if (rt_str_eq(nm, ".debug_str")) {
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
    if (o == NULL)
        return r;
    r.obj = o;
    r.path = o->path;
    r.bias = o->bias;
    r.is_gort = o->is_gort;
    if (!obj_ready(o) || o->syms == NULL)
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

Sym
rt_os_sym_func(uintptr_t pc)
{
    return lookup_in(find_obj(pc), pc, false);
}

bool
rt_os_sym_data(uintptr_t addr, Sym *s)
{
    if (atomic_load(&objs_state) == 0)
        rt_os_symtab_init();
    int n = atomic_load_explicit(&nobjs, memory_order_acquire);
    for (int i = 0; i < n; i++) {
        Obj *o = &objs[i];
        for (int j = 0; j < o->ndseg; j++) {
            if (addr >= o->dseglo[j] && addr < o->dseghi[j]) {
                *s = lookup_in(o, addr, true);
                return true;
            }
        }
    }
    return false;
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

bool
rt_os_sym_line(const Sym *s, uintptr_t pc, const char **dir, const char **file, uint64_t *line)
{
    const Obj *o = s->obj;
    if (o == NULL || atomic_load_explicit(&o->state, memory_order_acquire) != OBJ_LOADED)
        return false;
    return line_lookup(o, pc - o->bias, dir, file, line);
}

// ---- Writable segments (the collector's data roots) -------------------------

typedef struct SegWalk {
    void (*fn)(uintptr_t lo, uintptr_t hi, void *arg);
    void *arg;
} SegWalk;

static int
data_segments_cb(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    SegWalk *w = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_W))
            continue;
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        w->fn(lo, lo + ph->p_memsz, w->arg);
    }
    return 0;
}

void
rt_os_data_segments(void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
    SegWalk w = {fn, arg};
    dl_iterate_phdr(data_segments_cb, &w);
}
