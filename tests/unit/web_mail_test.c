/*
 * web_mail_test.c - the server's outbox (host/web/web_mail.h): a request's
 * message is queued and the call returns while the outbox's thread is held
 * by an SMTP server that never greets; WEB_MAIL_QUEUE messages wait behind
 * the one in hand and the next is refused (LEAL_E_WEB_MAIL_QUEUE); stopping
 * drops what waits (ASan: nothing leaks), each noted as failed, and the
 * audit log gets the first WEB_MAIL_FAILED failures and a line counting the
 * rest; a send the server refuses is noted with what failed and why (no
 * address, no text) and moved once into the audit log; a text over the
 * outbox's size is refused before anything is queued. Order of events, no
 * durations: the thread is known to hold the first message once its
 * connection is pending on the test's listening socket, and a failure is
 * waited for by looking at the list.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/ledger/ledger.h"
#include "host/web/web_mail.h"
#include "tests/lib/testutil.h"

static const struct web_mail_about about = {"portal sign-in link", "customer 7"};

static int setup(void **state)
{
    *state = test_tmpdir_fast(); /* a new ledger fsyncs its migrations */
    return 0;
}

static int teardown(void **state)
{
    test_rmtree(*state);
    free(*state);
    return 0;
}

static struct ledger *ledger_in(void **state)
{
    char path[512];
    struct ledger *l = NULL;
    snprintf(path, sizeof path, "%s/ledger.db", (char *)*state);
    assert_int_equal(ledger_open(path, &l), LEAL_OK);
    return l;
}

/* The audit log's lines, newest first. */
struct lines {
    int n;
    char text[40][512]; /* "user_id|actor|action|object|after" */
};

static int line_one(void *ctx, int64_t id, int64_t at, const struct ledger_audit_line *a)
{
    struct lines *ls = ctx;
    (void)id, (void)at;
    if (ls->n < 40)
        snprintf(ls->text[ls->n], sizeof ls->text[0], "%lld|%s|%s|%s|%s", (long long)a->user_id,
                 a->actor, a->action, a->object, a->after ? a->after : "(null)");
    ls->n++;
    return 0;
}

/* A failure's after without its time (checked to be now or a little before). */
static void after_without_time(const char *line, char *out, size_t cap)
{
    const char *after = strchr(line, '{');
    json_error_t e;
    json_t *j;
    int64_t at, now = (int64_t)time(NULL);
    char *text;
    assert_non_null(after);
    j = json_loads(after, 0, &e);
    assert_non_null(j);
    at = json_integer_value(json_object_get(j, "failed_at"));
    assert_true(at > 0 && at <= now && at > now - 600);
    assert_int_equal(json_object_del(j, "failed_at"), 0);
    text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    snprintf(out, cap, "%s", text);
    free(text);
    json_decref(j);
}

/* A socket listening on 127.0.0.1 that accepts nothing: a connection to it
 * completes (the kernel's backlog) and never hears a greeting. */
static int silent_server(uint16_t *port)
{
    struct sockaddr_in a;
    socklen_t n = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void settings(struct ledger_mail *lm, uint16_t port)
{
    memset(lm, 0, sizeof *lm);
    lm->program_id = 1;
    snprintf(lm->host, sizeof lm->host, "127.0.0.1");
    lm->port = port;
    snprintf(lm->tls, sizeof lm->tls, "none");
    snprintf(lm->from, sizeof lm->from, "club@example.org");
}

static void queue_is_bounded_behind_the_message_in_hand(void **state)
{
    struct web_outbox *o;
    struct ledger_mail lm;
    struct mail_message m = {.to = "ana@example.org",
                             .subject = "Your sign-in link",
                             .text = "Hello Ana,\r\n\r\nhttp://127.0.0.1/portal/#t=00\r\n"};
    uint16_t port;
    int fd = silent_server(&port);
    struct pollfd p = {fd, POLLIN, 0};
    struct lines ls = {0};
    char want[512], after[512];
    bool dropped = false;
    struct ledger *l;
    settings(&lm, port);
    assert_int_equal(web_outbox_start(&o), LEAL_OK);
    assert_int_equal(web_outbox_put(o, &lm, &m, &about), LEAL_OK);
    /* The thread has taken the first message once its connection waits to
     * be accepted (poll's timeout only bounds a broken run). */
    assert_int_equal(poll(&p, 1, 60000), 1);
    for (int i = 0; i < WEB_MAIL_QUEUE; i++)
        assert_int_equal(web_outbox_put(o, &lm, &m, &about), LEAL_OK);
    assert_int_equal(web_outbox_put(o, &lm, &m, &about), LEAL_E_WEB_MAIL_QUEUE);
    /* Closing the listening socket resets the pending connection: the
     * message in hand fails at once, and the stop drops the rest. */
    /* Closing the listening socket resets the pending connection: the
     * message in hand fails at once; the thread may try a few more (the
     * port is closed now) before the stop drops the rest. */
    l = ledger_in(state);
    close(fd);
    web_outbox_stop(o, l);
    /* Every one of the 1 + WEB_MAIL_QUEUE failed: the first WEB_MAIL_FAILED
     * kept, oldest first (the one in hand, those tried, those dropped), the
     * rest counted in one more line. */
    assert_int_equal(ledger_audit_each(l, 0, line_one, &ls), LEAL_OK);
    assert_int_equal(ls.n, WEB_MAIL_FAILED + 1);
    snprintf(want, sizeof want, "0|mail|mail.failed||{\"unrecorded\":%d}",
             1 + WEB_MAIL_QUEUE - WEB_MAIL_FAILED);
    assert_string_equal(ls.text[0], want);
    snprintf(want, sizeof want,
             "{\"mail\":\"portal sign-in link\",\"code\":683,\"error\":\"LEAL_E_MAIL_"
             "UNREACHABLE\",\"message\":\"%s\",\"why\":\"smtp://127.0.0.1:%u: ",
             leal_strerror(LEAL_E_MAIL_UNREACHABLE), port);
    for (int i = WEB_MAIL_FAILED; i >= 1; i--) {
        assert_true(strncmp(ls.text[i], "0|mail|mail.failed|customer 7|{", 31) == 0);
        after_without_time(ls.text[i], after, sizeof after);
        if (i == WEB_MAIL_FAILED || (!dropped && strncmp(after, want, strlen(want)) == 0))
            assert_true(strncmp(after, want, strlen(want)) == 0); /* tried */
        else {
            dropped = true;
            assert_string_equal(after,
                                "{\"mail\":\"portal sign-in link\",\"code\":670,\"error\":"
                                "\"LEAL_E_WEB_MAIL_STOPPED\",\"message\":\"the server stopped "
                                "before this e-mail went out; ask for the link again\",\"why\":"
                                "\"\"}");
        }
        assert_null(strstr(ls.text[i], "ana@"));
        assert_null(strstr(ls.text[i], "#t="));
    }
    ledger_close(l);
}

/* A port of 127.0.0.1 where nothing listens: a connection is refused. */
static uint16_t closed_port(void)
{
    uint16_t port;
    close(silent_server(&port));
    return port;
}

static void refused_send_is_noted_and_moved_to_the_audit_log_once(void **state)
{
    struct web_outbox *o;
    struct ledger_mail lm;
    struct mail_message m = {.to = "mia@example.org",
                             .subject = "Your new password",
                             .text = "Hello Mia,\r\n\r\nhttp://127.0.0.1/#/reset/00\r\n"};
    const struct web_mail_about reset = {"password reset link", "user 1"};
    struct web_mail_failure f[2];
    struct timespec tick = {0, 10 * 1000 * 1000};
    struct lines ls = {0};
    char want[512], after[512];
    uint16_t port = closed_port();
    int n = 0, moved = -1;
    int64_t beyond = -1;
    struct ledger *l = ledger_in(state);
    settings(&lm, port);
    assert_int_equal(web_outbox_start(&o), LEAL_OK);
    assert_int_equal(web_outbox_audit(o, l, &moved), LEAL_OK);
    assert_int_equal(moved, 0);
    assert_int_equal(web_outbox_put(o, &lm, &m, &reset), LEAL_OK);
    /* Until the thread has tried (the bound only ends a broken run). */
    for (int i = 0; i < 6000 && n == 0; i++) {
        web_outbox_failures(o, f, 2, &n, &beyond);
        if (n == 0)
            nanosleep(&tick, NULL);
    }
    assert_int_equal(n, 1);
    assert_int_equal(beyond, 0);
    assert_string_equal(f[0].what, "password reset link");
    assert_string_equal(f[0].object, "user 1");
    assert_int_equal(f[0].err, LEAL_E_MAIL_UNREACHABLE);
    snprintf(want, sizeof want, "smtp://127.0.0.1:%u: ", port);
    assert_true(strncmp(f[0].why, want, strlen(want)) == 0);
    assert_int_equal(web_outbox_audit(o, l, &moved), LEAL_OK);
    assert_int_equal(moved, 1);
    web_outbox_failures(o, f, 2, &n, &beyond);
    assert_int_equal(n, 0);
    assert_int_equal(web_outbox_audit(o, l, &moved), LEAL_OK);
    assert_int_equal(moved, 0);
    web_outbox_stop(o, l);
    assert_int_equal(ledger_audit_each(l, 0, line_one, &ls), LEAL_OK);
    assert_int_equal(ls.n, 1);
    assert_true(strncmp(ls.text[0], "0|mail|mail.failed|user 1|{", 27) == 0);
    after_without_time(ls.text[0], after, sizeof after);
    snprintf(want, sizeof want,
             "{\"mail\":\"password reset link\",\"code\":683,\"error\":\"LEAL_E_MAIL_"
             "UNREACHABLE\",\"message\":\"%s\",\"why\":\"smtp://127.0.0.1:%u: ",
             leal_strerror(LEAL_E_MAIL_UNREACHABLE), port);
    assert_true(strncmp(after, want, strlen(want)) == 0);
    assert_null(strstr(ls.text[0], "mia@"));
    assert_null(strstr(ls.text[0], "reset/00"));
    ledger_close(l);
}

static void oversized_text_is_refused(void **state)
{
    static char text[4096];
    struct web_outbox *o;
    struct ledger_mail lm;
    struct mail_message m = {.to = "ana@example.org", .subject = "s", .text = text};
    (void)state;
    memset(text, 'a', sizeof text - 1);
    settings(&lm, 1);
    assert_int_equal(web_outbox_start(&o), LEAL_OK);
    assert_int_equal(web_outbox_put(o, &lm, &m, &about), LEAL_E_ARG);
    web_outbox_stop(NULL, NULL);
    web_outbox_stop(o, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(queue_is_bounded_behind_the_message_in_hand, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(refused_send_is_noted_and_moved_to_the_audit_log_once,
                                        setup, teardown),
        cmocka_unit_test(oversized_text_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
