/*
 * ledger_qr.h - the ledger's side of QR entries in terminal journals
 * (firmware/core/JOURNAL.md "QR entries"; cardlayout/qr/QR.md "Once per
 * terminal, caps"): a spending code is taken at most once per terminal, so
 * the same code (phone, counter, time step) in the journals of two
 * terminals means it was shown twice, a copy of it at the second: the
 * reconciliation that sees it (host/ledger/ledger_reconcile.c) records a
 * clone finding and blocks the phone's virtual card, which puts it on the
 * hot list of every package built after. Hosted; nothing here prints.
 * Errors: the ledger's own.
 */
#ifndef LEAL_LEDGER_QR_H
#define LEAL_LEDGER_QR_H

#include <stdbool.h>
#include <stddef.h>

#include "firmware/core/journal.h"
#include "host/ledger/ledger.h"

/* What ledger_qr_twice found. */
struct ledger_qr_twice {
    bool twice;
    char evidence[96]; /* names both entries: the same on every run, so recorded once */
    char detail[240];  /* what happened, for a person */
};

/* Whether e, a QR entry taken into the ledger, used a spending code that
 * another terminal's taken entry used too (not a refusal, not undone), e
 * being the later of the two (time, then terminal, epoch, sequence).
 * Nothing (out->twice false) when e is not a taken QR spending entry. */
LEAL_MUST_CHECK leal_err ledger_qr_twice(struct ledger *l, const struct journal_entry *e,
                                         struct ledger_qr_twice *out);

#endif
