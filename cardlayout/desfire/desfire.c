/* desfire.c - MIFARE DESFire EV1 driver: framing, AES session, commands. */
#include "desfire.h"

#include <stdint.h>

#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/base/limits.h"

#define ST_OK 0x00
#define ST_MORE 0xAF

/* How the command's data travels. */
enum tx_mode {
    TX_PLAIN, /* as is; under a session its CMAC only advances the IV */
    TX_MAC,   /* data || CMAC(8) */
    TX_FULL,  /* E(data || CRC32(cmd || hdr || data) || 00..) */
    TX_RAW,   /* data is a plaintext already complete and padded; encipher it */
};

/* What a success answer carries under a session. */
enum rx_mode {
    RX_MAC,  /* data || CMAC(8) over data || 00 */
    RX_FULL, /* E(data || CRC32(data || 00) || 00..) */
    RX_NONE, /* nothing: the command ends the session (ChangeKey of the session's key) */
};

static void drop_session(struct desfire *d)
{
    d->authenticated = false;
    d->key_no = 0;
    leal_wipe(d->session, sizeof d->session);
    leal_wipe(d->iv, sizeof d->iv);
}

void desfire_init(struct desfire *d, const struct card_reader *reader,
                  const struct crypto_provider *cp)
{
    leal_memset(d, 0, sizeof *d);
    d->reader = reader;
    d->cp = cp;
}

void desfire_clear(struct desfire *d)
{
    if (d == NULL)
        return;
    drop_session(d);
    leal_wipe(d->msg, sizeof d->msg);
    leal_wipe(d->ans, sizeof d->ans);
}

void desfire_resume_session(struct desfire *d, uint8_t key_no, const uint8_t session[16],
                            const uint8_t iv[16])
{
    leal_memcpy(d->session, session, 16);
    leal_memcpy(d->iv, iv, 16);
    d->key_no = key_no;
    d->authenticated = true;
}

leal_err desfire_status_err(uint8_t status)
{
    /* Native status codes: libfreefare freefare.h, REFERENCE.md 3.2. */
    switch (status) {
    case 0x00:
        return LEAL_OK;
    case 0x0C:
        return LEAL_E_CARD_NO_CHANGES;
    case 0x0E:
        return LEAL_E_CARD_OUT_OF_EEPROM;
    case 0x1C:
        return LEAL_E_CARD_ILLEGAL_COMMAND;
    case 0x1E:
        return LEAL_E_CARD_INTEGRITY;
    case 0x40:
        return LEAL_E_CARD_NO_SUCH_KEY;
    case 0x7E:
        return LEAL_E_CARD_LENGTH;
    case 0x9D:
        return LEAL_E_CARD_PERMISSION_DENIED;
    case 0x9E:
        return LEAL_E_CARD_PARAMETER;
    case 0xA0:
        return LEAL_E_CARD_APPLICATION_NOT_FOUND;
    case 0xA1: /* APPL_INTEGRITY_ERROR */
    case 0xC1: /* PICC_INTEGRITY_ERROR */
    case 0xF1: /* FILE_INTEGRITY_ERROR */
        return LEAL_E_CARD_MEMORY_DAMAGED;
    case 0xAE:
        return LEAL_E_CARD_AUTHENTICATION;
    case 0xAF:
        return LEAL_E_PROTOCOL; /* more frames where none may follow */
    case 0xBE:
        return LEAL_E_CARD_BOUNDARY;
    case 0xCA:
        return LEAL_E_CARD_COMMAND_ABORTED;
    case 0xCD:
        return LEAL_E_CARD_DISABLED;
    case 0xCE:
        return LEAL_E_CARD_COUNT;
    case 0xDE:
        return LEAL_E_CARD_DUPLICATE;
    case 0xEE:
        return LEAL_E_CARD_EEPROM;
    case 0xF0:
        return LEAL_E_CARD_FILE_NOT_FOUND;
    default:
        return LEAL_E_CARD_STATUS;
    }
}

/* DESFire EV1 CRC32: IEEE reflected polynomial, preset FFFFFFFF, no final xor. */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc;
}

uint32_t desfire_crc32(const uint8_t *p, size_t n)
{
    return crc32_update(0xFFFFFFFFu, p, n);
}

/* One wrapped frame: 90 ins 00 00 [Lc data] 00 -> data 91 status. */
static leal_err frame(struct desfire *d, uint8_t ins, const uint8_t *data, size_t len,
                      uint8_t *status, uint8_t *resp, size_t cap, size_t *resp_len)
{
    uint8_t apdu[6 + DESFIRE_FRAME_DATA], r[LEAL_MAX_RAPDU];
    size_t n = 0, rl = 0;
    leal_err err;

    *resp_len = 0;
    apdu[n++] = 0x90;
    apdu[n++] = ins;
    apdu[n++] = 0x00;
    apdu[n++] = 0x00;
    if (len > 0) {
        apdu[n++] = (uint8_t)len;
        leal_memcpy(apdu + n, data, len);
        n += len;
    }
    apdu[n++] = 0x00;
    d->round_trips++;
    d->bytes_out += n;
    err = d->reader->transceive(d->reader->ctx, apdu, n, r, sizeof r, &rl);
    leal_wipe(apdu, sizeof apdu);
    if (err != LEAL_OK)
        goto out;
    d->bytes_in += rl;
    /* Not a DESFire status word (an ISO error from another card type, or garbage). */
    if (rl < 2 || rl > sizeof r || r[rl - 2] != 0x91) {
        err = LEAL_E_PROTOCOL;
        goto out;
    }
    if (rl - 2 > cap) {
        err = LEAL_E_PROTOCOL;
        goto out;
    }
    *status = r[rl - 1];
    d->status = *status;
    leal_memcpy(resp, r, rl - 2);
    *resp_len = rl - 2;
out:
    leal_wipe(r, sizeof r);
    return err;
}

/* Sends the logical command d->msg[0..len) (INS first) in frames and collects
 * the whole answer into d->ans. Returns the final status in *status. A status
 * other than 00 or AF ends the session and is returned as its error. */
static leal_err exchange(struct desfire *d, size_t len, uint8_t *status, size_t *ans_len)
{
    size_t off = 1, chunk, got = 0, n;
    uint8_t st = 0;
    leal_err err;

    *ans_len = 0;
    chunk = len - off > DESFIRE_FRAME_DATA ? DESFIRE_FRAME_DATA : len - off;
    if ((err = frame(d, d->msg[0], d->msg + off, chunk, &st, d->ans, sizeof d->ans, &n)) != LEAL_OK)
        goto fail;
    off += chunk;
    while (off < len) {
        /* The card must ask for the rest with an empty AF. */
        if (st != ST_MORE || n != 0) {
            err = st != ST_MORE && st != ST_OK ? desfire_status_err(st) : LEAL_E_PROTOCOL;
            goto fail;
        }
        chunk = len - off > DESFIRE_FRAME_DATA ? DESFIRE_FRAME_DATA : len - off;
        if ((err = frame(d, ST_MORE, d->msg + off, chunk, &st, d->ans, sizeof d->ans, &n)) !=
            LEAL_OK)
            goto fail;
        off += chunk;
    }
    got = n;
    while (st == ST_MORE) {
        if ((err = frame(d, ST_MORE, NULL, 0, &st, d->ans + got, sizeof d->ans - got, &n)) !=
            LEAL_OK)
            goto fail;
        got += n;
    }
    if (st != ST_OK) {
        err = desfire_status_err(st);
        goto fail;
    }
    *status = st;
    *ans_len = got;
    return LEAL_OK;
fail:
    drop_session(d);
    return err;
}

/* The command INS || hdr || data in tx mode; the answer's data (without MAC,
 * CRC and padding) into out. want: exact answer length, or SIZE_MAX for any
 * (not with RX_FULL). */
static leal_err command(struct desfire *d, uint8_t ins, const uint8_t *hdr, size_t hdr_len,
                        const uint8_t *data, size_t data_len, enum tx_mode tx, enum rx_mode rx,
                        uint8_t *out, size_t want, size_t *out_len)
{
    const struct crypto_provider *cp = d->cp;
    uint8_t mac[16], status;
    size_t len = 0, alen = 0, n;
    leal_err err;

    if (out_len != NULL)
        *out_len = 0;
    if (hdr_len + data_len > DESFIRE_MAX_DATA)
        return LEAL_E_TOO_LARGE;
    if (!d->authenticated && (tx != TX_PLAIN || rx == RX_FULL))
        return LEAL_E_STATE;
    d->msg[len++] = ins;
    if (hdr_len > 0) {
        leal_memcpy(d->msg + len, hdr, hdr_len);
        len += hdr_len;
    }
    if (tx == TX_PLAIN || tx == TX_MAC) {
        if (data_len > 0)
            leal_memcpy(d->msg + len, data, data_len);
        len += data_len;
        if (d->authenticated) {
            /* EV1: the CMAC of every command advances the IV, sent or not. */
            if ((err = crypto_cmac_iv(cp, d->session, d->iv, d->msg, len, mac)) != LEAL_OK)
                goto fail;
            leal_memcpy(d->iv, mac, 16);
            if (tx == TX_MAC) {
                leal_memcpy(d->msg + len, mac, 8);
                len += 8;
            }
        }
    } else {
        uint8_t *p = d->msg + len;
        size_t pl;
        if (tx == TX_FULL) {
            uint32_t crc = crc32_update(0xFFFFFFFFu, d->msg, len);
            crc = crc32_update(crc, data, data_len);
            pl = (data_len + 4 + 15) / 16 * 16;
            leal_memset(p, 0, pl);
            if (data_len > 0)
                leal_memcpy(p, data, data_len);
            store_le32(p + data_len, crc);
        } else {
            if (data_len == 0 || data_len % 16 != 0)
                return LEAL_E_ARG;
            pl = data_len;
            leal_memcpy(p, data, data_len);
        }
        if ((err = cp->aes128_cbc_encrypt(d->session, d->iv, p, p, pl)) != LEAL_OK)
            goto fail;
        len += pl;
    }
    if ((err = exchange(d, len, &status, &alen)) != LEAL_OK)
        return err;
    if (!d->authenticated) {
        n = alen;
    } else if (rx == RX_NONE) {
        drop_session(d);
        n = alen;
    } else if (rx == RX_MAC) {
        /* libfreefare #90: no answer under a session is believed without its CMAC. */
        if (alen < 8) {
            err = LEAL_E_CARD_RESPONSE_MAC;
            goto fail;
        }
        n = alen - 8;
        {
            uint8_t got[8];
            leal_memcpy(got, d->ans + n, 8);
            d->ans[n] = status;
            err = crypto_cmac_iv(cp, d->session, d->iv, d->ans, n + 1, mac);
            if (err == LEAL_OK && !leal_ct_equal(mac, got, 8))
                err = LEAL_E_CARD_RESPONSE_MAC;
            if (err != LEAL_OK)
                goto fail;
            leal_memcpy(d->iv, mac, 16);
        }
    } else {
        uint32_t crc;
        uint8_t zero = 0, st0 = ST_OK;
        if (alen == 0 || alen % 16 != 0 || want == SIZE_MAX || want + 4 > alen ||
            (want + 4 + 15) / 16 * 16 != alen) {
            err = LEAL_E_CARD_RESPONSE_MAC;
            goto fail;
        }
        if ((err = cp->aes128_cbc_decrypt(d->session, d->iv, d->ans, d->ans, alen)) != LEAL_OK)
            goto fail;
        crc = crc32_update(0xFFFFFFFFu, d->ans, want);
        crc = crc32_update(crc, &st0, 1);
        for (size_t i = want + 4; i < alen; i++)
            zero |= d->ans[i];
        if (load_le32(d->ans + want) != crc || zero != 0) {
            err = LEAL_E_CARD_RESPONSE_MAC;
            goto fail;
        }
        n = want;
    }
    if (want != SIZE_MAX && n != want) {
        err = LEAL_E_PROTOCOL;
        goto fail;
    }
    if (n > 0 && out != NULL)
        leal_memcpy(out, d->ans, n);
    if (out_len != NULL)
        *out_len = n;
    leal_wipe(mac, sizeof mac);
    return LEAL_OK;
fail:
    leal_wipe(mac, sizeof mac);
    drop_session(d);
    return err;
}

/* The comm mode of a file operation as tx/rx modes. */
static enum tx_mode tx_of(enum desfire_comm c)
{
    return c == DESFIRE_COMM_FULL ? TX_FULL : c == DESFIRE_COMM_MACED ? TX_MAC : TX_PLAIN;
}

static enum rx_mode rx_of(enum desfire_comm c)
{
    return c == DESFIRE_COMM_FULL ? RX_FULL : RX_MAC;
}

static int comm_ok(enum desfire_comm c)
{
    return c == DESFIRE_COMM_PLAIN || c == DESFIRE_COMM_MACED || c == DESFIRE_COMM_FULL;
}

leal_err desfire_select_application(struct desfire *d, const uint8_t aid[3])
{
    /* Selecting ends any session on the card, so it is sent outside one. */
    drop_session(d);
    return command(d, 0x5A, aid, 3, NULL, 0, TX_PLAIN, RX_MAC, NULL, 0, NULL);
}

leal_err desfire_get_version(struct desfire *d, struct desfire_version *out)
{
    uint8_t v[28];
    leal_err err;

    leal_memset(out, 0, sizeof *out);
    if ((err = command(d, 0x60, NULL, 0, NULL, 0, TX_PLAIN, RX_MAC, v, sizeof v, NULL)) != LEAL_OK)
        return err;
    leal_memcpy(out->hw, v, 7);
    leal_memcpy(out->sw, v + 7, 7);
    leal_memcpy(out->uid, v + 14, 7);
    leal_memcpy(out->batch, v + 21, 5);
    out->week = v[26];
    out->year = v[27];
    return LEAL_OK;
}

static void rotl1(const uint8_t in[16], uint8_t out[16])
{
    for (int i = 0; i < 15; i++)
        out[i] = in[i + 1];
    out[15] = in[0];
}

leal_err desfire_authenticate_aes(struct desfire *d, uint8_t key_no, const uint8_t key[16])
{
    const struct crypto_provider *cp = d->cp;
    uint8_t r[32], rnd_a[16], rnd_b[16], tok[32], iv[16] = {0}, rot[16], status = 0;
    size_t n = 0;
    leal_err err;

    drop_session(d);
    if ((err = frame(d, 0xAA, &key_no, 1, &status, r, sizeof r, &n)) != LEAL_OK)
        goto out;
    if (status != ST_MORE) {
        err = status == ST_OK ? LEAL_E_PROTOCOL : desfire_status_err(status);
        goto out;
    }
    if (n != 16) {
        err = LEAL_E_PROTOCOL;
        goto out;
    }
    /* RndB = D_K(ekRndB), IV 0; the IV then chains through the token and the answer. */
    if ((err = cp->aes128_cbc_decrypt(key, iv, r, rnd_b, 16)) != LEAL_OK ||
        (err = cp->random(rnd_a, 16)) != LEAL_OK)
        goto out;
    leal_memcpy(tok, rnd_a, 16);
    rotl1(rnd_b, tok + 16);
    if ((err = cp->aes128_cbc_encrypt(key, iv, tok, tok, 32)) != LEAL_OK)
        goto out;
    if ((err = frame(d, ST_MORE, tok, 32, &status, r, sizeof r, &n)) != LEAL_OK)
        goto out;
    if (status != ST_OK) {
        err = desfire_status_err(status);
        goto out;
    }
    if (n != 16) {
        err = LEAL_E_PROTOCOL;
        goto out;
    }
    if ((err = cp->aes128_cbc_decrypt(key, iv, r, r, 16)) != LEAL_OK)
        goto out;
    rotl1(rnd_a, rot);
    /* The card proves it holds the key by returning RndA rotated. */
    if (!leal_ct_equal(r, rot, 16)) {
        err = LEAL_E_CARD_AUTHENTICATION;
        goto out;
    }
    leal_memcpy(d->session, rnd_a, 4);
    leal_memcpy(d->session + 4, rnd_b, 4);
    leal_memcpy(d->session + 8, rnd_a + 12, 4);
    leal_memcpy(d->session + 12, rnd_b + 12, 4);
    leal_memset(d->iv, 0, 16);
    d->key_no = key_no;
    d->authenticated = true;
out:
    leal_wipe(r, sizeof r);
    leal_wipe(rnd_a, sizeof rnd_a);
    leal_wipe(rnd_b, sizeof rnd_b);
    leal_wipe(tok, sizeof tok);
    leal_wipe(iv, sizeof iv);
    leal_wipe(rot, sizeof rot);
    return err;
}

leal_err desfire_get_card_uid(struct desfire *d, uint8_t uid[DESFIRE_UID_LEN])
{
    return command(d, 0x51, NULL, 0, NULL, 0, TX_PLAIN, RX_FULL, uid, DESFIRE_UID_LEN, NULL);
}

leal_err desfire_verify_card_uid(struct desfire *d, const uint8_t expected[DESFIRE_UID_LEN])
{
    uint8_t uid[DESFIRE_UID_LEN];
    leal_err err = desfire_get_card_uid(d, uid);
    if (err == LEAL_OK && !leal_ct_equal(uid, expected, DESFIRE_UID_LEN))
        err = LEAL_E_CARD_UID_MISMATCH;
    return err;
}

leal_err desfire_get_key_version(struct desfire *d, uint8_t key_no, uint8_t *version)
{
    return command(d, 0x64, &key_no, 1, NULL, 0, TX_PLAIN, RX_MAC, version, 1, NULL);
}

leal_err desfire_get_key_settings(struct desfire *d, uint8_t *settings, uint8_t *max_keys)
{
    uint8_t v[2];
    leal_err err = command(d, 0x45, NULL, 0, NULL, 0, TX_PLAIN, RX_MAC, v, 2, NULL);
    if (err == LEAL_OK) {
        *settings = v[0];
        *max_keys = v[1];
    }
    return err;
}

leal_err desfire_get_file_settings(struct desfire *d, uint8_t file_no, uint8_t *out, size_t cap,
                                   size_t *len)
{
    size_t n = 0;
    /* Any length: the answer stays in d->ans and is copied once it fits. */
    leal_err err = command(d, 0xF5, &file_no, 1, NULL, 0, TX_PLAIN, RX_MAC, NULL, SIZE_MAX, &n);
    *len = 0;
    if (err != LEAL_OK)
        return err;
    if (n > DESFIRE_FILE_SETTINGS_MAX || n > cap)
        return LEAL_E_PROTOCOL;
    leal_memcpy(out, d->ans, n);
    *len = n;
    return LEAL_OK;
}

leal_err desfire_read_sig(struct desfire *d, uint8_t sig[DESFIRE_SIG_LEN])
{
    uint8_t addr = 0x00, status = 0, r[LEAL_MAX_RAPDU];
    size_t n = 0;
    leal_err err;
    /* Outside a session the answer is plain; inside one an EV2 would answer
     * under EV2 secure messaging, which this driver does not speak. */
    if (d->authenticated)
        return LEAL_E_STATE;
    if ((err = frame(d, 0x3C, &addr, 1, &status, r, sizeof r, &n)) != LEAL_OK)
        return err;
    if (status != 0x90) /* EV2 commands answer success as 90 */
        err = status == 0x00 ? LEAL_E_PROTOCOL : desfire_status_err(status);
    else if (n != DESFIRE_SIG_LEN)
        err = LEAL_E_PROTOCOL;
    else
        leal_memcpy(sig, r, DESFIRE_SIG_LEN);
    leal_wipe(r, sizeof r);
    return err;
}

leal_err desfire_get_free_memory(struct desfire *d, uint32_t *bytes)
{
    uint8_t v[3];
    leal_err err = command(d, 0x6E, NULL, 0, NULL, 0, TX_PLAIN, RX_MAC, v, sizeof v, NULL);
    *bytes = err == LEAL_OK ? load_le24(v) : 0;
    return err;
}

leal_err desfire_get_application_ids(struct desfire *d, uint8_t (*aids)[3], size_t cap, size_t *n)
{
    size_t len = 0;
    leal_err err = command(d, 0x6A, NULL, 0, NULL, 0, TX_PLAIN, RX_MAC, NULL, SIZE_MAX, &len);
    *n = 0;
    if (err != LEAL_OK)
        return err;
    if (len % 3 != 0 || len / 3 > cap)
        return LEAL_E_PROTOCOL;
    for (size_t i = 0; i < len / 3; i++)
        leal_memcpy(aids[i], d->ans + 3 * i, 3);
    *n = len / 3;
    return LEAL_OK;
}

bool desfire_card_refused(const struct desfire *d, leal_err err)
{
    return err == LEAL_E_PROTOCOL || (d->status != ST_OK && err == desfire_status_err(d->status));
}

leal_err desfire_send_frame(struct desfire *d, struct desfire_frame *f)
{
    uint8_t r[LEAL_MAX_RAPDU];
    leal_err err;
    f->ans_len = 0;
    f->status = 0;
    if (f->len > DESFIRE_FRAME_DATA)
        return LEAL_E_ARG;
    if ((err = frame(d, f->ins, f->data, f->len, &f->status, r, sizeof r, &f->ans_len)) ==
        LEAL_OK) {
        if (f->ans_len > f->ans_cap)
            err = LEAL_E_PROTOCOL;
        else
            leal_memcpy(f->ans, r, f->ans_len);
    }
    if (err != LEAL_OK)
        f->ans_len = 0;
    leal_wipe(r, sizeof r);
    return err;
}

leal_err desfire_change_key_settings(struct desfire *d, uint8_t settings)
{
    return command(d, 0x54, NULL, 0, &settings, 1, TX_FULL, RX_MAC, NULL, 0, NULL);
}

/* The ChangeKey plaintext (REFERENCE.md 2.4): the new key (xored with the old
 * one for another key than the session's), its version, CRC32 over C4 || key
 * no || that, and for another key the CRC32 of the new key alone (Elmue);
 * zero-padded to 32 bytes. */
static void key_change_plain(const struct desfire_key_change *k, uint8_t plain[32])
{
    uint8_t hdr[2] = {0xC4, k->key_no};
    uint32_t crc;

    leal_memset(plain, 0, 32);
    for (int i = 0; i < 16; i++)
        plain[i] = (uint8_t)(k->new_key[i] ^ (k->old_key ? k->old_key[i] : 0));
    plain[16] = k->version;
    crc = crc32_update(0xFFFFFFFFu, hdr, 2);
    crc = crc32_update(crc, plain, 17);
    store_le32(plain + 17, crc);
    if (k->old_key != NULL)
        store_le32(plain + 21, crc32_update(0xFFFFFFFFu, k->new_key, 16));
}

leal_err desfire_change_key_cryptogram(const struct crypto_provider *cp, const uint8_t session[16],
                                       uint8_t iv[16], const struct desfire_key_change *k,
                                       uint8_t out[32])
{
    leal_err err;
    key_change_plain(k, out);
    err = cp->aes128_cbc_encrypt(session, iv, out, out, 32);
    if (err != LEAL_OK)
        leal_wipe(out, 32);
    return err;
}

leal_err desfire_change_key(struct desfire *d, uint8_t key_no, const uint8_t new_key[16],
                            uint8_t version, const uint8_t *old_key)
{
    const struct desfire_key_change k = {key_no, new_key, version, old_key};
    uint8_t plain[32];
    bool same = (key_no & 0x0F) == d->key_no;
    leal_err err;

    if (!d->authenticated)
        return LEAL_E_STATE;
    if (same != (old_key == NULL))
        return LEAL_E_ARG;
    /* The cryptogram's plaintext; command() enciphers it with the running IV. */
    key_change_plain(&k, plain);
    /* Changing the session's own key ends the session: the card answers without a MAC. */
    err = command(d, 0xC4, &key_no, 1, plain, sizeof plain, TX_RAW, same ? RX_NONE : RX_MAC, NULL,
                  0, NULL);
    leal_wipe(plain, sizeof plain);
    return err;
}

leal_err desfire_create_application(struct desfire *d, const struct desfire_app_spec *a)
{
    uint8_t h[3 + 2 + 2 + 16];
    size_t n = 0;

    if (a->aid == NULL || a->df_name_len > 16 || (a->df_name_len > 0 && a->df_name == NULL))
        return LEAL_E_ARG;
    leal_memcpy(h, a->aid, 3);
    n = 3;
    h[n++] = a->settings1;
    h[n++] = a->settings2;
    if (a->iso_fid != 0) {
        store_le16(h + n, a->iso_fid);
        n += 2;
    }
    if (a->df_name_len > 0) {
        leal_memcpy(h + n, a->df_name, a->df_name_len);
        n += a->df_name_len;
    }
    return command(d, 0xCA, h, n, NULL, 0, TX_PLAIN, RX_MAC, NULL, 0, NULL);
}

leal_err desfire_delete_application(struct desfire *d, const uint8_t aid[3])
{
    return command(d, 0xDA, aid, 3, NULL, 0, TX_PLAIN, RX_MAC, NULL, 0, NULL);
}

leal_err desfire_format_picc(struct desfire *d)
{
    return command(d, 0xFC, NULL, 0, NULL, 0, TX_PLAIN, RX_MAC, NULL, 0, NULL);
}

leal_err desfire_set_configuration(struct desfire *d, uint8_t option, const uint8_t *data,
                                   size_t len)
{
    return command(d, 0x5C, &option, 1, data, len, TX_FULL, RX_MAC, NULL, 0, NULL);
}

leal_err desfire_create_data_file(struct desfire *d, const struct desfire_data_file *f)
{
    uint8_t h[1 + 2 + 1 + 2 + 3];
    size_t n = 0;

    if (!comm_ok(f->comm) || f->size == 0 || f->size > 0xFFFFFF)
        return LEAL_E_ARG;
    h[n++] = f->file_no;
    if (f->iso_fid != 0) {
        store_le16(h + n, f->iso_fid);
        n += 2;
    }
    h[n++] = (uint8_t)f->comm;
    store_le16(h + n, f->access);
    n += 2;
    store_le24(h + n, f->size);
    n += 3;
    return command(d, f->backup ? 0xCB : 0xCD, h, n, NULL, 0, TX_PLAIN, RX_MAC, NULL, 0, NULL);
}

leal_err desfire_create_value_file(struct desfire *d, const struct desfire_value_file *f)
{
    uint8_t h[17];

    if (!comm_ok(f->comm))
        return LEAL_E_ARG;
    h[0] = f->file_no;
    h[1] = (uint8_t)f->comm;
    store_le16(h + 2, f->access);
    store_le32(h + 4, (uint32_t)f->lower);
    store_le32(h + 8, (uint32_t)f->upper);
    store_le32(h + 12, (uint32_t)f->value);
    h[16] = f->options;
    return command(d, 0xCC, h, sizeof h, NULL, 0, TX_PLAIN, RX_MAC, NULL, 0, NULL);
}

leal_err desfire_create_record_file(struct desfire *d, const struct desfire_record_file *f)
{
    uint8_t h[1 + 2 + 1 + 2 + 3 + 3];
    size_t n = 0;

    if (!comm_ok(f->comm) || f->record_size == 0 || f->record_size > 0xFFFFFF ||
        f->max_records == 0 || f->max_records > 0xFFFFFF)
        return LEAL_E_ARG;
    h[n++] = f->file_no;
    if (f->iso_fid != 0) {
        store_le16(h + n, f->iso_fid);
        n += 2;
    }
    h[n++] = (uint8_t)f->comm;
    store_le16(h + n, f->access);
    n += 2;
    store_le24(h + n, f->record_size);
    n += 3;
    store_le24(h + n, f->max_records);
    n += 3;
    return command(d, f->cyclic ? 0xC0 : 0xC1, h, n, NULL, 0, TX_PLAIN, RX_MAC, NULL, 0, NULL);
}

static leal_err data_header(uint8_t h[7], uint8_t file_no, uint32_t offset, size_t len)
{
    if (offset > 0xFFFFFF || len == 0 || len > DESFIRE_MAX_DATA - 8)
        return len > DESFIRE_MAX_DATA - 8 ? LEAL_E_TOO_LARGE : LEAL_E_ARG;
    h[0] = file_no;
    store_le24(h + 1, offset);
    store_le24(h + 4, (uint32_t)len);
    return LEAL_OK;
}

leal_err desfire_read_data(struct desfire *d, uint8_t file_no, enum desfire_comm comm,
                           uint32_t offset, size_t len, uint8_t *out)
{
    uint8_t h[7];
    leal_err err;

    if (!comm_ok(comm) || out == NULL)
        return LEAL_E_ARG;
    if ((err = data_header(h, file_no, offset, len)) != LEAL_OK)
        return err;
    return command(d, 0xBD, h, 7, NULL, 0, TX_PLAIN, rx_of(comm), out, len, NULL);
}

leal_err desfire_write_data(struct desfire *d, uint8_t file_no, enum desfire_comm comm,
                            uint32_t offset, const uint8_t *data, size_t len)
{
    uint8_t h[7];
    leal_err err;

    if (!comm_ok(comm) || data == NULL)
        return LEAL_E_ARG;
    if ((err = data_header(h, file_no, offset, len)) != LEAL_OK)
        return err;
    return command(d, 0x3D, h, 7, data, len, tx_of(comm), RX_MAC, NULL, 0, NULL);
}

leal_err desfire_get_value(struct desfire *d, uint8_t file_no, enum desfire_comm comm,
                           int32_t *value)
{
    uint8_t v[4];
    leal_err err;

    if (!comm_ok(comm) || value == NULL)
        return LEAL_E_ARG;
    *value = 0;
    err = command(d, 0x6C, &file_no, 1, NULL, 0, TX_PLAIN, rx_of(comm), v, 4, NULL);
    if (err == LEAL_OK)
        *value = (int32_t)load_le32(v);
    return err;
}

static leal_err value_op(struct desfire *d, uint8_t ins, uint8_t file_no, enum desfire_comm comm,
                         int32_t amount)
{
    uint8_t v[4];

    if (!comm_ok(comm) || amount < 0)
        return LEAL_E_ARG;
    store_le32(v, (uint32_t)amount);
    return command(d, ins, &file_no, 1, v, 4, tx_of(comm), RX_MAC, NULL, 0, NULL);
}

leal_err desfire_credit(struct desfire *d, uint8_t file_no, enum desfire_comm comm, int32_t amount)
{
    return value_op(d, 0x0C, file_no, comm, amount);
}

leal_err desfire_debit(struct desfire *d, uint8_t file_no, enum desfire_comm comm, int32_t amount)
{
    return value_op(d, 0xDC, file_no, comm, amount);
}

leal_err desfire_limited_credit(struct desfire *d, uint8_t file_no, enum desfire_comm comm,
                                int32_t amount)
{
    return value_op(d, 0x1C, file_no, comm, amount);
}

leal_err desfire_write_record(struct desfire *d, uint8_t file_no, enum desfire_comm comm,
                              uint32_t offset, const uint8_t *data, size_t len)
{
    uint8_t h[7];
    leal_err err;

    if (!comm_ok(comm) || data == NULL)
        return LEAL_E_ARG;
    if ((err = data_header(h, file_no, offset, len)) != LEAL_OK)
        return err;
    return command(d, 0x3B, h, 7, data, len, tx_of(comm), RX_MAC, NULL, 0, NULL);
}

leal_err desfire_read_records(struct desfire *d, const struct desfire_records *q, uint8_t *out)
{
    uint8_t h[7];

    if (!comm_ok(q->comm) || out == NULL || q->count == 0 || q->record_size == 0 ||
        q->first > 0xFFFFFF || q->count > 0xFFFFFF)
        return LEAL_E_ARG;
    if (q->record_size > (DESFIRE_MAX_DATA - 8) / q->count)
        return LEAL_E_TOO_LARGE;
    h[0] = q->file_no;
    store_le24(h + 1, q->first);
    store_le24(h + 4, q->count);
    return command(d, 0xBB, h, 7, NULL, 0, TX_PLAIN, rx_of(q->comm), out, q->count * q->record_size,
                   NULL);
}

leal_err desfire_commit(struct desfire *d)
{
    return command(d, 0xC7, NULL, 0, NULL, 0, TX_PLAIN, RX_MAC, NULL, 0, NULL);
}

leal_err desfire_abort(struct desfire *d)
{
    return command(d, 0xA7, NULL, 0, NULL, 0, TX_PLAIN, RX_MAC, NULL, 0, NULL);
}
