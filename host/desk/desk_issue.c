/* desk_issue.c - the ledger's side of issuing a card, before the card (desk_issue.h). */
#include "desk_issue.h"

#include <string.h>

static leal_err fail(struct desk_issue_check *why, enum desk_issue_stage stage, leal_err err)
{
    why->failed = stage;
    return err;
}

/* A card is made with the keys of the program the desk opened: the account
 * must belong to it (a customer of a program the keystore does not hold
 * must never get a card made with another program's keys). */
static leal_err account_program(const struct issuance *is, int64_t account_id,
                                struct desk_issue_check *why)
{
    struct ledger_account a;
    const struct key_program *kp;
    leal_err err;
    if ((err = ledger_account_get(is->ledger, account_id, &a)) != LEAL_OK)
        return fail(why, DESK_ISSUE_ACCOUNT, err);
    if (a.program_id == (int64_t)is->program_id)
        return LEAL_OK;
    why->account_program = a.program_id;
    if (a.program_id > 0 && a.program_id <= UINT32_MAX &&
        keyset_program(is->keys, (uint32_t)a.program_id, &kp) == LEAL_OK)
        return fail(why, DESK_ISSUE_ACCOUNT, LEAL_E_WRONG_PROGRAM);
    return fail(why, DESK_ISSUE_ACCOUNT, LEAL_E_UNKNOWN_PROGRAM);
}

/* A gift the program's purse could never hold is refused before a card is
 * asked for; a Classic card's lower cap is checked once it is in the field. */
static leal_err gift_room(const struct issuance *is, const struct issuance_request *req,
                          struct desk_issue_check *why)
{
    struct ledger_program p;
    leal_err err = ledger_program_get(is->ledger, is->program_id, &p);
    if (err != LEAL_OK)
        return fail(why, DESK_ISSUE_GIFT, err);
    why->purse_cap_cents = p.purse_cap_cents;
    if (req->topup_cents <= 0 || req->topup_cents > p.purse_cap_cents)
        return fail(why, DESK_ISSUE_GIFT, LEAL_E_CARD_BOUNDARY);
    return LEAL_OK;
}

leal_err desk_issue_prepare(const struct issuance *is, int64_t customer, bool over_limit,
                            struct issuance_request *req, struct desk_issue_check *why)
{
    leal_err err;
    memset(why, 0, sizeof *why);
    if (req->gift)
        return gift_room(is, req, why);
    if (req->replacing) {
        struct ledger_card old;
        if ((err = ledger_card_find_by_id(is->ledger, req->replaced_card_id, &old)) != LEAL_OK)
            return fail(why, DESK_ISSUE_OLD_CARD, err);
        if (old.status == LEDGER_CARD_REPLACED)
            return fail(why, DESK_ISSUE_OLD_CARD, LEAL_E_CARD_STATUS_CHANGE);
        req->account_id = old.account_id;
    } else if (req->account_id == 0) {
        struct ledger_customer cu;
        if ((err = ledger_customer_get(is->ledger, customer, &cu)) != LEAL_OK)
            return fail(why, DESK_ISSUE_CUSTOMER, err);
        req->account_id = cu.account_id;
    }
    if ((err = account_program(is, req->account_id, why)) != LEAL_OK)
        return err;
    /* Welcome points far beyond the program's limit are a typo until confirmed. */
    if (req->welcome_points > 0 && !over_limit &&
        (err = ledger_program_limit_check(is->ledger, is->program_id, "PTS",
                                          req->welcome_points)) != LEAL_OK)
        return fail(why, DESK_ISSUE_WELCOME, err);
    return LEAL_OK;
}
