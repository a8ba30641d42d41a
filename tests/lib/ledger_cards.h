/*
 * ledger_cards.h - carded customers in a test's ledger, made the one way the
 * import, reconcile, settle and host-change tests (and the import's bench and
 * fuzz ledger, tests/lib/sync_ledger.c) need them: customer "c<i>" of a
 * program with one active card base_id + i (DESFire EV2, keyset and layout
 * version 1, UID 04 11 22 33 44 55 <i>). Returns leal_err (no cmocka) so the
 * bench and the fuzz target use it too. Tests only.
 */
#ifndef LEAL_TESTS_LEDGER_CARDS_H
#define LEAL_TESTS_LEDGER_CARDS_H

#include <stdint.h>

#include "host/ledger/ledger.h"

/* *c: card card_id on account, of tech, active, keyset and layout version 1,
 * UID 04 11 22 33 44 55 66 (7 bytes); the rest zero. The caller may change
 * any field before ledger_card_add. */
void ledger_fixture_card_init(struct ledger_card *c, int64_t card_id, int64_t account,
                              enum ledger_card_tech tech);

/* Customer "c<i>" of program with card card_id (DESFire EV2, the UID's last
 * byte i); *account its account. */
LEAL_MUST_CHECK leal_err ledger_fixture_customer(struct ledger *l, int64_t program, int64_t card_id,
                                                 int i, int64_t *account);

/* Customers c0 .. c<n-1> of program, customer i with card base_id + i;
 * acct[i] their accounts. */
LEAL_MUST_CHECK leal_err ledger_fixture_cards(struct ledger *l, int64_t program, int64_t base_id,
                                              int n, int64_t acct[]);

#endif
