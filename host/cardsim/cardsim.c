/*
 * cardsim.c - the generic virtual card: the engine table, the card file, the
 * random source and tearing. Technologies live in their own files behind
 * struct cardsim_engine (cardsim_engine.h); what engines may ask of the card is
 * cardsim_services.c, so that no engine calls back into this file.
 */
#include "cardsim_engine.h"
#include "cardsim_card.h"

#include <stdlib.h>
#include <string.h>

#include "desfire_sim.h"
#include "host/file.h"

/* One entry per technology; MIFARE Classic adds its line here. */
static const struct cardsim_engine *const engines[] = {
    &cardsim_desfire_engine,
    &cardsim_classic_engine,
};

static const struct cardsim_engine *find_engine(const char *type)
{
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++)
        for (const char *const *t = engines[i]->types; *t; t++)
            if (strcmp(*t, type) == 0)
                return engines[i];
    return NULL;
}

static leal_err alloc_card(const char *type, struct cardsim **out)
{
    struct cardsim *c;
    const struct cardsim_engine *e = find_engine(type);
    if (e == NULL)
        return LEAL_E_CARD_UNKNOWN;
    if (strlen(type) >= CARDSIM_MAX_TYPE)
        return LEAL_E_ARG;
    if ((c = calloc(1, sizeof *c)) == NULL)
        return LEAL_E_NO_MEMORY;
    c->engine = e;
    memcpy(c->type, type, strlen(type) + 1);
    *out = c;
    return LEAL_OK;
}

leal_err cardsim_new(const char *type, const uint8_t *uid, size_t uid_len, bool random_uid,
                     struct cardsim **out)
{
    struct cardsim *c = NULL;
    leal_err err;

    if (out == NULL || type == NULL)
        return LEAL_E_ARG;
    *out = NULL;
    if ((err = alloc_card(type, &c)) != LEAL_OK)
        return err;
    if ((err = c->engine->create(c, type, uid, uid_len, random_uid, &c->state)) != LEAL_OK) {
        free(c);
        return err;
    }
    *out = c;
    return LEAL_OK;
}

leal_err cardsim_sign_originality(struct cardsim *card, const char *pem_path)
{
    if (card == NULL || pem_path == NULL)
        return LEAL_E_ARG;
    if (card->engine != &cardsim_desfire_engine)
        return LEAL_E_UNSUPPORTED;
    return df_sign_originality(card->state, pem_path);
}

leal_err cardsim_from_string(const char *text, size_t len, struct cardsim **out)
{
    json_t *root = NULL, *fmt, *type;
    json_error_t jerr;
    struct cardsim *c = NULL;
    leal_err err = LEAL_E_FORMAT;

    if (out == NULL || text == NULL)
        return LEAL_E_ARG;
    *out = NULL;
    if (len > LEAL_MAX_CARD_FILE)
        return LEAL_E_TOO_LARGE;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root))
        goto out;
    fmt = json_object_get(root, "format");
    type = json_object_get(root, "type");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), CARDSIM_FORMAT) != 0) {
        err = json_is_string(fmt) ? LEAL_E_VERSION : LEAL_E_FORMAT;
        goto out;
    }
    if (!json_is_string(type))
        goto out;
    if ((err = alloc_card(json_string_value(type), &c)) != LEAL_OK)
        goto out;
    if ((err = c->engine->from_json(c, c->type, root, &c->state)) != LEAL_OK)
        goto out;
    *out = c;
    c = NULL;
out:
    free(c);
    json_decref(root);
    return err;
}

leal_err cardsim_load(const char *path, struct cardsim **out)
{
    uint8_t *data = NULL;
    size_t len = 0;
    leal_err err;

    if (out == NULL || path == NULL)
        return LEAL_E_ARG;
    *out = NULL;
    if ((err = file_read(path, LEAL_MAX_CARD_FILE, &data, &len)) != LEAL_OK)
        return err;
    err = cardsim_from_string((const char *)data, len, out);
    free(data);
    if (err == LEAL_OK) {
        /* Remember what is on disk so cardsim_sync writes only changes. */
        if (cardsim_to_string(*out, &(*out)->synced) != LEAL_OK)
            (*out)->synced = NULL;
    }
    return err;
}

leal_err cardsim_to_string(const struct cardsim *card, char **out)
{
    json_t *root;
    char *s;
    leal_err err;

    if (card == NULL || out == NULL)
        return LEAL_E_ARG;
    *out = NULL;
    if ((root = json_object()) == NULL)
        return LEAL_E_NO_MEMORY;
    if (json_object_set_new(root, "format", json_string(CARDSIM_FORMAT)) != 0 ||
        json_object_set_new(root, "type", json_string(card->type)) != 0) {
        err = LEAL_E_NO_MEMORY;
        goto out;
    }
    if ((err = card->engine->to_json(card->state, root)) != LEAL_OK)
        goto out;
    if ((s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER)) == NULL) {
        err = LEAL_E_NO_MEMORY;
        goto out;
    }
    *out = s;
out:
    json_decref(root);
    return err;
}

leal_err cardsim_save(const struct cardsim *card, const char *path)
{
    char *s = NULL;
    leal_err err;
    if (path == NULL)
        return LEAL_E_ARG;
    if ((err = cardsim_to_string(card, &s)) != LEAL_OK)
        return err;
    err = file_write_atomic(path, (const uint8_t *)s, strlen(s), 0600);
    free(s);
    return err;
}

leal_err cardsim_sync(struct cardsim *card, const char *path)
{
    char *s = NULL;
    leal_err err;
    if (card == NULL || path == NULL)
        return LEAL_E_ARG;
    if ((err = cardsim_to_string(card, &s)) != LEAL_OK)
        return err;
    if (card->synced && strcmp(card->synced, s) == 0) {
        free(s);
        return LEAL_OK;
    }
    if ((err = file_write_atomic(path, (const uint8_t *)s, strlen(s), 0600)) != LEAL_OK) {
        free(s);
        return err;
    }
    free(card->synced);
    card->synced = s;
    return LEAL_OK;
}

void cardsim_free(struct cardsim *card)
{
    if (card == NULL)
        return;
    if (card->state)
        card->engine->free(card->state);
    free(card->synced);
    free(card);
}

enum cardsim_kind cardsim_kind(const struct cardsim *card)
{
    return card->engine->kind;
}

const char *cardsim_type(const struct cardsim *card)
{
    return card->type;
}

bool cardsim_active(const struct cardsim *card)
{
    return card->active;
}

leal_err cardsim_activate(struct cardsim *card, struct cardsim_ident *id)
{
    struct cardsim_ident tmp;
    leal_err err;
    if (card == NULL)
        return LEAL_E_ARG;
    memset(&tmp, 0, sizeof tmp);
    if (card->active)
        card->engine->deactivate(card->state);
    card->active = false;
    if ((err = card->engine->activate(card, card->state, &tmp)) != LEAL_OK)
        return err;
    card->active = true;
    card->powered = true;
    if (id)
        *id = tmp;
    return LEAL_OK;
}

void cardsim_deactivate(struct cardsim *card)
{
    if (card == NULL)
        return;
    if (card->active)
        card->engine->deactivate(card->state);
    card->active = false;
    card->powered = false;
}

void cardsim_halt(struct cardsim *card)
{
    if (card == NULL)
        return;
    if (card->active)
        card->engine->deactivate(card->state);
    card->active = false;
}

static void tear_fired(struct cardsim *card)
{
    cardsim_deactivate(card);
    card->torn = true;
    card->tear.point = CARDSIM_TEAR_NONE;
    card->tearing = false;
}

leal_err cardsim_transceive(struct cardsim *card, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                            size_t resp_cap, size_t *resp_len)
{
    leal_err err;
    bool tear_here;

    if (resp_len)
        *resp_len = 0;
    if (card == NULL || (cmd == NULL && cmd_len > 0) || resp == NULL || resp_len == NULL)
        return LEAL_E_ARG;
    if (!card->active)
        return LEAL_E_NO_CARD;
    tear_here = card->tear.point != CARDSIM_TEAR_NONE && ++card->exchanges == card->tear.after;
    if (tear_here && card->tear.point == CARDSIM_TEAR_BEFORE_COMMAND) {
        tear_fired(card);
        return LEAL_E_CARD_REMOVED;
    }
    card->tearing = tear_here && card->tear.point == CARDSIM_TEAR_INSIDE_COMMIT;
    err = card->engine->transceive(card, cmd, cmd_len, resp, resp_cap, resp_len);
    card->tearing = false;
    if (tear_here || err == LEAL_E_CARD_REMOVED) {
        /* The command ran (all or, inside a commit, part of it); the answer is lost. */
        *resp_len = 0;
        tear_fired(card);
        return LEAL_E_CARD_REMOVED;
    }
    if (err != LEAL_OK)
        *resp_len = 0;
    return err;
}

void cardsim_set_rng(struct cardsim *card, cardsim_rng_fn fn, void *ctx)
{
    card->rng = fn;
    card->rng_ctx = ctx;
}

void cardsim_set_tear(struct cardsim *card, const struct cardsim_tear *tear)
{
    memset(&card->tear, 0, sizeof card->tear);
    if (tear)
        card->tear = *tear;
    card->exchanges = 0;
    card->torn = false;
}

bool cardsim_torn(const struct cardsim *card)
{
    return card->torn;
}
