/*
 * desfire_host.h - a reader-side DESFire implementation for tests only:
 * authentication (0x0A, 0x1A, 0xAA), session keys, D40 and EV1 secure
 * messaging, 0xAF chaining. Written independently of the virtual card (it
 * uses OpenSSL's CBC directly) so that each side checks the other, and both
 * are checked against the published traces (tests/vectors/desfire_*.txt).
 */
#ifndef LEAL_TEST_DESFIRE_HOST_H
#define LEAL_TEST_DESFIRE_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sends one native frame, returns the answer (status first). 0 on success. */
typedef int (*dfh_xfer_fn)(void *ctx, const uint8_t *frame, size_t len, uint8_t *resp, size_t cap,
                           size_t *resp_len);

enum dfh_auth { DFH_NONE = 0, DFH_LEGACY, DFH_ISO, DFH_AES };
enum dfh_comm { DFH_PLAIN = 0, DFH_MAC = 1, DFH_ENC = 3 };
enum dfh_key { DFH_DES = 0, DFH_3K3DES = 1, DFH_AES_KEY = 2 };

struct dfh {
    dfh_xfer_fn xfer;
    void *ctx;
    int auth; /* enum dfh_auth */
    int keyno;
    uint8_t sess[24];
    size_t sess_len, bs;
    uint8_t iv[16];
    int frames; /* frames sent by the last command */
};

void dfh_init(struct dfh *h, dfh_xfer_fn xfer, void *ctx);

/* Whole native exchange with 0xAF chaining both ways (59 data bytes per frame).
 * Returns the final status byte, or -1 on a transport failure. */
int dfh_raw(struct dfh *h, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
            size_t *out_len);

/* Authenticates (ins 0x0A, 0x1A or 0xAA) with key (8/16/24 or 16 bytes) and the
 * host's random rnda (8 or 16 bytes). Returns the status (0 = success). */
int dfh_auth(struct dfh *h, uint8_t ins, uint8_t keyno, int keytype, const uint8_t *key,
             size_t key_len, const uint8_t *rnda);

/* A command with secure messaging: hdr (INS and plain header), data sent in
 * cmd_comm; answer data of resp_len bytes expected in resp_comm (resp_len
 * matters for enciphered answers; use SIZE_MAX when unknown and plain).
 * Returns the status; on 0 *out_len is the answer data length. A response
 * whose MAC or CRC does not verify returns -2. */
int dfh_cmd(struct dfh *h, const uint8_t *hdr, size_t hdr_len, const uint8_t *data, size_t data_len,
            int cmd_comm, uint8_t *out, size_t cap, size_t *out_len, int resp_comm,
            size_t resp_len);

/* ChangeKey: keyno_raw (with type bits at PICC level), the new key (nl bytes:
 * 16 or 24), AES version, and the old key when changing another key than the
 * authenticated one (NULL otherwise). Returns the status. */
int dfh_change_key(struct dfh *h, uint8_t keyno_raw, int new_type, const uint8_t *new_key,
                   size_t nl, uint8_t version, const uint8_t *old_key);

/* CRCs as DESFire computes them. */
uint32_t dfh_crc32(const uint8_t *p, size_t n);
uint16_t dfh_crc16(const uint8_t *p, size_t n);

#endif
