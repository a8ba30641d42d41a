/*
 * web_unsub.c - the unsubscribe page (see web_unsub.h). The pages are
 * rendered by host/mail/mail_render, which HTML-escapes the program's name.
 */
#include "web_unsub.h"

#include <stdlib.h>
#include <string.h>

#include "host/ledger/ledger_messages.h"
#include "host/mail/mail_render.h"

#define PAGE_HEAD                                                                                  \
    "<!doctype html>\n<html lang=\"{{lang}}\"><head><meta charset=\"utf-8\">"                      \
    "<meta name=\"viewport\" content=\"width=device-width\"><title>{{program}}</title>"            \
    "</head><body>\n"

/* Per language: the question with its form, and the answer. */
static const char *const ask_page[2] = {
    PAGE_HEAD "<h1>{{program}}</h1>\n<p>Stop receiving {{what}} from {{program}}?</p>\n"
              "<form method=\"post\" action=\"/unsubscribe/{{token}}\">"
              "<button type=\"submit\">Unsubscribe</button></form>\n</body></html>\n",
    PAGE_HEAD "<h1>{{program}}</h1>\n<p>¿Dejar de recibir {{what}} de {{program}}?</p>\n"
              "<form method=\"post\" action=\"/unsubscribe/{{token}}\">"
              "<button type=\"submit\">Darse de baja</button></form>\n</body></html>\n"};
static const char *const done_page[2] = {
    PAGE_HEAD "<h1>{{program}}</h1>\n<p>Done: you will receive no more {{what}} from "
              "{{program}}.</p>\n</body></html>\n",
    PAGE_HEAD "<h1>{{program}}</h1>\n<p>Hecho: no recibirá más {{what}} de "
              "{{program}}.</p>\n</body></html>\n"};

/* What the page offers to stop, by the channel of the message that carried
 * the link (an SMS's link withdraws SMS consent, not e-mail's). */
static const char *channel_words(const char *channel, int es)
{
    if (strcmp(channel, "sms") == 0)
        return es ? "SMS" : "text messages";
    if (strcmp(channel, "whatsapp") == 0)
        return es ? "mensajes de WhatsApp" : "WhatsApp messages";
    return es ? "correos" : "e-mails";
}

static void text_answer(struct web_hook_answer *a, unsigned status, const char *line)
{
    a->status = status;
    a->type = "text/plain; charset=utf-8";
    a->body = (uint8_t *)strdup(line);
    a->len = a->body ? strlen(line) : 0;
    if (!a->body)
        a->status = 500;
}

void web_unsubscribe(struct ledger *l, const char *method, const char *token,
                     struct web_hook_answer *a)
{
    struct ledger_message_token who;
    bool post = strcmp(method, "POST") == 0;
    char *out = NULL;
    leal_err err;
    if (!post && strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        text_answer(a, 405, "method not allowed: GET shows the page, POST unsubscribes\n");
        return;
    }
    err = ledger_message_token_info(l, token, &who);
    if (err == LEAL_OK && post) {
        int64_t customer = 0;
        err = ledger_message_unsubscribe(l, token, &customer);
    }
    if (err == LEAL_E_MESSAGE_TOKEN) {
        text_answer(a, 404, "not found: no message carries that unsubscribe link\n");
        return;
    }
    if (err != LEAL_OK) {
        text_answer(a, 503, "the ledger cannot answer now; try again later\n");
        return;
    }
    int es = strcmp(who.lang, "es") == 0;
    const struct mail_var v[4] = {{"lang", es ? "es" : "en"},
                                  {"program", who.program},
                                  {"token", token},
                                  {"what", channel_words(who.channel, es)}};
    if (mail_render(post ? done_page[es] : ask_page[es], v, 4, true, &out, NULL) != LEAL_OK) {
        text_answer(a, 500, "the page could not be made\n");
        return;
    }
    a->status = 200;
    a->type = "text/html; charset=utf-8";
    a->body = (uint8_t *)out;
    a->len = strlen(out);
}
