/*
 * reader_sim.c - the sim: backend: the virtual card in-process, seen through
 * the same PC/SC face as behind vpcd (pcsc_face.h), so the host cannot tell
 * the difference. The card file is saved after every exchange that changed
 * the card, as its EEPROM would keep it. The card file is the card in the
 * field: once it is gone or replaced by another file (reader_wait_removed,
 * or the next wait seeing it), the next wait loads whatever card file then
 * lies at the path, or says no card once the wait's time is up.
 */
#include <sys/stat.h>
#include <time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/cardsim/cardsim.h"
#include "host/cardsim/pcsc_face.h"
#include "reader_backend.h"
#include "reader_part3.h"

struct sim {
    struct cardsim *card;
    struct pcsc_face face;
    char path[READER_MAX_SPEC];
    struct stat seen; /* the card file as this reader last loaded or saved it */
    bool gone;        /* reader_wait_removed saw it go: the next wait loads the path */
};

static void sleep_20ms(void)
{
    nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
}

/* Whether the file at the path is still the card this reader holds. */
static bool same_file(const struct sim *s)
{
    struct stat now;
    return stat(s->path, &now) == 0 && now.st_dev == s->seen.st_dev &&
           now.st_ino == s->seen.st_ino && now.st_size == s->seen.st_size &&
           now.st_mtim.tv_sec == s->seen.st_mtim.tv_sec &&
           now.st_mtim.tv_nsec == s->seen.st_mtim.tv_nsec;
}

static void remember_file(struct sim *s)
{
    if (stat(s->path, &s->seen) != 0)
        memset(&s->seen, 0, sizeof s->seen);
}

static leal_err sim_list(struct reader_entry *out, size_t cap, size_t *n)
{
    /* Card files are not discovered: a sim: reader is always named. */
    (void)out;
    (void)cap;
    (void)n;
    return LEAL_OK;
}

static leal_err sim_open(const char *arg, void **ctx, char *name, size_t name_cap, bool *is_virtual)
{
    struct sim *s;
    leal_err err;
    if (arg == NULL || *arg == '\0' || strlen(arg) >= sizeof s->path)
        return LEAL_E_USAGE;
    if ((s = calloc(1, sizeof *s)) == NULL)
        return LEAL_E_NO_MEMORY;
    if ((err = cardsim_load(arg, &s->card)) != LEAL_OK) {
        free(s);
        return err == LEAL_E_NOT_FOUND ? LEAL_E_NO_READER : err;
    }
    memcpy(s->path, arg, strlen(arg) + 1);
    remember_file(s);
    pcsc_face_init(&s->face, s->card);
    snprintf(name, name_cap, "sim:%s", arg);
    *is_virtual = false; /* in-process and named explicitly: nothing listens */
    *ctx = s;
    return LEAL_OK;
}

/* After the card left: the card file now at the path, once there is one. */
static leal_err load_next(struct sim *s, unsigned timeout_ms)
{
    struct cardsim *c = NULL;
    unsigned waited = 0;
    leal_err err;
    while ((err = cardsim_load(s->path, &c)) != LEAL_OK) {
        if (waited >= timeout_ms && err == LEAL_E_NOT_FOUND)
            return LEAL_E_NO_CARD;
        if (waited >= timeout_ms) {
            remember_file(s); /* not a card: the next one is another file */
            return err;
        }
        sleep_20ms();
        waited += 20;
    }
    cardsim_free(s->card);
    s->card = c;
    pcsc_face_init(&s->face, s->card);
    remember_file(s);
    s->gone = false;
    return LEAL_OK;
}

static leal_err sim_wait_card(void *ctx, unsigned timeout_ms)
{
    struct sim *s = ctx;
    leal_err err;
    /* The card file went, or another took its place, since this reader last
     * loaded or saved it: that card left the field, as a real one leaves a
     * reader between two waits (a loop that never asks reader_wait_removed,
     * like leal-terminal serve --stdio, must not tap a card no longer there). */
    if (!s->gone && !same_file(s)) {
        pcsc_face_power_off(&s->face);
        s->gone = true;
    }
    if (s->gone && (err = load_next(s, timeout_ms)) != LEAL_OK)
        return err;
    if (cardsim_active(s->card))
        return LEAL_OK;
    return pcsc_face_power_on(&s->face);
}

static leal_err sim_card_info(void *ctx, struct reader_card *info)
{
    struct sim *s = ctx;
    const uint8_t *hist;
    size_t hl;
    leal_err err;
    if (!cardsim_active(s->card))
        return LEAL_E_NO_CARD;
    memcpy(info->uid, s->face.id.uid, s->face.id.uid_len);
    info->uid_len = s->face.id.uid_len;
    if ((err = pcsc_face_atr(&s->face, info->atr, sizeof info->atr, &info->atr_len)) != LEAL_OK)
        return err;
    if (s->face.id.ats_len &&
        pcsc_face_ats_historical(s->face.id.ats, s->face.id.ats_len, &hist, &hl) == LEAL_OK &&
        hl <= sizeof info->historical) {
        memcpy(info->historical, hist, hl);
        info->historical_len = hl;
    }
    return LEAL_OK;
}

static leal_err sim_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                               size_t resp_cap, size_t *resp_len)
{
    struct sim *s = ctx;
    leal_err err = pcsc_face_apdu(&s->face, cmd, cmd_len, resp, resp_cap, resp_len);
    leal_err serr = cardsim_sync(s->card, s->path);
    remember_file(s);
    return err != LEAL_OK ? err : serr;
}

static leal_err sim_classic_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    return reader_part3_classic_auth(&reader_sim_backend, ctx, block, key_type, key);
}

static leal_err sim_classic_read(void *ctx, uint8_t block, uint8_t out[16])
{
    return reader_part3_classic_read(&reader_sim_backend, ctx, block, out);
}

static leal_err sim_classic_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    return reader_part3_classic_write(&reader_sim_backend, ctx, block, data);
}

static void sim_release(void *ctx)
{
    (void)ctx; /* the card stays in the field */
}

static leal_err sim_wait_removed(void *ctx, unsigned timeout_ms)
{
    struct sim *s = ctx;
    unsigned waited = 0;
    while (same_file(s)) {
        if (waited >= timeout_ms)
            return LEAL_E_TIMEOUT;
        sleep_20ms();
        waited += 20;
    }
    pcsc_face_power_off(&s->face);
    s->gone = true;
    return LEAL_OK;
}

static void sim_close(void *ctx)
{
    struct sim *s = ctx;
    if (s == NULL)
        return;
    /* Nothing to save: every exchange that changed the card was saved. */
    pcsc_face_power_off(&s->face);
    cardsim_free(s->card);
    free(s);
}

struct cardsim *reader_sim_cardsim(void *ctx)
{
    return ((struct sim *)ctx)->card;
}

const struct reader_backend reader_sim_backend = {
    .scheme = "sim",
    .list = sim_list,
    .open = sim_open,
    .wait_card = sim_wait_card,
    .card_info = sim_card_info,
    .transceive = sim_transceive,
    .classic_auth = sim_classic_auth,
    .classic_read = sim_classic_read,
    .classic_write = sim_classic_write,
    .release = sim_release,
    .wait_removed = sim_wait_removed,
    .close = sim_close,
};
