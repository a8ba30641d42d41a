/*
 * ledger_mail.h - each program's e-mail settings (issue 17, host/mail): the
 * SMTP server, its port and TLS mode, the sender, and the PATHS of the
 * credentials file and of an extra CA file. The password itself is never in
 * the ledger (its backups and exports would carry it): it stays in the 0600
 * file that host/mail reads at send time. One row per program, replaced
 * whole by ledger_mail_set in one transaction. Hosted.
 * Errors: those of ledger.h, LEAL_E_UNKNOWN_ID (no such program),
 * LEAL_E_NOT_FOUND (the program has no mail settings), LEAL_E_TEXT.
 */
#ifndef LEAL_LEDGER_MAIL_H
#define LEAL_LEDGER_MAIL_H

#include <stdint.h>

#include "ledger.h"

#define LEDGER_MAIL_HOST 254
#define LEDGER_MAIL_ADDR 255
#define LEDGER_MAIL_PATH 1024

/* tls: "starttls", "tls" (from the first byte) or "none" (mail.h's enum mail_tls). */
struct ledger_mail {
    int64_t program_id;
    char host[LEDGER_MAIL_HOST];
    int port; /* 0: the TLS mode's usual port */
    char tls[16];
    char from[LEDGER_MAIL_ADDR];
    char from_name[LEDGER_TEXT];
    char credentials[LEDGER_MAIL_PATH]; /* "" : no AUTH */
    char ca_file[LEDGER_MAIL_PATH];     /* "" : the system's CAs only */
    int64_t updated_at;
};

/* Stores m as program m->program_id's settings, replacing any before. */
LEAL_MUST_CHECK leal_err ledger_mail_set(struct ledger *l, const struct ledger_mail *m);

/* Program program_id's settings into *out; LEAL_E_NOT_FOUND without any. */
LEAL_MUST_CHECK leal_err ledger_mail_get(struct ledger *l, int64_t program_id,
                                         struct ledger_mail *out);

#endif
