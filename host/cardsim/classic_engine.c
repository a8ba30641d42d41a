/*
 * classic_engine.c - MIFARE Classic in the virtual card's engine table
 * (cardsim_engine.h): types "classic-1k" and "classic-4k". The card file's
 * own members, besides "format" and "type":
 *   "uid":    4 or 7 bytes hex (block 0 starts with it)
 *   "blocks": [64 or 256 strings of 16 bytes hex], block 0 first: the whole
 *             EEPROM, trailers as stored (keys included), so a dump made with
 *             the keys is the same bytes.
 * Tearing: CARDSIM_TEAR_INSIDE_COMMIT on a write or transfer leaves the block
 * as tear->classic_block says (garbage from the card's random source).
 */
#include <stdlib.h>
#include <string.h>

#include "cardsim_engine.h"
#include "classic_sim.h"
#include "keys/base/hex.h"

static const char *const classic_types[] = {"classic-1k", "classic-4k", NULL};

static bool is_4k(const char *type)
{
    return strcmp(type, "classic-4k") == 0;
}

static leal_err classic_create(struct cardsim *card, const char *type, const uint8_t *uid,
                               size_t uid_len, bool random_uid, void **state)
{
    struct classic_sim *c;
    uint8_t r[4];
    leal_err err;

    *state = NULL;
    if (random_uid)
        return LEAL_E_UNSUPPORTED; /* Classic has no random-UID mode */
    if ((c = calloc(1, sizeof *c)) == NULL)
        return LEAL_E_NO_MEMORY;
    if (uid == NULL) {
        /* A fixed 4-byte NUID; never the cascade tag 88 nor 08 (random-UID marker). */
        do {
            if ((err = cardsim_random(card, r, sizeof r)) != LEAL_OK)
                goto out;
        } while (r[0] == 0x88 || r[0] == 0x08);
        uid = r;
        uid_len = 4;
    }
    if ((err = classic_sim_init(c, is_4k(type), uid, uid_len)) != LEAL_OK)
        goto out;
    *state = c;
    c = NULL;
out:
    free(c);
    return err;
}

/* One block: a string of exactly 32 hex digits. */
static leal_err block_from_json(json_t *j, uint8_t out[16])
{
    size_t n;
    if (!json_is_string(j) || json_string_length(j) != 32 ||
        leal_hex_decode(json_string_value(j), 32, out, 16, &n) != LEAL_OK)
        return LEAL_E_FORMAT;
    return LEAL_OK;
}

static leal_err classic_from_json(struct cardsim *card, const char *type, json_t *root,
                                  void **state)
{
    struct classic_sim *c;
    uint8_t uid[7];
    size_t uid_len = 0;
    json_t *blocks = json_object_get(root, "blocks");
    leal_err err;

    (void)card;
    *state = NULL;
    if ((c = calloc(1, sizeof *c)) == NULL)
        return LEAL_E_NO_MEMORY;
    if ((err = cardsim_json_get_hex(root, "uid", uid, sizeof uid, &uid_len)) != LEAL_OK)
        goto out;
    if ((err = classic_sim_init(c, is_4k(type), uid, uid_len)) != LEAL_OK) {
        err = LEAL_E_FORMAT;
        goto out;
    }
    err = LEAL_E_FORMAT;
    if (!json_is_array(blocks) || json_array_size(blocks) != c->nblocks)
        goto out;
    for (unsigned i = 0; i < c->nblocks; i++)
        if (block_from_json(json_array_get(blocks, i), c->mem[i]) != LEAL_OK)
            goto out;
    /* Block 0 is written at the factory from the UID. */
    if (memcmp(c->mem[0], uid, uid_len) != 0)
        goto out;
    *state = c;
    c = NULL;
    err = LEAL_OK;
out:
    free(c);
    return err;
}

static leal_err classic_to_json(const void *state, json_t *root)
{
    const struct classic_sim *c = state;
    json_t *arr = json_array(), *j;

    if (arr == NULL)
        return LEAL_E_NO_MEMORY;
    if ((j = cardsim_json_hex(c->uid, c->uid_len)) == NULL ||
        json_object_set_new(root, "uid", j) != 0)
        goto nomem;
    for (unsigned i = 0; i < c->nblocks; i++)
        if ((j = cardsim_json_hex(c->mem[i], 16)) == NULL || json_array_append_new(arr, j) != 0)
            goto nomem;
    if (json_object_set_new(root, "blocks", arr) != 0)
        return LEAL_E_NO_MEMORY;
    return LEAL_OK;
nomem:
    json_decref(arr);
    return LEAL_E_NO_MEMORY;
}

static leal_err classic_activate(struct cardsim *card, void *state, struct cardsim_ident *id)
{
    (void)card;
    classic_sim_activate(state);
    classic_sim_ident(state, id);
    return LEAL_OK;
}

static void classic_deactivate(void *state)
{
    classic_sim_deactivate(state);
}

static leal_err classic_transceive(struct cardsim *card, const uint8_t *cmd, size_t cmd_len,
                                   uint8_t *resp, size_t resp_cap, size_t *resp_len)
{
    struct classic_sim *state = cardsim_engine_state(card);
    const struct cardsim_tear *t = cardsim_tear_now(card);
    struct classic_sim_tear tear;
    leal_err err;

    if (t != NULL) {
        tear.leaves = t->classic_block;
        if ((err = cardsim_random(card, tear.garbage, sizeof tear.garbage)) != LEAL_OK)
            return err;
    }
    classic_sim_tear_next(state, t != NULL ? &tear : NULL);
    return classic_sim_exchange(state, cmd, cmd_len, resp, resp_cap, resp_len);
}

static void classic_free(void *state)
{
    free(state);
}

const struct cardsim_engine cardsim_classic_engine = {
    .kind = CARDSIM_CLASSIC,
    .types = classic_types,
    .create = classic_create,
    .from_json = classic_from_json,
    .to_json = classic_to_json,
    .activate = classic_activate,
    .deactivate = classic_deactivate,
    .transceive = classic_transceive,
    .free = classic_free,
};
