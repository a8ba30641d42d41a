/*
 * mail_ledger.c - stored mail settings as a server (see mail_ledger.h).
 */
#include "mail_ledger.h"

#include <string.h>

void mail_server_from(const struct ledger_mail *m, struct mail_server *srv)
{
    memset(srv, 0, sizeof *srv);
    srv->host = m->host;
    srv->port = (uint16_t)m->port;
    srv->tls = strcmp(m->tls, "tls") == 0    ? MAIL_TLS_IMPLICIT
               : strcmp(m->tls, "none") == 0 ? MAIL_TLS_NONE
                                             : MAIL_TLS_STARTTLS;
    srv->from = m->from;
    srv->from_name = m->from_name[0] ? m->from_name : NULL;
    srv->credentials = m->credentials[0] ? m->credentials : NULL;
    srv->ca_file = m->ca_file[0] ? m->ca_file : NULL;
}
