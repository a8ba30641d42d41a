/*
 * msg_gateway.c - one message through an HTTP gateway (see msg_gateway.h),
 * with libcurl (as mail.c's SMTP).
 */
#include "msg_gateway.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/strbuf.h"

leal_err msg_gateway_escape(const char *format, const char *in, char **out)
{
    bool json = strcmp(format, "json") == 0;
    size_t n = strlen(in), cap = 6 * n + 1;
    char *o = malloc(cap), *w = o;
    *out = NULL;
    if (!o)
        return LEAL_E_NO_MEMORY;
    for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
        if (json && (*p == '"' || *p == '\\')) {
            *w++ = '\\';
            *w++ = (char)*p;
        } else if (json && *p == '\n') {
            w += snprintf(w, cap - (size_t)(w - o), "\\n");
        } else if (json && *p < 0x20) {
            w += snprintf(w, cap - (size_t)(w - o), "\\u%04x", *p);
        } else if (!json && !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
                              (*p >= 'A' && *p <= 'Z') || strchr("-._~", *p))) {
            w += snprintf(w, cap - (size_t)(w - o), "%%%02X", *p);
        } else {
            *w++ = (char)*p;
        }
    }
    *w = '\0';
    *out = o;
    return LEAL_OK;
}

/* A header name: RFC 9110's token characters. */
static bool name_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

leal_err msg_gateway_headers_check(const char *h)
{
    if (strlen(h) > MSG_GATEWAY_HEADERS_MAX)
        return LEAL_E_GATEWAY_CONFIG;
    for (const char *line = h; *line;) {
        const char *end = strchr(line, '\n'), *p = line;
        if (!end)
            end = line + strlen(line);
        while (p < end && name_char(*p))
            p++;
        if (p == line || p >= end || *p != ':')
            return LEAL_E_GATEWAY_CONFIG;
        for (; p < end; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                return LEAL_E_GATEWAY_CONFIG;
        for (const char *v = line; (v = strstr(v, "{{")) != NULL && v < end; v += 2)
            if (strncmp(v, "{{secret}}", 10) != 0)
                return LEAL_E_GATEWAY_CONFIG;
        line = *end ? end + 1 : end;
    }
    return LEAL_OK;
}

/* The secret file's first line into secret (cap bytes): checked on the open
 * file (a regular file of this user, mode 0600 or stricter). */
static leal_err secret_read(const char *path, char *secret, size_t cap)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    secret[0] = '\0';
    if (fd < 0)
        return LEAL_E_GATEWAY_SECRET;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077) != 0 || st.st_size <= 0 || (size_t)st.st_size >= cap) {
        close(fd);
        return LEAL_E_GATEWAY_SECRET;
    }
    ssize_t n = read(fd, secret, cap - 1);
    close(fd);
    if (n <= 0)
        return LEAL_E_GATEWAY_SECRET;
    secret[n] = '\0';
    secret[strcspn(secret, "\r\n")] = '\0';
    for (const char *p = secret; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return LEAL_E_GATEWAY_SECRET;
    return secret[0] ? LEAL_OK : LEAL_E_GATEWAY_SECRET;
}

leal_err msg_gateway_secret_check(const char *path)
{
    char secret[MSG_GATEWAY_SECRET_MAX];
    leal_err err = secret_read(path, secret, sizeof secret);
    explicit_bzero(secret, sizeof secret);
    return err;
}

/* The header lines with {{secret}} replaced, as a curl list (NULL-safe). */
static leal_err header_list(const struct msg_gateway *g, const char *secret,
                            struct curl_slist **list)
{
    struct strbuf b = {0};
    const char *h = g->headers;
    leal_err err = LEAL_OK;
    *list = curl_slist_append(NULL, strcmp(g->format, "json") == 0
                                        ? "Content-Type: application/json; charset=utf-8"
                                        : "Content-Type: application/x-www-form-urlencoded");
    while (*h && *list && err == LEAL_OK) {
        size_t len = strcspn(h, "\n");
        strbuf_reset(&b);
        strbuf_add(&b, NULL, 0);
        for (size_t i = 0; i < len; i++) {
            if (strncmp(h + i, "{{secret}}", 10) == 0) {
                strbuf_add(&b, secret, strlen(secret));
                i += 9;
            } else {
                strbuf_add(&b, h + i, 1);
            }
        }
        if (strbuf_err(&b) != LEAL_OK)
            err = strbuf_err(&b);
        else if (len > 0) {
            struct curl_slist *nl = curl_slist_append(*list, b.p);
            if (!nl)
                err = LEAL_E_NO_MEMORY;
            else
                *list = nl;
        }
        h += len + (h[len] == '\n');
    }
    strbuf_wipe(&b);
    if (!*list)
        err = LEAL_E_NO_MEMORY;
    return err;
}

/* The start of the gateway's answer, kept for a refusal's reason. */
#define ANSWER_KEEP 80
struct answer {
    char text[ANSWER_KEEP + 1];
    size_t len;
};

static size_t keep_start(char *p, size_t size, size_t n, void *ctx)
{
    struct answer *a = ctx;
    for (size_t i = 0; i < size * n && a->len < ANSWER_KEEP; i++) {
        unsigned char ch = (unsigned char)p[i];
        /* Printable ASCII only: the reason is one line on a terminal. */
        a->text[a->len++] = ch >= 0x20 && ch < 0x7f ? (char)ch : ' ';
    }
    a->text[a->len] = '\0';
    return size * n;
}

/* 1 if status says the request itself is wrong (a 4xx other than 408
 * Request Timeout and 429 Too Many Requests), so sending it again changes
 * nothing. */
static int status_final(long status)
{
    return status >= 400 && status <= 499 && status != 408 && status != 429;
}

leal_err msg_gateway_send(const struct msg_gateway *g, const char *body, long *status,
                          long *retry_after_s, char *why, size_t cap)
{
    char secret[MSG_GATEWAY_SECRET_MAX];
    struct curl_slist *list = NULL;
    struct answer ans = {{0}, 0};
    leal_err err = LEAL_OK;
    *status = 0;
    *retry_after_s = 0;
    if (why && cap)
        why[0] = '\0';
    if (g->secret_file[0])
        err = secret_read(g->secret_file, secret, sizeof secret);
    else
        secret[0] = '\0';
    if (err == LEAL_OK)
        err = header_list(g, secret, &list);
    explicit_bzero(secret, sizeof secret);
    CURL *c = err == LEAL_OK ? curl_easy_init() : NULL;
    if (err == LEAL_OK && !c)
        err = LEAL_E_NO_MEMORY;
    if (err == LEAL_OK) {
        bool ok = curl_easy_setopt(c, CURLOPT_URL, g->url) == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, g->method) == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_POSTFIELDS, body) == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_HTTPHEADER, list) == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(g->timeout_s ? g->timeout_s : 30)) ==
              CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_start) == CURLE_OK;
        ok &= curl_easy_setopt(c, CURLOPT_WRITEDATA, &ans) == CURLE_OK;
        if (!ok)
            err = LEAL_E_INTERNAL;
    }
    if (err == LEAL_OK) {
        CURLcode rc = curl_easy_perform(c);
        if (rc != CURLE_OK) {
            err = LEAL_E_GATEWAY_UNREACHABLE;
            if (why && cap)
                snprintf(why, cap, "the gateway did not answer: %s", curl_easy_strerror(rc));
        } else {
            curl_off_t after = 0;
            if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status) != CURLE_OK)
                *status = 0;
            if ((*status == 429 || *status == 503) &&
                curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &after) == CURLE_OK && after > 0)
                *retry_after_s = after < 86400 ? (long)after : 86400;
            size_t n = ans.len;
            while (n && ans.text[n - 1] == ' ')
                ans.text[--n] = '\0';
            if (status_final(*status)) {
                err = LEAL_E_GATEWAY_REJECTED;
                if (why && cap)
                    snprintf(why, cap,
                             "the gateway refused it with HTTP %ld%s%s%s; not retried: check the "
                             "customer's phone and 'leal messages gateway show'",
                             *status, n ? " (\"" : "", ans.text, n ? "\")" : "");
            } else if (*status < 200 || *status > 299) {
                err = LEAL_E_GATEWAY_STATUS;
                if (why && cap)
                    snprintf(why, cap, "the gateway answered HTTP %ld", *status);
            }
        }
    }
    if (c)
        curl_easy_cleanup(c);
    if (list) {
        /* The list's copies of the lines hold the secret. */
        for (struct curl_slist *p = list; p; p = p->next)
            explicit_bzero(p->data, strlen(p->data));
        curl_slist_free_all(list);
    }
    return err;
}

/* GSM-7's default alphabet outside ASCII (Unicode code points), and the
 * ASCII bytes that are not in it or only in its extension table. */
static const unsigned gsm7_latin[] = {
    0xA3,  0xA5,  0xE8,  0xE9,  0xF9,  0xEC,  0xF2,  0xC7,  0xD8,  0xF8, 0xC5, 0xE5, 0x394,
    0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF, 0xC9,
    0xA4,  0xA1,  0xC4,  0xD6,  0xD1,  0xDC,  0xA7,  0xBF,  0xE4,  0xF6, 0xF1, 0xFC, 0xE0};

/* Septets of code point cp in GSM-7: 1, 2 (extension table) or 0 (none). */
static int gsm7_septets(unsigned cp)
{
    if (cp == '\n' || cp == '\r' || (cp >= 0x20 && cp < 0x7f && cp != '`'))
        return strchr("^{}\\[~]|", (int)cp) ? 2 : 1;
    if (cp == 0x20AC || cp == 0x0C)
        return 2;
    for (size_t i = 0; i < sizeof gsm7_latin / sizeof gsm7_latin[0]; i++)
        if (gsm7_latin[i] == cp)
            return 1;
    return 0;
}

/* The next UTF-8 code point of *p (advanced); 0xFFFFFFFF for a bad byte
 * (one byte taken). */
static unsigned utf8_next(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned cp;
    size_t n;
    if (s[0] < 0x80)
        cp = s[0], n = 1;
    else if ((s[0] & 0xE0) == 0xC0)
        cp = s[0] & 0x1Fu, n = 2;
    else if ((s[0] & 0xF0) == 0xE0)
        cp = s[0] & 0x0Fu, n = 3;
    else if ((s[0] & 0xF8) == 0xF0)
        cp = s[0] & 0x07u, n = 4;
    else {
        *p = s + 1;
        return 0xFFFFFFFFu;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p = s + 1;
            return 0xFFFFFFFFu;
        }
        cp = (cp << 6) | (s[i] & 0x3Fu);
    }
    *p = s + n;
    return cp;
}

void msg_sms_length(const char *text, struct msg_sms_length *out)
{
    size_t septets = 0, units = 0;
    int ucs2 = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p;) {
        unsigned cp = utf8_next(&p);
        int g = cp == 0xFFFFFFFFu ? 0 : gsm7_septets(cp);
        if (g == 0)
            ucs2 = 1;
        septets += (size_t)g;
        units += cp != 0xFFFFFFFFu && cp > 0xFFFF ? 2 : 1;
    }
    size_t n = ucs2 ? units : septets, one = ucs2 ? 70 : 160, part = ucs2 ? 67 : 153;
    out->units = n;
    out->ucs2 = ucs2;
    out->parts = n <= one ? 1 : (n + part - 1) / part;
}
