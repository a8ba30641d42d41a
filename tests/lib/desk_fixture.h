/*
 * desk_fixture.h - the issuance desk's unit-test fixture, shared by the DESFire
 * and Classic desk tests: a ledger with program 7 ("Café Sol", 1 point a euro)
 * (purse cap 1000.00, Classic stored value off) and customer Ana, a keystore of issuer 1a2b3c4d
 * with program 7's masters, the issuance context over both, and a virtual card file opened through
 * the sim: reader. Files live in a fresh directory on tmpfs where there is one (the virtual card is
 * saved with fsync after every exchange, and the tearing sweeps make thousands), removed at
 * teardown. With LEAL_TEST_PG set (tests/lib/pg.sh) the ledger is that PostgreSQL database,
 * emptied at each setup, and Ana's account is a gift account (customers are SQLite's yet).
 */
#ifndef LEAL_TEST_DESK_FIXTURE_H
#define LEAL_TEST_DESK_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/cardsim/cardsim.h"
#include "host/issuance/issuance.h"

struct fixture {
    char *dir;
    char db[512], card[512];
    struct ledger *ledger;
    struct keyset *keys;
    struct issuance is;
    int64_t customer, account;
};

/* The test key pair of virtual EV2/EV3 cards' originality signatures: the
 * private key's file and the public key, which the setup puts in
 * LEAL_ORIGINALITY_TEST_KEY (host/issuance/originality.h). */
#define DESK_FIXTURE_ORIGINALITY_KEY "tests/vectors/originality_test_key.pem"
#define DESK_FIXTURE_ORIGINALITY_PUB                                                               \
    "0422b828d22d9b662341c7b6f4b41b1cf00bdb74cf92853675eed4f52998f512bc6a47196a36d97aaf70921fb26a" \
    "77c141637e6dbd8ca72f5d"

/* cmocka group-less setup and teardown: *state is a struct fixture. */
int desk_fixture_setup(void **state);
int desk_fixture_teardown(void **state);
/* A new virtual card of TYPE ("desfire-ev1", "classic-4k", ...) in f->card;
 * uid NULL for a random UID (random_uid) or one the simulator draws. EV2/EV3
 * cards are signed with the test key, as genuine cards are by NXP. */
void desk_fixture_new_card(struct fixture *f, const char *type, const uint8_t *uid, size_t uid_len,
                           bool random_uid);
/* f->card through the sim: reader, the card in the field. */
struct reader *desk_fixture_open_card(struct fixture *f);
/* A new DESFire EV1 card of UID uid (7 bytes) issued at the desk to
 * account with topup_cents on its purse: *out the issue's view; the reader,
 * the card still in the field, to close. */
struct reader *desk_fixture_issue(struct fixture *f, const uint8_t uid[7], int64_t account,
                                  int64_t topup_cents, struct issuance_card *out);
/* Asserts an account's EUR cents and points, and that the ledger verifies. */
void desk_fixture_balances(struct fixture *f, int64_t account, int64_t eur, int64_t pts);
/* A new customer of program 7; returns the account. */
int64_t desk_fixture_customer(struct fixture *f, const char *name);
/* Points moved in the ledger by hand (kind adjust, with the program's
 * points_issued account) under request id REQUEST. */
void desk_fixture_post_points(struct fixture *f, int64_t account, int64_t points,
                              const char *request);
/* The same, dated at (unix seconds UTC; 0: now). */
void desk_fixture_post_points_at(struct fixture *f, int64_t account, int64_t points,
                                 const char *request, int64_t at);
/* Copies a file whole (a card's dump and its restore). */
void desk_fixture_copy(const char *from, const char *to);
/* Asserts a card's status in the ledger and its newest event (status, why,
 * operator "test"); returns how many events its history has. */
int desk_fixture_card_event(struct fixture *f, int64_t card, enum ledger_card_status status,
                            const char *why);

/* The ways a DESFire exchange tears in the sweeps over every exchange: power
 * lost before the card's command, its answer lost, or power lost inside a
 * commit after 0..4 of its steps (0: nothing written; 1: the commit record;
 * 1 + k: k files applied). */
#define DESK_FIXTURE_TEAR_WAYS 7
extern const struct cardsim_tear desk_fixture_tear_ways[DESK_FIXTURE_TEAR_WAYS];
/* r's card set to tear the way `way` at its exchange n. */
void desk_fixture_tear_arm(struct reader *r, size_t way, unsigned n);
/* After the operation: whether the tear fired; the tear is disarmed and the
 * card is back in the field (asserted). */
bool desk_fixture_tear_fired(struct reader *r);

#endif
