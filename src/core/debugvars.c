// debugvars.c: GODEBUG, GOTRACEBACK and Go's byte-count syntax.
//
// Everything here reads the environment saved by rt_args (rt_envp) and
// never allocates, so it runs before the allocator exists and from crash
// paths. rt_parsedebugvars() runs once during rt_schedinit, before any other
// thread starts; afterwards rt_debug is read-only ([const] after boot).
#include "core/debugvars.h"

DebugVars rt_debug = {
        .madvdontneed = 1, // Go's Linux default since 1.16: MADV_DONTNEED, not MADV_FREE
        .gcconcurrent = 1, // mark while goroutines run where the kernel tracks writes
        .gcassist = 1,     // allocation during a concurrent mark marks too
        .gcgen = 1,        // minor cycles: what survived the last mark is not marked again
        .traceback = 1,    // GOTRACEBACK=single
};

static bool
has_prefix_eq(const char *kv, const char *name)
{
    while (*name && *kv == *name) {
        kv++;
        name++;
    }
    return *name == '\0' && *kv == '=';
}

const char *
rt_getenv(const char *name)
{
    if (rt_envp == NULL || name == NULL)
        return NULL;
    size_t n = 0;
    while (name[n])
        n++;
    for (char **e = rt_envp; *e; e++) {
        if (has_prefix_eq(*e, name))
            return *e + n + 1;
    }
    return NULL;
}

// Parses the decimal digits s[0..n) as a non-negative int64; false on an
// empty string, a non-digit or overflow.
static bool
atoi64n(const char *s, size_t n, int64_t *out)
{
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > ((uint64_t)INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = (int64_t)v;
    return true;
}

// Go's parseByteCount (runtime/string.go): "4096", "4096B", or a number with
// one of the IEC suffixes KiB, MiB, GiB, TiB. Decimal units (KB, MB, GB) are
// rejected, as Go rejects them. The result must fit in an int64.
int64_t
rt_parse_bytes(const char *s)
{
    if (s == NULL)
        return -1;
    size_t n = 0;
    while (s[n])
        n++;
    if (n == 0)
        return -1;
    int64_t v;
    char last = s[n - 1];
    if (last >= '0' && last <= '9')
        return atoi64n(s, n, &v) ? v : -1;
    if (last != 'B' || n < 2)
        return -1;
    char c = s[n - 2];
    if (c >= '0' && c <= '9')
        return atoi64n(s, n - 1, &v) ? v : -1;
    if (c != 'i' || n < 4)
        return -1;
    int shift;
    switch (s[n - 3]) {
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case 'T':
        shift = 40;
        break;
    default:
        return -1;
    }
    if (!atoi64n(s, n - 3, &v))
        return -1;
    if (v > (INT64_MAX >> shift))
        return -1;
    return v << shift;
}

// Parses a GODEBUG value: a decimal int32, optionally negative. false if it
// is not one (the setting is then ignored, as Go ignores it).
static bool
atoi32n(const char *s, size_t n, int32_t *out)
{
    bool neg = false;
    if (n > 0 && s[0] == '-') {
        neg = true;
        s++;
        n--;
    }
    int64_t v;
    if (!atoi64n(s, n, &v) || v > INT32_MAX)
        return false;
    *out = (int32_t)(neg ? -v : v);
    return true;
}

static bool
streqn(const char *a, size_t n, const char *b)
{
    size_t i = 0;
    for (; i < n; i++) {
        if (b[i] == '\0' || a[i] != b[i])
            return false;
    }
    return b[i] == '\0';
}

static const struct {
    const char *name;
    size_t off;
} dbgvars[] = {
        {"gctrace", offsetof(DebugVars, gctrace)},
        {"schedtrace", offsetof(DebugVars, schedtrace)},
        {"scheddetail", offsetof(DebugVars, scheddetail)},
        {"asyncpreemptoff", offsetof(DebugVars, asyncpreemptoff)},
        {"boottrace", offsetof(DebugVars, boottrace)},
        {"gccheckmark", offsetof(DebugVars, gccheckmark)},
        {"gcstress", offsetof(DebugVars, gcstress)},
        {"gcstoptheworld", offsetof(DebugVars, gcstoptheworld)},
        {"gcconcurrent", offsetof(DebugVars, gcconcurrent)},
        {"gcassist", offsetof(DebugVars, gcassist)},
        {"gcgen", offsetof(DebugVars, gcgen)},
        {"madvdontneed", offsetof(DebugVars, madvdontneed)},
        {"scavtrace", offsetof(DebugVars, scavtrace)},
};

uintptr_t rt_debug_gcwhy;

// A hexadecimal address, with or without 0x; 0 if malformed.
static uintptr_t
parse_addr(const char *s, size_t n)
{
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        n -= 2;
    }
    if (n == 0 || n > 16)
        return 0;
    uintptr_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return 0;
        v = v << 4 | (uintptr_t)d;
    }
    return v;
}

// GODEBUG=name=val,name=val: known names set their field (a later setting
// wins); unknown names and malformed entries are ignored, as in Go.
static void
parse_godebug(const char *s)
{
    while (*s) {
        const char *item = s;
        while (*s && *s != ',')
            s++;
        size_t len = (size_t)(s - item);
        if (*s == ',')
            s++;
        size_t eq = 0;
        while (eq < len && item[eq] != '=')
            eq++;
        if (eq == len)
            continue;
        if (streqn(item, eq, "gcwhy")) {
            // Complemented: this global is a root, and the plain address
            // would keep the object it asks about.
            uintptr_t a = parse_addr(item + eq + 1, len - eq - 1);
            rt_debug_gcwhy = a != 0 ? ~a : 0;
            continue;
        }
        int32_t v;
        if (!atoi32n(item + eq + 1, len - eq - 1, &v))
            continue;
        for (size_t i = 0; i < RT_NELEM(dbgvars); i++) {
            if (streqn(item, eq, dbgvars[i].name)) {
                *(int32_t *)(void *)((char *)&rt_debug + dbgvars[i].off) = v;
                break;
            }
        }
    }
}

// GOTRACEBACK (Go's setTraceback): none/0, single/"" (default), all/1,
// system/2, crash. A larger number acts as system; an unknown word leaves the
// default.
static int32_t
parse_traceback(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    if (streqn(s, n, "none") || streqn(s, n, "0"))
        return 0;
    if (n == 0 || streqn(s, n, "single"))
        return 1;
    if (streqn(s, n, "all") || streqn(s, n, "1"))
        return 2;
    if (streqn(s, n, "system") || streqn(s, n, "2"))
        return 3;
    if (streqn(s, n, "crash"))
        return 4;
    int64_t v;
    if (atoi64n(s, n, &v))
        return 3;
    return 1;
}

void
rt_parsedebugvars(void)
{
    const char *s = rt_getenv("GODEBUG");
    if (s)
        parse_godebug(s);
    s = rt_getenv("GOTRACEBACK");
    if (s)
        rt_debug.traceback = parse_traceback(s);
}
