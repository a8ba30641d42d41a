/*
 * cardsim_engine.h - what a card technology plugs into the virtual card
 * (cardsim.c): one const table per technology, listed in cardsim.c's
 * `engines[]`. The generic layer owns the file (JSON through jansson), the
 * random source, the exchange counter and tearing; an engine owns its state
 * (its EEPROM) and answers exchanges. Every member is required. Hosted.
 *
 * Card file: a JSON object {"format": "leal-cardsim/1", "type": TYPE, ...};
 * TYPE selects the engine (one of its `types`), the other members are the
 * engine's own (see the engine's file for its part of the format).
 */
#ifndef LEAL_CARDSIM_ENGINE_H
#define LEAL_CARDSIM_ENGINE_H

#include <jansson.h>

#include "cardsim.h"

#define CARDSIM_FORMAT "leal-cardsim/1"
#define CARDSIM_MAX_TYPE 32

struct cardsim_engine {
    enum cardsim_kind kind;
    /* Type names this engine makes and loads, NULL-terminated. */
    const char *const *types;
    /* A blank card as it leaves the factory; *state is the engine's own. */
    leal_err (*create)(struct cardsim *card, const char *type, const uint8_t *uid, size_t uid_len,
                       bool random_uid, void **state);
    /* From the card file's object (already checked: format, type). */
    leal_err (*from_json)(struct cardsim *card, const char *type, json_t *root, void **state);
    /* Adds the engine's members to root (which has format and type). */
    leal_err (*to_json)(const void *state, json_t *root);
    /* Field on: power-up recovery (e.g. an interrupted commit), selection. */
    leal_err (*activate)(struct cardsim *card, void *state, struct cardsim_ident *id);
    /* Field off: roll back what is not committed, drop authentication. */
    void (*deactivate)(void *state);
    /* One exchange while active (the engine's state: cardsim_engine_state).
     * Card statuses are answers (LEAL_OK); a leal_err is for a failure of the
     * simulator itself, or LEAL_E_CARD_REMOVED when the engine tore itself
     * (cardsim_tear_now). */
    leal_err (*transceive)(struct cardsim *card, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                           size_t resp_cap, size_t *resp_len);
    void (*free)(void *state);
};

/* Services of the generic layer to engines. */

/* The engine's own state (what create or from_json made). */
void *cardsim_engine_state(const struct cardsim *card);

/* The card's random numbers: the injected source if set, else OpenSSL. */
LEAL_MUST_CHECK leal_err cardsim_random(struct cardsim *card, uint8_t *out, size_t n);

/* In an engine's activate: whether the card was without power since its last
 * activation (first activation, field off, tear), as opposed to a reselection
 * after cardsim_halt. */
bool cardsim_powered_up(const struct cardsim *card);

/* Inside the exchange that is to be torn with CARDSIM_TEAR_INSIDE_COMMIT (or
 * a Classic block write), the tear to apply; NULL otherwise. An engine that
 * honours it stops after tear->commit_step steps of its commit and returns
 * LEAL_E_CARD_REMOVED. */
const struct cardsim_tear *cardsim_tear_now(const struct cardsim *card);

/* Hex helpers for card files. */
/* json string of 2n hex digits; NULL on allocation failure. */
json_t *cardsim_json_hex(const uint8_t *p, size_t n);
/* Decodes member name of obj (a hex string of exactly n bytes, or of 0..cap
 * bytes when n is 0 and len is given). LEAL_E_FORMAT if absent or malformed. */
LEAL_MUST_CHECK leal_err cardsim_json_get_hex(json_t *obj, const char *name, uint8_t *out,
                                              size_t cap, size_t *len);
/* Integer member in [lo, hi]; LEAL_E_FORMAT otherwise. */
LEAL_MUST_CHECK leal_err cardsim_json_get_int(json_t *obj, const char *name, long long lo,
                                              long long hi, long long *v);
/* Boolean member; absent is false. LEAL_E_FORMAT if not a boolean. */
LEAL_MUST_CHECK leal_err cardsim_json_get_bool(json_t *obj, const char *name, bool *v);

/* The engines (one per technology file). */
extern const struct cardsim_engine cardsim_desfire_engine;
extern const struct cardsim_engine cardsim_classic_engine;

#endif
