/* ledger_terminal.c - terminal journal entries taken into the ledger (ledger_terminal.h). */
#include "ledger_terminal.h"

#include "ledger_host_change.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/base/ct.h"
#include "ledger_bono.h"
#include "ledger_qr.h"
#include "ledger_reward.h"
#include "ledger_rules.h"
#include "ledger_sale.h"
#include "store.h"

#define TE_GET_SQL                                                                                 \
    "SELECT mac, outcome, coalesce(entry_id, 0), raw FROM terminal_entry WHERE terminal_id = ?1 "  \
    "AND epoch = ?2 AND seq = ?3"
#define TE_INSERT_SQL STORE_TE_INSERT " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
#define TE_UNDONE_SQL                                                                              \
    "UPDATE terminal_entry SET outcome = 'undone' WHERE terminal_id = ?1 AND epoch = ?2 AND seq "  \
    "= "                                                                                           \
    "?3 AND outcome IN ('posted','held')"
#define TE_REVERSED_SQL                                                                            \
    "UPDATE terminal_entry SET outcome = 'undone' WHERE terminal_id = ?1 AND epoch = ?2 AND seq "  \
    "= ?3 AND outcome IN ('posted','held','recorded')"
#define TE_HOST_BEFORE_SQL                                                                         \
    "UPDATE terminal_entry SET host_before = ?4 WHERE terminal_id = ?1 AND epoch = ?2 AND seq = "  \
    "?3"
#define TE_HOST_GET_SQL                                                                            \
    "SELECT host_before, raw FROM terminal_entry WHERE terminal_id = ?1 AND epoch = ?2 AND seq = " \
    "?3 AND host_before IS NOT NULL"
#define TE_ANY_SQL                                                                                 \
    "SELECT count(*) FROM (SELECT 1 FROM terminal_entry WHERE terminal_id = ?1 LIMIT 1) AS x"
#define TE_RANGE_SQL                                                                               \
    "SELECT count(*) FROM (SELECT 1 FROM terminal_entry WHERE terminal_id = ?1 AND epoch = ?2 "    \
    "AND seq BETWEEN ?3 AND ?4 LIMIT 1) AS x"
#define TE_LAST_SQL                                                                                \
    "SELECT epoch, seq, key_version, mac FROM terminal_entry WHERE terminal_id = ?1 ORDER BY "     \
    "epoch DESC, seq DESC LIMIT 1"
#define FINDING_SQL                                                                                \
    "INSERT INTO sync_finding(at, terminal_id, epoch, seq, card_id, kind, detail) "                \
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING"
#define FINDINGS_SQL "SELECT count(*) FROM sync_finding WHERE terminal_id = ?1"
#define LINES_SQL "SELECT account_id, asset, amount FROM line WHERE entry_id = ?1 ORDER BY id"
/* CROSS JOIN keeps terminal_entry first, walked through its partial index of
 * held rows (few), already in this order: left to choose, the planner
 * started from the program's stores and read every taken entry of their
 * terminals, raw bytes and all, at each import (a tenth of bench_sync). */
#define HELD_SQL                                                                                   \
    "SELECT x.raw FROM terminal_entry x CROSS JOIN terminal t ON t.id = x.terminal_id CROSS JOIN " \
    "store s ON s.id = t.store_id WHERE x.outcome = 'held' AND s.program_id = ?1 ORDER BY x.at, "  \
    "x.terminal_id, x.epoch, x.seq LIMIT 256"
#define TE_POSTED_SQL                                                                              \
    "UPDATE terminal_entry SET outcome = 'posted', entry_id = ?4 WHERE terminal_id = ?1 AND "      \
    "epoch = ?2 AND seq = ?3"
#define PACKAGE_RULES_SQL                                                                          \
    "SELECT rules_version FROM package_rules WHERE terminal_id = ?1 AND version = ?2"
#define RULES_NEWEST_SQL "SELECT coalesce(max(version), 0) FROM rule_set WHERE program_id = ?1"
#define EPOCH_RAISE_SQL "UPDATE terminal SET epoch = ?2 WHERE id = ?1 AND epoch < ?2"

static const char *const outcome_names[] = {"", "posted", "recorded", "held"};

leal_err ledger_terminal_accounts_get(struct ledger *l, int64_t program_id,
                                      struct ledger_terminal_accounts *out)
{
    leal_err err;
    memset(out, 0, sizeof *out);
    out->program_id = program_id;
    struct rules_program rp;
    uint32_t version;
    if ((err = ledger_program_account(l, program_id, "cash", &out->cash)) != LEAL_OK ||
        (err = ledger_program_account(l, program_id, "stamps_redeemed", &out->stamps_redeemed)) !=
            LEAL_OK ||
        (err = ledger_rules_load(l, program_id, &rp, &version)) != LEAL_OK ||
        (err = ledger_program_account(l, program_id, "points_issued", &out->points_issued)) !=
            LEAL_OK ||
        (err = ledger_program_account(l, program_id, "points_redeemed", &out->points_redeemed)) !=
            LEAL_OK)
        return err;
    out->n_stamps = rp.n_stamps;
    for (unsigned i = 0; i < rp.n_stamps && i < RULES_STAMP_CARDS; i++)
        out->stamp_goal[i] = rp.stamps[i].goal;
    return ledger_program_account(l, program_id, "stamps_issued", &out->stamps_issued);
}

/* A taken entry: *found 0 when (terminal, epoch, seq) was never taken. */
struct te_row {
    int found;
    uint8_t mac[JOURNAL_MAC_LEN];
    char outcome[12];
    int64_t entry_id;
    uint8_t raw[JOURNAL_ENTRY_MAX];
    size_t raw_len;
};

static leal_err te_get(struct ledger *l, int64_t terminal, uint32_t epoch, uint32_t seq,
                       struct te_row *r)
{
    struct store_stmt *st;
    leal_err err = store_prep_i64(l, TE_GET_SQL, &st, I64S(terminal, epoch, seq));
    memset(r, 0, sizeof *r);
    if (err != LEAL_OK)
        return err;
    err = store_step(l, st, &r->found);
    if (err == LEAL_OK && r->found) {
        int n = store_col_bytes(st, 0), m = store_col_bytes(st, 3);
        if (n == JOURNAL_MAC_LEN)
            memcpy(r->mac, store_col_blob(st, 0), JOURNAL_MAC_LEN);
        store_col_text(st, 1, r->outcome, sizeof r->outcome);
        r->entry_id = store_col_i64(st, 2);
        if (m > 0 && (size_t)m <= sizeof r->raw) {
            memcpy(r->raw, store_col_blob(st, 3), (size_t)m);
            r->raw_len = (size_t)m;
        }
    }
    store_finalize(st);
    return err;
}

leal_err ledger_terminal_finding(struct ledger *l, int64_t terminal_id,
                                 const struct ledger_terminal_at *at, const char *kind,
                                 const char *detail)
{
    return store_write(l, FINDING_SQL,
                       SVALS(SV_I64(ledger_now()), SV_I64(terminal_id), SV_I64(at->epoch),
                             SV_I64(at->seq), SV_I64_OR_NULL(at->card_id), SV_TEXT(kind),
                             SV_TEXT(detail)),
                       NULL);
}

/* A finding about an entry, naming its card when it has one. */
static leal_err entry_finding(struct ledger *l, const struct journal_entry *e, const char *kind,
                              const char *detail)
{
    return store_write(l, FINDING_SQL,
                       SVALS(SV_I64(ledger_now()), SV_I64(e->terminal_id), SV_I64(e->epoch),
                             SV_I64(e->seq), SV_I64_OR_NULL((int64_t)e->card_id), SV_TEXT(kind),
                             SV_TEXT(detail)),
                       NULL);
}

/* A customer line and its program-side counterpart: the customer's account
 * moves by amount (either sign), other by its opposite. */
struct lines {
    struct ledger_line v[8];
    size_t n;
    /* A bono use: the revenue its lines recognise (a void of one: that
     * revenue given back, negative), taken off what bono_id defers. */
    int64_t bono_revenue;
    uint32_t bono_id;
    int64_t stamp_rewards; /* stamp rewards granted (the entry's reason says so) */
};

static void pair(struct lines *ls, int64_t account, int64_t other, const char *asset,
                 int64_t amount)
{
    if (amount == 0 || ls->n + 2 > sizeof ls->v / sizeof ls->v[0])
        return;
    memset(&ls->v[ls->n], 0, 2 * sizeof ls->v[0]);
    ls->v[ls->n].account_id = account;
    ls->v[ls->n].amount = amount;
    snprintf(ls->v[ls->n].asset, LEDGER_MAX_ASSET, "%s", asset);
    ls->v[ls->n + 1].account_id = other;
    ls->v[ls->n + 1].amount = -amount;
    snprintf(ls->v[ls->n + 1].asset, LEDGER_MAX_ASSET, "%s", asset);
    ls->n += 2;
}

/* The card's account in this program, or *account 0 and why. */
static leal_err card_account(struct ledger *l, const struct journal_entry *e, int64_t program,
                             int64_t *account, char *why, size_t cap)
{
    struct txc_slot *c;
    int64_t prog = 0;
    int row = 0;
    leal_err err;
    *account = 0;
    if (e->card_id == 0 || e->card_id > INT64_MAX) {
        snprintf(why, cap, "entry names no card the ledger can hold (%llu)",
                 (unsigned long long)e->card_id);
        return LEAL_OK;
    }
    err = store_card_get(l, (int64_t)e->card_id, &c, &row);
    if (err == LEAL_OK && row) {
        *account = c->v;
        prog = c->v2;
    }
    if (err == LEAL_OK && !row)
        snprintf(why, cap, "card %llu is not in the ledger", (unsigned long long)e->card_id);
    else if (err == LEAL_OK && prog != program) {
        snprintf(why, cap, "card %llu is in program %lld, not %lld", (unsigned long long)e->card_id,
                 (long long)prog, (long long)program);
        *account = 0;
    }
    return err;
}

/* A void's lines, and a SETTLE's whose operation did not reach the card:
 * the negation of what the entry it names posted (nothing when that entry
 * moved nothing). A bono use undone gives its revenue back to what the
 * holding defers (the euros line into bonos_revenue, negated). */
static leal_err void_lines(struct ledger *l, const struct journal_entry *e, struct lines *ls,
                           int64_t *reverses)
{
    struct te_row r;
    struct journal_entry was;
    struct store_stmt *st;
    bool bono;
    leal_err err;
    *reverses = 0;
    if ((err = te_get(l, e->terminal_id, e->ref_epoch, e->ref_seq, &r)) != LEAL_OK)
        return err;
    if (!r.found || r.entry_id == 0)
        return LEAL_OK;
    bono = journal_entry_decode(r.raw, r.raw_len, &was) == LEAL_OK && was.op == JOURNAL_OP_BONO;
    if ((err = store_prep_i64(l, LINES_SQL, &st, I64S(r.entry_id))) != LEAL_OK)
        return err;
    while (store_next_row(l, st, &err) && ls->n < sizeof ls->v / sizeof ls->v[0]) {
        struct ledger_line *ln = &ls->v[ls->n++];
        memset(ln, 0, sizeof *ln);
        ln->account_id = store_col_i64(st, 0);
        store_col_text(st, 1, ln->asset, sizeof ln->asset);
        ln->amount = -store_col_i64(st, 2);
        if (bono && strcmp(ln->asset, "EUR") == 0 && ln->amount < 0) {
            ls->bono_revenue = ln->amount;
            ls->bono_id = was.item;
        }
    }
    store_finalize(st);
    *reverses = r.entry_id;
    return err;
}

/* Stamps given on stamp card i (0-based) and the goal of each of rewards
 * stamp rewards taken back for the reward. */
static void stamps(struct lines *ls, const struct ledger_terminal_accounts *a, int64_t account,
                   unsigned i, int64_t given, int64_t rewards)
{
    char asset[LEDGER_MAX_ASSET];
    ledger_stamp_asset(i, asset);
    pair(ls, account, a->stamps_issued, asset, given);
    if (i < a->n_stamps)
        pair(ls, account, a->stamps_redeemed, asset, -rewards * a->stamp_goal[i]);
}

/* The stamp rewards a QR entry's stamps complete on stamp card i. The
 * terminal cannot see the account (JOURNAL.md "QR entries"), so the host
 * grants them here, from the account's count before the entry plus the
 * stamps it gave, by the engine's arithmetic (rules.c earn_stamps,
 * terminal.c plan_stamp: one reward per goal reached, the remainder stays):
 * the goal's stamps go to stamps_redeemed in the entry that books the
 * stamp, as a card tap's reward does. Entries are posted in their
 * terminal's order, each once, so a reward is granted once. */
static leal_err qr_stamp_rewards(struct ledger *l, const struct ledger_terminal_accounts *a,
                                 int64_t account, unsigned i, int64_t given, int64_t *rewards)
{
    char asset[LEDGER_MAX_ASSET];
    int64_t before = 0;
    leal_err err;
    *rewards = 0;
    if (i >= a->n_stamps || a->stamp_goal[i] == 0 || given <= 0)
        return LEAL_OK;
    ledger_stamp_asset(i, asset);
    if ((err = ledger_balance(l, account, asset, &before)) != LEAL_OK)
        return err;
    *rewards = ((before > 0 ? before : 0) + given) / a->stamp_goal[i];
    return LEAL_OK;
}

/* An earn's stamps: the entry gives their sum over the stamp cards (and the
 * rewards' sum in item; a QR entry's the host grants), so they are booked
 * only when there is one card. */
static leal_err earn_stamps(struct ledger *l, struct lines *ls,
                            const struct ledger_terminal_accounts *a, int64_t account,
                            const struct journal_entry *e)
{
    int64_t rewards = (int64_t)e->item;
    leal_err err;
    if (a->n_stamps != 1 || e->quantity <= 0)
        return LEAL_OK;
    if (e->card_kind == JOURNAL_CARD_QR &&
        (err = qr_stamp_rewards(l, a, account, 0, e->quantity, &rewards)) != LEAL_OK)
        return err;
    stamps(ls, a, account, 0, e->quantity, rewards);
    ls->stamp_rewards = rewards;
    return LEAL_OK;
}

/* A stamp: a card's reward was granted exactly when its stamps after are 0
 * (JOURNAL.md); a QR stamp's the host grants. */
static leal_err stamp_lines(struct ledger *l, struct lines *ls,
                            const struct ledger_terminal_accounts *a, int64_t account,
                            const struct journal_entry *e)
{
    int64_t rewards = e->quantity > 0 && e->stamps_after[e->item] == 0;
    leal_err err;
    if (e->item >= RULES_STAMP_CARDS)
        return LEAL_OK;
    if (e->card_kind == JOURNAL_CARD_QR &&
        (err = qr_stamp_rewards(l, a, account, e->item, e->quantity, &rewards)) != LEAL_OK)
        return err;
    stamps(ls, a, account, e->item, e->quantity, rewards);
    ls->stamp_rewards = rewards;
    return LEAL_OK;
}

/* A bono session used at the terminal, booked as the desk books one
 * (host/ledger/ledger_bono.h): the session off the account and its revenue
 * recognised. */
static leal_err bono_lines(struct ledger *l, const struct ledger_terminal_accounts *a,
                           int64_t account, const struct journal_entry *e, struct lines *ls)
{
    struct ledger_bono_use u;
    leal_err err;
    if (e->quantity <= 0 || e->item == 0)
        return LEAL_OK;
    memset(&u, 0, sizeof u);
    u.program_id = a->program_id;
    u.account_id = account;
    u.bono_id = e->item;
    u.sessions = e->quantity;
    if ((err = ledger_bono_use_lines(l, &u)) != LEAL_OK)
        return err;
    for (size_t i = 0; i < u.nlines && ls->n < sizeof ls->v / sizeof ls->v[0]; i++)
        ls->v[ls->n++] = u.lines[i];
    ls->bono_revenue = u.revenue_cents;
    ls->bono_id = e->item;
    return LEAL_OK;
}

/* Reward id's cashback (cents) in version v of the program's rules: 0 when
 * that set has no such cashback reward. */
static leal_err cashback_in(struct ledger *l, int64_t program, uint32_t v, uint32_t id,
                            int64_t *cents)
{
    struct ledger_rules r;
    leal_err err;
    *cents = 0;
    if (v == 0) /* no rule set: no rewards (ledger_rules_get's 0 is today's) */
        return LEAL_OK;
    if ((err = ledger_rules_get(l, program, v, &r)) != LEAL_OK)
        return err;
    for (unsigned i = 0; i < r.set.program.n_rewards && i < RULES_MAX_REWARDS; i++)
        if (r.set.program.rewards[i].id == id &&
            r.set.program.rewards[i].kind == RULES_REWARD_CASHBACK)
            *cents = r.set.program.rewards[i].value;
    return LEAL_OK;
}

/* The rule-set version package e->package_version of e's terminal carried
 * (*row 0: not recorded), read once a batch (TXC_PACKAGE_RULES): an
 * import's redeems ask again and again, and it never writes package_rules. */
static leal_err package_rules_of(struct ledger *l, const struct journal_entry *e, uint32_t *v,
                                 int *row)
{
    struct txc_slot *s = NULL;
    struct store_stmt *st;
    char key[16];
    int fresh = 1;
    leal_err err;
    *v = 0;
    *row = 0;
    snprintf(key, sizeof key, "%u", e->package_version);
    if (l->in_batch != BATCH_NONE &&
        (err = store_txc_get(l, TXC_PACKAGE_RULES, e->terminal_id, key, &s, &fresh)) != LEAL_OK)
        return err;
    if (!fresh) {
        *v = (uint32_t)s->v;
        *row = (int)s->v2;
        return LEAL_OK;
    }
    if ((err = store_prep_i64(l, PACKAGE_RULES_SQL, &st,
                              I64S(e->terminal_id, e->package_version))) != LEAL_OK)
        return err;
    err = store_step(l, st, row);
    if (err == LEAL_OK && *row)
        *v = (uint32_t)store_col_i64(st, 0);
    store_finalize(st);
    if (err == LEAL_OK && s != NULL) {
        s->v = *v;
        s->v2 = *row;
        store_txc_keep(l, s, TXC_PACKAGE_RULES, e->terminal_id, key);
    }
    return err;
}

/* The program's newest rule-set version (0: none), read once a batch
 * (TXC_RULES_NEWEST): an import never writes rule_set. */
static leal_err rules_newest(struct ledger *l, int64_t program, int64_t *newest)
{
    struct txc_slot *s = NULL;
    int fresh = 1;
    leal_err err;
    if (l->in_batch != BATCH_NONE &&
        (err = store_txc_get(l, TXC_RULES_NEWEST, program, "", &s, &fresh)) != LEAL_OK)
        return err;
    if (!fresh) {
        *newest = s->v;
        return LEAL_OK;
    }
    err = store_query_int(l, RULES_NEWEST_SQL, I64S(program), newest);
    if (err == LEAL_OK && s != NULL) {
        s->v = *newest;
        store_txc_keep(l, s, TXC_RULES_NEWEST, program, "");
    }
    return err;
}

/* A reward redeemed at the terminal, booked as the desk's `leal reward
 * redeem` books it (ledger_reward.h): its cost to points_redeemed, and for a
 * cashback reward its euros owed to the account (CASHBACK, from the
 * program's cashback_owed). The value is the reward's in the rule set of
 * the package the entry names (package_rules), never the card's word nor
 * today's rules. A package the ledger has no record of, when some version
 * of the program's rules made that reward a cashback, is refused (held):
 * its value is not known, and guessing it would make or lose euros. */
static leal_err redeem_lines(struct ledger *l, const struct ledger_terminal_accounts *a,
                             int64_t account, const struct journal_entry *e, struct lines *ls)
{
    int64_t cents = 0, owed, newest = 0;
    uint32_t v = 0;
    int row = 0;
    char hold[LEDGER_MAX_ASSET];
    leal_err err;
    if (e->card_kind == JOURNAL_CARD_QR) {
        /* A phone's redeem is paid from its hold, never from PTS (the
         * terminal could not see PTS): out of the hold through
         * points_issued, where the hold came from, into points_redeemed.
         * A hold that does not cover it refuses the post (held). */
        ledger_qr_hold_asset(e->card_id, hold);
        pair(ls, account, a->points_issued, hold, e->points);
        pair(ls, a->points_issued, a->points_redeemed, "PTS", e->points);
    } else {
        pair(ls, account, a->points_redeemed, "PTS", e->points);
    }
    if ((err = package_rules_of(l, e, &v, &row)) != LEAL_OK)
        return err;
    if (row) {
        err = cashback_in(l, a->program_id, v, e->item, &cents);
    } else {
        err = rules_newest(l, a->program_id, &newest);
        for (int64_t i = newest; err == LEAL_OK && i > 0 && cents == 0; i--)
            err = cashback_in(l, a->program_id, (uint32_t)i, e->item, &cents);
        if (err == LEAL_OK && cents > 0) {
            store_set_msg(l,
                          "package %u of terminal %u is not in the ledger, so the cashback of "
                          "reward %u redeemed under it is not known: held until that package's "
                          "rule set is recorded (package_rules)",
                          e->package_version, e->terminal_id, e->item);
            return LEAL_E_UNKNOWN_ID;
        }
    }
    if (err != LEAL_OK || cents <= 0)
        return err;
    if ((err = ledger_reward_cashback_account(l, a->program_id, &owed)) != LEAL_OK)
        return err;
    pair(ls, account, owed, "CASHBACK", cents);
    return LEAL_OK;
}

/* What an operation moves; ls->n 0 when nothing. */
static leal_err op_lines(struct ledger *l, const struct ledger_terminal_accounts *a,
                         const struct journal_entry *e, int64_t account, struct lines *ls,
                         int64_t *reverses)
{
    *reverses = 0;
    switch (e->op) {
    case JOURNAL_OP_EARN:
        pair(ls, account, a->points_issued, "PTS", e->points);
        return earn_stamps(l, ls, a, account, e);
    case JOURNAL_OP_PAY:
        pair(ls, account, a->cash, "EUR", -(int64_t)e->purse_cents);
        break;
    case JOURNAL_OP_PAY_EARN:
        pair(ls, account, a->cash, "EUR", -(int64_t)e->purse_cents);
        pair(ls, account, a->points_issued, "PTS", e->points);
        return earn_stamps(l, ls, a, account, e);
    case JOURNAL_OP_REDEEM:
        return redeem_lines(l, a, account, e, ls);
    case JOURNAL_OP_STAMP:
        return stamp_lines(l, ls, a, account, e);
    case JOURNAL_OP_VOID:
        return void_lines(l, e, ls, reverses);
    case JOURNAL_OP_SETTLE:
        return e->item == JOURNAL_SETTLED_NOT_DONE ? void_lines(l, e, ls, reverses) : LEAL_OK;
    case JOURNAL_OP_BONO:
        return bono_lines(l, a, account, e, ls);
    default:
        break;
    }
    return LEAL_OK;
}

static const char *op_kind(uint8_t op)
{
    switch (op) {
    case JOURNAL_OP_PAY:
    case JOURNAL_OP_PAY_EARN:
        return "spend";
    case JOURNAL_OP_REDEEM:
        return "redeem";
    case JOURNAL_OP_VOID:
    case JOURNAL_OP_SETTLE:
        return "void";
    default:
        return "earn";
    }
}

static const char *op_reason(uint8_t op)
{
    static const char *const r[] = {"",
                                    "terminal earn",
                                    "terminal purse payment",
                                    "terminal purse payment and earn",
                                    "terminal reward redeemed",
                                    "terminal stamp",
                                    "terminal bono session",
                                    "terminal void"};
    if (op == JOURNAL_OP_SETTLE)
        return "terminal operation that did not reach the card";
    return op < sizeof r / sizeof r[0] ? r[op] : "terminal";
}

/* The ledger's refusals of a post: the entry is held, the import goes on. */
static bool refusal(leal_err err)
{
    return err == LEAL_E_INSUFFICIENT_FUNDS || err == LEAL_E_UNKNOWN_ID ||
           err == LEAL_E_WRONG_PROGRAM || err == LEAL_E_ALREADY_VOIDED ||
           err == LEAL_E_VOID_OF_VOID || err == LEAL_E_IDEMPOTENCY_CONFLICT ||
           err == LEAL_E_UNBALANCED || err == LEAL_E_AMOUNT_RANGE || err == LEAL_E_AMOUNT ||
           err == LEAL_E_ASSET;
}

/* Posts operation e (keyed by its own terminal, epoch and sequence):
 * POSTED, RECORDED (nothing moves) or HELD (the ledger refused). */
static leal_err post_op(struct ledger *l, const struct ledger_terminal_accounts *a,
                        const struct journal_entry *e, struct ledger_terminal_out *out)
{
    struct ledger_entry le;
    struct lines ls;
    char reason[96];
    int64_t account, reverses;
    bool replayed;
    leal_err err;

    memset(&ls, 0, sizeof ls);
    out->outcome = LEDGER_TERMINAL_HELD;
    if ((err = card_account(l, e, a->program_id, &account, out->why, sizeof out->why)) != LEAL_OK ||
        account == 0)
        return err;
    out->account = account;
    err = op_lines(l, a, e, account, &ls, &reverses);
    if (refusal(err)) {
        snprintf(out->why, sizeof out->why, "%s: %s", leal_strerror(err), ledger_errmsg(l));
        return LEAL_OK;
    }
    if (err != LEAL_OK)
        return err;
    out->outcome = LEDGER_TERMINAL_RECORDED;
    if (ls.n == 0)
        return LEAL_OK;
    memset(&le, 0, sizeof le);
    le.program_id = a->program_id;
    le.kind = op_kind(e->op);
    le.at = (int64_t)e->utc_seconds;
    le.terminal_id = e->terminal_id;
    le.terminal_epoch = e->epoch;
    le.terminal_seq = e->seq;
    le.reason = op_reason(e->op);
    if (ls.stamp_rewards > 0 && e->card_kind == JOURNAL_CARD_QR) {
        snprintf(reason, sizeof reason, "%s by QR code: stamp card reward granted", le.reason);
        le.reason = reason;
    }
    le.spend_cents =
        e->op == JOURNAL_OP_EARN || e->op == JOURNAL_OP_PAY_EARN ? (int64_t)e->amount_cents : 0;
    le.reverses = reverses;
    le.card_id = (int64_t)e->card_id;
    le.nlines = ls.n;
    le.lines = ls.v;
    err = ledger_post(l, &le, &out->entry_id, &replayed);
    if (refusal(err)) { /* refused before it wrote anything (the caller's checked batch) */
        out->outcome = LEDGER_TERMINAL_HELD;
        out->entry_id = 0;
        snprintf(out->why, sizeof out->why, "%s: %s", leal_strerror(err), ledger_errmsg(l));
        return LEAL_OK;
    }
    if (err != LEAL_OK)
        return err;
    /* The bono's deferred euros move with the post, in the same batch: once
     * the post is written a failure here is never a refusal (the entry held
     * with its post standing), it fails the caller's batch, which then keeps
     * nothing of it. */
    if (ls.bono_revenue != 0 && !replayed &&
        (err = ledger_bono_use_posted(l, account, ls.bono_id, ls.bono_revenue)) != LEAL_OK) {
        out->entry_id = 0;
        return err == LEAL_E_UNKNOWN_ID ? LEAL_E_LEDGER_BONO_DEFERRED : err;
    }
    out->outcome = LEDGER_TERMINAL_POSTED;
    return LEAL_OK;
}

static leal_err host_undo(struct ledger *l, const struct journal_entry *settle_e);

/* A SETTLE that says its operation did not reach the card: that entry's
 * movements reversed (keyed by the SETTLE), the entry marked undone, and
 * the host changes it carried waiting again (host_undo). One
 * that says it did changes nothing (the operation was posted when taken). */
static leal_err settle(struct ledger *l, const struct ledger_terminal_in *in,
                       struct ledger_terminal_out *out)
{
    const struct journal_entry *e = in->e;
    leal_err err;
    if (e->item != JOURNAL_SETTLED_NOT_DONE || e->ref_seq == 0)
        return LEAL_OK;
    if ((err = post_op(l, in->acc, e, out)) != LEAL_OK)
        return err;
    if (out->outcome == LEDGER_TERMINAL_HELD)
        return entry_finding(l, e, "held", out->why);
    out->undone = true;
    if ((err = host_undo(l, e)) != LEAL_OK)
        return err;
    return store_exec_i64(l, TE_UNDONE_SQL, I64S(e->terminal_id, e->ref_epoch, e->ref_seq));
}

/* Sequence 1: an epoch begins. The terminal's epoch in the ledger follows it
 * (its entries are keyed by it); a terminal the host has taken entries from
 * before, or whose journal says why it began again, is flagged. */
static leal_err epoch_begins(struct ledger *l, const struct journal_entry *e,
                             struct ledger_terminal_out *out)
{
    char detail[160];
    int64_t before = 0;
    leal_err err;
    if ((err = store_query_int(l, TE_ANY_SQL, I64S(e->terminal_id), &before)) != LEAL_OK ||
        (err = store_exec_i64(l, EPOCH_RAISE_SQL, I64S(e->terminal_id, e->epoch))) != LEAL_OK)
        return err;
    store_txc_terminal_moved(l, e->terminal_id);
    if (before == 0 && e->reason == 0)
        return LEAL_OK;
    snprintf(detail, sizeof detail,
             "epoch %u began (after epoch %u sequence %u; reason %u: %s): the terminal's journal "
             "restarted",
             e->epoch, e->ref_epoch, e->ref_seq, e->reason,
             e->reason ? leal_errname((leal_err)e->reason) : "blank storage");
    out->terminal_flagged = true;
    return entry_finding(l, e, "epoch", detail);
}

/* Where e stands against what was taken before it. */
static leal_err chain_check(struct ledger *l, const struct ledger_terminal_in *in,
                            struct ledger_terminal_out *out)
{
    const struct journal_entry *e = in->e;
    struct te_row r;
    leal_err err = LEAL_OK;
    r.found = 0;
    if (!in->untaken && (err = te_get(l, e->terminal_id, e->epoch, e->seq, &r)) != LEAL_OK)
        return err;
    if (r.found) {
        if (leal_ct_equal(r.mac, e->mac, JOURNAL_MAC_LEN)) {
            out->outcome = LEDGER_TERMINAL_DUPLICATE;
            return LEAL_OK;
        }
        out->outcome = LEDGER_TERMINAL_CONFLICT;
        snprintf(out->why, sizeof out->why,
                 "an entry with this key but another MAC was taken before (a wiped storage, or a "
                 "forgery)");
        out->terminal_flagged = true;
        return entry_finding(l, e, "conflict", out->why);
    }
    if (e->seq == 1)
        return epoch_begins(l, e, out);
    if (in->chained)
        return LEAL_OK;
    if ((err = te_get(l, e->terminal_id, e->epoch, e->seq - 1, &r)) != LEAL_OK)
        return err;
    if (!r.found) {
        out->outcome = LEDGER_TERMINAL_GAP;
        snprintf(out->why, sizeof out->why, "sequence %u was never taken: import it first",
                 e->seq - 1);
    } else if (!leal_ct_equal(r.mac, e->prev_mac, JOURNAL_MAC_LEN)) {
        out->outcome = LEDGER_TERMINAL_CONFLICT;
        snprintf(out->why, sizeof out->why,
                 "its previous MAC is not the MAC of sequence %u the host took", e->seq - 1);
    } else {
        return LEAL_OK;
    }
    out->terminal_flagged = true;
    return entry_finding(l, e, out->outcome == LEDGER_TERMINAL_GAP ? "gap" : "chain", out->why);
}

/* A card that shows more points or euros than its account holds. */
static leal_err card_check(struct ledger *l, const struct ledger_terminal_in *in,
                           struct ledger_terminal_out *out)
{
    const struct journal_entry *e = in->e;
    struct txc_slot *pts, *eur;
    char detail[200], why[8];
    int64_t account, points, euros;
    leal_err err;
    if (e->card_kind == JOURNAL_CARD_NONE)
        return LEAL_OK;
    account = out->account;
    if (account == 0 &&
        ((err = card_account(l, e, in->acc->program_id, &account, why, sizeof why)) != LEAL_OK ||
         account == 0))
        return err;
    if ((err = store_bal_get(l, account, "PTS", &pts)) != LEAL_OK)
        return err;
    points = pts->v;
    if ((err = store_bal_get(l, account, "EUR", &eur)) != LEAL_OK)
        return err;
    euros = eur->v;
    if ((int64_t)e->points_after <= points && (int64_t)e->purse_after <= euros)
        return LEAL_OK;
    snprintf(detail, sizeof detail,
             "card %llu shows %u points and %u cents; its account %lld holds %lld points and %lld "
             "cents",
             (unsigned long long)e->card_id, e->points_after, e->purse_after, (long long)account,
             (long long)points, (long long)euros);
    out->card_flagged = true;
    return entry_finding(l, e, "card_excess", detail);
}

/* A phone's redeem its hold does not cover (QR.md "Redeeming with a
 * spending code"): each terminal counted only its own journal, so two of
 * them together passed the points held. The entry stays held (never from
 * PTS), and the finding blocks the phone, which puts it on the hot list of
 * every package built after. */
static leal_err qr_over_redeem(struct ledger *l, const struct journal_entry *e,
                               struct ledger_terminal_out *out)
{
    struct ledger_card c;
    char detail[240];
    leal_err err = ledger_card_find_by_id(l, (int64_t)e->card_id, &c);
    if (err != LEAL_OK && err != LEAL_E_UNKNOWN_ID)
        return err;
    if (err == LEAL_OK && c.status != LEDGER_CARD_ACTIVE)
        /* Its hold was given back when the phone stopped (ledger_qr_release):
         * a redeem taken before that and imported after. */
        snprintf(detail, sizeof detail,
                 "qr_over_redeem: QR redeem of reward %u (%lld points) by virtual card %llu "
                 "imported after the phone was %s and its hold given back; entry held",
                 e->item, (long long)-e->points, (unsigned long long)e->card_id,
                 ledger_card_status_name(c.status));
    else
        snprintf(detail, sizeof detail,
                 "qr_over_redeem: QR redeem of reward %u (%lld points) by virtual card %llu "
                 "passes the points held for it (terminals together redeemed more than its "
                 "allowance); entry held, phone blocked",
                 e->item, (long long)-e->points, (unsigned long long)e->card_id);
    /* A held finding (sync_finding's kinds are fixed by its CHECK), named
     * qr_over_redeem in its detail and in the card's history. */
    if ((err = entry_finding(l, e, "held", detail)) != LEAL_OK)
        return err;
    out->card_flagged = true;
    if ((err = ledger_card_find_by_id(l, (int64_t)e->card_id, &c)) != LEAL_OK ||
        c.status != LEDGER_CARD_ACTIVE)
        return err == LEAL_E_UNKNOWN_ID ? LEAL_OK : err;
    return ledger_qr_card_status(l, (int64_t)e->card_id, LEDGER_CARD_BLOCKED,
                                 "qr_over_redeem: redeems passed the points held", "sync import");
}

/* What the entry's own operation does. */
static leal_err book(struct ledger *l, const struct ledger_terminal_in *in,
                     struct ledger_terminal_out *out)
{
    const struct journal_entry *e = in->e;
    leal_err err;
    out->outcome = LEDGER_TERMINAL_RECORDED;
    switch (e->op) {
    case JOURNAL_OP_EARN:
    case JOURNAL_OP_PAY:
    case JOURNAL_OP_PAY_EARN:
    case JOURNAL_OP_REDEEM:
    case JOURNAL_OP_STAMP:
    case JOURNAL_OP_BONO:
    case JOURNAL_OP_VOID:
        if ((err = post_op(l, in->acc, e, out)) != LEAL_OK)
            return err;
        if (out->outcome == LEDGER_TERMINAL_HELD && e->card_kind == JOURNAL_CARD_QR &&
            e->op == JOURNAL_OP_REDEEM)
            return qr_over_redeem(l, e, out);
        return out->outcome == LEDGER_TERMINAL_HELD ? entry_finding(l, e, "held", out->why)
                                                    : LEAL_OK;
    case JOURNAL_OP_SETTLE:
        return settle(l, in, out);
    case JOURNAL_OP_RECOVERY:
        out->terminal_flagged = true;
        return entry_finding(l, e, "recovery",
                             "an entry was lost to a power cut at the terminal; the card's own "
                             "counter tells what happened");
    default:
        return LEAL_OK;
    }
}

/* Host-decided changes the terminal applied at this tap (a JOURNAL_LINE_HOST
 * line, JOURNAL.md): the card's changes up to that entry no longer wait
 * (ledger_host_change.h). Nothing is posted: the ledger has them. */
static const struct journal_line *host_of(const struct journal_entry *e)
{
    const struct journal_line *h = e->n_lines ? &e->lines[e->n_lines - 1] : NULL;
    return h != NULL && h->source == JOURNAL_LINE_HOST ? h : NULL;
}

/* The card's synced entry from before is kept with the entry, for a settle
 * that later says the write never reached the card (host_undo). */
static leal_err host_line(struct ledger *l, const struct journal_entry *e,
                          const struct ledger_terminal_out *out)
{
    const struct journal_line *h = host_of(e);
    int64_t before = 0;
    leal_err err;
    if (h == NULL || out->account == 0)
        return LEAL_OK;
    if ((err = ledger_host_change_applied(l, (int64_t)e->card_id, h->id, &before)) != LEAL_OK)
        return err;
    return store_exec_i64(l, TE_HOST_BEFORE_SQL, I64S(e->terminal_id, e->epoch, e->seq, before));
}

/* The entry settle_e names carried host changes (a host line) that its
 * write never put on the card: they wait again (ledger_host_change_undone),
 * and the next package carries them at the card's unchanged taps. When a
 * later write moved the card's synced entry past them they cannot, and a
 * finding says so. */
static leal_err host_undo(struct ledger *l, const struct journal_entry *settle_e)
{
    const struct journal_line *h;
    struct journal_entry was;
    struct store_stmt *st;
    int64_t before = -1;
    bool restored = true;
    char detail[200];
    int row = 0;
    leal_err err =
        store_prep_i64(l, TE_HOST_GET_SQL, &st,
                       I64S(settle_e->terminal_id, settle_e->ref_epoch, settle_e->ref_seq));
    if (err != LEAL_OK)
        return err;
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row && store_col_bytes(st, 1) > 0 &&
        journal_entry_decode(store_col_blob(st, 1), (size_t)store_col_bytes(st, 1), &was) ==
            LEAL_OK)
        before = store_col_i64(st, 0);
    store_finalize(st);
    if (err != LEAL_OK || before < 0 || (h = host_of(&was)) == NULL || was.card_id == 0)
        return err;
    if ((err = ledger_host_change_undone(l, (int64_t)was.card_id, h->id, before, &restored)) !=
            LEAL_OK ||
        restored)
        return err;
    snprintf(detail, sizeof detail,
             "card %llu: host changes up to entry %lld (%+lld points) did not reach the card and a "
             "later write moved past them: check the card at the desk (leal card read)",
             (unsigned long long)was.card_id, (long long)h->id, (long long)h->points);
    return entry_finding(l, settle_e, "held", detail);
}

leal_err ledger_terminal_take(struct ledger *l, const struct ledger_terminal_in *in,
                              struct ledger_terminal_out *out)
{
    const struct journal_entry *e = in->e;
    struct store_te_row te;
    leal_err err;
    memset(out, 0, sizeof *out);
    if ((err = chain_check(l, in, out)) != LEAL_OK || out->outcome != 0)
        return err;
    /* On PostgreSQL the entry's post writes its row in its own statement
     * (store.h, struct store_te_row): one round trip less an entry. */
    te.terminal = e->terminal_id;
    te.epoch = e->epoch;
    te.seq = e->seq;
    te.op = e->op;
    te.card_id = (int64_t)e->card_id;
    te.at = (int64_t)e->utc_seconds;
    te.key_version = in->key_version;
    te.taken_at = ledger_now();
    te.mac = e->mac;
    te.mac_len = JOURNAL_MAC_LEN;
    te.raw = in->raw;
    te.raw_len = in->raw_len;
    te.entry_id = 0;
    l->te = l->pg != NULL ? &te : NULL;
    err = book(l, in, out);
    l->te = NULL;
    if (err != LEAL_OK)
        return err;
    if (te.entry_id == 0 || out->outcome != LEDGER_TERMINAL_POSTED || out->entry_id != te.entry_id)
        err = store_write(l, TE_INSERT_SQL,
                          SVALS(SV_I64(te.terminal), SV_I64(te.epoch), SV_I64(te.seq),
                                SV_I64(te.op), SV_I64_OR_NULL(te.card_id), SV_I64(te.at),
                                SV_I64(te.key_version), SV_BLOB(te.mac, te.mac_len),
                                SV_TEXT(outcome_names[out->outcome]), SV_I64_OR_NULL(out->entry_id),
                                SV_BLOB(te.raw, te.raw_len), SV_I64(te.taken_at)),
                          NULL);
    if (err != LEAL_OK || (err = host_line(l, e, out)) != LEAL_OK)
        return err;
    return card_check(l, in, out);
}

leal_err ledger_terminal_prefetch(struct ledger *l, const int64_t *cards, size_t n)
{
    return l->in_batch != BATCH_NONE ? store_txc_prefetch_cards(l, cards, n) : LEAL_OK;
}

leal_err ledger_terminal_untaken(struct ledger *l, int64_t terminal_id, uint32_t epoch,
                                 uint32_t first, uint32_t last, bool *untaken)
{
    int64_t n = 1;
    leal_err err = store_query_int(l, TE_RANGE_SQL, I64S(terminal_id, epoch, first, last), &n);
    *untaken = err == LEAL_OK && n == 0;
    if (*untaken && l->in_batch != BATCH_NONE) {
        l->untaken.terminal = terminal_id;
        l->untaken.epoch = epoch;
        l->untaken.first = first;
        l->untaken.last = last;
    }
    return err;
}

/* A held entry the ledger now takes: posted, marked, and a SETTLE's
 * operation marked undone. */
static leal_err retry_one(struct ledger *l, const struct ledger_terminal_accounts *a,
                          const uint8_t *raw, size_t len, uint32_t *posted)
{
    struct ledger_terminal_out o;
    struct journal_entry e;
    leal_err err;
    memset(&o, 0, sizeof o);
    if ((err = journal_entry_decode(raw, len, &e)) != LEAL_OK ||
        (err = post_op(l, a, &e, &o)) != LEAL_OK || o.outcome != LEDGER_TERMINAL_POSTED)
        return err;
    (*posted)++;
    if ((err = store_exec_i64(l, TE_POSTED_SQL, I64S(e.terminal_id, e.epoch, e.seq, o.entry_id))) !=
            LEAL_OK ||
        e.op != JOURNAL_OP_SETTLE || (err = host_undo(l, &e)) != LEAL_OK)
        return err;
    return store_exec_i64(l, TE_UNDONE_SQL, I64S(e.terminal_id, e.ref_epoch, e.ref_seq));
}

leal_err ledger_terminal_retry_held(struct ledger *l, const struct ledger_terminal_accounts *a,
                                    uint32_t *posted)
{
    /* Read them all first: posting changes the rows the query walks. */
    static const size_t cap = 256;
    uint8_t(*raw)[JOURNAL_ENTRY_MAX] = malloc(cap * JOURNAL_ENTRY_MAX);
    size_t len[256], n = 0;
    struct store_stmt *st;
    leal_err err;
    *posted = 0;
    if (raw == NULL)
        return LEAL_E_NO_MEMORY;
    if ((err = store_prep_i64(l, HELD_SQL, &st, I64S(a->program_id))) != LEAL_OK) {
        free(raw);
        return err;
    }
    while (store_next_row(l, st, &err) && n < cap) {
        int b = store_col_bytes(st, 0);
        if (b <= 0 || (size_t)b > JOURNAL_ENTRY_MAX)
            continue;
        memcpy(raw[n], store_col_blob(st, 0), (size_t)b);
        len[n++] = (size_t)b;
    }
    store_finalize(st);
    for (size_t i = 0; err == LEAL_OK && i < n; i++)
        err = retry_one(l, a, raw[i], len[i], posted);
    free(raw);
    return err;
}

leal_err ledger_terminal_reverse(struct ledger *l, const struct ledger_terminal_reversal *rq,
                                 int64_t *entry_id, bool *done)
{
    struct journal_entry s, was;
    struct ledger_entry le;
    struct txc_slot *c;
    struct te_row r;
    struct lines ls;
    int64_t reverses = 0;
    int row = 0;
    bool replayed = false;
    leal_err err;
    *entry_id = 0;
    *done = false;
    if ((err = te_get(l, rq->terminal_id, rq->epoch, rq->seq, &r)) != LEAL_OK)
        return err;
    if (!r.found || strcmp(r.outcome, "undone") == 0 ||
        journal_entry_decode(r.raw, r.raw_len, &was) != LEAL_OK || was.card_id == 0 ||
        was.card_id > INT64_MAX)
        return LEAL_OK;
    /* The SETTLE 'not done' the terminal could not write, as host_undo reads it. */
    memset(&s, 0, sizeof s);
    s.op = JOURNAL_OP_SETTLE;
    s.item = JOURNAL_SETTLED_NOT_DONE;
    s.terminal_id = (uint32_t)rq->terminal_id;
    s.epoch = rq->settle_seq != 0 ? rq->settle_epoch : rq->epoch;
    s.seq = rq->settle_seq != 0 ? rq->settle_seq : rq->seq;
    s.ref_epoch = rq->epoch;
    s.ref_seq = rq->seq;
    s.card_id = was.card_id;
    memset(&ls, 0, sizeof ls);
    if (strcmp(r.outcome, "posted") == 0 && (err = void_lines(l, &s, &ls, &reverses)) != LEAL_OK)
        return err;
    if (ls.n > 0) {
        if ((err = store_card_get(l, (int64_t)was.card_id, &c, &row)) != LEAL_OK)
            return err;
        if (!row) {
            store_set_msg(l, "card %llu is not in the ledger", (unsigned long long)was.card_id);
            return LEAL_E_UNKNOWN_ID;
        }
        memset(&le, 0, sizeof le);
        le.program_id = c->v2;
        le.kind = "void";
        le.terminal_id = rq->terminal_id;
        le.terminal_epoch = s.epoch;
        le.terminal_seq = rq->settle_seq != 0 ? (int64_t)s.seq : LEDGER_UNANSWERED_SEQ(rq->seq);
        le.operator_name = "reconcile";
        le.reason = rq->reason;
        le.reverses = reverses;
        le.card_id = (int64_t)was.card_id;
        le.nlines = ls.n;
        le.lines = ls.v;
        if ((err = ledger_post(l, &le, entry_id, &replayed)) != LEAL_OK) {
            *entry_id = 0;
            return err;
        }
        if (ls.bono_revenue != 0 && !replayed &&
            (err = ledger_bono_use_posted(l, c->v, ls.bono_id, ls.bono_revenue)) != LEAL_OK) {
            *entry_id = 0;
            return err == LEAL_E_UNKNOWN_ID ? LEAL_E_LEDGER_BONO_DEFERRED : err;
        }
    }
    if ((err = host_undo(l, &s)) != LEAL_OK ||
        (err = store_exec_i64(l, TE_REVERSED_SQL, I64S(rq->terminal_id, rq->epoch, rq->seq))) !=
            LEAL_OK)
        return err;
    *done = true;
    return LEAL_OK;
}

leal_err ledger_terminal_last_taken(struct ledger *l, int64_t terminal_id,
                                    struct ledger_terminal_last *out)
{
    struct store_stmt *st;
    int row = 0;
    leal_err err = store_prep_i64(l, TE_LAST_SQL, &st, I64S(terminal_id));
    memset(out, 0, sizeof *out);
    if (err != LEAL_OK)
        return err;
    err = store_step(l, st, &row);
    if (err == LEAL_OK && row && store_col_bytes(st, 3) == JOURNAL_MAC_LEN) {
        out->found = true;
        out->epoch = (uint32_t)store_col_i64(st, 0);
        out->seq = (uint32_t)store_col_i64(st, 1);
        out->key_version = (uint8_t)store_col_i64(st, 2);
        memcpy(out->mac, store_col_blob(st, 3), JOURNAL_MAC_LEN);
    }
    store_finalize(st);
    return err;
}

leal_err ledger_terminal_caps_record(struct ledger *l, int64_t terminal_id, uint32_t version,
                                     uint32_t cap_day_cents, uint32_t cap_sync_cents)
{
    return store_write(l,
                       "INSERT INTO package_caps(terminal_id, version, cap_day_cents, "
                       "cap_sync_cents, built_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT "
                       "(terminal_id, version) DO UPDATE SET cap_day_cents = "
                       "excluded.cap_day_cents, cap_sync_cents = excluded.cap_sync_cents, "
                       "built_at = excluded.built_at",
                       SVALS(SV_I64(terminal_id), SV_I64(version), SV_I64(cap_day_cents),
                             SV_I64(cap_sync_cents), SV_I64(ledger_now())),
                       NULL);
}

leal_err ledger_terminal_findings(struct ledger *l, int64_t terminal_id, int64_t *count)
{
    return store_query_int(l, FINDINGS_SQL, I64S(terminal_id), count);
}

leal_err ledger_terminal_rules_record(struct ledger *l, int64_t terminal_id, uint32_t version,
                                      uint32_t rules_version)
{
    return store_write(l,
                       "INSERT INTO package_rules(terminal_id, version, rules_version) "
                       "VALUES (?1, ?2, ?3) ON CONFLICT (terminal_id, version) DO UPDATE SET "
                       "rules_version = excluded.rules_version",
                       SVALS(SV_I64(terminal_id), SV_I64(version), SV_I64(rules_version)), NULL);
}
