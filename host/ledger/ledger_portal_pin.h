/*
 * ledger_portal_pin.h - the portal's sign-in by card number and PIN, and the
 * rewards a customer redeems from the portal (issue 16, host/web/web_portal.c).
 *
 * A card's PIN is set at the desk (`leal card pin set`); the ledger keeps
 * only its Argon2id hash (host/web/web_auth.h) and the wrong tries in a row
 * since the last right one: at LEDGER_PIN_FAILS_LOCK the PIN is locked until
 * the desk sets it again (the serving process's per-minute limit,
 * host/web/web_limit.h, forgets on a restart; this count does not), and
 * every later try counts on, the right one too (the portal calls
 * ledger_card_pin_tried with right false for a locked PIN).
 *
 * A reward redeemed from the portal is an entry of ledger_reward_redeem
 * (its points reach the card as a host change) and a code the shop honours
 * once at the desk (`leal reward honour CODE`): 9 characters, "XXXX-XXXX".
 * Hosted. Errors: the ledger's, LEAL_E_UNKNOWN_ID (no such card),
 * LEAL_E_NOT_FOUND (no PIN), LEAL_E_REDEEM_CODE_UNKNOWN,
 * LEAL_E_REDEEM_CODE_USED.
 */
#ifndef LEAL_LEDGER_PORTAL_PIN_H
#define LEAL_LEDGER_PORTAL_PIN_H

#include <stdbool.h>
#include <stdint.h>

#include "host/ledger/ledger.h"

#define LEDGER_PIN_HASH 160
#define LEDGER_PIN_FAILS_LOCK 10
/* Tries of a locked PIN (counted on from LEDGER_PIN_FAILS_LOCK, the right
 * one too) until the portal stops telling the lock even to the right PIN. */
#define LEDGER_PIN_FAILS_TELL (2 * LEDGER_PIN_FAILS_LOCK)
#define LEDGER_REDEEM_CODE 10 /* "XXXX-XXXX" and its NUL */

struct ledger_card_pin {
    int64_t card_id;
    int64_t customer_id; /* the card's account's customer (0: none) */
    enum ledger_card_status status;
    char pin_hash[LEDGER_PIN_HASH];
    int64_t fails; /* wrong tries in a row */
};

/* Sets card_id's PIN hash (a new PIN: no wrong tries), by operator_name. */
LEAL_MUST_CHECK leal_err ledger_card_pin_set(struct ledger *l, int64_t card_id,
                                             const char *pin_hash, const char *operator_name);
/* Removes card_id's PIN (*removed: there was one). */
LEAL_MUST_CHECK leal_err ledger_card_pin_clear(struct ledger *l, int64_t card_id, bool *removed);
/* card_id's PIN, its card's status and customer; LEAL_E_NOT_FOUND without one. */
LEAL_MUST_CHECK leal_err ledger_card_pin_get(struct ledger *l, int64_t card_id,
                                             struct ledger_card_pin *out);
/* A try of card_id's PIN: right resets the wrong tries, wrong adds one. */
LEAL_MUST_CHECK leal_err ledger_card_pin_tried(struct ledger *l, int64_t card_id, bool right);

struct ledger_redemption {
    char code[LEDGER_REDEEM_CODE];
    int64_t entry_id;
    int64_t customer_id;
    int64_t account_id;
    uint32_t reward_id;
    int64_t points; /* the cost taken */
    int64_t created_at;
    int64_t honoured_at; /* 0: not yet */
    char honoured_by[64];
};

/* Keeps code for the portal redemption of entry_id. */
LEAL_MUST_CHECK leal_err ledger_redemption_keep(struct ledger *l, const char *code,
                                                int64_t entry_id, int64_t customer_id,
                                                uint32_t reward_id, int64_t now);
/* The redemption of entry_id (*found false: none). */
LEAL_MUST_CHECK leal_err ledger_redemption_of_entry(struct ledger *l, int64_t entry_id,
                                                    struct ledger_redemption *out, bool *found);
/* Honours code once at now by operator_name: *out is the redemption;
 * LEAL_E_REDEEM_CODE_USED (and *out, with when) when honoured before,
 * LEAL_E_REDEEM_CODE_UNKNOWN when no redemption has it; then nothing is
 * written. */
LEAL_MUST_CHECK leal_err ledger_redemption_honour(struct ledger *l, const char *code,
                                                  const char *operator_name, int64_t now,
                                                  struct ledger_redemption *out);
/* The customer's portal redemptions, newest first, at most limit. */
typedef void (*ledger_redemption_cb)(void *ctx, const struct ledger_redemption *r);
LEAL_MUST_CHECK leal_err ledger_redemption_each(struct ledger *l, int64_t customer_id, size_t limit,
                                                ledger_redemption_cb cb, void *ctx);

#endif
