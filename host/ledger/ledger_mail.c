/*
 * ledger_mail.c - each program's e-mail settings (see ledger_mail.h).
 */
#include "ledger_mail.h"

#include <string.h>

#include "store.h"

static leal_err mail_row_check(struct ledger *l, const struct ledger_mail *m)
{
    leal_err err;
    if (m->host[0] == '\0' || m->from[0] == '\0') {
        store_set_msg(l, "mail settings need a server and a sender address");
        return LEAL_E_TEXT;
    }
    if (m->port < 0 || m->port > 65535) {
        store_set_msg(l, "a mail port is 1..65535 (0: the usual one)");
        return LEAL_E_ARG;
    }
    if (strcmp(m->tls, "starttls") != 0 && strcmp(m->tls, "tls") != 0 &&
        strcmp(m->tls, "none") != 0) {
        store_set_msg(l, "mail TLS is starttls, tls or none");
        return LEAL_E_ARG;
    }
    const char *what[] = {"mail server", "sender address", "sender name"};
    const char *val[] = {m->host, m->from, m->from_name};
    for (int i = 0; i < 3; i++)
        if ((err = ledger_text_ok(l, what[i], val[i])) != LEAL_OK)
            return err;
    return LEAL_OK;
}

leal_err ledger_mail_set(struct ledger *l, const struct ledger_mail *m)
{
    leal_err err;
    if ((err = mail_row_check(l, m)) != LEAL_OK || (err = store_tx_begin(l)) != LEAL_OK)
        return err;
    if ((err = store_exists(l, ST_PROGRAM_EXISTS, m->program_id, "program")) == LEAL_OK)
        err = store_write(l,
                          "INSERT INTO program_mail(program_id, host, port, tls, sender, "
                          "sender_name, credentials, ca_file, updated_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (program_id) "
                          "DO UPDATE SET host = excluded.host, port = excluded.port, "
                          "tls = excluded.tls, sender = excluded.sender, "
                          "sender_name = excluded.sender_name, credentials = excluded.credentials, "
                          "ca_file = excluded.ca_file, updated_at = excluded.updated_at",
                          SVALS(SV_I64(m->program_id), SV_TEXT(m->host), SV_I64(m->port),
                                SV_TEXT(m->tls), SV_TEXT(m->from), SV_TEXT(m->from_name),
                                SV_TEXT(m->credentials), SV_TEXT(m->ca_file), SV_I64(ledger_now())),
                          NULL);
    return store_tx_end(l, err);
}

leal_err ledger_mail_get(struct ledger *l, int64_t program_id, struct ledger_mail *out)
{
    struct store_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    leal_err err = store_find_row(l,
                                  "SELECT host, port, tls, sender, sender_name, credentials, "
                                  "ca_file, updated_at FROM program_mail WHERE program_id = ?1",
                                  program_id, "mail settings of program", &st);
    if (err == LEAL_OK) {
        out->program_id = program_id;
        store_col_text(st, 0, out->host, sizeof out->host);
        out->port = (int)store_col_i64(st, 1);
        store_col_text(st, 2, out->tls, sizeof out->tls);
        store_col_text(st, 3, out->from, sizeof out->from);
        store_col_text(st, 4, out->from_name, sizeof out->from_name);
        store_col_text(st, 5, out->credentials, sizeof out->credentials);
        store_col_text(st, 6, out->ca_file, sizeof out->ca_file);
        out->updated_at = store_col_i64(st, 7);
    }
    store_finalize(st);
    return err == LEAL_E_UNKNOWN_ID ? LEAL_E_NOT_FOUND : err;
}
