/*
 * ledger_msg_web.c - the address of a program's `leal serve`, which each
 * message's unsubscribe link points to (see ledger_messages.h).
 */
#include "ledger_messages.h"

#include <stdio.h>
#include <string.h>

#include "store.h"

/* http:// or https://, a host, no trailing '/', and nothing that could end
 * a header's <...> or an HTML attribute, or break a line. */
static int web_url_ok(const char *u)
{
    size_t n = strlen(u);
    size_t head = strncmp(u, "https://", 8) == 0 ? 8 : strncmp(u, "http://", 7) == 0 ? 7 : 0;
    if (head == 0 || n <= head || n >= LEDGER_MSG_WEB_URL || u[n - 1] == '/')
        return 0;
    for (const char *p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f || strchr("<>\"'\\", *p))
            return 0;
    return 1;
}

leal_err ledger_message_web_set(struct ledger *l, int64_t program_id, const char *url)
{
    leal_err err;
    if (url[0] && !web_url_ok(url)) {
        store_set_msg(l, "the address is http(s)://HOST[:PORT][/PATH], without a trailing '/', "
                         "spaces or quotes, up to 200 bytes");
        return LEAL_E_ARG;
    }
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_exists(l, ST_PROGRAM_EXISTS, program_id, "program");
    if (err == LEAL_OK)
        err = store_write(l,
                          url[0] ? "INSERT INTO message_web(program_id, url, updated_at) "
                                   "VALUES (?1, ?2, ?3) ON CONFLICT (program_id) DO UPDATE SET "
                                   "url = excluded.url, updated_at = excluded.updated_at"
                                 : "DELETE FROM message_web WHERE program_id = ?1 AND ?2 = '' "
                                   "AND ?3 > 0",
                          SVALS(SV_I64(program_id), SV_TEXT(url), SV_I64(ledger_now())), NULL);
    return store_tx_end(l, err);
}

leal_err ledger_message_web_get(struct ledger *l, int64_t program_id, char *url, size_t cap)
{
    struct store_stmt *st = NULL;
    int row = 0;
    url[0] = '\0';
    leal_err err =
        store_prep_i64(l, "SELECT url FROM message_web WHERE program_id = ?1", &st, &program_id, 1);
    if (err == LEAL_OK && (err = store_step(l, st, &row)) == LEAL_OK && row)
        store_col_text(st, 0, url, cap);
    store_finalize(st);
    return err;
}
