/* fuzz_mail.c - host/mail on any bytes: the credentials file's parser (never
 * a crash or a read outside the input; on LEAL_OK both fields non-empty,
 * within MAIL_CREDENTIAL_MAX and free of line breaks) and the composer with
 * the input cut at NUL bytes into recipient, subject, sender name, text and
 * HTML (on LEAL_OK the headers hold no bare CR or LF and no line over 998
 * bytes, so no input can add a header or a part). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/mail/mail.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_credentials(const uint8_t *data, size_t size)
{
    char user[MAIL_CREDENTIAL_MAX + 1], pass[MAIL_CREDENTIAL_MAX + 1];
    if (mail_credentials_parse((const char *)data, size, user, pass) != LEAL_OK)
        return;
    size_t ul = strlen(user), pl = strlen(pass);
    if (ul == 0 || pl == 0 || ul > MAIL_CREDENTIAL_MAX || pl > MAIL_CREDENTIAL_MAX ||
        strpbrk(user, "\r\n") || strpbrk(pass, "\r\n"))
        abort();
}

static void check_headers(const char *msg, size_t len)
{
    const char *end = strstr(msg, "\r\n\r\n");
    if (!end || strlen(msg) != len)
        abort();
    size_t line = 0;
    for (const char *p = msg; p < end + 2; p++) {
        if (*p == '\r' && p[1] != '\n')
            abort();
        if (*p == '\n' && (p == msg || p[-1] != '\r'))
            abort();
        line = *p == '\n' ? 0 : line + 1;
        if (line > 998)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy, *field[5] = {"a@b.example", "", "", "", NULL};
    if (size > 8192)
        return 0;
    check_credentials(data, size);
    copy = malloc(size + 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    /* Fields cut at NUL bytes; the last one is the HTML (absent if fewer). */
    char *p = copy;
    for (int i = 0; i < 5 && p <= copy + size; i++) {
        field[i] = p;
        p += strlen(p) + 1;
    }
    struct mail_server srv = {
        .host = "127.0.0.1", .from = "club@sol.example", .from_name = field[2]};
    struct mail_message m = {.to = field[0],
                             .subject = field[1],
                             .text = field[3],
                             .html = field[4],
                             .message_id = "id@sol.example",
                             .date = 1796288707};
    char *out = NULL;
    size_t len = 0;
    if (mail_compose(&srv, &m, &out, &len) == LEAL_OK)
        check_headers(out, len);
    free(out);
    free(copy);
    return 0;
}
