// httphello.c: an HTTP/1.1 server answering "hello", gort's twin of Go's
// net/http with a handler that writes "hello" (bench/go/httphello.go).
//
//   httphello [-timeout SECONDS] [ADDR]
//
// ADDR is "host:port", ":port" or a bare port; without it, ":$PORT" when PORT
// is set, else ":8080". Once the socket is bound the program prints
// "httphello: listening on HOST:PORT" (":0" picks a free port: tests and
// bench/run_net.py read it from that line).
//
// One goroutine accepts; every connection gets a goroutine of its own. That
// goroutine reads into a 4 KiB buffer, answers every complete request the
// buffer holds (pipelined requests in order, their answers in one write) and
// keeps the connection for the next request unless the client asks to close
// (HTTP/1.0 without "Connection: keep-alive", or "Connection: close"). The
// answer is, byte for byte, what net/http 1.19 sends for w.Write("hello"):
//
//   HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 08:22:10 GMT\r\nContent-Length: 5\r\n
//   Content-Type: text/plain; charset=utf-8\r\n\r\nhello
//
// Errors are net/http's too: a malformed request gets "400 Bad Request" and
// the connection is closed; a header that does not fit the buffer gets 431; a
// Transfer-Encoding (chunked bodies are not decoded here) gets 501; other
// HTTP versions than 1.0 and 1.1 get 505. Request bodies with a
// Content-Length are read and dropped.
//
// Before closing after an answer it shuts its side down and waits up to
// 500 ms for the client's end of file (net/http's closeWriteAndWait).
//
// Each request must arrive within -timeout seconds (default 10) of the moment
// the server starts waiting for it: a read deadline, set once per request and
// not moved by the bytes that trickle in (Go's ReadHeaderTimeout), closes
// idle connections and clients that send their header a byte at a time.
// When accept fails for lack of descriptors (EMFILE, ENFILE) the accept loop
// sleeps 5 ms, doubling up to 1 s, as net/http's Serve does.
#include <errno.h>
#include <gort.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

enum {
    IN_SIZE = 4096,  // the read buffer: net/http's bufio.Reader size
    OUT_SIZE = 4096, // answers to pipelined requests collect here
    DATE_LEN = 29,   // "Mon, 07 Dec 2026 08:22:10 GMT"
};

static int64_t request_timeout_ns = 10 * (int64_t)1000000000; // [const] after main's flag parsing

static const char ERROR_HEADERS[] =
        "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n";

// One connection's state; it lives on its goroutine's stack.
typedef struct Conn {
    gort_fd *fd;
    size_t len;         // bytes in in[]
    size_t olen;        // bytes in out[]
    uint64_t skip;      // body bytes still to drop
    uint64_t served;    // requests answered
    time_t date_sec;    // the second date[] shows
    char date[32];      // RFC 1123 in GMT, as net/http's TimeFormat
    char in[IN_SIZE];   // the 4 KiB read buffer
    char out[OUT_SIZE]; // answers not yet written
} Conn;

// What parse_request found in one request header.
typedef struct Request {
    int status;         // 0: well formed; else the error status to answer
    const char *reason; // for 400: net/http's detail after "400 Bad Request"
    bool http10;        // HTTP/1.0 (else 1.1)
    bool head;          // HEAD: the answer has no body
    bool keep_alive;    // the connection stays open after the answer
    uint64_t body;      // Content-Length
} Request;

static bool
is_tchar(unsigned char c)
{
    // RFC 7230 token characters.
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

// Whether the comma separated list v (n bytes) holds token tok, case blind.
static bool
has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i < n;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t e = j;
        while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - i == tl && strncasecmp(v + i, tok, tl) == 0)
            return true;
        i = j;
    }
    return false;
}

static int
bad(Request *r, int status, const char *reason)
{
    r->status = status;
    r->reason = reason;
    return -1;
}

// Parses the request header at p[0..n). Returns its length, the blank line
// included, when it is complete; 0 when more bytes are needed; -1 with
// r->status set when the request is malformed.
static long
parse_request(const char *p, size_t n, Request *r)
{
    memset(r, 0, sizeof *r);
    size_t i = 0;
    while (i < n && (p[i] == '\r' || p[i] == '\n')) // blank lines before a request are ignored
        i++;
    const char *end = memchr(p + i, '\n', n - i);
    if (end == NULL)
        return 0;
    // Request line: METHOD SP TARGET SP HTTP/1.x
    size_t ll = (size_t)(end - (p + i));
    const char *line = p + i;
    if (ll > 0 && line[ll - 1] == '\r')
        ll--;
    size_t m = 0;
    while (m < ll && is_tchar((unsigned char)line[m]))
        m++;
    if (m == 0 || m >= ll || line[m] != ' ')
        return bad(r, 400, NULL);
    size_t t = m + 1;
    while (t < ll && line[t] != ' ' && (unsigned char)line[t] > ' ' && line[t] != 0x7f)
        t++;
    if (t == m + 1 || t >= ll || line[t] != ' ')
        return bad(r, 400, NULL);
    const char *ver = line + t + 1;
    size_t vl = ll - t - 1;
    if (vl == 8 && memcmp(ver, "HTTP/1.1", 8) == 0) {
        r->http10 = false;
    } else if (vl == 8 && memcmp(ver, "HTTP/1.0", 8) == 0) {
        r->http10 = true;
    } else if (vl == 8 && memcmp(ver, "HTTP/", 5) == 0 && ver[5] >= '0' && ver[5] <= '9' &&
               ver[6] == '.' && ver[7] >= '0' && ver[7] <= '9') {
        return bad(r, 505, NULL);
    } else {
        return bad(r, 400, NULL);
    }
    r->head = m == 4 && memcmp(line, "HEAD", 4) == 0;

    // Header fields, up to the blank line.
    int hosts = 0;
    bool conn_close = false, conn_keep = false, have_len = false;
    for (i = (size_t)(end - p) + 1;;) {
        end = memchr(p + i, '\n', n - i);
        if (end == NULL)
            return 0;
        const char *h = p + i;
        size_t hl = (size_t)(end - h);
        i = (size_t)(end - p) + 1;
        if (hl > 0 && h[hl - 1] == '\r')
            hl--;
        if (hl == 0)
            break;
        size_t c = 0;
        while (c < hl && is_tchar((unsigned char)h[c]))
            c++;
        if (c == 0 || c >= hl || h[c] != ':') // no name, or a space before the colon
            return bad(r, 400, NULL);
        size_t vs = c + 1, ve = hl;
        while (vs < ve && (h[vs] == ' ' || h[vs] == '\t'))
            vs++;
        while (ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t'))
            ve--;
        for (size_t k = vs; k < ve; k++) {
            unsigned char b = (unsigned char)h[k];
            if ((b < ' ' && b != '\t') || b == 0x7f)
                return bad(r, 400, NULL);
        }
        const char *v = h + vs;
        size_t vn = ve - vs;
        if (c == 4 && strncasecmp(h, "host", 4) == 0) {
            hosts++;
        } else if (c == 10 && strncasecmp(h, "connection", 10) == 0) {
            conn_close |= has_token(v, vn, "close");
            conn_keep |= has_token(v, vn, "keep-alive");
        } else if (c == 14 && strncasecmp(h, "content-length", 14) == 0) {
            uint64_t len = 0;
            if (vn == 0 || vn > 18)
                return bad(r, 400, NULL);
            for (size_t k = 0; k < vn; k++) {
                if (v[k] < '0' || v[k] > '9')
                    return bad(r, 400, NULL);
                len = len * 10 + (uint64_t)(v[k] - '0');
            }
            if (have_len && len != r->body)
                return bad(r, 400, NULL);
            have_len = true;
            r->body = len;
        } else if (c == 17 && strncasecmp(h, "transfer-encoding", 17) == 0) {
            return bad(r, 501, NULL);
        }
    }
    if (!r->http10 && hosts == 0)
        return bad(r, 400, "missing required Host header");
    if (hosts > 1)
        return bad(r, 400, "too many Host headers");
    r->keep_alive = r->http10 ? conn_keep && !conn_close : !conn_close;
    return (long)i;
}

// Writes out[] and empties it; false when the write failed.
static bool
flush(Conn *c)
{
    if (c->olen == 0)
        return true;
    ssize_t w = gort_fd_write(c->fd, c->out, c->olen);
    bool ok = w == (ssize_t)c->olen;
    c->olen = 0;
    return ok;
}

static bool
put(Conn *c, const char *s, size_t n)
{
    if (c->olen + n > sizeof c->out && !flush(c))
        return false;
    memcpy(c->out + c->olen, s, n);
    c->olen += n;
    return true;
}

#define PUT_LIT(c, s) put(c, s, sizeof(s) - 1)

// Queues the answer to a well formed request.
static bool
answer(Conn *c, const Request *r)
{
    time_t now = time(NULL);
    if (now != c->date_sec) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(c->date, sizeof c->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        c->date_sec = now;
    }
    char buf[256];
    int n = snprintf(buf, sizeof buf,
                     "HTTP/1.%c 200 OK\r\nDate: %s\r\nContent-Length: 5\r\n"
                     "Content-Type: text/plain; charset=utf-8\r\n%s\r\n%s",
                     r->http10 ? '0' : '1', c->date,
                     !r->keep_alive ? (r->http10 ? "" : "Connection: close\r\n")
                     : r->http10    ? "Connection: keep-alive\r\n"
                                    : "",
                     r->head ? "" : "hello");
    return put(c, buf, (size_t)n);
}

// Queues net/http's answer to a request it cannot serve.
static void
answer_error(Conn *c, const Request *r)
{
    char buf[512];
    int n;
    switch (r->status) {
    case 431:
        n = snprintf(buf, sizeof buf, "HTTP/1.1 431 Request Header Fields Too Large%s%s",
                     ERROR_HEADERS, "431 Request Header Fields Too Large");
        break;
    case 501:
        n = snprintf(buf, sizeof buf, "HTTP/1.1 501 Not Implemented%sUnsupported transfer encoding",
                     ERROR_HEADERS);
        break;
    case 505:
        n = snprintf(buf, sizeof buf, "HTTP/1.1 505 HTTP Version Not Supported%s%s", ERROR_HEADERS,
                     "505 HTTP Version Not Supported");
        break;
    default: {
        const char *sep = r->reason != NULL ? ": " : "";
        const char *why = r->reason != NULL ? r->reason : "";
        n = snprintf(buf, sizeof buf, "HTTP/1.1 400 Bad Request%s%s%s400 Bad Request%s%s", sep, why,
                     ERROR_HEADERS, sep, why);
        break;
    }
    }
    put(c, buf, (size_t)n);
}

// Answers every complete request in in[]; keeps the incomplete rest.
// Returns false when the connection must be closed.
static bool
serve_buffered(Conn *c)
{
    size_t off = 0;
    bool keep = true;
    while (keep) {
        if (c->skip > 0) { // the rest of a body
            size_t k = c->len - off < c->skip ? c->len - off : (size_t)c->skip;
            off += k;
            c->skip -= k;
            if (c->skip > 0)
                break;
        }
        Request r;
        long hl = parse_request(c->in + off, c->len - off, &r);
        if (hl == 0) {
            if (off == 0 && c->len == sizeof c->in) { // a full buffer and no end of header
                r.status = 431;
                hl = -1;
            } else {
                break;
            }
        }
        if (hl < 0) {
            answer_error(c, &r);
            keep = false;
            break;
        }
        off += (size_t)hl;
        c->skip = r.body;
        c->served++;
        if (!answer(c, &r))
            return false;
        keep = r.keep_alive;
    }
    if (!flush(c))
        return false;
    memmove(c->in, c->in + off, c->len - off);
    c->len -= off;
    return keep;
}

// Closes after a last answer as net/http does: a FIN first, then a short
// wait for the client to close its side, so that the bytes it sent and the
// server did not read (the rest of a bad request) do not turn the close
// into a reset that could destroy the answer before the client read it.
static void
close_write_and_wait(Conn *c)
{
    shutdown(gort_fd_sysfd(c->fd), SHUT_WR);
    gort_fd_set_read_deadline(c->fd, gort_nanotime() + 500 * (int64_t)1000000);
    while (gort_fd_read(c->fd, c->in, sizeof c->in) > 0) {
    }
    gort_fd_close(c->fd);
}

static void
serve_conn(void *arg)
{
    Conn c;
    c.fd = arg;
    c.len = c.olen = 0;
    c.skip = c.served = 0;
    c.date_sec = 0;
    bool waiting = false; // a deadline is set for the request being read
    for (;;) {
        if (!waiting) {
            gort_fd_set_read_deadline(c.fd, gort_nanotime() + request_timeout_ns);
            waiting = true;
        }
        ssize_t n = gort_fd_read(c.fd, c.in + c.len, sizeof c.in - c.len);
        if (n <= 0) { // end of file, reset, or the deadline passed
            gort_fd_close(c.fd);
            return;
        }
        c.len += (size_t)n;
        uint64_t served = c.served;
        bool in_body = c.skip > 0;
        if (!serve_buffered(&c))
            break;
        // The next request gets a deadline of its own once this one was
        // answered and its body read; a request that trickles in keeps the
        // deadline set when the server began to wait for it.
        if ((c.served != served || in_body) && c.skip == 0)
            waiting = false;
    }
    close_write_and_wait(&c);
}

// Go 1.19 raises the soft descriptor limit to the hard one at start; so does
// this server, for the same reason (thousands of connections).
static void
raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void
usage(void)
{
    fprintf(stderr, "usage: httphello [-timeout SECONDS] [ADDR]\n");
    exit(2);
}

int
main(int argc, char **argv)
{
    char addr[256];
    const char *port = getenv("PORT");
    snprintf(addr, sizeof addr, ":%s", port != NULL && *port != 0 ? port : "8080");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-timeout") == 0 && i + 1 < argc) {
            double s = atof(argv[++i]);
            if (s <= 0)
                usage();
            request_timeout_ns = (int64_t)(s * 1e9);
        } else if (argv[i][0] == '-') {
            usage();
        } else if (strspn(argv[i], "0123456789") == strlen(argv[i])) {
            snprintf(addr, sizeof addr, ":%s", argv[i]);
        } else {
            snprintf(addr, sizeof addr, "%s", argv[i]);
        }
    }
    raise_nofile();
    gort_fd *ln = gort_listen("tcp", addr);
    if (ln == NULL) {
        fprintf(stderr, "httphello: listen %s: %s\n", addr, strerror(gort_errno()));
        return 1;
    }
    char local[128];
    gort_fd_local_addr(ln, local, sizeof local);
    printf("httphello: listening on %s\n", local);
    fflush(stdout);

    int64_t backoff = 0;
    for (;;) {
        gort_fd *c = gort_accept(ln);
        if (c != NULL) {
            backoff = 0;
            gort_go(serve_conn, c);
            continue;
        }
        int e = gort_errno();
        if (e == ECANCELED)
            return 0;
        // Out of descriptors (or another temporary failure): wait, then try
        // again; net/http logs the error and backs off 5 ms to 1 s.
        backoff = backoff == 0 ? 5 * (int64_t)1000000 : backoff * 2;
        if (backoff > (int64_t)1000000000)
            backoff = 1000000000;
        fprintf(stderr, "httphello: accept: %s; retrying in %lld ms\n", strerror(e),
                (long long)(backoff / 1000000));
        gort_sleep(backoff);
    }
}
