/*
 * web_mail_test.c - the server's outbox (host/web/web_mail.h): a request's
 * message is queued and the call returns while the outbox's thread is held
 * by an SMTP server that never greets; WEB_MAIL_QUEUE messages wait behind
 * the one in hand and the next is refused (LEAL_E_WEB_MAIL_QUEUE); stopping
 * drops what waits (ASan: nothing leaks); a text over the outbox's size is
 * refused before anything is queued. Order of events, no durations: the
 * thread is known to hold the first message once its connection is pending
 * on the test's listening socket.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/web/web_mail.h"

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
    (void)state;
    settings(&lm, port);
    assert_int_equal(web_outbox_start(&o), LEAL_OK);
    assert_int_equal(web_outbox_put(o, &lm, &m), LEAL_OK);
    /* The thread has taken the first message once its connection waits to
     * be accepted (poll's timeout only bounds a broken run). */
    assert_int_equal(poll(&p, 1, 60000), 1);
    for (int i = 0; i < WEB_MAIL_QUEUE; i++)
        assert_int_equal(web_outbox_put(o, &lm, &m), LEAL_OK);
    assert_int_equal(web_outbox_put(o, &lm, &m), LEAL_E_WEB_MAIL_QUEUE);
    /* Closing the listening socket resets the pending connection: the
     * message in hand fails at once, and the stop drops the rest. */
    close(fd);
    web_outbox_stop(o);
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
    assert_int_equal(web_outbox_put(o, &lm, &m), LEAL_E_ARG);
    web_outbox_stop(NULL);
    web_outbox_stop(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queue_is_bounded_behind_the_message_in_hand),
        cmocka_unit_test(oversized_text_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
