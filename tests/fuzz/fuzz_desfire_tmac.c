/*
 * fuzz_desfire_tmac.c - the virtual DESFire EV2's Transaction MAC paths: a
 * sequence of frames (each: one length byte, then that many bytes, native or
 * ISO-wrapped) sent to an EV2 whose application 000001 holds free-access
 * files (standard 01, value 02, cyclic records 03), so that ReadData,
 * WriteData, GetValue, Credit, Debit, WriteRecord, ReadRecords and
 * ClearRecordFile feed the TMI without a session, and the TransactionMAC
 * file 0F (R free), made through the driver under AuthenticateEV2First, so
 * that CommitTransaction's option byte, the TMC and TMV and ReadData of the
 * file are reachable. The card must answer every frame within its limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cardlayout/desfire/desfire.h"
#include "host/cardsim/cardsim.h"
#include "keys/hosted/provider_openssl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static leal_err fixed_rng(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    memset(out, 0x5A, n);
    return LEAL_OK;
}

static leal_err fixed_random(uint8_t *out, size_t n)
{
    memset(out, 0xA5, n);
    return LEAL_OK;
}

static leal_err sim_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                               size_t resp_cap, size_t *resp_len)
{
    return cardsim_transceive(ctx, cmd, cmd_len, resp, resp_cap, resp_len);
}

static void send(struct cardsim *c, const uint8_t *cmd, size_t len)
{
    uint8_t resp[LEAL_MAX_RAPDU];
    size_t rl = 0;
    leal_err err = cardsim_transceive(c, cmd, len, resp, sizeof resp, &rl);
    if (err == LEAL_OK && (rl == 0 || rl > 2 + 59 + 8))
        __builtin_trap(); /* every frame gets a status, never more than a frame */
    if (err == LEAL_E_CARD_REMOVED && cardsim_activate(c, NULL) != LEAL_OK)
        __builtin_trap();
}

/* The application, its files and the TransactionMAC file, through the driver. */
static leal_err personalize(struct cardsim *c)
{
    static const uint8_t aid[3] = {0x01, 0x00, 0x00}, zero[16];
    struct card_reader rd = {c, sim_transceive, NULL, NULL, NULL};
    struct crypto_provider cp = *crypto_openssl();
    struct desfire d;
    leal_err err;
    cp.random = fixed_random;
    desfire_init(&d, &rd, &cp);
    if ((err = desfire_create_application(
             &d, &(struct desfire_app_spec){aid, 0x0F, 0x82, 0, NULL, 0})) == LEAL_OK &&
        (err = desfire_select_application(&d, aid)) == LEAL_OK &&
        (err = desfire_create_data_file(
             &d, &(struct desfire_data_file){1, false, 0, DESFIRE_COMM_PLAIN, 0xEEEE, 32})) ==
            LEAL_OK &&
        (err = desfire_create_value_file(
             &d, &(struct desfire_value_file){2, DESFIRE_COMM_PLAIN, 0xEEEE, 0, 1000, 100, 1})) ==
            LEAL_OK &&
        (err = desfire_create_record_file(
             &d, &(struct desfire_record_file){3, true, 0, DESFIRE_COMM_PLAIN, 0xEEEE, 16, 4})) ==
            LEAL_OK &&
        (err = desfire_authenticate_ev2_first(&d, 0, zero)) == LEAL_OK &&
        (err = desfire_create_tmac_file(
             &d, &(struct desfire_tmac_file){0x0F, DESFIRE_COMM_PLAIN, 0xEFF0, zero, 1})) ==
            LEAL_OK)
        err = desfire_select_application(&d, aid);
    desfire_clear(&d);
    return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cardsim *c = NULL;
    static const uint8_t uid[7] = {4, 1, 2, 3, 4, 5, 6};
    size_t off = 0;

    if (cardsim_new("desfire-ev2", uid, 7, false, &c) != LEAL_OK)
        return 0;
    cardsim_set_rng(c, fixed_rng, NULL);
    if (cardsim_activate(c, NULL) != LEAL_OK) {
        cardsim_free(c);
        return 0;
    }
    if (personalize(c) != LEAL_OK)
        __builtin_trap(); /* the card must take its own personalization */
    while (off < size) {
        size_t n = data[off++];
        if (n > size - off)
            n = size - off;
        send(c, data + off, n);
        off += n;
    }
    cardsim_free(c);
    return 0;
}
