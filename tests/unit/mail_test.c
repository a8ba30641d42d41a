/*
 * mail_test.c - host/mail (issue 17, messages): the composed message byte for
 * byte against a golden computed independently (Python's base64 and hashlib,
 * see the comment at golden[]), then real deliveries through libcurl to real
 * SMTP servers (tests/lib/smtp_sink.py, Debian's python3-aiosmtpd) on
 * 127.0.0.1 that this test starts and stops itself: plain, STARTTLS with AUTH
 * against a throw-away CA, and each failure mapped to its error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/mail/mail.h"
#include "tests/lib/testutil.h"

/* 2026-12-03 09:05:07 UTC */
#define DATE 1796288707

static const struct mail_server golden_srv = {
    .host = "127.0.0.1",
    .tls = MAIL_TLS_NONE,
    .from = "club@panaderia.example",
    .from_name = "Panadería Sol",
};

static const struct mail_message golden_msg = {
    .to = "ana@example.org",
    .subject = "¡Feliz cumpleaños, Ana! Un regalo de Panadería Sol para ti",
    .text = "Hola Ana,\nTienes 120 puntos.\n",
    .html = "<p>Hola Ana,</p>\n<p>Tienes <b>120</b> puntos.</p>\n",
    .message_id = "birthday-2026-7@panaderia.example",
    .unsubscribe = "https://club.example/u/abc123",
    .date = DATE,
};

/* Written by an independent composer in Python (base64.b64encode in 48-byte
 * chunks of the CRLF bodies, RFC 2047 words of at most 42 bytes split on
 * characters, boundary "=_leal_" + sha256(text NUL html)[:32]), and read back
 * with Python's email parser: subject and both bodies decode to the input. */
static const char golden[] =
    "Date: Thu, 03 Dec 2026 09:05:07 +0000\r\n"
    "From: =?UTF-8?B?UGFuYWRlcsOtYSBTb2w=?= <club@panaderia.example>\r\n"
    "To: <ana@example.org>\r\n"
    "Subject: =?UTF-8?B?wqFGZWxpeiBjdW1wbGVhw7FvcywgQW5hISBVbiByZWdhbG8gZGUgUGFu?=\r\n"
    " =?UTF-8?B?YWRlcsOtYSBTb2wgcGFyYSB0aQ==?=\r\n"
    "Message-ID: <birthday-2026-7@panaderia.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "List-Unsubscribe: <https://club.example/u/abc123>\r\n"
    "Content-Type: multipart/alternative; boundary=\"=_leal_285f193110ad02f3228e5f0f38fbf281\"\r\n"
    "\r\n"
    "--=_leal_285f193110ad02f3228e5f0f38fbf281\r\n"
    "Content-Type: text/plain; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "SG9sYSBBbmEsDQpUaWVuZXMgMTIwIHB1bnRvcy4NCg==\r\n"
    "--=_leal_285f193110ad02f3228e5f0f38fbf281\r\n"
    "Content-Type: text/html; charset=UTF-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PHA+SG9sYSBBbmEsPC9wPg0KPHA+VGllbmVzIDxiPjEyMDwvYj4gcHVudG9zLjwv\r\n"
    "cD4NCg==\r\n"
    "--=_leal_285f193110ad02f3228e5f0f38fbf281--\r\n";

/* One test server: its process, folder of received messages and port. */
struct sink {
    pid_t pid;
    char dir[300];
    int port;
};

struct fixture {
    char *tmp;
    char cert[320], key[320], cred[320];
    struct sink plain, tls;
};

static int run_quiet(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Starts smtp_sink.py with extra arguments (NULL-ended) and waits for its port. */
static int sink_start(struct sink *s, const char *tmp, const char *name, const char *const *extra)
{
    char portfile[340];
    const char *argv[24] = {"/usr/bin/python3",
                            "tests/lib/smtp_sink.py",
                            "--dir",
                            s->dir,
                            "--port-file",
                            portfile,
                            "--lifetime",
                            "120"};
    int n = 8;
    snprintf(s->dir, sizeof s->dir, "%s/%s", tmp, name);
    snprintf(portfile, sizeof portfile, "%s/%s.port", tmp, name);
    if (mkdir(s->dir, 0700) != 0)
        return -1;
    for (; extra && *extra && n < 23; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid == 0) {
        /* If this test dies, its server goes with it. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        execv(argv[0], (char *const *)argv); /* Debian's python, where aiosmtpd is */
        _exit(127);
    }
    if (s->pid < 0)
        return -1;
    for (int i = 0; i < 1000; i++) { /* 20 s at most */
        FILE *f = fopen(portfile, "r");
        if (f) {
            int ok = fscanf(f, "%d", &s->port) == 1; /* NOLINT: a test reading its own file */
            fclose(f);
            return ok ? 0 : -1;
        }
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        usleep(20000);
    }
    return -1;
}

static void sink_stop(struct sink *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGTERM);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

/* The number of messages the sink has received. */
static int sink_count(const struct sink *s)
{
    int n = 0;
    DIR *d = opendir(s->dir);
    struct dirent *e;
    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        n += l > 4 && strcmp(e->d_name + l - 4, ".eml") == 0;
    }
    closedir(d);
    return n;
}

static char *sink_read(const struct sink *s, int nr, const char *ext)
{
    char path[340];
    uint8_t *data = NULL;
    snprintf(path, sizeof path, "%s/%04d.%s", s->dir, nr, ext);
    long n = test_read_file(path, &data);
    assert_true(n >= 0);
    char *text = calloc(1, (size_t)n + 1); /* as a C string */
    assert_non_null(text);
    memcpy(text, data, (size_t)n);
    free(data);
    return text;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    fx->tmp = test_tmpdir();
    snprintf(fx->cert, sizeof fx->cert, "%s/cert.pem", fx->tmp);
    snprintf(fx->key, sizeof fx->key, "%s/key.pem", fx->tmp);
    snprintf(fx->cred, sizeof fx->cred, "%s/smtp.cred", fx->tmp);
    /* A throw-away self-signed certificate for 127.0.0.1: the client trusts it only as ca_file. */
    char *const req[] = {"openssl",
                         "req",
                         "-x509",
                         "-newkey",
                         "ec",
                         "-pkeyopt",
                         "ec_paramgen_curve:P-256",
                         "-nodes",
                         "-days",
                         "1",
                         "-subj",
                         "/CN=leal test smtp",
                         "-addext",
                         "subjectAltName=IP:127.0.0.1",
                         "-keyout",
                         fx->key,
                         "-out",
                         fx->cert,
                         NULL};
    const char *tls_args[] = {"--tls", fx->cert, fx->key, "--auth", "club:s3cret pass", NULL};
    const char *plain_args[] = {"--refuse", "nobody@example.org", NULL};
    if (run_quiet(req) != 0 || sink_start(&fx->plain, fx->tmp, "plain", plain_args) != 0 ||
        sink_start(&fx->tls, fx->tmp, "tls", tls_args) != 0)
        return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    sink_stop(&fx->plain);
    sink_stop(&fx->tls);
    test_rmtree(fx->tmp);
    free(fx->tmp);
    free(fx);
    return 0;
}

static void compose_matches_independent_golden(void **state)
{
    char *out = NULL;
    size_t len = 0;
    (void)state;
    assert_int_equal(mail_compose(&golden_srv, &golden_msg, &out, &len), LEAL_OK);
    assert_int_equal(len, strlen(golden));
    assert_string_equal(out, golden);
    free(out);
}

static void compose_text_only_is_one_part(void **state)
{
    struct mail_server srv = golden_srv;
    struct mail_message m = {.to = "ana@example.org",
                             .subject = "Hello",
                             .text = "a\r\nb\n",
                             .message_id = "x@y",
                             .date = DATE};
    char *out = NULL;
    size_t len = 0;
    (void)state;
    srv.from_name = "Club \"Sol\""; /* a quote: sent as an encoded word, never raw */
    assert_int_equal(mail_compose(&srv, &m, &out, &len), LEAL_OK);
    assert_string_equal(out, "Date: Thu, 03 Dec 2026 09:05:07 +0000\r\n"
                             "From: =?UTF-8?B?Q2x1YiAiU29sIg==?= <club@panaderia.example>\r\n"
                             "To: <ana@example.org>\r\n"
                             "Subject: Hello\r\n"
                             "Message-ID: <x@y>\r\n"
                             "MIME-Version: 1.0\r\n"
                             "Content-Type: text/plain; charset=UTF-8\r\n"
                             "Content-Transfer-Encoding: base64\r\n"
                             "\r\n"
                             "YQ0KYg0K\r\n"); /* "a\r\nb\r\n": the bare LF made CRLF */
    free(out);
}

/* Found by fuzz_mail: a long ASCII subject went out on one line past RFC
 * 5322's 998 bytes. Now it is folded into encoded words of 42 bytes each. */
static void compose_folds_long_headers(void **state)
{
    char subject[701], *out = NULL;
    size_t len = 0;
    struct mail_message m = golden_msg;
    (void)state;
    memset(subject, 'x', 700);
    subject[700] = '\0';
    m.subject = subject;
    assert_int_equal(mail_compose(&golden_srv, &m, &out, &len), LEAL_OK);
    const char *line = strstr(out, "Subject: "), *end = strstr(out, "Message-ID: ");
    int longest = 0, words = 0;
    for (const char *p = line; p < end; p++)
        if (*p == '\n') {
            longest = p - line > longest ? (int)(p - line) : longest;
            line = p + 1;
        }
    for (const char *p = out; (p = strstr(p, "=?UTF-8?B?eHh4")) != NULL; p++)
        words++;
    assert_int_equal(longest, 78); /* "Subject: " and a word of 42 bytes, with CR */
    assert_int_equal(words, 17);   /* 16 words of 42 bytes and one of 28 */
    free(out);
}

/* RFC 8058: the mail-to and the web link, the second folded onto its own
 * line, then List-Unsubscribe-Post; the web link alone or a bad one is
 * refused. */
static void compose_one_click_unsubscribe(void **state)
{
    char *out = NULL;
    size_t len = 0;
    struct mail_message m = golden_msg;
    (void)state;
    m.unsubscribe = "mailto:club@panaderia.example?subject=unsubscribe%20abc123";
    m.unsubscribe_post = "https://club.example/unsubscribe/abc123";
    assert_int_equal(mail_compose(&golden_srv, &m, &out, &len), LEAL_OK);
    assert_non_null(strstr(out, "MIME-Version: 1.0\r\n"
                                "List-Unsubscribe: <mailto:club@panaderia.example?subject="
                                "unsubscribe%20abc123>,\r\n"
                                " <https://club.example/unsubscribe/abc123>\r\n"
                                "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                                "Content-Type: "));
    free(out);
    out = NULL;
    m.unsubscribe_post = "https://x/u>\r\nBcc: all@example.org";
    assert_int_equal(mail_compose(&golden_srv, &m, &out, &len), LEAL_E_MAIL_ADDRESS);
    m.unsubscribe_post = "https://club.example/unsubscribe/abc123";
    m.unsubscribe = NULL;
    assert_int_equal(mail_compose(&golden_srv, &m, &out, &len), LEAL_E_MAIL_ADDRESS);
    assert_null(out);
}

static void compose_refuses_injection_and_bad_text(void **state)
{
    char *out = (char *)1;
    size_t len = 1;
    struct mail_message m = golden_msg;
    struct mail_server srv = golden_srv;
    (void)state;
    m.subject = "Hi\r\nBcc: all@example.org";
    assert_int_equal(mail_compose(&srv, &m, &out, &len), LEAL_E_MAIL_ADDRESS);
    assert_null(out);
    assert_int_equal(len, 0);
    m = golden_msg;
    m.to = "ana@example.org>\r\nRCPT TO:<x@example.org";
    assert_int_equal(mail_compose(&srv, &m, &out, &len), LEAL_E_MAIL_ADDRESS);
    static const char *const bad_addr[] = {"",      "ana",   "@example.org", "ana@",  "a@b@c",
                                           "a b@c", "a<b@c", "a@b\x7f",      "a@\xff"};
    for (size_t i = 0; i < sizeof bad_addr / sizeof bad_addr[0]; i++)
        assert_int_equal(mail_address_check(bad_addr[i]), LEAL_E_MAIL_ADDRESS);
    assert_int_equal(mail_address_check("josé.núñez@correo.example"), LEAL_OK);
    m = golden_msg;
    m.unsubscribe = "https://x/u> <mailto:all@example.org";
    assert_int_equal(mail_compose(&srv, &m, &out, &len), LEAL_E_MAIL_ADDRESS);
    m = golden_msg;
    m.text = "caf\xc3";
    assert_int_equal(mail_compose(&srv, &m, &out, &len), LEAL_E_TEXT);
    srv.from_name = "Sol\nBcc: x@y";
    assert_int_equal(mail_compose(&srv, &golden_msg, &out, &len), LEAL_E_MAIL_ADDRESS);
}

static void send_plain_delivers_exact_bytes(void **state)
{
    struct fixture *fx = *state;
    struct mail_server srv = golden_srv;
    char why[256];
    srv.port = (uint16_t)fx->plain.port;
    int before = sink_count(&fx->plain);
    assert_int_equal(mail_send(&srv, &golden_msg, why, sizeof why), LEAL_OK);
    assert_string_equal(why, "");
    assert_int_equal(sink_count(&fx->plain), before + 1);
    char *eml = sink_read(&fx->plain, before + 1, "eml");
    char *env = sink_read(&fx->plain, before + 1, "env");
    assert_string_equal(eml, golden);
    assert_string_equal(env, "club@panaderia.example\nana@example.org\n");
    free(eml);
    free(env);
}

static void send_starttls_with_credentials(void **state)
{
    struct fixture *fx = *state;
    struct mail_server srv = golden_srv;
    char why[256];
    srv.port = (uint16_t)fx->tls.port;
    srv.tls = MAIL_TLS_STARTTLS;
    srv.ca_file = fx->cert;
    srv.credentials = fx->cred;
    write_file(fx->cred, "club\ns3cret pass\n", 0600);
    int before = sink_count(&fx->tls);
    assert_int_equal(mail_send(&srv, &golden_msg, why, sizeof why), LEAL_OK);
    assert_int_equal(sink_count(&fx->tls), before + 1);
    char *eml = sink_read(&fx->tls, before + 1, "eml");
    assert_string_equal(eml, golden);
    free(eml);

    /* A wrong password: refused by the server, nothing delivered, the password in no message. */
    write_file(fx->cred, "club\nwrong-pass\n", 0600);
    assert_int_equal(mail_send(&srv, &golden_msg, why, sizeof why), LEAL_E_MAIL_AUTH);
    assert_null(strstr(why, "wrong-pass"));
    assert_non_null(strstr(why, "smtp://127.0.0.1:"));
    assert_int_equal(sink_count(&fx->tls), before + 1);
}

static void credentials_file_must_be_private(void **state)
{
    struct fixture *fx = *state;
    struct mail_server srv = golden_srv;
    char user[MAIL_CREDENTIAL_MAX + 1], pass[MAIL_CREDENTIAL_MAX + 1], why[256];
    char link[340];
    srv.port = (uint16_t)fx->tls.port;
    srv.tls = MAIL_TLS_STARTTLS;
    srv.ca_file = fx->cert;
    srv.credentials = fx->cred;
    int before = sink_count(&fx->tls);
    write_file(fx->cred, "club\ns3cret pass\n", 0644);
    assert_int_equal(mail_credentials_read(fx->cred, user, pass), LEAL_E_MAIL_CREDENTIALS);
    assert_int_equal(mail_send(&srv, &golden_msg, why, sizeof why), LEAL_E_MAIL_CREDENTIALS);
    write_file(fx->cred, "club\n", 0600); /* no password line */
    assert_int_equal(mail_credentials_read(fx->cred, user, pass), LEAL_E_MAIL_CREDENTIALS);
    write_file(fx->cred, "club\r\ns3cret pass\r\n", 0600);
    assert_int_equal(mail_credentials_read(fx->cred, user, pass), LEAL_OK);
    assert_string_equal(user, "club");
    assert_string_equal(pass, "s3cret pass");
    snprintf(link, sizeof link, "%s/cred.link", fx->tmp);
    assert_int_equal(symlink(fx->cred, link), 0);
    assert_int_equal(mail_credentials_read(link, user, pass), LEAL_E_MAIL_CREDENTIALS);
    /* Credentials over a connection without TLS: refused before connecting. */
    srv.tls = MAIL_TLS_NONE;
    srv.port = (uint16_t)fx->plain.port;
    assert_int_equal(mail_send(&srv, &golden_msg, why, sizeof why), LEAL_E_MAIL_CONFIG);
    assert_int_equal(sink_count(&fx->tls), before);
}

static void tls_failures(void **state)
{
    struct fixture *fx = *state;
    struct mail_server srv = golden_srv;
    char why[256];
    int before = sink_count(&fx->tls), before_plain = sink_count(&fx->plain);
    srv.tls = MAIL_TLS_STARTTLS;
    /* A certificate from a CA the client was not given. */
    srv.port = (uint16_t)fx->tls.port;
    assert_int_equal(mail_send(&srv, &golden_msg, why, sizeof why), LEAL_E_MAIL_TLS);
    /* A server that offers no STARTTLS: nothing is sent in clear. */
    srv.port = (uint16_t)fx->plain.port;
    srv.ca_file = fx->cert;
    assert_int_equal(mail_send(&srv, &golden_msg, why, sizeof why), LEAL_E_MAIL_TLS);
    assert_int_equal(sink_count(&fx->tls), before);
    assert_int_equal(sink_count(&fx->plain), before_plain);
}

static void refusal_and_unreachable(void **state)
{
    struct fixture *fx = *state;
    struct mail_server srv = golden_srv;
    struct mail_message m = golden_msg;
    char why[256];
    int before = sink_count(&fx->plain);
    srv.port = (uint16_t)fx->plain.port;
    m.to = "nobody@example.org";
    assert_int_equal(mail_send(&srv, &m, why, sizeof why), LEAL_E_MAIL_REFUSED);
    assert_non_null(strstr(why, "550"));
    assert_int_equal(sink_count(&fx->plain), before);
    /* A port nothing listens on: a stopped server of our own. */
    struct sink gone = {0};
    assert_int_equal(sink_start(&gone, fx->tmp, "gone", NULL), 0);
    sink_stop(&gone);
    srv.port = (uint16_t)gone.port;
    assert_int_equal(mail_send(&srv, &golden_msg, why, sizeof why), LEAL_E_MAIL_UNREACHABLE);
    assert_non_null(strstr(why, "127.0.0.1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(compose_matches_independent_golden),
        cmocka_unit_test(compose_text_only_is_one_part),
        cmocka_unit_test(compose_folds_long_headers),
        cmocka_unit_test(compose_one_click_unsubscribe),
        cmocka_unit_test(compose_refuses_injection_and_bad_text),
        cmocka_unit_test(send_plain_delivers_exact_bytes),
        cmocka_unit_test(send_starttls_with_credentials),
        cmocka_unit_test(credentials_file_must_be_private),
        cmocka_unit_test(tls_failures),
        cmocka_unit_test(refusal_and_unreachable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
