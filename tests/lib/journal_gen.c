/* journal_gen.c - terminal journals for tests and the bench (journal_gen.h). */
#include "journal_gen.h"

#include <stdlib.h>
#include <string.h>

#include "host/keys/keyfile.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/hosted/secmem.h"

int jgen_keystore(const char *ks_path, uint32_t program, struct keyset **ks,
                  const struct key_version **journal_master)
{
    const char *pass = getenv("LEAL_PASSPHRASE");
    int err;
    *ks = NULL;
    if (pass == NULL)
        return LEAL_E_ARG;
    if ((*ks = secmem_alloc(sizeof **ks)) == NULL)
        return LEAL_E_NO_MEMORY;
    err = (int)keyfile_load(ks_path, KEYSTORE_KIND_KEYSTORE, pass, strlen(pass), *ks);
    if (err == LEAL_OK)
        err = (int)keyset_current(*ks, program, KEY_ROLE_JOURNAL_MAC, journal_master);
    if (err != LEAL_OK) {
        jgen_keystore_free(*ks);
        *ks = NULL;
    }
    return err;
}

void jgen_keystore_free(struct keyset *ks)
{
    if (ks == NULL)
        return;
    keyset_clear(ks);
    secmem_free(ks);
}

int jgen_reopen(struct jgen *g)
{
    struct port_time t = {g->now, 60};
    journal_close(&g->j);
    return (int)journal_open(&g->j, &g->rs.port, crypto_openssl(), &g->cfg, &t, &g->rep);
}

int jgen_open(struct jgen *g, const uint8_t key[16], uint8_t key_version, uint32_t program,
              uint32_t terminal, uint32_t units, uint64_t now)
{
    memset(g, 0, sizeof *g);
    g->units = units;
    g->now = now;
    g->package_version = 1;
    g->mem = malloc((size_t)units * JGEN_UNIT);
    g->cards = calloc(JGEN_MAX_CARDS, sizeof *g->cards);
    if (g->mem == NULL || g->cards == NULL)
        return LEAL_E_NO_MEMORY;
    if (ram_storage_init(&g->rs, g->mem, JGEN_UNIT, units) != LEAL_OK)
        return LEAL_E_ARG;
    g->cfg.program_id = program;
    g->cfg.terminal_id = terminal;
    g->cfg.key_version = key_version;
    memcpy(g->cfg.key, key, 16);
    return jgen_reopen(g);
}

void jgen_close(struct jgen *g)
{
    journal_close(&g->j);
    free(g->mem);
    free(g->cards);
    memset(g, 0, sizeof *g);
}

static struct jgen_card *card_of(struct jgen *g, uint64_t id)
{
    for (size_t i = 0; i < g->ncards; i++)
        if (g->cards[i].card_id == id)
            return &g->cards[i];
    return NULL;
}

int jgen_card(struct jgen *g, uint64_t card_id, uint8_t kind, int64_t points, int64_t purse)
{
    struct jgen_card *c = card_of(g, card_id);
    if (c == NULL) {
        if (g->ncards == JGEN_MAX_CARDS)
            return LEAL_E_NO_SPACE;
        c = &g->cards[g->ncards++];
    }
    memset(c, 0, sizeof *c);
    c->card_id = card_id;
    c->kind = kind;
    c->counter = 10;
    c->points = points;
    c->purse = purse;
    return LEAL_OK;
}

/* The entry's card fields: the card as it is after the operation. */
static void card_after(struct journal_entry *e, const struct jgen_card *c, uint32_t before)
{
    e->card_kind = c->kind;
    e->card_id = c->card_id;
    e->counter_before = before;
    e->counter_after = c->counter;
    e->points_after = (uint32_t)c->points;
    e->purse_after = (uint32_t)c->purse;
    memcpy(e->stamps_after, c->stamps, sizeof e->stamps_after);
}

static void apply(struct jgen_card *c, const struct jgen_op *op)
{
    int64_t purse = op->op == JOURNAL_OP_PAY || op->op == JOURNAL_OP_PAY_EARN ? op->purse : 0;
    int16_t q = op->op == JOURNAL_OP_STAMP ? op->quantity : 0;
    c->points += op->points;
    c->purse -= purse;
    if (q)
        c->stamps[op->item & 3] = (uint8_t)(c->stamps[op->item & 3] + q);
    if (op->completes)
        c->stamps[op->item & 3] = 0;
    c->last_points = op->points;
    c->last_purse = purse;
    c->last_quantity = q;
    c->last_item = op->item;
    c->counter++;
}

/* A void: this terminal's last operation on the card, undone. */
static void undo(struct jgen_card *c, struct journal_entry *e)
{
    e->ref_epoch = c->last.epoch;
    e->ref_seq = c->last.seq;
    e->points = -c->last_points;
    e->purse_cents = (uint32_t)c->last_purse;
    e->quantity = (int16_t)-c->last_quantity;
    e->item = c->last_item;
    c->points -= c->last_points;
    c->purse += c->last_purse;
    if (c->last_quantity)
        c->stamps[c->last_item & 3] = (uint8_t)(c->stamps[c->last_item & 3] - c->last_quantity);
    c->last_points = c->last_purse = c->last_quantity = 0;
    c->counter++;
}

int jgen_do(struct jgen *g, const struct jgen_op *op)
{
    struct jgen_card *c = card_of(g, op->card_id), none = {0};
    struct journal_entry e;
    uint32_t before;
    leal_err err;
    if (c == NULL)
        c = &none;
    before = c->counter;
    memset(&e, 0, sizeof e);
    e.op = op->op;
    e.utc_seconds = g->now++;
    e.utc_offset_minutes = 60;
    e.package_version = g->package_version;
    e.amount_cents = op->amount;
    e.purse_cents = op->purse;
    e.points = op->points;
    e.quantity = op->quantity;
    e.item = op->item;
    e.reason = op->reason;
    if (op->op == JOURNAL_OP_VOID)
        undo(c, &e);
    else if (!op->doubt && op->op != JOURNAL_OP_BALANCE && op->op != JOURNAL_OP_REFUSAL)
        apply(c, op);
    if (op->doubt) {
        /* Journaled before a commit without answer: the entry says what the
         * commit would leave (the counter after included), as a terminal's
         * does; the card stays as before until a settle says. */
        struct jgen_card would = *c;
        apply(&would, op);
        card_after(&e, &would, before);
    } else {
        card_after(&e, c, before);
    }
    if (c == &none)
        e.card_kind = JOURNAL_CARD_NONE;
    if ((err = journal_append(&g->j, &e)) != LEAL_OK)
        return (int)err;
    if (op->doubt) {
        c->doubt.epoch = e.epoch;
        c->doubt.seq = e.seq;
        c->last_points = op->points; /* what the settle applies if done */
        c->last_purse = op->op == JOURNAL_OP_PAY || op->op == JOURNAL_OP_PAY_EARN ? op->purse : 0;
    } else if (op->op != JOURNAL_OP_BALANCE && op->op != JOURNAL_OP_REFUSAL) {
        c->last.epoch = e.epoch;
        c->last.seq = e.seq;
    }
    return LEAL_OK;
}

int jgen_settle(struct jgen *g, uint64_t card_id, bool done)
{
    struct jgen_card *c = card_of(g, card_id);
    struct journal_entry e;
    uint32_t before;
    leal_err err;
    if (c == NULL || c->doubt.seq == 0)
        return LEAL_E_ARG;
    before = c->counter;
    if (done) {
        c->points += c->last_points;
        c->purse -= c->last_purse;
        c->counter++;
        c->last = c->doubt;
    }
    memset(&e, 0, sizeof e);
    e.op = JOURNAL_OP_SETTLE;
    e.utc_seconds = g->now++;
    e.utc_offset_minutes = 60;
    e.package_version = g->package_version;
    e.ref_epoch = c->doubt.epoch;
    e.ref_seq = c->doubt.seq;
    e.item = done ? JOURNAL_SETTLED_DONE : JOURNAL_SETTLED_NOT_DONE;
    card_after(&e, c, before);
    e.counter_before = e.counter_after = c->counter;
    c->doubt.epoch = c->doubt.seq = 0;
    err = journal_append(&g->j, &e);
    return (int)err;
}

int jgen_export(struct jgen *g, uint8_t **out, size_t *len)
{
    struct journal_export_info info;
    size_t cap = (size_t)g->units * JGEN_UNIT + JOURNAL_EXPORT_HEADER_LEN + JOURNAL_MAC_LEN;
    leal_err err;
    *out = malloc(cap);
    if (*out == NULL)
        return LEAL_E_NO_MEMORY;
    if ((err = journal_export(&g->j, *out, cap, &info)) != LEAL_OK) {
        free(*out);
        *out = NULL;
        return (int)err;
    }
    *len = info.len;
    return LEAL_OK;
}

int jgen_ack(struct jgen *g, const uint8_t *ack, size_t len)
{
    struct port_time t = {g->now++, 60};
    return (int)journal_ack(&g->j, ack, len, &t);
}

int jgen_tear(struct jgen *g)
{
    struct jgen_op op = {.op = JOURNAL_OP_BALANCE};
    ram_storage_cut(&g->rs, 60, RAM_TEAR_FLIPPED);
    if (jgen_do(g, &op) == LEAL_OK)
        return LEAL_E_STATE; /* the cut did not reach the append */
    ram_storage_power_on(&g->rs);
    g->now += 5;
    return jgen_reopen(g);
}

int jgen_wipe(struct jgen *g)
{
    if (ram_storage_init(&g->rs, g->mem, JGEN_UNIT, g->units) != LEAL_OK)
        return LEAL_E_ARG;
    g->now += 10;
    return jgen_reopen(g);
}
