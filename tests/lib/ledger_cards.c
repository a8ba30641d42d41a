/* ledger_cards.c - carded customers in a test's ledger (ledger_cards.h). */
#include "tests/lib/ledger_cards.h"

#include <stdio.h>
#include <string.h>

void ledger_fixture_card_init(struct ledger_card *c, int64_t card_id, int64_t account,
                              enum ledger_card_tech tech)
{
    static const uint8_t uid[7] = {0x04, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
    memset(c, 0, sizeof *c);
    c->card_id = card_id;
    c->account_id = account;
    memcpy(c->uid, uid, sizeof uid);
    c->uid_len = sizeof uid;
    c->tech = tech;
    c->status = LEDGER_CARD_ACTIVE;
    c->keyset_version = 1;
    c->layout_version = 1;
}

leal_err ledger_fixture_customer(struct ledger *l, int64_t program, int64_t card_id, int i,
                                 int64_t *account)
{
    struct ledger_customer cu;
    struct ledger_card card;
    int64_t customer;
    leal_err err;
    memset(&cu, 0, sizeof cu);
    cu.program_id = program;
    snprintf(cu.name, sizeof cu.name, "c%d", i);
    if ((err = ledger_customer_add(l, &cu, &customer, account)) != LEAL_OK)
        return err;
    ledger_fixture_card_init(&card, card_id, *account, LEDGER_TECH_DESFIRE_EV2);
    card.uid[6] = (uint8_t)i;
    return ledger_card_add(l, &card);
}

leal_err ledger_fixture_cards(struct ledger *l, int64_t program, int64_t base_id, int n,
                              int64_t acct[])
{
    leal_err err = LEAL_OK;
    for (int i = 0; err == LEAL_OK && i < n; i++)
        err = ledger_fixture_customer(l, program, base_id + i, i, &acct[i]);
    return err;
}
