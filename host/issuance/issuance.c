/* issuance.c - the desk's operations (issuance.h): the card in the field
 * chosen among the card types (issuance_ops.h), then the operation run
 * through that type's table. */
#include "issuance.h"

#include <string.h>

#include "issuance_books.h"
#include "issuance_ops.h"

/* First claim wins: DESFire claims whatever is left. */
static const struct issuance_card_ops *const card_types[] = {&issuance_classic_ops,
                                                             &issuance_desfire_ops};

/* The card in the field and the table of its type. */
static leal_err contact_open(struct issuance_contact *c, struct issuance *is, struct reader *r,
                             const struct issuance_card_ops **ops)
{
    leal_err err;
    memset(c, 0, sizeof *c);
    c->is = is;
    c->reader = r;
    if ((err = reader_card_info(r, &c->rc)) != LEAL_OK)
        return err;
    for (size_t i = 0; i < sizeof card_types / sizeof card_types[0]; i++)
        if (card_types[i]->claims(&c->rc, &c->tech)) {
            *ops = card_types[i];
            return LEAL_OK;
        }
    return LEAL_E_CARD_UNKNOWN;
}

leal_err issuance_read(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    struct issuance_contact c;
    const struct issuance_card_ops *ops;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = contact_open(&c, is, r, &ops)) != LEAL_OK)
        return err;
    return ops->read(&c, out);
}

leal_err issuance_topup(struct issuance *is, struct reader *r, int64_t cents,
                        struct issuance_card *out)
{
    struct issuance_contact c;
    const struct issuance_card_ops *ops;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = contact_open(&c, is, r, &ops)) != LEAL_OK)
        return err;
    return ops->topup(&c, cents, out);
}

leal_err issuance_sync(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    struct issuance_contact c;
    const struct issuance_card_ops *ops;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = contact_open(&c, is, r, &ops)) != LEAL_OK)
        return err;
    return ops->sync(&c, out);
}

leal_err issuance_empty_old(struct issuance *is, struct reader *r, int64_t old_card_id,
                            struct issuance_card *out)
{
    struct issuance_contact c;
    const struct issuance_card_ops *ops;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = contact_open(&c, is, r, &ops)) != LEAL_OK)
        return err;
    return ops->empty_old(&c, old_card_id, out);
}

leal_err issuance_erase(struct issuance *is, struct reader *r, struct issuance_card *out)
{
    struct issuance_contact c;
    const struct issuance_card_ops *ops;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = contact_open(&c, is, r, &ops)) != LEAL_OK)
        return err;
    return ops->erase(&c, out);
}

leal_err issuance_account_program(struct issuance *is, int64_t account_id)
{
    struct ledger_account a;
    leal_err err = ledger_account_get(is->ledger, account_id, &a);
    if (err == LEAL_OK && a.program_id != (int64_t)is->program_id)
        err = LEAL_E_WRONG_PROGRAM;
    return err;
}

leal_err issuance_issue(struct issuance *is, struct reader *r, const struct issuance_request *req,
                        struct issuance_card *out)
{
    struct issuance_contact c;
    const struct issuance_card_ops *ops;
    int64_t share;
    leal_err err;

    memset(out, 0, sizeof *out);
    /* The card is made with is->program_id's keys: never for another program's account. */
    if ((err = issuance_account_program(is, req->account_id)) != LEAL_OK)
        return err;
    /* A replaced card's share must be known before any card is touched. */
    if (req->replacing && ((err = issuance_replaced_share(is, req, 0, "EUR", &share)) != LEAL_OK ||
                           (err = issuance_replaced_share(is, req, 0, "PTS", &share)) != LEAL_OK))
        return err;
    if ((err = contact_open(&c, is, r, &ops)) != LEAL_OK)
        return err;
    return ops->issue(&c, req, out);
}
