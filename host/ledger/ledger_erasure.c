/*
 * ledger_erasure.c - customers' erasure requests (see ledger_erasure.h).
 */
#include "ledger_erasure.h"

#include <string.h>

#include "store.h"

bool ledger_erasure_channel_ok(const char *channel)
{
    static const char *const ok[] = {"desk", "email", "post", "phone", "portal"};
    for (size_t i = 0; channel && i < sizeof ok / sizeof ok[0]; i++)
        if (strcmp(channel, ok[i]) == 0)
            return true;
    return false;
}

/* YYYY-MM-DD, a day of the Gregorian calendar. */
static bool day_ok(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int v[3] = {0, 0, 0};
    if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0, k = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            k++;
            continue;
        }
        if (s[i] < '0' || s[i] > '9')
            return false;
        v[k] = v[k] * 10 + (s[i] - '0');
    }
    if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > mdays[v[1] - 1])
        return false;
    return v[1] != 2 || v[2] < 29 || (v[0] % 4 == 0 && (v[0] % 100 != 0 || v[0] % 400 == 0));
}

leal_err ledger_erasure_request(struct ledger *l, const struct ledger_erasure *r, int64_t *id)
{
    struct store_stmt *st;
    leal_err err;
    int64_t pending = 0;
    *id = 0;
    if (!day_ok(r->asked_on)) {
        store_set_msg(l, "the day the customer asked, '%s'", r->asked_on);
        return LEAL_E_DATE;
    }
    if (!ledger_erasure_channel_ok(r->channel))
        return LEAL_E_ARG;
    if ((err = ledger_text_ok(l, "recorded by", r->recorded_by)) != LEAL_OK)
        return err;
    if ((err = store_tx_begin(l)) != LEAL_OK)
        return err;
    err = store_find_row(l, "SELECT erased_at IS NOT NULL FROM customer WHERE id = ?1",
                         r->customer_id, "customer", &st);
    if (err == LEAL_OK) {
        if (store_col_i64(st, 0)) {
            store_set_msg(l, "customer %lld was erased", (long long)r->customer_id);
            err = LEAL_E_STATE;
        }
        store_finalize(st);
    }
    if (err == LEAL_OK)
        err = store_query_int(l,
                              "SELECT count(*) FROM erasure_request WHERE customer_id = ?1 AND "
                              "done_at IS NULL",
                              I64S(r->customer_id), &pending);
    if (err == LEAL_OK && pending)
        err = LEAL_E_ERASURE_PENDING;
    if (err == LEAL_OK)
        err = store_write(l,
                          "INSERT INTO erasure_request(customer_id, asked_on, channel, user_id, "
                          "recorded_by, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                          SVALS(SV_I64(r->customer_id), SV_TEXT(r->asked_on), SV_TEXT(r->channel),
                                SV_I64_OR_NULL(r->user_id), SV_TEXT(r->recorded_by),
                                SV_I64(ledger_now())),
                          id);
    return store_tx_end_id(l, err, id);
}

leal_err ledger_erasure_of(struct ledger *l, int64_t customer_id, struct ledger_erasure *out,
                           bool *found)
{
    struct store_stmt *st;
    leal_err err = store_prep_i64(l,
                                  "SELECT id, customer_id, asked_on, channel, coalesce(user_id, "
                                  "0), recorded_by, recorded_at, coalesce(done_at, 0), "
                                  "coalesce(done_by, '') FROM erasure_request WHERE "
                                  "customer_id = ?1 ORDER BY id DESC LIMIT 1",
                                  &st, I64S(customer_id));
    memset(out, 0, sizeof *out);
    *found = false;
    if (err != LEAL_OK)
        return err;
    if (store_next_row(l, st, &err)) {
        *found = true;
        out->id = store_col_i64(st, 0);
        out->customer_id = store_col_i64(st, 1);
        store_col_text(st, 2, out->asked_on, sizeof out->asked_on);
        store_col_text(st, 3, out->channel, sizeof out->channel);
        out->user_id = store_col_i64(st, 4);
        store_col_text(st, 5, out->recorded_by, sizeof out->recorded_by);
        out->recorded_at = store_col_i64(st, 6);
        out->done_at = store_col_i64(st, 7);
        store_col_text(st, 8, out->done_by, sizeof out->done_by);
    }
    store_finalize(st);
    return err;
}
