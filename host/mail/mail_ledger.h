/*
 * mail_ledger.h - a program's stored mail settings (host/ledger/ledger_mail.h)
 * as host/mail's server, for every sender of the program's mail (the CLI's
 * `leal mail` and `leal messages`, the portal's sign-in links). Hosted.
 */
#ifndef LEAL_MAIL_LEDGER_H
#define LEAL_MAIL_LEDGER_H

#include "host/ledger/ledger_mail.h"
#include "host/mail/mail.h"

/* srv from m (pointers into m, which must outlive srv); timeout_s 0. */
void mail_server_from(const struct ledger_mail *m, struct mail_server *srv);

#endif
