/*
 * issuance_ops.h - one card type at the desk, inside host/issuance only: the
 * table issuance.c chooses from by the card in the field and runs a desk
 * operation through. Each card type (issuance_desfire.c, issuance_classic.c)
 * does the card's side of an operation and reaches the ledger only through
 * issuance_books.h; neither calls the other or issuance.c. Contract of each
 * operation: issuance.h's function of the same name (out zeroed by the
 * caller; the round trips and bytes of the contact added to it).
 */
#ifndef LEAL_ISSUANCE_OPS_H
#define LEAL_ISSUANCE_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include "issuance.h"

/* The card in the field, as a desk operation found it. */
struct issuance_contact {
    struct issuance *is;
    struct reader *reader;
    struct reader_card rc;      /* what the reader reports (ATR, UID) */
    enum ledger_card_tech tech; /* as claimed: a Classic kind; 0 for DESFire (GetVersion says) */
};

struct issuance_card_ops {
    const char *name;
    /* Whether the card the reader reports is of this type, and its kind. */
    bool (*claims)(const struct reader_card *rc, enum ledger_card_tech *tech);
    leal_err (*issue)(const struct issuance_contact *c, const struct issuance_request *req,
                      struct issuance_card *out);
    leal_err (*read)(const struct issuance_contact *c, struct issuance_card *out);
    leal_err (*topup)(const struct issuance_contact *c, int64_t cents, struct issuance_card *out);
    leal_err (*sync)(const struct issuance_contact *c, struct issuance_card *out);
    leal_err (*empty_old)(const struct issuance_contact *c, int64_t old_card_id,
                          struct issuance_card *out);
    leal_err (*erase)(const struct issuance_contact *c, struct issuance_card *out);
};

/* MIFARE DESFire EV1/EV2/EV3 (LAYOUT.md 2): claims every card no other type claims. */
extern const struct issuance_card_ops issuance_desfire_ops;
/* MIFARE Classic 1K/4K (LAYOUT.md 3): a PC/SC part 3 storage-card ATR. */
extern const struct issuance_card_ops issuance_classic_ops;

#endif
