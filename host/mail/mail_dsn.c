/*
 * mail_dsn.c - delivery status notifications and mbox files (mail_dsn.h).
 * Every index stays below n; every copy is bounded by its buffer.
 */
#include "mail_dsn.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The index of the LF ending the line at i, or n. */
static size_t eol(const char *d, size_t n, size_t i)
{
    const char *lf = i < n ? memchr(d + i, '\n', n - i) : NULL;
    return lf ? (size_t)(lf - d) : n;
}

static size_t next_line(size_t e, size_t n)
{
    return e < n ? e + 1 : n;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* a[0..an) equals the NUL-terminated b, ignoring ASCII case. */
static bool same_ci(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* One header field: its name and its raw value (folding included). */
struct field {
    size_t name, name_len, val, val_end;
};

/* The next field of the header block at *i; 0 at the block's end (an empty
 * line, *i then past it, or the data's end). Lines that are not fields are
 * skipped. */
static int next_field(const char *d, size_t n, size_t *i, struct field *f)
{
    while (*i < n) {
        size_t e = eol(d, n, *i), le = e;
        if (le > *i && d[le - 1] == '\r')
            le--;
        if (le == *i) {
            *i = next_line(e, n);
            return 0;
        }
        size_t colon = *i;
        while (colon < le && d[colon] != ':')
            colon++;
        if (is_wsp(d[*i]) || colon == le) {
            *i = next_line(e, n);
            continue;
        }
        f->name = *i;
        f->name_len = colon - *i;
        while (f->name_len && is_wsp(d[f->name + f->name_len - 1]))
            f->name_len--;
        f->val = colon + 1;
        size_t j = next_line(e, n);
        while (j < n && is_wsp(d[j]))
            j = next_line(eol(d, n, j), n);
        f->val_end = j;
        *i = j;
        return 1;
    }
    return 0;
}

/* f's value into out (cap > 0): line breaks and runs of blanks as one
 * space, trimmed, bytes outside printable ASCII as '?', truncated. */
static void copy_val(const char *d, const struct field *f, char *out, size_t cap)
{
    size_t k = 0;
    bool space = false;
    for (size_t i = f->val; i < f->val_end; i++) {
        char c = d[i];
        if (c == '\r' || c == '\n' || is_wsp(c)) {
            space = k > 0;
            continue;
        }
        if (space && k + 1 < cap)
            out[k++] = ' ';
        space = false;
        if (k + 1 < cap)
            out[k++] = (unsigned char)c >= 0x20 && (unsigned char)c < 0x7f ? c : '?';
    }
    out[k] = '\0';
}

static bool field_is(const char *d, const struct field *f, const char *name)
{
    return same_ci(d + f->name, f->name_len, name);
}

/* The media type of a Content-Type value ct (lowercase, up to ';' or a
 * blank) equals type. */
static bool type_is(const char *ct, const char *type)
{
    size_t k = 0;
    while (ct[k] && ct[k] != ';' && ct[k] != ' ')
        k++;
    return same_ci(ct, k, type);
}

/* Parameter name's value of Content-Type value ct into out; false without
 * one (or an empty one). */
static bool param(const char *ct, const char *name, char *out, size_t cap)
{
    const char *p = strchr(ct, ';');
    while (p) {
        p++;
        while (*p == ' ')
            p++;
        const char *eq = p;
        while (*eq && *eq != '=' && *eq != ';')
            eq++;
        size_t nl = (size_t)(eq - p);
        while (nl && p[nl - 1] == ' ')
            nl--;
        if (*eq != '=') {
            p = *eq ? eq : NULL;
            continue;
        }
        const char *v = eq + 1;
        size_t k = 0;
        while (*v == ' ')
            v++;
        if (*v == '"') {
            for (v++; *v && *v != '"'; v++) {
                if (*v == '\\' && v[1])
                    v++;
                if (k + 1 < cap)
                    out[k++] = *v;
            }
        } else {
            for (; *v && *v != ';' && *v != ' '; v++)
                if (k + 1 < cap)
                    out[k++] = *v;
        }
        out[k] = '\0';
        if (same_ci(p, nl, name))
            return k > 0;
        p = strchr(v, ';');
    }
    return false;
}

/* The part of d[0..n) whose header block gives its Content-Type into ct
 * ("" without one) and, if id is not NULL, its Message-ID into id (128
 * bytes); *body: where the part's body starts. */
static void part_type(const char *d, size_t n, char *ct, size_t cap, char *id, size_t *body)
{
    struct field f;
    size_t i = 0;
    ct[0] = '\0';
    while (next_field(d, n, &i, &f))
        if (!ct[0] && field_is(d, &f, "Content-Type"))
            copy_val(d, &f, ct, cap);
        else if (id && !id[0] && field_is(d, &f, "Message-ID"))
            copy_val(d, &f, id, 128);
    *body = i;
}

/* A recipient group's fields. */
struct group {
    char action[16], status[32], final[300], original[300], diag[200];
};

/* "5.1.1" or "5.1.1 (comment)": the code alone, if it is one. */
static bool status_ok(const char *s, char out[10])
{
    size_t k = 0, digits = 0, dots = 0;
    if (s[0] != '2' && s[0] != '4' && s[0] != '5')
        return false;
    for (; s[k] && s[k] != ' ' && s[k] != '('; k++) {
        if (s[k] == '.') {
            if ((dots > 0 && digits == 0) || ++dots > 2)
                return false;
            digits = 0;
        } else if (s[k] >= '0' && s[k] <= '9') {
            if (++digits > 3 || (dots == 0 && k > 0))
                return false;
        } else
            return false;
    }
    if (dots != 2 || digits == 0 || k > 9)
        return false;
    memcpy(out, s, k);
    out[k] = '\0';
    return true;
}

static bool action_ok(const char *a)
{
    static const char *const actions[] = {"failed", "delayed", "delivered", "relayed", "expanded"};
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (same_ci(a, strlen(a), actions[i]))
            return true;
    return false;
}

/* "rfc822; User@Example.org" (or "<...>"): the address, lowercase, into
 * out; "" for another address type or something not an address. */
static void recipient_of(const char *v, char *out, size_t cap)
{
    const char *semi = strchr(v, ';');
    size_t k = 0;
    out[0] = '\0';
    if (!semi || !same_ci(v, (size_t)(semi - v), "rfc822"))
        return;
    const char *a = semi + 1;
    while (*a == ' ')
        a++;
    size_t len = strlen(a);
    if (len >= 2 && a[0] == '<' && a[len - 1] == '>') {
        a++;
        len -= 2;
    }
    if (len == 0 || len + 1 > cap)
        return;
    bool at = false;
    for (size_t i = 0; i < len; i++) {
        if (a[i] == ' ' || a[i] == '<' || a[i] == '>' || a[i] == '"' || a[i] == '?')
            return;
        at |= a[i] == '@';
        out[k++] = lower(a[i]);
    }
    out[k] = '\0';
    if (!at || out[0] == '@' || out[k - 1] == '@')
        out[0] = '\0';
}

/* The delivery-status body d[0..n): its recipient groups into out. */
static leal_err read_status(const char *d, size_t n, struct mail_dsn *out)
{
    struct group g, pick;
    memset(&pick, 0, sizeof pick);
    int rank = 0; /* of pick: 3 failed, 2 delayed, 1 another */
    size_t i = 0;
    while (i < n) {
        struct field f;
        bool any = false;
        memset(&g, 0, sizeof g);
        while (next_field(d, n, &i, &f)) {
            char *dst = field_is(d, &f, "Action")               ? g.action
                        : field_is(d, &f, "Status")             ? g.status
                        : field_is(d, &f, "Final-Recipient")    ? g.final
                        : field_is(d, &f, "Original-Recipient") ? g.original
                        : field_is(d, &f, "Diagnostic-Code")    ? g.diag
                                                                : NULL;
            size_t cap = dst == g.action   ? sizeof g.action
                         : dst == g.status ? sizeof g.status
                         : dst == g.diag   ? sizeof g.diag
                                           : sizeof g.final;
            if (dst && dst != g.diag && dst != g.original)
                any = true;
            if (dst && !dst[0])
                copy_val(d, &f, dst, cap);
        }
        if (!any)
            continue; /* the per-message group, or blank lines */
        char code[10];
        if (!action_ok(g.action) || !status_ok(g.status, code))
            return LEAL_E_DSN_MALFORMED;
        out->recipients++;
        int r = same_ci(g.action, strlen(g.action), "failed")    ? 3
                : same_ci(g.action, strlen(g.action), "delayed") ? 2
                                                                 : 1;
        if (r > rank) {
            rank = r;
            pick = g;
            memcpy(out->status, code, sizeof out->status);
        }
    }
    if (rank == 0)
        return LEAL_E_DSN_MALFORMED;
    for (size_t k = 0; k < sizeof out->action - 1 && pick.action[k]; k++)
        out->action[k] = lower(pick.action[k]);
    recipient_of(pick.original, out->recipient, sizeof out->recipient);
    if (!out->recipient[0])
        recipient_of(pick.final, out->recipient, sizeof out->recipient);
    const char *semi = strchr(pick.diag, ';');
    const char *diag = semi ? semi + 1 : pick.diag;
    while (*diag == ' ')
        diag++;
    memcpy(out->diagnostic, diag, strlen(diag) + 1);
    return LEAL_OK;
}

/* The returned message's header block d[0..n): its Message-ID's token. */
static void read_returned(const char *d, size_t n, struct mail_dsn *out)
{
    struct field f;
    size_t i = 0;
    char id[128];
    while (next_field(d, n, &i, &f)) {
        if (!field_is(d, &f, "Message-ID"))
            continue;
        copy_val(d, &f, id, sizeof id);
        if (id[0] != '<' || strlen(id) < 36)
            return;
        char t[33];
        for (size_t k = 0; k < 32; k++) {
            t[k] = lower(id[1 + k]);
            if (!((t[k] >= '0' && t[k] <= '9') || (t[k] >= 'a' && t[k] <= 'f')))
                return;
        }
        t[32] = '\0';
        /* ".N" after the token: the attempt, 1 to 999999, no leading zero. */
        size_t j = 33;
        unsigned attempt = 0;
        if (id[j] == '.') {
            for (j++; j < 41 && id[j] >= '0' && id[j] <= '9'; j++)
                attempt = attempt * 10 + (unsigned)(id[j] - '0');
            if (j == 34 || j == 41 || id[34] == '0')
                return;
        }
        if (id[j] != '@' || !strchr(id + j + 1, '>'))
            return;
        memcpy(out->token, t, sizeof t);
        out->attempt = attempt;
        return;
    }
}

/* Whether the line d[ls..le) is the boundary's delimiter; *close when it is
 * the closing one. */
static bool delimiter(const char *d, size_t ls, size_t le, const char *b, size_t bl, bool *close)
{
    if (le - ls < 2 + bl || d[ls] != '-' || d[ls + 1] != '-' || memcmp(d + ls + 2, b, bl) != 0)
        return false;
    size_t k = ls + 2 + bl;
    *close = le - k >= 2 && d[k] == '-' && d[k + 1] == '-';
    if (*close)
        k += 2;
    while (k < le && (is_wsp(d[k]) || d[k] == '\r'))
        k++;
    return k == le;
}

static void read_part(const char *d, size_t n, struct mail_dsn *out, leal_err *status, bool *seen)
{
    char ct[256];
    size_t body = 0;
    part_type(d, n, ct, sizeof ct, NULL, &body);
    if (type_is(ct, "message/delivery-status") || type_is(ct, "message/global-delivery-status")) {
        if (!*seen)
            *status = read_status(d + body, n - body, out);
        *seen = true;
    } else if (!out->token[0] &&
               (type_is(ct, "message/rfc822") || type_is(ct, "text/rfc822-headers") ||
                type_is(ct, "message/global") || type_is(ct, "message/global-headers")))
        read_returned(d + body, n - body, out);
}

leal_err mail_dsn_parse(const char *d, size_t n, struct mail_dsn *out)
{
    char ct[1024], rt[32], b[201];
    size_t body = 0;
    memset(out, 0, sizeof *out);
    if (!d || n > MAIL_DSN_MAX)
        return LEAL_E_DSN_MALFORMED;
    part_type(d, n, ct, sizeof ct, out->report_id, &body);
    if (!type_is(ct, "multipart/report") || !param(ct, "report-type", rt, sizeof rt) ||
        !same_ci(rt, strlen(rt), "delivery-status") || !param(ct, "boundary", b, sizeof b)) {
        memset(out, 0, sizeof *out);
        return LEAL_E_DSN_MALFORMED;
    }
    size_t bl = strlen(b), i = body, part = SIZE_MAX;
    leal_err status = LEAL_E_DSN_MALFORMED;
    bool seen = false, close = false;
    while (i < n && !close) {
        size_t e = eol(d, n, i);
        if (delimiter(d, i, e, b, bl, &close)) {
            if (part != SIZE_MAX)
                read_part(d + part, i - part, out, &status, &seen);
            part = next_line(e, n);
        }
        i = next_line(e, n);
    }
    /* A report cut short after its last part still gives that part. */
    if (!close && part != SIZE_MAX && part < n)
        read_part(d + part, n - part, out, &status, &seen);
    if (status != LEAL_OK) {
        memset(out, 0, sizeof *out);
        return LEAL_E_DSN_MALFORMED;
    }
    return LEAL_OK;
}

/* The line starting at j follows an empty line (LF LF or LF CR LF). */
static bool after_empty_line(const char *d, size_t j)
{
    return (j >= 2 && d[j - 1] == '\n' && d[j - 2] == '\n') ||
           (j >= 3 && d[j - 1] == '\n' && d[j - 2] == '\r' && d[j - 3] == '\n');
}

int mail_mbox_next(const char *d, size_t n, size_t *off, size_t *start, size_t *len)
{
    size_t i = *off;
    if (i >= n)
        return 0;
    if (n < 5 || memcmp(d, "From ", 5) != 0) {
        if (i != 0)
            return 0;
        *start = 0;
        *len = n;
        *off = n;
        return 1;
    }
    size_t s = next_line(eol(d, n, i), n), j = s;
    while (j < n && !(n - j >= 5 && memcmp(d + j, "From ", 5) == 0 && after_empty_line(d, j)))
        j = next_line(eol(d, n, j), n);
    *start = s;
    *len = j - s;
    *off = j;
    return 1;
}
