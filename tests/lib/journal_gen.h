/*
 * journal_gen.h - terminal journals for the import's tests and bench, made
 * by the real journal (firmware/core/journal.c) on RAM storage with the
 * OpenSSL provider: one call per operation, the card's state after it
 * tracked per card (points, purse, stamps, counter) as a terminal would
 * write it, exports and acks as the terminal makes and applies them, a torn
 * append (RECOVERY) and a wiped storage (a new epoch). Tests only.
 */
#ifndef LEAL_TESTS_JOURNAL_GEN_H
#define LEAL_TESTS_JOURNAL_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/journal.h"
#include "firmware/port/posix/ram_storage.h"

#define JGEN_MAX_CARDS 4096
#define JGEN_UNIT 4096

struct jgen_card {
    uint64_t card_id;
    uint8_t kind; /* enum journal_card_kind */
    uint32_t counter;
    int64_t points, purse;
    uint8_t stamps[4];
    /* The last operation written on it here (what a void undoes). */
    struct journal_key last;
    int64_t last_points, last_purse;
    int16_t last_quantity;
    uint32_t last_item;
    struct journal_key doubt; /* an operation in doubt, (0, 0): none */
};

struct jgen {
    struct ram_storage rs;
    uint8_t *mem;
    uint32_t units;
    struct journal j;
    struct journal_config cfg;
    struct journal_report rep;
    uint64_t now;             /* the next entry's time (each entry: a second on) */
    uint32_t package_version; /* the package the entries say they ran under (1) */
    struct jgen_card *cards;  /* JGEN_MAX_CARDS */
    size_t ncards;
};

struct keyset;
struct key_version;
/* The keystore at ks_path (passphrase in LEAL_PASSPHRASE) and its current
 * journal master of program, from which a bundle derives each terminal's
 * journal key (derive_journal_key with (*ks)->issuer_id). *ks is secmem:
 * the caller ends it with jgen_keystore_free. */
int jgen_keystore(const char *ks_path, uint32_t program, struct keyset **ks,
                  const struct key_version **journal_master);
void jgen_keystore_free(struct keyset *ks);

/* A journal for terminal of program under key (its journal key) on `units`
 * units of JGEN_UNIT bytes, opened at now (its first epoch is now). */
int jgen_open(struct jgen *g, const uint8_t key[16], uint8_t key_version, uint32_t program,
              uint32_t terminal, uint32_t units, uint64_t now);
void jgen_close(struct jgen *g);
/* Opens the journal again on what its storage holds (a terminal restarted;
 * g->rep says what the open found). */
int jgen_reopen(struct jgen *g);

/* A card as the terminal first reads it. */
int jgen_card(struct jgen *g, uint64_t card_id, uint8_t kind, int64_t points, int64_t purse);

/* One operation (JOURNAL.md "Operations") on a card; the generator fills the
 * card before and after. points: the change (negative for a redeem);
 * doubt: the commit had no answer (journaled as done, as a terminal does;
 * the card takes it only if jgen_settle says done). */
struct jgen_op {
    uint8_t op;
    uint64_t card_id;
    uint32_t amount, purse, item;
    int64_t points;
    int16_t quantity;
    uint16_t reason; /* a refusal's why */
    bool doubt;
    bool completes; /* a stamp that reaches the card's goal: its count back to 0 */
};
int jgen_do(struct jgen *g, const struct jgen_op *op);
/* A SETTLE of the card's operation in doubt: done or not. */
int jgen_settle(struct jgen *g, uint64_t card_id, bool done);

/* The export of what is not acknowledged (malloc'd, the caller frees). */
int jgen_export(struct jgen *g, uint8_t **out, size_t *len);
/* Applies an ack as the terminal does (journal_ack): its leal_err. */
int jgen_ack(struct jgen *g, const uint8_t *ack, size_t len);
/* The power is cut in the middle of the next append; the journal is opened
 * again (RECOVERY). */
int jgen_tear(struct jgen *g);
/* The storage is wiped and the journal opened again: a new epoch. */
int jgen_wipe(struct jgen *g);

#endif
