/*
 * fuzz_desfire_apdu.c - the virtual DESFire's command parser: a sequence of
 * frames (each: one length byte, then that many bytes, native or ISO-wrapped)
 * sent to a card that has an application with every file type, so that
 * chaining, authentication and file commands are all reachable, and an ISO
 * application with ISO EFs for SELECT / READ BINARY / UPDATE BINARY / READ
 * RECORD. The card must
 * answer every frame (a status, never a crash) within its frame limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "host/cardsim/cardsim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static leal_err fixed_rng(void *ctx, uint8_t *out, size_t n)
{
    (void)ctx;
    memset(out, 0x5A, n);
    return LEAL_OK;
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

#define S(x) send(c, (const uint8_t *)(x), sizeof(x) - 1)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cardsim *c = NULL;
    static const uint8_t uid[7] = {4, 1, 2, 3, 4, 5, 6};
    size_t off = 0;

    if (cardsim_new("desfire-ev1-2k", uid, 7, false, &c) != LEAL_OK)
        return 0;
    cardsim_set_rng(c, fixed_rng, NULL);
    if (cardsim_activate(c, NULL) != LEAL_OK) {
        cardsim_free(c);
        return 0;
    }
    S("\xCA\x01\x00\x00\x0F\x82");         /* app 000001, 2 AES keys */
    S("\xCA\x02\x00\x00\x0F\x03");         /* app 000002, 3 DES keys */
    S("\x5A\x01\x00\x00");                 /* select 000001 */
    S("\xCD\x01\x00\xEE\xEE\x40\x00\x00"); /* std 64 bytes, free */
    S("\xCB\x02\x01\x00\x00\x40\x00\x00"); /* backup, MACed, key 0 */
    S("\xCC\x03\x03\x00\x10\x00\x00\x00\x00\xE8\x03\x00\x00\x64\x00\x00\x00\x03");
    S("\xC1\x04\x00\xEE\xEE\x10\x00\x00\x04\x00\x00"); /* linear records */
    S("\xC0\x05\x00\xEE\xEE\x10\x00\x00\x04\x00\x00"); /* cyclic records */
    /* app 000003 with ISO FIDs (DF E103, name A000000001): EFs E101 (std 32
     * bytes) and E102 (cyclic 4 x 3), for the ISO 7816-4 commands. */
    S("\xCA\x03\x00\x00\x0F\x21\x03\xE1\xA0\x00\x00\x00\x01");
    S("\x5A\x03\x00\x00");
    S("\xCD\x01\x01\xE1\x00\xEE\xEE\x20\x00\x00");
    S("\xC0\x02\x02\xE1\x00\xEE\xEE\x04\x00\x00\x03\x00\x00");
    S("\x5A\x01\x00\x00");
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
