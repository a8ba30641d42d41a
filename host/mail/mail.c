/* mail.c - SMTP through libcurl; see mail.h. */
#include "host/mail/mail.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "host/strbuf.h"
#include "host/text.h"

#define MAIL_CRED_FILE_MAX 1024
#define MAIL_HEADER_MAX 900 /* a header value, so its line stays under RFC 5322's 998 */
/* Longer plain-ASCII values go as folded encoded words, so that with the
 * header's name and the sender's address no line passes 998 bytes. */
#define MAIL_PLAIN_MAX 600

leal_err mail_credentials_parse(const char *data, size_t n, char *user, char *pass)
{
    char buf[MAIL_CRED_FILE_MAX + 1];
    leal_err err = LEAL_E_MAIL_CREDENTIALS;
    user[0] = pass[0] = '\0';
    if (n > MAIL_CRED_FILE_MAX || memchr(data, '\0', n))
        return LEAL_E_MAIL_CREDENTIALS;
    memcpy(buf, data, n);
    buf[n] = '\0';
    char *nl = strchr(buf, '\n');
    char *pw = nl ? nl + 1 : NULL;
    if (nl) {
        *nl = '\0';
        pw[strcspn(pw, "\r\n")] = '\0';
    }
    buf[strcspn(buf, "\r")] = '\0';
    size_t ul = strlen(buf), pl = pw ? strlen(pw) : 0;
    if (ul > 0 && pl > 0 && ul <= MAIL_CREDENTIAL_MAX && pl <= MAIL_CREDENTIAL_MAX) {
        memcpy(user, buf, ul + 1);
        memcpy(pass, pw, pl + 1);
        err = LEAL_OK;
    }
    explicit_bzero(buf, sizeof buf);
    return err;
}

leal_err mail_credentials_read(const char *path, char *user, char *pass)
{
    char buf[MAIL_CRED_FILE_MAX + 1];
    struct stat st;
    user[0] = pass[0] = '\0';
    if (!path)
        return LEAL_E_ARG;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return LEAL_E_MAIL_CREDENTIALS;
    /* Checked on the open file, so a swap between check and read is harmless. */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077) != 0 || st.st_size > MAIL_CRED_FILE_MAX) {
        close(fd);
        return LEAL_E_MAIL_CREDENTIALS;
    }
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    leal_err err =
        n > 0 ? mail_credentials_parse(buf, (size_t)n, user, pass) : LEAL_E_MAIL_CREDENTIALS;
    explicit_bzero(buf, sizeof buf);
    return err;
}

leal_err mail_address_check(const char *addr)
{
    if (!addr)
        return LEAL_E_MAIL_ADDRESS;
    size_t n = strlen(addr);
    const char *at = strchr(addr, '@');
    if (n == 0 || n > 254 || !at || at == addr || at[1] == '\0' || strchr(at + 1, '@'))
        return LEAL_E_MAIL_ADDRESS;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)addr[i];
        if (c <= 0x20 || c == 0x7f || strchr("\"<>()[],;:\\", c))
            return LEAL_E_MAIL_ADDRESS;
    }
    if (text_check(addr, NULL, 0) != LEAL_OK)
        return LEAL_E_MAIL_ADDRESS;
    return LEAL_OK;
}

/* A header value: valid UTF-8, no control characters (so no CR or LF). */
static leal_err header_check(const char *s)
{
    if (!s || strlen(s) > MAIL_HEADER_MAX || text_check(s, NULL, 0) != LEAL_OK)
        return LEAL_E_MAIL_ADDRESS;
    return LEAL_OK;
}

static bool is_plain_ascii(const char *s)
{
    if (strlen(s) > MAIL_PLAIN_MAX)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

/* Base64 of n bytes, appended. */
static void mb_base64(struct strbuf *b, const uint8_t *p, size_t n)
{
    unsigned char out[4 * 48 / 3 + 1];
    for (size_t off = 0; off < n; off += 48) {
        size_t k = n - off < 48 ? n - off : 48;
        int w = EVP_EncodeBlock(out, p + off, (int)k);
        strbuf_add(b, (const char *)out, (size_t)w);
        if (off + k < n)
            strbuf_str(b, "\r\n");
    }
}

/* RFC 2047 encoded words for a non-ASCII header value, folded so each line
 * stays short; chunks end on a UTF-8 character boundary. */
static void mb_encoded_words(struct strbuf *b, const char *s)
{
    size_t n = strlen(s), off = 0;
    while (off < n) {
        size_t k = 0;
        while (off + k < n) {
            uint32_t cp;
            size_t c = text_utf8_next((const uint8_t *)s + off + k, n - off - k, &cp);
            if (c == 0 || k + c > 42)
                break;
            k += c;
        }
        if (off > 0)
            strbuf_str(b, "\r\n ");
        strbuf_str(b, "=?UTF-8?B?");
        mb_base64(b, (const uint8_t *)s + off, k);
        strbuf_str(b, "?=");
        off += k ? k : n - off; /* k is never 0 on checked text; a guard against a loop */
    }
}

static void mb_header_text(struct strbuf *b, const char *s)
{
    if (is_plain_ascii(s))
        strbuf_str(b, s);
    else
        mb_encoded_words(b, s);
}

static void mb_date(struct strbuf *b, int64_t when)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)when;
    struct tm tm;
    char line[64];
    if (!gmtime_r(&t, &tm)) {
        strbuf_fail(b, LEAL_E_NO_MEMORY);
        return;
    }
    /* Names from fixed tables, not strftime, so the process locale plays no part. */
    snprintf(line, sizeof line, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    strbuf_str(b, line);
}

/* The body in canonical form (bare LF becomes CRLF), base64 encoded. */
static void mb_body(struct strbuf *b, const char *text)
{
    struct strbuf c = {0};
    for (const char *p = text; *p; p++) {
        if (*p == '\n' && (p == text || p[-1] != '\r'))
            strbuf_add(&c, "\r", 1);
        strbuf_add(&c, p, 1);
    }
    if (strbuf_err(&c) != LEAL_OK)
        strbuf_fail(b, strbuf_err(&c));
    else
        mb_base64(b, (const uint8_t *)(c.p ? c.p : ""), c.len);
    strbuf_str(b, "\r\n");
    strbuf_free(&c);
}

static void mb_part(struct strbuf *b, const char *boundary, const char *type, const char *text)
{
    if (boundary) {
        strbuf_str(b, "--");
        strbuf_str(b, boundary);
        strbuf_str(b, "\r\n");
    }
    strbuf_str(b, "Content-Type: ");
    strbuf_str(b, type);
    strbuf_str(b, "; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n");
    mb_body(b, text);
}

/* A List-Unsubscribe target goes between < and >: one header-safe word. */
static bool unsubscribe_ok(const char *url)
{
    return header_check(url) == LEAL_OK && !strchr(url, '>') && !strchr(url, ' ');
}

static leal_err message_check(const struct mail_server *srv, const struct mail_message *m)
{
    if (!srv || !m || !m->text)
        return LEAL_E_ARG;
    if (mail_address_check(srv->from) != LEAL_OK || mail_address_check(m->to) != LEAL_OK)
        return LEAL_E_MAIL_ADDRESS;
    if (header_check(m->subject) != LEAL_OK ||
        (srv->from_name && header_check(srv->from_name) != LEAL_OK) ||
        (m->message_id && (mail_address_check(m->message_id) != LEAL_OK)) ||
        (m->unsubscribe && !unsubscribe_ok(m->unsubscribe)) ||
        (m->unsubscribe_post && (!m->unsubscribe || !unsubscribe_ok(m->unsubscribe_post))))
        return LEAL_E_MAIL_ADDRESS;
    /* Bodies may hold line breaks and tabs; they must be UTF-8 and free of NUL (C strings). */
    const char *bodies[2] = {m->text, m->html};
    for (int i = 0; i < 2; i++) {
        const uint8_t *p = (const uint8_t *)bodies[i];
        size_t n = p ? strlen(bodies[i]) : 0;
        for (size_t off = 0; off < n;) {
            uint32_t cp;
            size_t c = text_utf8_next(p + off, n - off, &cp);
            if (c == 0)
                return LEAL_E_TEXT;
            off += c;
        }
    }
    return LEAL_OK;
}

/* "=_leal_" and 32 hex digits of SHA-256 over the bodies: "=_" never occurs
 * in base64, so the boundary cannot appear inside a part. */
static leal_err boundary_for(const struct mail_message *m, char out[40])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
              EVP_DigestUpdate(ctx, m->text, strlen(m->text) + 1) == 1 &&
              (!m->html || EVP_DigestUpdate(ctx, m->html, strlen(m->html)) == 1) &&
              EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return LEAL_E_INTERNAL;
    int w = snprintf(out, 40, "=_leal_");
    for (int i = 0; i < 16; i++)
        w += snprintf(out + w, (size_t)(40 - w), "%02x", md[i]);
    return LEAL_OK;
}

static leal_err random_message_id(const char *from, char *out, size_t cap)
{
    uint8_t r[16];
    char hex[33];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return LEAL_E_INTERNAL;
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(hex + 2 * i, 3, "%02x", r[i]);
    snprintf(out, cap, "%s%s", hex, strchr(from, '@'));
    return LEAL_OK;
}

static void mb_headers(struct strbuf *b, const struct mail_server *srv,
                       const struct mail_message *m, const char *msgid)
{
    mb_date(b, m->date ? m->date : (int64_t)time(NULL));
    strbuf_str(b, "From: ");
    if (srv->from_name && srv->from_name[0]) {
        if (is_plain_ascii(srv->from_name) && !strpbrk(srv->from_name, "\"\\")) {
            strbuf_str(b, "\"");
            strbuf_str(b, srv->from_name);
            strbuf_str(b, "\"");
        } else {
            mb_encoded_words(b, srv->from_name);
        }
        strbuf_str(b, " ");
    }
    strbuf_str(b, "<");
    strbuf_str(b, srv->from);
    strbuf_str(b, ">\r\nTo: <");
    strbuf_str(b, m->to);
    strbuf_str(b, ">\r\nSubject: ");
    mb_header_text(b, m->subject);
    strbuf_str(b, "\r\nMessage-ID: <");
    strbuf_str(b, msgid);
    strbuf_str(b, ">\r\nMIME-Version: 1.0\r\n");
    if (m->unsubscribe) {
        strbuf_str(b, "List-Unsubscribe: <");
        strbuf_str(b, m->unsubscribe);
        strbuf_str(b, ">");
        /* RFC 8058: both targets, the second folded onto its own line (each
         * may be long), and the one-click POST's form. */
        if (m->unsubscribe_post) {
            strbuf_str(b, ",\r\n <");
            strbuf_str(b, m->unsubscribe_post);
            strbuf_str(b, ">\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click");
        }
        strbuf_str(b, "\r\n");
    }
}

leal_err mail_compose(const struct mail_server *srv, const struct mail_message *m, char **out,
                      size_t *len)
{
    char boundary[40], msgid[320];
    struct strbuf b = {0};
    *out = NULL;
    *len = 0;
    leal_err err = message_check(srv, m);
    if (err == LEAL_OK)
        err = boundary_for(m, boundary);
    if (err == LEAL_OK && m->message_id)
        snprintf(msgid, sizeof msgid, "%s", m->message_id);
    else if (err == LEAL_OK)
        err = random_message_id(srv->from, msgid, sizeof msgid);
    if (err != LEAL_OK)
        return err;
    mb_headers(&b, srv, m, msgid);
    if (m->html) {
        strbuf_str(&b, "Content-Type: multipart/alternative; boundary=\"");
        strbuf_str(&b, boundary);
        strbuf_str(&b, "\"\r\n\r\n");
        mb_part(&b, boundary, "text/plain", m->text);
        mb_part(&b, boundary, "text/html", m->html);
        strbuf_str(&b, "--");
        strbuf_str(&b, boundary);
        strbuf_str(&b, "--\r\n");
    } else {
        mb_part(&b, NULL, "text/plain", m->text);
    }
    if ((err = strbuf_err(&b)) != LEAL_OK) {
        strbuf_free(&b);
        return err;
    }
    *out = b.p;
    *len = b.len;
    return LEAL_OK;
}

struct upload {
    const char *p;
    size_t left;
};

static size_t upload_read(char *dst, size_t size, size_t nitems, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nitems < u->left ? size * nitems : u->left;
    memcpy(dst, u->p, n);
    u->p += n;
    u->left -= n;
    return n;
}

/* curl's result and the server's last reply code, as leal's errors: a 5xx is
 * final (the message must not be retried as it is), 4xx and connection
 * failures are transient. */
static leal_err map_curl(CURLcode rc, long smtp_code)
{
    switch (rc) {
    case CURLE_OK:
        return LEAL_OK;
    case CURLE_LOGIN_DENIED:
        return LEAL_E_MAIL_AUTH;
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
        return LEAL_E_MAIL_TLS;
    case CURLE_OUT_OF_MEMORY:
        return LEAL_E_NO_MEMORY;
    default:
        return smtp_code >= 500 && smtp_code < 600 ? LEAL_E_MAIL_REFUSED : LEAL_E_MAIL_UNREACHABLE;
    }
}

static leal_err server_check(const struct mail_server *srv)
{
    if (!srv->host || !srv->host[0] || strlen(srv->host) > 253 || strpbrk(srv->host, "/@?#:[] ") ||
        !is_plain_ascii(srv->host))
        return LEAL_E_MAIL_CONFIG;
    if (srv->tls != MAIL_TLS_STARTTLS && srv->tls != MAIL_TLS_IMPLICIT && srv->tls != MAIL_TLS_NONE)
        return LEAL_E_MAIL_CONFIG;
    /* A password is never sent where it can be read on the wire. */
    if (srv->tls == MAIL_TLS_NONE && srv->credentials)
        return LEAL_E_MAIL_CONFIG;
    return LEAL_OK;
}

static unsigned default_port(enum mail_tls tls)
{
    return tls == MAIL_TLS_IMPLICIT ? 465u : tls == MAIL_TLS_NONE ? 25u : 587u;
}

struct send_ctx {
    CURL *c;
    struct curl_slist *rcpt;
    char url[300], from[260], to[260], errbuf[CURL_ERROR_SIZE];
    char user[MAIL_CREDENTIAL_MAX + 1], pass[MAIL_CREDENTIAL_MAX + 1];
};

static leal_err send_setup(struct send_ctx *x, const struct mail_server *srv,
                           const struct mail_message *m, struct upload *up)
{
    unsigned port = srv->port ? srv->port : default_port(srv->tls);
    bool ok = true;
    snprintf(x->url, sizeof x->url, "%s://%s:%u", srv->tls == MAIL_TLS_IMPLICIT ? "smtps" : "smtp",
             srv->host, port);
    snprintf(x->from, sizeof x->from, "<%s>", srv->from);
    snprintf(x->to, sizeof x->to, "<%s>", m->to);
    x->rcpt = curl_slist_append(NULL, x->to);
    if (!x->rcpt)
        return LEAL_E_NO_MEMORY;
    ok &= curl_easy_setopt(x->c, CURLOPT_URL, x->url) == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_PROTOCOLS_STR, "smtp,smtps") == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_ERRORBUFFER, x->errbuf) == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_TIMEOUT, (long)(srv->timeout_s ? srv->timeout_s : 60)) ==
          CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_MAIL_FROM, x->from) == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_MAIL_RCPT, x->rcpt) == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_UPLOAD, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_READFUNCTION, upload_read) == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_READDATA, up) == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up->left) == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(x->c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    if (srv->tls == MAIL_TLS_STARTTLS)
        ok &= curl_easy_setopt(x->c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL) == CURLE_OK;
    if (srv->ca_file)
        ok &= curl_easy_setopt(x->c, CURLOPT_CAINFO, srv->ca_file) == CURLE_OK;
    if (srv->credentials) {
        leal_err err = mail_credentials_read(srv->credentials, x->user, x->pass);
        if (err != LEAL_OK)
            return err;
        ok &= curl_easy_setopt(x->c, CURLOPT_USERNAME, x->user) == CURLE_OK;
        ok &= curl_easy_setopt(x->c, CURLOPT_PASSWORD, x->pass) == CURLE_OK;
    }
    return ok ? LEAL_OK : LEAL_E_INTERNAL;
}

leal_err mail_send(const struct mail_server *srv, const struct mail_message *m, char *why,
                   size_t why_cap)
{
    char *msg = NULL;
    size_t len = 0;
    struct send_ctx x = {0};
    if (why && why_cap)
        why[0] = '\0';
    if (!srv || !m)
        return LEAL_E_ARG;
    leal_err err = server_check(srv);
    if (err == LEAL_OK)
        err = mail_compose(srv, m, &msg, &len);
    if (err != LEAL_OK)
        return err;
    struct upload up = {msg, len};
    x.c = curl_easy_init();
    err = x.c ? send_setup(&x, srv, m, &up) : LEAL_E_NO_MEMORY;
    if (err == LEAL_OK) {
        CURLcode rc = curl_easy_perform(x.c);
        long code = 0;
        if (curl_easy_getinfo(x.c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
            code = 0;
        err = map_curl(rc, code);
        if (err != LEAL_OK && why && why_cap)
            snprintf(why, why_cap, "%s: %s", x.url,
                     x.errbuf[0] ? x.errbuf : curl_easy_strerror(rc));
    }
    /* curl keeps its own copies of the credentials; it frees them with the handle. */
    explicit_bzero(x.user, sizeof x.user);
    explicit_bzero(x.pass, sizeof x.pass);
    curl_slist_free_all(x.rcpt);
    if (x.c)
        curl_easy_cleanup(x.c);
    free(msg);
    return err;
}
