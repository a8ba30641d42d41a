/* sync_ledger.c - the import's bench and fuzz ledger (sync_ledger.h). */
#include "tests/lib/sync_ledger.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tests/lib/ledger_cards.h"

/* The account's seed: euros from cash, points from adjustments, written on
 * its card at issuance (the journals' cards start with them), so a request
 * id of the card's: reconciliation does not count them as waiting for it. */
static leal_err seed(struct ledger *l, const struct sync_ledger_spec *s, int64_t account, int c)
{
    struct ledger_line lines[4];
    struct ledger_entry e;
    int64_t cash, adjust, entry;
    size_t n = 0;
    char req[32];
    bool rep;
    leal_err err;
    if (s->seed_cents == 0 && s->seed_points == 0)
        return LEAL_OK;
    if ((err = ledger_program_account(l, SYNC_LEDGER_PROGRAM, "cash", &cash)) != LEAL_OK ||
        (err = ledger_program_account(l, SYNC_LEDGER_PROGRAM, "adjustments", &adjust)) != LEAL_OK)
        return err;
    memset(lines, 0, sizeof lines);
    if (s->seed_cents) {
        lines[n] = (struct ledger_line){.account_id = account, .amount = s->seed_cents};
        snprintf(lines[n++].asset, sizeof lines[0].asset, "EUR");
        lines[n] = (struct ledger_line){.account_id = cash, .amount = -s->seed_cents};
        snprintf(lines[n++].asset, sizeof lines[0].asset, "EUR");
    }
    if (s->seed_points) {
        lines[n] = (struct ledger_line){.account_id = account, .amount = s->seed_points};
        snprintf(lines[n++].asset, sizeof lines[0].asset, "PTS");
        lines[n] = (struct ledger_line){.account_id = adjust, .amount = -s->seed_points};
        snprintf(lines[n++].asset, sizeof lines[0].asset, "PTS");
    }
    snprintf(req, sizeof req, "card:%lld:seed", (long long)(s->first_card + c));
    memset(&e, 0, sizeof e);
    e.program_id = SYNC_LEDGER_PROGRAM;
    e.kind = "topup";
    e.request_id = req;
    e.operator_name = "test";
    e.reason = "seed";
    e.nlines = n;
    e.lines = lines;
    return ledger_post(l, &e, &entry, &rep);
}

/* Customer c with card first_card + c, seeded. */
static leal_err customer(struct ledger *l, const struct sync_ledger_spec *s, int c)
{
    int64_t account;
    leal_err err = ledger_fixture_customer(l, SYNC_LEDGER_PROGRAM, s->first_card + c, c, &account);
    return err == LEAL_OK ? seed(l, s, account, c) : err;
}

static leal_err fill(struct ledger *l, const struct sync_ledger_spec *s)
{
    struct ledger_program p;
    int64_t id, store = 0;
    leal_err err = LEAL_OK;
    memset(&p, 0, sizeof p);
    p.id = SYNC_LEDGER_PROGRAM;
    snprintf(p.code, sizeof p.code, "%s", s->code);
    snprintf(p.name, sizeof p.name, "%s", s->code);
    p.kind = s->kind;
    p.points_per_euro_milli = 1000;
    if ((err = ledger_program_create(l, &p, &id)) != LEAL_OK ||
        (err = ledger_batch_begin(l)) != LEAL_OK)
        return err;
    for (unsigned t = 0; err == LEAL_OK && t < s->terminals; t++) {
        char code[16];
        snprintf(code, sizeof code, "s%u", t / 5);
        if (t % 5 == 0)
            err = ledger_store_add(l, SYNC_LEDGER_PROGRAM, code, code, "Europe/Madrid", &store);
        if (err == LEAL_OK)
            err = ledger_terminal_add(l, store, code, &id);
    }
    for (unsigned c = 0; err == LEAL_OK && c < s->customers; c++)
        err = customer(l, s, (int)c);
    if (err != LEAL_OK) {
        ledger_batch_rollback(l);
        return err;
    }
    return ledger_batch_commit(l);
}

leal_err sync_ledger_make(const char *path, const struct sync_ledger_spec *s, struct ledger **out)
{
    leal_err err = ledger_open(path, out);
    if (err == LEAL_OK && (err = fill(*out, s)) != LEAL_OK) {
        ledger_close(*out);
        *out = NULL;
    }
    return err;
}
