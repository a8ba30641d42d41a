/*
 * chain_gen - a simulated chain for the chain bench (tests/bench/chain.sh) and
 * its integration test (tests/integration/sync_chain.sh): the ledger of the
 * chain and a period of its terminals' offline taps as journal exports, all
 * through leal's own code. The ledger (tests/lib/sync_ledger.c, the ledger
 * API): program 7, a store for every 5 terminals, terminals 1..N, C
 * customers "c<i>" each with one DESFire card FIRST_CARD + i, each account
 * seeded with 50,000 cents and 1,000 points. The journals
 * (tests/lib/journal_gen.h, the real journal code): each terminal's under
 * its journal key, derived from the keystore's current journal master as a
 * bundle's is (passphrase in LEAL_PASSPHRASE). Card i is served by terminal
 * i % N + 1 only, so every card's state in the entries is the one a real
 * card would show; the taps are spread evenly over the period.
 *
 *   chain_gen --keystore KS --db DB --out DIR --terminals N --cards C
 *             --entries E [--days D (7)]
 *
 * Writes DIR/t<T>.journal (T = 1..N), E/N operations each (rounded down;
 * earns, purse payments, pay-and-earns, redeems, balance reads, voids; a
 * deterministic mix), and prints one line:
 *   chain N terminals C cards E entries: points P euro_cents X
 * E: the journal entries the exports hold (with each journal's own); P and
 * X: the change the operations make to the cards' points and purses in
 * total, which the ledger's customer accounts must show after the import.
 * Exits 1 with a line on stderr on any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/file.h"
#include "host/ledger/ledger.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/keyset.h"
#include "tests/lib/journal_gen.h"
#include "tests/lib/sync_ledger.h"

#define FIRST_CARD 100001
#define SEED_CENTS 50000
#define SEED_POINTS 1000
#define START 1796290000u /* 2026-12-03 09:26:40 UTC */

struct chain {
    const char *out;
    unsigned terminals, cards, days;
    unsigned long long entries;
    long long points, cents, taken;
};

/* xorshift32: the op mix and the cards tapped, the same each run. */
static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* The next operation on local card j of the terminal; voidable[j]: its last
 * operation moved points or euros and was not voided yet. */
static void pick(struct jgen *g, uint32_t r, size_t j, unsigned char *voidable, unsigned i,
                 struct jgen_op *op)
{
    const struct jgen_card *c = &g->cards[j];
    unsigned k = r % 20;
    memset(op, 0, sizeof *op);
    op->card_id = c->card_id;
    if (k >= 19 && voidable[j]) {
        op->op = JOURNAL_OP_VOID;
        voidable[j] = 0;
        return;
    }
    voidable[j] = 1;
    if (k >= 16 && k < 18 && c->points >= 5) {
        op->op = JOURNAL_OP_REDEEM;
        op->item = 1;
        op->points = -(int64_t)(1 + i % 5);
    } else if (k == 18) {
        op->op = JOURNAL_OP_BALANCE;
        voidable[j] = 0;
    } else if (k >= 12 && k < 16 && c->purse >= 900) {
        op->op = k == 15 ? JOURNAL_OP_PAY_EARN : JOURNAL_OP_PAY;
        op->purse = 1 + (r >> 8) % 900;
        if (k == 15) {
            op->amount = op->purse;
            op->points = 1 + op->purse / 100;
        }
    } else {
        op->op = JOURNAL_OP_EARN;
        op->amount = 100 + (r >> 8) % 5000;
        op->points = 1 + op->amount / 100;
    }
}

/* Terminal t's period: its cards, its operations, its export. */
static int terminal(struct chain *ch, const struct crypto_provider *cp, const struct keyset *ks,
                    const struct key_version *kv, unsigned t)
{
    unsigned ops = (unsigned)(ch->entries / ch->terminals);
    unsigned long long period = (unsigned long long)ch->days * 86400u;
    uint8_t key[16], *exp = NULL;
    unsigned char *voidable;
    uint32_t seed = 2463534242u ^ (t * 2654435761u);
    struct journal_export_info info;
    struct jgen g;
    size_t len, n = 0;
    char path[4096];
    int err;
    if ((err = (int)derive_journal_key(cp, kv->key, ks->issuer_id, SYNC_LEDGER_PROGRAM, t, key)) !=
        LEAL_OK)
        return err;
    err = jgen_open(&g, key, kv->version, SYNC_LEDGER_PROGRAM, t, ops / 6 + 16, START + t);
    memset(key, 0, sizeof key);
    for (unsigned c = t - 1; err == LEAL_OK && c < ch->cards; c += ch->terminals, n++)
        err = jgen_card(&g, FIRST_CARD + c, JOURNAL_CARD_DESFIRE, SEED_POINTS, SEED_CENTS);
    voidable = calloc(n ? n : 1, 1);
    if (err == LEAL_OK && voidable == NULL)
        err = LEAL_E_NO_MEMORY;
    for (unsigned i = 0; err == LEAL_OK && n > 0 && i < ops; i++) {
        uint64_t at = START + t + (uint64_t)(period * i / ops);
        uint32_t r = next(&seed);
        struct jgen_op op;
        pick(&g, next(&seed), r % n, voidable, i, &op);
        if (at > g.now)
            g.now = at;
        err = jgen_do(&g, &op);
    }
    for (size_t j = 0; err == LEAL_OK && j < n; j++) {
        ch->points += g.cards[j].points - SEED_POINTS;
        ch->cents += g.cards[j].purse - SEED_CENTS;
    }
    if (err == LEAL_OK)
        err = jgen_export(&g, &exp, &len);
    if (err == LEAL_OK && (err = (int)journal_export_parse(exp, len, &info)) == LEAL_OK) {
        ch->taken += info.count;
        snprintf(path, sizeof path, "%s/t%u.journal", ch->out, t);
        err = (int)file_write_atomic(path, exp, len, 0600);
    }
    free(exp);
    free(voidable);
    jgen_close(&g);
    return err;
}

static int arg(int argc, char **argv, const char *name, const char **v)
{
    for (int i = 1; i + 1 < argc; i += 2)
        if (strcmp(argv[i], name) == 0) {
            *v = argv[i + 1];
            return 1;
        }
    return 0;
}

int main(int argc, char **argv)
{
    const char *ks_path = NULL, *db = NULL, *n = "", *c = "", *e = "", *d = "7";
    const struct crypto_provider *cp = crypto_openssl();
    const struct key_version *kv;
    struct chain ch = {0};
    struct keyset *ks;
    struct ledger *l;
    int err;
    if (!arg(argc, argv, "--keystore", &ks_path) || !arg(argc, argv, "--db", &db) ||
        !arg(argc, argv, "--out", &ch.out) || !arg(argc, argv, "--terminals", &n) ||
        !arg(argc, argv, "--cards", &c) || !arg(argc, argv, "--entries", &e)) {
        fprintf(stderr, "usage: chain_gen --keystore KS --db DB --out DIR --terminals N --cards C "
                        "--entries E [--days D]\n");
        return 2;
    }
    (void)arg(argc, argv, "--days", &d);
    ch.terminals = (unsigned)strtoul(n, NULL, 10);
    ch.cards = (unsigned)strtoul(c, NULL, 10);
    ch.entries = strtoull(e, NULL, 10);
    ch.days = (unsigned)strtoul(d, NULL, 10);
    if (ch.terminals == 0 || ch.cards < ch.terminals || ch.days == 0 ||
        ch.cards / ch.terminals >= JGEN_MAX_CARDS) {
        fprintf(stderr,
                "chain_gen: need 1 <= terminals <= cards, cards/terminals < %d, days >= 1\n",
                JGEN_MAX_CARDS);
        return 2;
    }
    if ((err = jgen_keystore(ks_path, SYNC_LEDGER_PROGRAM, &ks, &kv)) != LEAL_OK) {
        fprintf(stderr, "chain_gen: keystore %s: %s\n", ks_path, leal_strerror((leal_err)err));
        return 1;
    }
    if ((err = (int)sync_ledger_make(db,
                                     &(struct sync_ledger_spec){"chain", LEDGER_PROGRAM_CHAIN,
                                                                ch.terminals, ch.cards, FIRST_CARD,
                                                                SEED_CENTS, SEED_POINTS},
                                     &l)) != LEAL_OK) {
        fprintf(stderr, "chain_gen: ledger %s: %s\n", db, leal_strerror((leal_err)err));
        jgen_keystore_free(ks);
        return 1;
    }
    ledger_close(l);
    if (mkdir(ch.out, 0700) != 0 && errno != EEXIST)
        err = LEAL_E_IO;
    for (unsigned t = 1; err == LEAL_OK && t <= ch.terminals; t++)
        if ((err = terminal(&ch, cp, ks, kv, t)) != LEAL_OK)
            fprintf(stderr, "chain_gen: terminal %u: %s\n", t, leal_strerror((leal_err)err));
    jgen_keystore_free(ks);
    if (err != LEAL_OK) {
        fprintf(stderr, "chain_gen: %s: %s\n", ch.out, leal_strerror((leal_err)err));
        return 1;
    }
    printf("chain %u terminals %u cards %lld entries: points %lld euro_cents %lld\n", ch.terminals,
           ch.cards, ch.taken, ch.points, ch.cents);
    return 0;
}
