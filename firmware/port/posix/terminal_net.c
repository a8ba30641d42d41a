/*
 * terminal_net.c - `leal-terminal sync --server URL`: the journal uploaded to
 * `leal serve --terminals` over HTTPS and the host's ack applied, then the
 * terminal's newest package downloaded and loaded (README "Terminals over
 * the network"; the protocol is firmware/core/sync_auth.h, the server
 * host/sync/sync_net.h).
 * The server is known by its public key, not by a certificate authority:
 * libcurl compares the SHA-256 of the certificate's SubjectPublicKeyInfo
 * with the pins (--pin, else those the terminal's bundle carries, else the
 * first line of DIR/server.pin) before it sends a byte, so a server without that key is refused
 * whatever its certificate chain says. The terminal proves itself with its journal key over the
 * server's one-time challenge; no password. Exactly once: a cut upload is simply sent again (the
 * host takes an export once by terminal, epoch and sequence); the journal is acked only from the
 * host's MACed answer.
 */
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/core/sync_auth.h"
#include "firmware/port/posix/terminal_cli.h"
#include "keys/base/ct.h"

#define NET_ANSWER_MAX ((size_t)PACKAGE_MAX_SIZE + 4096)
#define PIN_FILE "server.pin"

struct net {
    CURL *curl;
    const struct crypto_provider *cp;
    const char *server;
    char pin[128 * BUNDLE_MAX_SERVER_PINS]; /* libcurl's: sha256//B64[;sha256//B64] */
    uint32_t terminal_id;
    uint8_t key_version;
    uint8_t jk[16];
};

/* An answer's bytes, up to NET_ANSWER_MAX. */
struct reply {
    uint8_t *p;
    size_t len;
    bool too_big;
    long status; /* HTTP */
};

/* A request's body; none: a GET. */
struct body {
    const uint8_t *p;
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    struct reply *r = ctx;
    size_t add = size * n;
    uint8_t *grown;
    if (r->len + add > NET_ANSWER_MAX) {
        r->too_big = true;
        return 0;
    }
    if ((grown = realloc(r->p, r->len + add + 1)) == NULL)
        return 0;
    r->p = grown;
    memcpy(r->p + r->len, p, add);
    r->len += add;
    r->p[r->len] = 0;
    return add;
}

/* The server's one line ("LEAL_E_NAME: sentence") without its newline. */
static const char *server_line(struct reply *r)
{
    if (r->p == NULL || r->len == 0)
        return "(no answer text)";
    while (r->len && (r->p[r->len - 1] == '\n' || r->p[r->len - 1] == '\r'))
        r->p[--r->len] = 0;
    for (size_t i = 0; i < r->len; i++)
        if (r->p[i] < 0x20 || r->p[i] == 0x7f)
            r->p[i] = '?';
    return (const char *)r->p;
}

/* One request: path under the server, headers, body (NULL: a GET); r the
 * answer and its HTTP status, or the exit code of the one-line error printed. */
static int request(struct net *n, const char *path, const char *const *headers,
                   const struct body *body, struct reply *r)
{
    char url[2048];
    struct curl_slist *h = NULL;
    CURLcode cc;
    memset(r, 0, sizeof *r);
    snprintf(url, sizeof url, "%s%s", n->server, path);
    for (; *headers; headers++)
        h = curl_slist_append(h, *headers);
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(n->curl, CURLOPT_URL, url);
    curl_easy_setopt(n->curl, CURLOPT_HTTPHEADER, h);
    if (body) {
        curl_easy_setopt(n->curl, CURLOPT_POST, 1L);
        curl_easy_setopt(n->curl, CURLOPT_POSTFIELDS, body->len ? (const char *)body->p : "");
        curl_easy_setopt(n->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    } else {
        curl_easy_setopt(n->curl, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(n->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(n->curl, CURLOPT_WRITEDATA, r);
    cc = curl_easy_perform(n->curl);
    curl_slist_free_all(h);
    if (cc == CURLE_SSL_PINNEDPUBKEYNOTMATCH)
        return term_fail(EXIT_FAILED, "sync with %s: %s", n->server, leal_strerror(LEAL_E_NET_PIN));
    if (cc != CURLE_OK || r->too_big)
        return term_fail(EXIT_FAILED, "sync with %s: %s (%s)", n->server,
                         leal_strerror(LEAL_E_NET_CONNECT),
                         r->too_big ? "the answer is too large" : curl_easy_strerror(cc));
    curl_easy_getinfo(n->curl, CURLINFO_RESPONSE_CODE, &r->status);
    return EXIT_DONE;
}

/* A fresh challenge, then the X-Leal-Auth header of op over body. */
static int authorize(struct net *n, uint8_t op, const uint8_t *body, size_t len,
                     char header[SYNC_AUTH_HEADER_MAX + 16])
{
    char who[48];
    const char *hs[] = {who, NULL};
    struct sync_auth a;
    const struct body none = {(const uint8_t *)"", 0};
    struct reply r;
    leal_err err;
    int rc;
    snprintf(who, sizeof who, "X-Leal-Terminal: %u", n->terminal_id);
    if ((rc = request(n, "/terminal/challenge", hs, &none, &r)) != EXIT_DONE) {
        free(r.p);
        return rc;
    }
    if (r.status != 200) {
        rc = term_fail(EXIT_FAILED, "sync with %s: the server refused a challenge: %s", n->server,
                       server_line(&r));
        free(r.p);
        return rc;
    }
    memset(&a, 0, sizeof a);
    a.terminal_id = n->terminal_id;
    a.key_version = n->key_version;
    err = sync_auth_nonce_parse((const char *)r.p, r.len, a.nonce);
    free(r.p);
    if (err == LEAL_OK)
        err = sync_auth_mac(n->cp, n->jk, op, body, len, &a);
    if (err != LEAL_OK)
        return term_fail(EXIT_FAILED, "sync with %s: %s", n->server, leal_strerror(err));
    memcpy(header, "X-Leal-Auth: ", 13);
    sync_auth_format(&a, header + 13);
    return EXIT_DONE;
}

/* The journal's unacknowledged entries up to the host, its ack applied. */
static int upload(struct net *n, struct posix_terminal *t, const struct opts *o)
{
    struct journal_export_info info;
    struct journal_status_info js;
    struct port_time now;
    char auth[SYNC_AUTH_HEADER_MAX + 16];
    const char *hs[] = {auth, "Content-Type: application/octet-stream", NULL};
    struct reply r;
    uint8_t *buf = NULL;
    leal_err err = term_journal_export(t, &buf, &info, &js);
    int rc;
    if (err == LEAL_E_JOURNAL_EMPTY) {
        if (!o->json)
            printf("journal: nothing to upload, the host has every entry\n");
        return EXIT_DONE;
    }
    if (err != LEAL_OK)
        return term_fail(EXIT_FAILED, "journal: %s", leal_strerror(err));
    if ((rc = authorize(n, SYNC_AUTH_OP_JOURNAL, buf, info.len, auth)) == EXIT_DONE)
        rc = request(n, "/terminal/journal", hs, &(const struct body){buf, info.len}, &r);
    free(buf);
    if (rc != EXIT_DONE)
        return rc;
    if (r.status != 200) {
        rc = term_fail(EXIT_FAILED, "sync with %s: the server refused the upload: %s", n->server,
                       server_line(&r));
        free(r.p);
        return rc;
    }
    if ((err = posix_now(NULL, &now)) == LEAL_OK)
        err = journal_ack(&t->journal, r.p, r.len, &now);
    free(r.p);
    if (err != LEAL_OK)
        return term_fail(term_exit_code(err), "sync with %s: the host's acknowledgment: %s",
                         n->server, leal_strerror(err));
    if (!o->json)
        printf("journal: uploaded %u entries (epoch %u, sequences %u to %u); the host "
               "acknowledged them\n",
               info.count, info.epoch, info.first_seq, info.last_seq);
    if (js.unacked > info.count && !o->json)
        printf("%u more entries wait: sync again\n", js.unacked - info.count);
    return EXIT_DONE;
}

/* The package the host holds for this terminal, loaded when it is newer. */
static int download(struct net *n, struct posix_terminal *t, const struct opts *o)
{
    struct package_key keys[PACKAGE_MAX_KEYS];
    struct package_expect e;
    struct port_time now;
    char auth[SYNC_AUTH_HEADER_MAX + 16];
    const char *hs[] = {auth, NULL};
    struct reply r;
    leal_err err;
    int rc;
    if ((rc = authorize(n, SYNC_AUTH_OP_PACKAGE, NULL, 0, auth)) != EXIT_DONE ||
        (rc = request(n, "/terminal/package", hs, NULL, &r)) != EXIT_DONE)
        return rc;
    if (r.status != 200) {
        rc = term_fail(EXIT_FAILED, "sync with %s: no package: %s", n->server, server_line(&r));
        free(r.p);
        return rc;
    }
    if ((err = posix_now(NULL, &now)) == LEAL_OK &&
        (err = posix_terminal_expect(t, now.utc_seconds, keys, &e)) == LEAL_OK)
        err = package_store_load(&t->store, t->cp, &e, &t->package, r.p, (uint32_t)r.len);
    free(r.p);
    if (err == LEAL_E_PACKAGE_SAME) {
        if (!o->json)
            printf("package: version %u is the newest, kept\n", t->package.info.version);
        return EXIT_DONE;
    }
    if (err != LEAL_OK)
        return term_fail(term_exit_code(err), "sync with %s: the package: %s", n->server,
                         leal_strerror(err));
    if (!o->json)
        printf("package: version %u loaded: %u hot-listed cards, %u floors\n",
               t->package.info.version, t->package.info.hot_count, t->package.info.floor_count);
    return EXIT_DONE;
}

/* The pin: --pin, else the bundle's pins (any of them, for a server key
 * rollover), else the first line of DIR/server.pin. t: NULL before the
 * terminal is open (--pin only). */
static int read_pin(const struct opts *o, const struct posix_terminal *t, char *pin, size_t cap)
{
    char path[PATH_MAX + 16];
    uint8_t *p = NULL;
    size_t len = 0, i, at = 0;
    if (o->pin) {
        snprintf(pin, cap, "%s", o->pin);
    } else if (t && t->server_pin_count > 0) {
        for (i = 0; i < t->server_pin_count && at + 8 + 45 + 1 < cap; i++) {
            memcpy(pin + at, i ? ";sha256//" : "sha256//", i ? 9 : 8);
            at += i ? 9 : 8;
            at += (size_t)EVP_EncodeBlock((unsigned char *)pin + at, t->server_pin[i],
                                          BUNDLE_PIN_LEN);
        }
        pin[at] = '\0';
        return EXIT_DONE;
    } else {
        snprintf(path, sizeof path, "%s/%s", o->data, PIN_FILE);
        if (posix_file_read(path, 512, &p, &len) != LEAL_OK)
            return term_usage("%s", "sync needs the server's pin: --pin sha256//BASE64 (the "
                                    "'terminal pin' line of leal serve), a bundle made with "
                                    "--server-pin, or DIR/server.pin");
        for (i = 0; i < len && p[i] != '\n' && p[i] != '\r' && i + 1 < cap; i++)
            pin[i] = (char)p[i];
        pin[i] = '\0';
        free(p);
    }
    if (strncmp(pin, "sha256//", 8) != 0 || strlen(pin) != 8 + 44)
        return term_usage("%s", "the pin is sha256// and 44 base64 characters (the 'terminal "
                                "pin' line of leal serve)");
    return EXIT_DONE;
}

int cmd_sync(const struct opts *o)
{
    struct posix_terminal *t;
    struct net n;
    leal_err err;
    int rc;
    if (o->npos != 1 || o->server == NULL)
        return term_usage("%s", "sync needs --server https://HOST:PORT (and --pin, a bundle's "
                                "pins or DIR/server.pin)");
    if (strncmp(o->server, "https://", 8) != 0 || o->server[strlen(o->server) - 1] == '/')
        return term_usage("%s", "--server takes https://HOST[:PORT], without a trailing /");
    memset(&n, 0, sizeof n);
    n.server = o->server;
    /* A bad --pin is a usage error before the passphrase is asked. */
    if (o->pin && (rc = read_pin(o, NULL, n.pin, sizeof n.pin)) != EXIT_DONE)
        return rc;
    if ((rc = term_open(o, NULL, &t)) != EXIT_DONE)
        return rc;
    if (!o->pin && (rc = read_pin(o, t, n.pin, sizeof n.pin)) != EXIT_DONE) {
        term_close(t);
        return rc;
    }
    n.cp = t->cp;
    n.terminal_id = t->info.terminal_id;
    if ((err = t->sam.journal_key(t->sam.ctx, n.jk, &n.key_version)) != LEAL_OK ||
        (n.curl = curl_easy_init()) == NULL) {
        leal_wipe(n.jk, sizeof n.jk);
        term_close(t);
        return term_fail(EXIT_FAILED, "sync: %s", leal_strerror(err ? err : LEAL_E_NO_MEMORY));
    }
    /* The pin is the check: the server's key must be exactly the pinned one
     * (no certificate authority is asked, so a self-signed certificate does). */
    curl_easy_setopt(n.curl, CURLOPT_PINNEDPUBLICKEY, n.pin);
    curl_easy_setopt(n.curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(n.curl, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(n.curl, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(n.curl, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(n.curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(n.curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(n.curl, CURLOPT_TIMEOUT, 120L);
    rc = upload(&n, t, o);
    if (rc == EXIT_DONE)
        rc = download(&n, t, o);
    if (rc == EXIT_DONE && o->json)
        printf("{\"synced\":true,\"terminal\":%u}\n", n.terminal_id);
    curl_easy_cleanup(n.curl);
    leal_wipe(n.jk, sizeof n.jk);
    term_close(t);
    return rc;
}
