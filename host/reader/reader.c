/* reader.c - reader specs, the backend table, the card_reader door and the
 * trace tap every exchange passes (reader_trace.h). */
#include "reader_backend.h"
#include "reader_trace.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One entry per backend; libnfc adds &reader_nfc_backend. */
static const struct reader_backend *const backends[] = {
    &reader_pcsc_backend,
    &reader_sim_backend,
    &reader_nfc_backend,
    &reader_pn532_backend,
};

struct reader {
    const struct reader_backend *b;
    void *ctx;
    char name[READER_MAX_NAME];
    struct card_reader door;
    struct reader_trace trace;
};

leal_err reader_list(struct reader_entry *out, size_t cap, size_t *n)
{
    leal_err err;
    *n = 0;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if ((err = backends[i]->list(out, cap, n)) != LEAL_OK)
            return err;
    return LEAL_OK;
}

static leal_err door_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                size_t resp_cap, size_t *resp_len)
{
    return reader_transceive(ctx, cmd, cmd_len, resp, resp_cap, resp_len);
}

static leal_err door_classic_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    struct reader *r = ctx;
    leal_err err = r->b->classic_auth(r->ctx, block, key_type, key);
    reader_trace_classic_auth(&r->trace, block, key_type, err);
    return err;
}

static leal_err door_classic_read(void *ctx, uint8_t block, uint8_t out[16])
{
    struct reader *r = ctx;
    leal_err err = r->b->classic_read(r->ctx, block, out);
    reader_trace_classic_block(&r->trace, READER_TRACE_CLASSIC_READ, block, err);
    return err;
}

static leal_err door_classic_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    struct reader *r = ctx;
    leal_err err = r->b->classic_write(r->ctx, block, data);
    reader_trace_classic_block(&r->trace, READER_TRACE_CLASSIC_WRITE, block, err);
    return err;
}

static leal_err open_backend(const struct reader_backend *b, const char *arg,
                             const struct reader_options *opt, struct reader **out)
{
    struct reader *r = calloc(1, sizeof *r);
    bool is_virtual = false;
    leal_err err;
    if (r == NULL)
        return LEAL_E_NO_MEMORY;
    r->b = b;
    if ((err = b->open(arg, &r->ctx, r->name, sizeof r->name, &is_virtual)) != LEAL_OK) {
        free(r);
        return err;
    }
    if (is_virtual && !(opt && opt->allow_virtual)) {
        b->close(r->ctx);
        free(r);
        return LEAL_E_VIRTUAL_READER;
    }
    r->door.ctx = r;
    r->door.transceive = door_transceive;
    r->door.classic_auth = door_classic_auth;
    r->door.classic_read = door_classic_read;
    r->door.classic_write = door_classic_write;
    *out = r;
    return LEAL_OK;
}

leal_err reader_open(const char *spec, const struct reader_options *opt, struct reader **out)
{
    if (out == NULL)
        return LEAL_E_ARG;
    *out = NULL;
    if (spec == NULL || *spec == '\0') {
        struct reader_entry *list = calloc(READER_MAX_LIST, sizeof *list);
        size_t n = 0;
        leal_err err;
        if (list == NULL)
            return LEAL_E_NO_MEMORY;
        err = reader_list(list, READER_MAX_LIST, &n);
        for (size_t i = 0; err == LEAL_OK && i < n; i++) {
            if (list[i].is_virtual && !(opt && opt->allow_virtual))
                continue;
            err = reader_open(list[i].spec, opt, out);
            free(list);
            return err;
        }
        free(list);
        return err != LEAL_OK ? err : LEAL_E_NO_READER;
    }
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        size_t sl = strlen(backends[i]->scheme);
        if (strncmp(spec, backends[i]->scheme, sl) == 0 && spec[sl] == ':')
            return open_backend(backends[i], spec + sl + 1, opt, out);
    }
    return LEAL_E_USAGE;
}

void reader_close(struct reader *r)
{
    if (r == NULL)
        return;
    r->b->close(r->ctx);
    free(r);
}

const char *reader_name(const struct reader *r)
{
    return r->name;
}

leal_err reader_wait_card(struct reader *r, unsigned timeout_ms)
{
    return r->b->wait_card(r->ctx, timeout_ms);
}

leal_err reader_card_info(struct reader *r, struct reader_card *info)
{
    memset(info, 0, sizeof *info);
    return r->b->card_info(r->ctx, info);
}

leal_err reader_transceive(struct reader *r, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                           size_t resp_cap, size_t *resp_len)
{
    leal_err err;
    *resp_len = 0;
    if (cmd_len == 0 || cmd_len > LEAL_MAX_APDU)
        return LEAL_E_ARG;
    err = r->b->transceive(r->ctx, cmd, cmd_len, resp, resp_cap, resp_len);
    /* The one trace tap for every backend (LEAL_TRACE=apdu; reader_trace.h hides what is secret).
     */
    reader_trace_apdu(&r->trace, cmd, cmd_len, resp, *resp_len, err);
    return err;
}

void reader_release(struct reader *r)
{
    r->b->release(r->ctx);
}

/* For a backend that cannot wait on the reader's events: asks every 100 ms
 * whether a card can be had, and lets it go again. */
static leal_err wait_removed_by_asking(struct reader *r, unsigned timeout_ms)
{
    unsigned waited = 0;
    for (;;) {
        leal_err err = r->b->wait_card(r->ctx, 0);
        r->b->release(r->ctx);
        if (err == LEAL_E_NO_CARD || err == LEAL_E_CARD_REMOVED)
            return LEAL_OK;
        if (err != LEAL_OK)
            return err;
        if (waited >= timeout_ms)
            return LEAL_E_TIMEOUT;
        nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
        waited += 100;
    }
}

leal_err reader_wait_removed(struct reader *r, unsigned timeout_ms)
{
    r->b->release(r->ctx);
    if (r->b->wait_removed == NULL)
        return wait_removed_by_asking(r, timeout_ms);
    return r->b->wait_removed(r->ctx, timeout_ms);
}

const struct card_reader *reader_card_reader(struct reader *r)
{
    return &r->door;
}

struct cardsim *reader_sim_card(struct reader *r)
{
    return r && r->b == &reader_sim_backend ? reader_sim_cardsim(r->ctx) : NULL;
}
