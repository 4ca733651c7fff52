// print.c: the runtime's printf, for crash paths, traces and debug output.
//
// rt_printf formats into a buffer on the caller's stack and writes it with
// rt_os_write(2, ...): no malloc, no locks, no stdio, no locale, so it is
// async-signal-safe and works on any stack with ~1 KiB to spare. One call
// produces one write(2) when its output fits in the buffer (PRINT_BUF), so
// lines from different threads interleave only at call boundaries.
//
// Supported conversions: %d %i %u %x %X %o %p %s %c %f %%, the length
// modifiers hh h l ll z j t, flags '-' and '0', a width and a precision
// (digits or '*'). %.Ns prints at most N bytes; %f is fixed-point with
// default precision 6 and handles |x| < 2^64 (larger values print "+Inf"
// style markers, as Go's print does for out-of-range floats). Anything else
// is copied through verbatim so a bad format never crashes a crash path.
#include "rt.h"

enum { PRINT_BUF = 1024 };

typedef struct Out {
    char buf[PRINT_BUF];
    size_t n;
} Out;

static void
out_flush(Out *o)
{
    size_t off = 0;
    while (off < o->n) {
        long r = rt_os_write(2, o->buf + off, o->n - off);
        if (r == -4) // EINTR
            continue;
        if (r <= 0)
            break; // nowhere left to report the failure
        off += (size_t)r;
    }
    o->n = 0;
}

static void
out_byte(Out *o, char c)
{
    if (o->n == sizeof(o->buf))
        out_flush(o);
    o->buf[o->n++] = c;
}

static void
out_mem(Out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out_byte(o, s[i]);
}

static void
out_pad(Out *o, char c, int n)
{
    for (; n > 0; n--)
        out_byte(o, c);
}

// Emits a field of len bytes (with an optional sign/prefix already included
// in pfx) honouring width, '-' and '0'.
static void
out_field(Out *o, const char *pfx, size_t npfx, const char *s, size_t len, int width, bool left,
          bool zero)
{
    int pad = width - (int)(len + npfx);
    if (!left && !zero)
        out_pad(o, ' ', pad);
    out_mem(o, pfx, npfx);
    if (!left && zero)
        out_pad(o, '0', pad);
    out_mem(o, s, len);
    if (left)
        out_pad(o, ' ', pad);
}

// Writes v in base into the end of tmp[64]; returns the start.
static char *
utoa(char *end, uint64_t v, unsigned base, bool upper)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char *p = end;
    do {
        *--p = digits[v % base];
        v /= base;
    } while (v != 0);
    return p;
}

static void
out_float(Out *o, double x, int prec, int width, bool left, bool zero)
{
    char tmp[96];
    char *end = tmp + sizeof(tmp);
    char *p = end;
    char sign[1];
    size_t nsign = 0;
    if (x != x) {
        out_field(o, "", 0, "NaN", 3, width, left, false);
        return;
    }
    if (x < 0) {
        sign[0] = '-';
        nsign = 1;
        x = -x;
    }
    if (x >= 18446744073709551616.0) { // 2^64: beyond what we format
        out_field(o, sign, nsign, "+Inf", 4, width, left, false);
        return;
    }
    if (prec > 18)
        prec = 18;
    uint64_t scale = 1;
    for (int i = 0; i < prec; i++)
        scale *= 10;
    uint64_t ip = (uint64_t)x;
    double fr = (x - (double)ip) * (double)scale + 0.5;
    uint64_t fp = (uint64_t)fr;
    if (fp >= scale) { // rounding carried into the integer part
        fp -= scale;
        ip++;
    }
    if (prec > 0) {
        for (int i = 0; i < prec; i++) {
            *--p = (char)('0' + fp % 10);
            fp /= 10;
        }
        *--p = '.';
    }
    p = utoa(p, ip, 10, false);
    out_field(o, sign, nsign, p, (size_t)(end - p), width, left, zero);
}

static void
vformat(Out *o, const char *fmt, va_list ap)
{
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            out_byte(o, *f);
            continue;
        }
        const char *start = f++;
        bool left = false, zero = false, plus = false, space = false;
        for (;; f++) {
            if (*f == '-')
                left = true;
            else if (*f == '0')
                zero = true;
            else if (*f == '+')
                plus = true;
            else if (*f == ' ')
                space = true;
            else
                break;
        }
        int width = 0;
        if (*f == '*') {
            width = va_arg(ap, int);
            if (width < 0) {
                left = true;
                width = -width;
            }
            f++;
        } else {
            while (*f >= '0' && *f <= '9')
                width = width * 10 + (*f++ - '0');
        }
        int prec = -1;
        if (*f == '.') {
            f++;
            prec = 0;
            if (*f == '*') {
                prec = va_arg(ap, int);
                f++;
            } else {
                while (*f >= '0' && *f <= '9')
                    prec = prec * 10 + (*f++ - '0');
            }
        }
        int lng = 0; // 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size_t
        for (;; f++) {
            if (*f == 'l')
                lng = lng == 1 ? 2 : 1;
            else if (*f == 'h')
                lng = lng == -1 ? -2 : -1;
            else if (*f == 'z' || *f == 'j' || *f == 't')
                lng = 3;
            else
                break;
        }
        if (left)
            zero = false;

        char tmp[64];
        char *end = tmp + sizeof(tmp);
        char pfx[2];
        size_t npfx = 0;
        switch (*f) {
        case 'd':
        case 'i': {
            int64_t v;
            if (lng == 2)
                v = va_arg(ap, long long);
            else if (lng == 1 || lng == 3)
                v = va_arg(ap, long); // ptrdiff_t/ssize_t are long on LP64
            else
                v = va_arg(ap, int);
            if (lng == -1)
                v = (short)v;
            else if (lng == -2)
                v = (signed char)v;
            uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
            if (v < 0)
                pfx[npfx++] = '-';
            else if (plus)
                pfx[npfx++] = '+';
            else if (space)
                pfx[npfx++] = ' ';
            char *p = utoa(end, u, 10, false);
            if (prec >= 0) {
                zero = false;
                while (end - p < prec)
                    *--p = '0';
            }
            out_field(o, pfx, npfx, p, (size_t)(end - p), width, left, zero);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            uint64_t u;
            if (lng == 2)
                u = va_arg(ap, unsigned long long);
            else if (lng == 1 || lng == 3)
                u = va_arg(ap, unsigned long);
            else
                u = va_arg(ap, unsigned int);
            if (lng == -1)
                u = (unsigned short)u;
            else if (lng == -2)
                u = (unsigned char)u;
            unsigned base = *f == 'u' ? 10 : *f == 'o' ? 8 : 16;
            char *p = utoa(end, u, base, *f == 'X');
            if (prec >= 0) {
                zero = false;
                while (end - p < prec)
                    *--p = '0';
            }
            out_field(o, pfx, 0, p, (size_t)(end - p), width, left, zero);
            break;
        }
        case 'p': {
            uintptr_t u = (uintptr_t)va_arg(ap, void *);
            char *p = utoa(end, u, 16, false);
            out_field(o, "0x", 2, p, (size_t)(end - p), width, left, zero);
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL)
                s = "(null)";
            size_t len = 0;
            while (s[len] && (prec < 0 || len < (size_t)prec))
                len++;
            out_field(o, "", 0, s, len, width, left, false);
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            out_field(o, "", 0, &c, 1, width, left, false);
            break;
        }
        case 'f':
        case 'F':
            out_float(o, va_arg(ap, double), prec < 0 ? 6 : prec, width, left, zero);
            break;
        case '%':
            out_byte(o, '%');
            break;
        default: // unknown or truncated: copy the directive through
            if (*f == '\0')
                f--;
            out_mem(o, start, (size_t)(f - start + 1));
            break;
        }
    }
}

void
rt_vprintf(const char *fmt, va_list ap)
{
    Out o;
    o.n = 0;
    vformat(&o, fmt, ap);
    out_flush(&o);
}

void
rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
}

static const char *const waitreason_strs[WAIT_N] = {
        [WAIT_ZERO] = "",
        [WAIT_CHAN_SEND] = "chan send",
        [WAIT_CHAN_RECV] = "chan receive",
        [WAIT_CHAN_SEND_NIL] = "chan send (nil chan)",
        [WAIT_CHAN_RECV_NIL] = "chan receive (nil chan)",
        [WAIT_SELECT] = "select",
        [WAIT_SELECT_NO_CASES] = "select (no cases)",
        [WAIT_SLEEP] = "sleep",
        [WAIT_SYNC_MUTEX] = "sync.Mutex.Lock",
        [WAIT_SYNC_RWMUTEX_RLOCK] = "sync.RWMutex.RLock",
        [WAIT_SYNC_RWMUTEX_LOCK] = "sync.RWMutex.Lock",
        [WAIT_SYNC_WAITGROUP] = "sync.WaitGroup.Wait",
        [WAIT_SYNC_COND] = "sync.Cond.Wait",
        [WAIT_SEMACQUIRE] = "semacquire",
        [WAIT_GC_WORKER] = "GC worker (idle)",
        [WAIT_FINALIZER] = "finalizer wait",
        [WAIT_FORCEGC] = "force gc (idle)",
        [WAIT_GC_SWEEP] = "GC sweep wait",
        [WAIT_GC_SCAVENGE] = "GC scavenge wait",
        [WAIT_IO] = "IO wait",
        [WAIT_PREEMPTED] = "preempted",
        [WAIT_UPDATE_MAXPROCS] = "GOMAXPROCS updater (idle)",
};

const char *
rt_waitreason_str(uint8_t r)
{
    if (r >= WAIT_N || waitreason_strs[r] == NULL)
        return "unknown wait reason";
    return waitreason_strs[r];
}
