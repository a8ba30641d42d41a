/*
 * desk_issue.h - the desk's checks before a card is issued or replaced, with
 * the ledger only (no card touched): which account the card is for (the
 * customer's, the one named, or the replaced card's), that the account
 * belongs to the program whose keys make the card, and that welcome points
 * within the program's limit for one operation unless confirmed; a gift
 * card (no customer: its gift account is made by the issuance, once the
 * card can hold the gift) within the program's purse cap. Hosted; nothing
 * here prints.
 * Errors (stage in struct desk_issue_check): the ledger's lookups
 * (LEAL_E_UNKNOWN_ID ...), LEAL_E_CARD_STATUS_CHANGE (the old card was
 * already replaced), LEAL_E_WRONG_PROGRAM (the account is another program's
 * that the keys hold), LEAL_E_UNKNOWN_PROGRAM (a program the keys do not
 * hold), LEAL_E_OVER_LIMIT, LEAL_E_CARD_BOUNDARY (a gift over the purse cap,
 * the cap in why->purse_cap_cents).
 */
#ifndef LEAL_DESK_ISSUE_H
#define LEAL_DESK_ISSUE_H

#include <stdbool.h>
#include <stdint.h>

#include "host/issuance/issuance.h"

enum desk_issue_stage {
    DESK_ISSUE_OLD_CARD, /* the replaced card */
    DESK_ISSUE_CUSTOMER, /* the customer's account */
    DESK_ISSUE_ACCOUNT,  /* the account and its program */
    DESK_ISSUE_WELCOME,  /* the welcome points' limit */
    DESK_ISSUE_GIFT,     /* the gift's value and the program's purse cap */
};

struct desk_issue_check {
    enum desk_issue_stage failed;
    int64_t account_program; /* the account's program, when it is not the desk's */
    int64_t purse_cap_cents; /* a gift refused: the program's purse cap */
};

/* Completes req->account_id (from the replaced card, or customer's account
 * when req names none) and checks it; with over_limit the welcome points'
 * limit is not checked. With req->gift, only the gift (req->topup_cents)
 * against the program's purse cap; the Classic cap is the card's to check. */
LEAL_MUST_CHECK leal_err desk_issue_prepare(const struct issuance *is, int64_t customer,
                                            bool over_limit, struct issuance_request *req,
                                            struct desk_issue_check *why);

#endif
