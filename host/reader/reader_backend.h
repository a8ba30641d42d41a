/*
 * reader_backend.h - what a reader backend provides to host/reader/reader.c:
 * one const table per backend (reader_pcsc.c, reader_sim.c, reader_nfc.c),
 * listed in reader.c's `backends[]`. Every member is required but
 * wait_removed (NULL: reader.c asks wait_card every 100 ms). A backend
 * translates its library's errors to leal_err where they enter (pcsc-lite
 * LONG codes only in reader_pcsc.c). Hosted.
 */
#ifndef LEAL_READER_BACKEND_H
#define LEAL_READER_BACKEND_H

#include "reader.h"

struct reader_backend {
    const char *scheme; /* "pcsc", "sim", "nfc" */
    /* Appends this backend's readers to out[*n..cap). */
    leal_err (*list)(struct reader_entry *out, size_t cap, size_t *n);
    /* arg: the spec after "scheme:" (NULL or "" for the backend's first reader).
     * Fills name and whether it is a vpcd test reader. */
    leal_err (*open)(const char *arg, void **ctx, char *name, size_t name_cap, bool *is_virtual);
    leal_err (*wait_card)(void *ctx, unsigned timeout_ms);
    leal_err (*card_info)(void *ctx, struct reader_card *info);
    leal_err (*transceive)(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                           size_t resp_cap, size_t *resp_len);
    leal_err (*classic_auth)(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6]);
    leal_err (*classic_read)(void *ctx, uint8_t block, uint8_t out[16]);
    leal_err (*classic_write)(void *ctx, uint8_t block, const uint8_t data[16]);
    void (*release)(void *ctx);
    /* After release: LEAL_OK once no card is in the field (reader.h). */
    leal_err (*wait_removed)(void *ctx, unsigned timeout_ms);
    void (*close)(void *ctx);
};

/* The card behind a sim: backend context (reader_sim.c). */
struct cardsim;
struct cardsim *reader_sim_cardsim(void *ctx);

extern const struct reader_backend reader_pcsc_backend;
extern const struct reader_backend reader_sim_backend;
extern const struct reader_backend reader_nfc_backend;   /* reader_nfc.c */
extern const struct reader_backend reader_pn532_backend; /* reader_pn532.c */

/* The ATR a PC/SC contactless reader builds for an ISO 14443-A card from its
 * SAK and ATS (ats: from T0, TL stripped), so that every backend reports the
 * same card the same way (reader.c). */
void reader_build_atr(uint8_t sak, const uint8_t *ats, size_t ats_len, struct reader_card *info);

#endif
