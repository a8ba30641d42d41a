/* desfire.c - MIFARE DESFire EV1 driver: framing, AES session, commands. */
#include "desfire.h"

#include <stdint.h>

#include "desfire_ev2.h"

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
    RX_MAC,   /* data || CMAC(8) over data || 00 */
    RX_PLAIN, /* a plain-mode file's answer: EV1 MACs it as RX_MAC, EV2 sends it bare */
    RX_FULL,  /* E(data || CRC32(data || 00) || 00..) */
    RX_NONE,  /* nothing: the command ends the session (ChangeKey of the session's key) */
};

static void drop_session(struct desfire *d)
{
    d->authenticated = false;
    d->key_no = 0;
    d->ev2 = false;
    d->cmd_ctr = 0;
    leal_wipe(d->session, sizeof d->session);
    leal_wipe(d->iv, sizeof d->iv);
    leal_wipe(d->ti, sizeof d->ti);
    leal_wipe(d->ses_mac, sizeof d->ses_mac);
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
    d->ev2 = false;
}

void desfire_resume_ev2_session(struct desfire *d, uint8_t key_no, const uint8_t enc[16],
                                const uint8_t mac[16], const uint8_t ti[4], uint16_t ctr)
{
    drop_session(d);
    leal_memcpy(d->session, enc, 16);
    leal_memcpy(d->ses_mac, mac, 16);
    leal_memcpy(d->ti, ti, 4);
    d->cmd_ctr = ctr;
    d->key_no = key_no;
    d->authenticated = true;
    d->ev2 = true;
}

leal_err desfire_status_err(uint8_t status)
{
    /* Native status codes, named as libfreefare's freefare.h names them. */
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

/* One wrapped frame (ISO/IEC 7816-4 APDU around a native command, as the
 * DESFire EV1 data sheet MF3ICDx21_41_81 and libfreefare send it):
 * 90 ins 00 00 [Lc data] 00 -> data 91 status. The answer's data goes to
 * f->ans (f->ans_cap bytes); both APDU buffers are wiped. */
static leal_err frame(struct desfire *d, struct desfire_frame *f)
{
    uint8_t apdu[6 + DESFIRE_FRAME_DATA], r[LEAL_MAX_RAPDU];
    size_t n = 0, rl = 0;
    leal_err err;

    f->ans_len = 0;
    apdu[n++] = 0x90;
    apdu[n++] = f->ins;
    apdu[n++] = 0x00;
    apdu[n++] = 0x00;
    if (f->len > 0) {
        apdu[n++] = (uint8_t)f->len;
        leal_memcpy(apdu + n, f->data, f->len);
        n += f->len;
    }
    apdu[n++] = 0x00;
    d->round_trips++;
    d->bytes_out += n;
    err = d->reader->transceive(d->reader->ctx, apdu, n, r, sizeof r, &rl);
    leal_wipe(apdu, sizeof apdu);
    if (err != LEAL_OK)
        goto out;
    d->bytes_in += rl;
    /* Not a DESFire status word (an ISO error from another card type, or
     * garbage), or more than the caller has room for. */
    if (rl < 2 || rl > sizeof r || r[rl - 2] != 0x91 || rl - 2 > f->ans_cap) {
        err = LEAL_E_PROTOCOL;
        goto out;
    }
    f->status = r[rl - 1];
    d->status = f->status;
    leal_memcpy(f->ans, r, rl - 2);
    f->ans_len = rl - 2;
out:
    leal_wipe(r, sizeof r);
    return err;
}

/* Sends the logical command d->msg[0..len) (INS first) in frames of
 * DESFIRE_FRAME_DATA, each after the first once the card asked for it with
 * an empty AF, and collects the whole answer, AF frames included, into
 * d->ans. Any final status but 00 ends the session and is the error. */
static leal_err send_chained(struct desfire *d, size_t len, size_t *ans_len)
{
    struct desfire_frame f = {d->msg[0], NULL, 0, d->ans, sizeof d->ans, 0, 0};
    size_t off = 1, got;
    leal_err err;

    *ans_len = 0;
    for (;;) {
        f.data = d->msg + off;
        f.len = len - off > DESFIRE_FRAME_DATA ? DESFIRE_FRAME_DATA : len - off;
        if ((err = frame(d, &f)) != LEAL_OK)
            goto fail;
        off += f.len;
        if (off >= len)
            break;
        if (f.status != ST_MORE || f.ans_len != 0) {
            err = f.status != ST_MORE && f.status != ST_OK ? desfire_status_err(f.status)
                                                           : LEAL_E_PROTOCOL;
            goto fail;
        }
        f.ins = ST_MORE;
    }
    for (got = f.ans_len; f.status == ST_MORE; got += f.ans_len) {
        struct desfire_frame more = {ST_MORE, NULL, 0, d->ans + got, sizeof d->ans - got, 0, 0};
        if ((err = frame(d, &more)) != LEAL_OK)
            goto fail;
        f = more;
    }
    if (f.status != ST_OK) {
        err = desfire_status_err(f.status);
        goto fail;
    }
    *ans_len = got;
    return LEAL_OK;
fail:
    drop_session(d);
    return err;
}

/* One logical command: INS || hdr (always plain) || data (secured as tx
 * says), and what its answer must hold. */
struct desfire_cmd {
    uint8_t ins;
    const uint8_t *hdr;
    size_t hdr_len;
    const uint8_t *data;
    size_t data_len;
    enum tx_mode tx;
    enum rx_mode rx;
    uint8_t *out; /* the answer's data; NULL: it stays in d->ans */
    size_t want;  /* its exact length, or SIZE_MAX for any (not with RX_FULL) */
    size_t got;   /* out: its length */
};

/* TX_PLAIN and TX_MAC: d->msg[*len..] gets the data; under a session the
 * command's CMAC becomes the IV (EV1 chains it, sent or not) and TX_MAC
 * appends its first 8 bytes. */
static leal_err mac_request(struct desfire *d, const struct desfire_cmd *c, size_t *len)
{
    uint8_t mac[16];
    leal_err err;

    if (c->data_len > 0)
        leal_memcpy(d->msg + *len, c->data, c->data_len);
    *len += c->data_len;
    if (!d->authenticated)
        return LEAL_OK;
    if ((err = crypto_cmac_iv(d->cp, d->session, d->iv, d->msg, *len, mac)) == LEAL_OK) {
        leal_memcpy(d->iv, mac, 16);
        if (c->tx == TX_MAC) {
            leal_memcpy(d->msg + *len, mac, 8);
            *len += 8;
        }
    }
    leal_wipe(mac, sizeof mac);
    return err;
}

/* TX_FULL: d->msg[*len..] = E(data || CRC32(INS || hdr || data) || 00..);
 * TX_RAW: E(data), data being a complete padded plaintext. AES-CBC with the
 * running IV. */
static leal_err encipher_request(struct desfire *d, const struct desfire_cmd *c, size_t *len)
{
    uint8_t *p = d->msg + *len;
    size_t pl = c->data_len;
    leal_err err;

    if (c->tx == TX_FULL) {
        uint32_t crc = crc32_update(crc32_update(0xFFFFFFFFu, d->msg, *len), c->data, c->data_len);
        pl = (c->data_len + 4 + 15) / 16 * 16;
        leal_memset(p, 0, pl);
        if (c->data_len > 0)
            leal_memcpy(p, c->data, c->data_len);
        store_le32(p + c->data_len, crc);
    } else {
        leal_memcpy(p, c->data, c->data_len);
    }
    if ((err = d->cp->aes128_cbc_encrypt(d->session, d->iv, p, p, pl)) == LEAL_OK)
        *len += pl;
    return err;
}

/* EV2 (desfire_ev2.h): d->msg[0..*len) holds INS || hdr; the data follows
 * as is (TX_PLAIN, TX_MAC) or enciphered with IVc and M2 padding (TX_FULL),
 * then MACt over all of it, except for a plain-mode file (TX_PLAIN with
 * RX_PLAIN), which travels bare. */
static leal_err ev2_request(struct desfire *d, const struct desfire_cmd *c, size_t *len)
{
    uint8_t iv[16];
    leal_err err = LEAL_OK;
    if (c->tx == TX_RAW)
        return LEAL_E_UNSUPPORTED;
    if (d->cmd_ctr == 0xFFFF)
        return LEAL_E_STATE; /* the counter would wrap: a new session is needed */
    if (c->data_len > 0)
        leal_memcpy(d->msg + *len, c->data, c->data_len);
    if (c->tx == TX_FULL) {
        size_t pl = desfire_ev2_pad(d->msg + *len, c->data_len);
        if ((err = desfire_ev2_iv(d->cp, d->session, false, d->ti, d->cmd_ctr, iv)) == LEAL_OK)
            err = d->cp->aes128_cbc_encrypt(d->session, iv, d->msg + *len, d->msg + *len, pl);
        *len += pl;
    } else {
        *len += c->data_len;
    }
    if (err == LEAL_OK && !(c->tx == TX_PLAIN && c->rx == RX_PLAIN)) {
        err = desfire_ev2_mac(
            d->cp, d->ses_mac,
            &(struct desfire_ev2_msg){d->msg[0], d->cmd_ctr, d->ti, d->msg + 1, *len - 1},
            d->msg + *len);
        *len += DESFIRE_EV2_MACT_LEN;
    }
    leal_wipe(iv, sizeof iv);
    return err;
}

/* The logical command into d->msg, secured as c->tx says; its length in *len. */
static leal_err secure_request(struct desfire *d, const struct desfire_cmd *c, size_t *len)
{
    size_t n = 0;

    d->msg[n++] = c->ins;
    if (c->hdr_len > 0) {
        leal_memcpy(d->msg + n, c->hdr, c->hdr_len);
        n += c->hdr_len;
    }
    *len = n;
    if (d->authenticated && d->ev2)
        return ev2_request(d, c, len);
    if (c->tx == TX_PLAIN || c->tx == TX_MAC)
        return mac_request(d, c, len);
    return encipher_request(d, c, len);
}

/* RX_MAC: the answer d->ans[0..*n) ends in the first 8 bytes of the CMAC
 * over data || status 00 with the running IV, which then becomes the IV;
 * *n loses them. No answer under a session is believed without it
 * (libfreefare issue #90). */
static leal_err check_answer_mac(struct desfire *d, size_t *n)
{
    uint8_t got[8], mac[16];
    leal_err err;

    if (*n < 8)
        return LEAL_E_CARD_RESPONSE_MAC;
    *n -= 8;
    leal_memcpy(got, d->ans + *n, 8);
    d->ans[*n] = ST_OK;
    err = crypto_cmac_iv(d->cp, d->session, d->iv, d->ans, *n + 1, mac);
    if (err == LEAL_OK && !leal_ct_equal(mac, got, 8))
        err = LEAL_E_CARD_RESPONSE_MAC;
    if (err == LEAL_OK)
        leal_memcpy(d->iv, mac, 16);
    leal_wipe(mac, sizeof mac);
    return err;
}

/* RX_FULL: the answer d->ans[0..*n) is E(data || CRC32(data || 00) || 00..)
 * with exactly want bytes of data; deciphered in place, *n becomes want. */
static leal_err decipher_answer(struct desfire *d, size_t want, size_t *n)
{
    size_t alen = *n;
    uint8_t zero = 0, st = ST_OK;
    uint32_t crc;
    leal_err err;

    if (alen == 0 || alen % 16 != 0 || want == SIZE_MAX || want + 4 > alen ||
        (want + 4 + 15) / 16 * 16 != alen)
        return LEAL_E_CARD_RESPONSE_MAC;
    if ((err = d->cp->aes128_cbc_decrypt(d->session, d->iv, d->ans, d->ans, alen)) != LEAL_OK)
        return err;
    crc = crc32_update(crc32_update(0xFFFFFFFFu, d->ans, want), &st, 1);
    for (size_t i = want + 4; i < alen; i++)
        zero |= d->ans[i];
    if (load_le32(d->ans + want) != crc || zero != 0)
        return LEAL_E_CARD_RESPONSE_MAC;
    *n = want;
    return LEAL_OK;
}

/* EV2: the answer d->ans[0..*n) is data || MACt (RX_MAC), E(IVr, data ||
 * 80 00..) || MACt (RX_FULL, exactly c->want bytes of data) or bare data
 * (RX_PLAIN); MACt over 00 || CmdCtr + 1 || TI || what precedes it is checked
 * before anything is deciphered or believed. The command counter then
 * advances. */
static leal_err ev2_answer(struct desfire *d, const struct desfire_cmd *c, size_t *n)
{
    uint16_t next = (uint16_t)(d->cmd_ctr + 1u);
    uint8_t mact[DESFIRE_EV2_MACT_LEN], iv[16];
    size_t dl;
    leal_err err = LEAL_OK;

    if (c->rx != RX_PLAIN) {
        if (*n < DESFIRE_EV2_MACT_LEN)
            return LEAL_E_CARD_RESPONSE_MAC;
        *n -= DESFIRE_EV2_MACT_LEN;
        if ((err = desfire_ev2_mac(d->cp, d->ses_mac,
                                   &(struct desfire_ev2_msg){ST_OK, next, d->ti, d->ans, *n},
                                   mact)) != LEAL_OK)
            return err;
        if (!leal_ct_equal(mact, d->ans + *n, DESFIRE_EV2_MACT_LEN))
            return LEAL_E_CARD_RESPONSE_MAC;
    }
    if (c->rx == RX_FULL) {
        if (*n == 0 || *n % 16 != 0 || c->want == SIZE_MAX)
            return LEAL_E_CARD_RESPONSE_MAC;
        if ((err = desfire_ev2_iv(d->cp, d->session, true, d->ti, next, iv)) == LEAL_OK)
            err = d->cp->aes128_cbc_decrypt(d->session, iv, d->ans, d->ans, *n);
        leal_wipe(iv, sizeof iv);
        if (err != LEAL_OK)
            return err;
        if (!desfire_ev2_unpad(d->ans, *n, &dl) || dl != c->want)
            return LEAL_E_CARD_RESPONSE_MAC;
        *n = dl;
    }
    d->cmd_ctr = next;
    return LEAL_OK;
}

/* The answer's data, as c->rx says it travels under a session; outside one
 * it is taken as it came. */
static leal_err open_answer(struct desfire *d, const struct desfire_cmd *c, size_t *n)
{
    if (!d->authenticated)
        return LEAL_OK;
    if (c->rx == RX_NONE) {
        drop_session(d);
        return LEAL_OK;
    }
    if (d->ev2)
        return ev2_answer(d, c, n);
    if (c->rx == RX_MAC || c->rx == RX_PLAIN)
        return check_answer_mac(d, n);
    return decipher_answer(d, c->want, n);
}

/* Secures c's request, sends it with AF continuations, checks (or
 * deciphers) the answer and hands over its data: into c->out, its length in
 * c->got. Any failure after the checks of the request ends the session. */
static leal_err command(struct desfire *d, struct desfire_cmd *c)
{
    size_t len = 0, n = 0;
    leal_err err;

    c->got = 0;
    if (c->hdr_len + c->data_len > DESFIRE_MAX_DATA)
        return LEAL_E_TOO_LARGE;
    if (!d->authenticated && (c->tx != TX_PLAIN || c->rx == RX_FULL))
        return LEAL_E_STATE;
    if (c->tx == TX_RAW && (c->data_len == 0 || c->data_len % 16 != 0))
        return LEAL_E_ARG;
    if ((err = secure_request(d, c, &len)) == LEAL_OK &&
        (err = send_chained(d, len, &n)) == LEAL_OK && (err = open_answer(d, c, &n)) == LEAL_OK &&
        c->want != SIZE_MAX && n != c->want)
        err = LEAL_E_PROTOCOL;
    if (err != LEAL_OK) {
        drop_session(d);
        return err;
    }
    if (n > 0 && c->out != NULL)
        leal_memcpy(c->out, d->ans, n);
    c->got = n;
    return LEAL_OK;
}

/* Bytes of a request: a pointer and its length. */
struct span {
    const uint8_t *p;
    size_t len;
};

/* A plain request INS || hdr whose answer is want bytes, as rx says it
 * travels under a session. */
static leal_err query(struct desfire *d, uint8_t ins, struct span hdr, enum rx_mode rx,
                      uint8_t *out, size_t want)
{
    struct desfire_cmd c = {.ins = ins,
                            .hdr = hdr.p,
                            .hdr_len = hdr.len,
                            .tx = TX_PLAIN,
                            .rx = rx,
                            .out = out,
                            .want = want};
    return command(d, &c);
}

/* A plain request whose answer is its status alone (with its CMAC under a session). */
static leal_err simple_command(struct desfire *d, uint8_t ins, const uint8_t *hdr, size_t hdr_len)
{
    return query(d, ins, (struct span){hdr, hdr_len}, RX_MAC, NULL, 0);
}

/* The comm mode of a file operation as tx/rx modes. */
static enum tx_mode tx_of(enum desfire_comm c)
{
    return c == DESFIRE_COMM_FULL ? TX_FULL : c == DESFIRE_COMM_MACED ? TX_MAC : TX_PLAIN;
}

static enum rx_mode rx_of(enum desfire_comm c)
{
    return c == DESFIRE_COMM_FULL ? RX_FULL : c == DESFIRE_COMM_MACED ? RX_MAC : RX_PLAIN;
}

static int comm_ok(enum desfire_comm c)
{
    return c == DESFIRE_COMM_PLAIN || c == DESFIRE_COMM_MACED || c == DESFIRE_COMM_FULL;
}

/* A file change (WriteData, WriteRecord, Credit, Debit, LimitedCredit):
 * INS || hdr || data, the data secured as the file's comm mode says. */
static leal_err update_file(struct desfire *d, uint8_t ins, struct span hdr, enum desfire_comm comm,
                            struct span data)
{
    struct desfire_cmd c = {.ins = ins,
                            .hdr = hdr.p,
                            .hdr_len = hdr.len,
                            .data = data.p,
                            .data_len = data.len,
                            .tx = tx_of(comm),
                            .rx = comm == DESFIRE_COMM_PLAIN ? RX_PLAIN : RX_MAC};
    return command(d, &c);
}

/* INS || one plain header byte || data secured as tx says; the answer is
 * its status (MACed under a session). */
static leal_err head_command(struct desfire *d, uint8_t ins, uint8_t head, struct span data,
                             enum tx_mode tx)
{
    struct desfire_cmd c = {.ins = ins,
                            .hdr = &head,
                            .hdr_len = 1,
                            .data = data.p,
                            .data_len = data.len,
                            .tx = tx,
                            .rx = RX_MAC};
    return command(d, &c);
}

leal_err desfire_select_application(struct desfire *d, const uint8_t aid[3])
{
    /* Selecting ends any session on the card, so it is sent outside one. */
    drop_session(d);
    return simple_command(d, 0x5A, aid, 3);
}

leal_err desfire_get_version(struct desfire *d, struct desfire_version *out)
{
    uint8_t v[28];
    leal_err err;

    leal_memset(out, 0, sizeof *out);
    if ((err = query(d, 0x60, (struct span){NULL, 0}, RX_MAC, v, sizeof v)) != LEAL_OK)
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

/* One frame of an authentication: its answer must end in status want (AF,
 * or 00 for the last) and hold exactly len bytes. */
static leal_err auth_frame(struct desfire *d, struct desfire_frame *f, uint8_t want, size_t len)
{
    leal_err err = frame(d, f);
    if (err != LEAL_OK)
        return err;
    if (f->status != want)
        return f->status == ST_OK ? LEAL_E_PROTOCOL : desfire_status_err(f->status);
    return f->ans_len == len ? LEAL_OK : LEAL_E_PROTOCOL;
}

leal_err desfire_authenticate_aes(struct desfire *d, uint8_t key_no, const uint8_t key[16])
{
    const struct crypto_provider *cp = d->cp;
    uint8_t r[32], rnd_a[16], rnd_b[16], tok[32], iv[16] = {0}, rot[16];
    struct desfire_frame f = {0xAA, &key_no, 1, r, sizeof r, 0, 0};
    leal_err err;

    drop_session(d);
    if ((err = auth_frame(d, &f, ST_MORE, 16)) != LEAL_OK)
        goto out;
    /* RndB = D_K(ekRndB), IV 0; the IV then chains through the token and the answer. */
    if ((err = cp->aes128_cbc_decrypt(key, iv, r, rnd_b, 16)) != LEAL_OK ||
        (err = cp->random(rnd_a, 16)) != LEAL_OK)
        goto out;
    leal_memcpy(tok, rnd_a, 16);
    rotl1(rnd_b, tok + 16);
    if ((err = cp->aes128_cbc_encrypt(key, iv, tok, tok, 32)) != LEAL_OK)
        goto out;
    f = (struct desfire_frame){ST_MORE, tok, 32, r, sizeof r, 0, 0};
    if ((err = auth_frame(d, &f, ST_OK, 16)) != LEAL_OK)
        goto out;
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

/* The two frames of AuthenticateEV2First (first: cmd 71 KeyNo 00) or
 * NonFirst (77 KeyNo): E(K, RndB) answered with the token, then the card's
 * proof; on success the session keys are set, TI taken (First) and the
 * counter zeroed (First) or kept (NonFirst). */
static leal_err ev2_auth(struct desfire *d, bool first, uint8_t key_no, const uint8_t key[16])
{
    const struct crypto_provider *cp = d->cp;
    uint8_t hdr[2] = {key_no, 0x00}, r[48], rnd_a[16], rnd_b[16], tok[32], ti[4], enc[16], mac[16];
    struct desfire_frame f = {first ? 0x71 : 0x77, hdr, first ? 2u : 1u, r, sizeof r, 0, 0};
    uint16_t ctr = d->cmd_ctr;
    leal_err err;

    leal_memcpy(ti, d->ti, 4);
    drop_session(d);
    if ((err = auth_frame(d, &f, ST_MORE, 16)) != LEAL_OK)
        goto out;
    if ((err = cp->random(rnd_a, 16)) != LEAL_OK ||
        (err = desfire_ev2_auth_token(cp, key, r, rnd_a, rnd_b, tok)) != LEAL_OK)
        goto out;
    f = (struct desfire_frame){ST_MORE, tok, 32, r, sizeof r, 0, 0};
    if ((err = auth_frame(d, &f, ST_OK, first ? 32u : 16u)) != LEAL_OK)
        goto out;
    if ((err = desfire_ev2_auth_answer(cp, key, r, f.ans_len, rnd_a, first ? ti : NULL)) !=
            LEAL_OK ||
        (err = desfire_ev2_session_keys(cp, key, rnd_a, rnd_b, enc, mac)) != LEAL_OK)
        goto out;
    desfire_resume_ev2_session(d, key_no, enc, mac, ti, first ? 0 : ctr);
out:
    leal_wipe(r, sizeof r);
    leal_wipe(rnd_a, sizeof rnd_a);
    leal_wipe(rnd_b, sizeof rnd_b);
    leal_wipe(tok, sizeof tok);
    leal_wipe(enc, sizeof enc);
    leal_wipe(mac, sizeof mac);
    leal_wipe(ti, sizeof ti);
    return err;
}

leal_err desfire_authenticate_ev2_first(struct desfire *d, uint8_t key_no, const uint8_t key[16])
{
    return ev2_auth(d, true, key_no, key);
}

leal_err desfire_authenticate_ev2_nonfirst(struct desfire *d, uint8_t key_no, const uint8_t key[16])
{
    if (!d->authenticated || !d->ev2)
        return LEAL_E_STATE;
    return ev2_auth(d, false, key_no, key);
}

leal_err desfire_get_card_uid(struct desfire *d, uint8_t uid[DESFIRE_UID_LEN])
{
    return query(d, 0x51, (struct span){NULL, 0}, RX_FULL, uid, DESFIRE_UID_LEN);
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
    return query(d, 0x64, (struct span){&key_no, 1}, RX_MAC, version, 1);
}

leal_err desfire_get_key_settings(struct desfire *d, uint8_t *settings, uint8_t *max_keys)
{
    uint8_t v[2];
    leal_err err = query(d, 0x45, (struct span){NULL, 0}, RX_MAC, v, 2);
    if (err == LEAL_OK) {
        *settings = v[0];
        *max_keys = v[1];
    }
    return err;
}

leal_err desfire_get_file_settings(struct desfire *d, uint8_t file_no, uint8_t *out, size_t cap,
                                   size_t *len)
{
    /* Any length: the answer stays in d->ans and is copied once it fits. */
    struct desfire_cmd c = {
        .ins = 0xF5, .hdr = &file_no, .hdr_len = 1, .tx = TX_PLAIN, .rx = RX_MAC, .want = SIZE_MAX};
    leal_err err = command(d, &c);
    size_t n = c.got;
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
    uint8_t addr = 0x00, r[LEAL_MAX_RAPDU];
    struct desfire_frame f = {0x3C, &addr, 1, r, sizeof r, 0, 0};
    leal_err err;
    /* Outside a session the answer is plain; inside one an EV2 would answer
     * under EV2 secure messaging, which this driver does not speak. */
    if (d->authenticated)
        return LEAL_E_STATE;
    if ((err = frame(d, &f)) != LEAL_OK)
        return err;
    if (f.status != 0x90) /* EV2 commands answer success as 90 */
        err = f.status == 0x00 ? LEAL_E_PROTOCOL : desfire_status_err(f.status);
    else if (f.ans_len != DESFIRE_SIG_LEN)
        err = LEAL_E_PROTOCOL;
    else
        leal_memcpy(sig, r, DESFIRE_SIG_LEN);
    leal_wipe(r, sizeof r);
    return err;
}

leal_err desfire_get_free_memory(struct desfire *d, uint32_t *bytes)
{
    uint8_t v[3];
    leal_err err = query(d, 0x6E, (struct span){NULL, 0}, RX_MAC, v, sizeof v);
    *bytes = err == LEAL_OK ? load_le24(v) : 0;
    return err;
}

leal_err desfire_get_application_ids(struct desfire *d, uint8_t (*aids)[3], size_t cap, size_t *n)
{
    struct desfire_cmd c = {.ins = 0x6A, .tx = TX_PLAIN, .rx = RX_MAC, .want = SIZE_MAX};
    leal_err err = command(d, &c);
    size_t len = c.got;
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
    f->ans_len = 0;
    f->status = 0;
    if (f->len > DESFIRE_FRAME_DATA)
        return LEAL_E_ARG;
    return frame(d, f);
}

leal_err desfire_change_key_settings(struct desfire *d, uint8_t settings)
{
    struct desfire_cmd c = {
        .ins = 0x54, .data = &settings, .data_len = 1, .tx = TX_FULL, .rx = RX_MAC};
    return command(d, &c);
}

/* The ChangeKey plaintext, as libfreefare's mifare_desfire.c builds it and
 * Elmue's published PN532 trace shows it (tests/unit/desfire_test.c replays
 * its cryptograms): the new key (xored with the old one for another key than
 * the session's), its version, CRC32 over C4 || key no || that, and for
 * another key the CRC32 of the new key alone; zero-padded to 32 bytes. */
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

/* ChangeKey's key data under EV2 secure messaging (AN12196 5.16): the new
 * key (xored with the old one for another key than the session's), its
 * version, and for another key CRC32 of the new key alone (DESFire's CRC32,
 * LE); the caller's M2 padding follows. Returns its length (17 or 21). */
static size_t ev2_key_change_plain(const struct desfire_key_change *k, uint8_t plain[32])
{
    leal_memset(plain, 0, 32);
    for (int i = 0; i < 16; i++)
        plain[i] = (uint8_t)(k->new_key[i] ^ (k->old_key ? k->old_key[i] : 0));
    plain[16] = k->version;
    if (k->old_key == NULL)
        return 17;
    store_le32(plain + 17, crc32_update(0xFFFFFFFFu, k->new_key, 16));
    return 21;
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
    /* Changing the session's own key ends the session: the card answers without a MAC. */
    struct desfire_cmd c = {.ins = 0xC4,
                            .hdr = &key_no,
                            .hdr_len = 1,
                            .data = plain,
                            .data_len = sizeof plain,
                            .tx = TX_RAW,
                            .rx = same ? RX_NONE : RX_MAC};
    leal_err err;

    if (!d->authenticated)
        return LEAL_E_STATE;
    if (same != (old_key == NULL))
        return LEAL_E_ARG;
    if (d->ev2) {
        /* EV2 (AN12196 5.16, Tables 25-27): the key data travels FULL, M2
         * padded under IVc, then MACt; no CRC over the command. */
        c.tx = TX_FULL;
        c.data_len = ev2_key_change_plain(&k, plain);
    } else {
        /* The cryptogram's plaintext; command() enciphers it with the running IV. */
        key_change_plain(&k, plain);
    }
    err = command(d, &c);
    leal_wipe(plain, sizeof plain);
    return err;
}

leal_err desfire_change_file_settings(struct desfire *d, uint8_t file_no, const uint8_t *settings,
                                      size_t len)
{
    /* Under a session enciphered (EV1: CRC32 and zero padding; EV2: M2
     * padding, IVc and MACt), its answer MACed; outside one plain, for a
     * file whose change right is free. */
    if (settings == NULL || len == 0 || len > DESFIRE_FILE_SETTINGS_MAX)
        return LEAL_E_ARG;
    return head_command(d, 0x5F, file_no, (struct span){settings, len},
                        d->authenticated ? TX_FULL : TX_PLAIN);
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
    return simple_command(d, 0xCA, h, n);
}

leal_err desfire_delete_application(struct desfire *d, const uint8_t aid[3])
{
    return simple_command(d, 0xDA, aid, 3);
}

leal_err desfire_format_picc(struct desfire *d)
{
    return simple_command(d, 0xFC, NULL, 0);
}

leal_err desfire_set_configuration(struct desfire *d, uint8_t option, const uint8_t *data,
                                   size_t len)
{
    return head_command(d, 0x5C, option, (struct span){data, len}, TX_FULL);
}

/* The head every CreateXFile but the value file's shares: file no, [ISO
 * FID], comm mode, access rights; returns its length (4 or 6). */
static size_t file_head(uint8_t h[6], uint8_t file_no, uint16_t iso_fid, enum desfire_comm comm,
                        uint16_t access)
{
    size_t n = 0;
    h[n++] = file_no;
    if (iso_fid != 0) {
        store_le16(h + n, iso_fid);
        n += 2;
    }
    h[n++] = (uint8_t)comm;
    store_le16(h + n, access);
    return n + 2;
}

leal_err desfire_create_data_file(struct desfire *d, const struct desfire_data_file *f)
{
    uint8_t h[1 + 2 + 1 + 2 + 3];
    size_t n;

    if (!comm_ok(f->comm) || f->size == 0 || f->size > 0xFFFFFF)
        return LEAL_E_ARG;
    n = file_head(h, f->file_no, f->iso_fid, f->comm, f->access);
    store_le24(h + n, f->size);
    n += 3;
    return simple_command(d, f->backup ? 0xCB : 0xCD, h, n);
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
    return simple_command(d, 0xCC, h, sizeof h);
}

leal_err desfire_create_record_file(struct desfire *d, const struct desfire_record_file *f)
{
    uint8_t h[1 + 2 + 1 + 2 + 3 + 3];
    size_t n;

    if (!comm_ok(f->comm) || f->record_size == 0 || f->record_size > 0xFFFFFF ||
        f->max_records == 0 || f->max_records > 0xFFFFFF)
        return LEAL_E_ARG;
    n = file_head(h, f->file_no, f->iso_fid, f->comm, f->access);
    store_le24(h + n, f->record_size);
    n += 3;
    store_le24(h + n, f->max_records);
    n += 3;
    return simple_command(d, f->cyclic ? 0xC0 : 0xC1, h, n);
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
    return query(d, 0xBD, (struct span){h, 7}, rx_of(comm), out, len);
}

leal_err desfire_read_file(struct desfire *d, uint8_t file_no, enum desfire_comm comm, uint8_t *out,
                           size_t cap, size_t *got)
{
    uint8_t h[7] = {file_no, 0, 0, 0, 0, 0, 0}; /* offset 0, length 0: the whole file */
    struct desfire_cmd c = {.ins = 0xBD,
                            .hdr = h,
                            .hdr_len = sizeof h,
                            .tx = TX_PLAIN,
                            .rx = rx_of(comm),
                            .out = NULL,
                            .want = SIZE_MAX};
    leal_err err;

    if (got != NULL)
        *got = 0;
    if (!comm_ok(comm) || comm == DESFIRE_COMM_FULL || out == NULL || got == NULL)
        return LEAL_E_ARG;
    if ((err = command(d, &c)) != LEAL_OK)
        return err;
    if (c.got == 0 || c.got > cap) {
        drop_session(d);
        return LEAL_E_PROTOCOL;
    }
    leal_memcpy(out, d->ans, c.got);
    *got = c.got;
    return LEAL_OK;
}

/* WriteData (3D) or WriteRecord (3B): file no, offset, length, then the data. */
static leal_err write_at(struct desfire *d, uint8_t ins, uint8_t file_no, enum desfire_comm comm,
                         uint32_t offset, struct span data)
{
    uint8_t h[7];
    leal_err err;

    if (!comm_ok(comm) || data.p == NULL)
        return LEAL_E_ARG;
    if ((err = data_header(h, file_no, offset, data.len)) != LEAL_OK)
        return err;
    return update_file(d, ins, (struct span){h, 7}, comm, data);
}

leal_err desfire_write_data(struct desfire *d, uint8_t file_no, enum desfire_comm comm,
                            uint32_t offset, const uint8_t *data, size_t len)
{
    return write_at(d, 0x3D, file_no, comm, offset, (struct span){data, len});
}

leal_err desfire_get_value(struct desfire *d, uint8_t file_no, enum desfire_comm comm,
                           int32_t *value)
{
    uint8_t v[4];
    leal_err err;

    if (!comm_ok(comm) || value == NULL)
        return LEAL_E_ARG;
    *value = 0;
    err = query(d, 0x6C, (struct span){&file_no, 1}, rx_of(comm), v, 4);
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
    return update_file(d, ins, (struct span){&file_no, 1}, comm, (struct span){v, 4});
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
    return write_at(d, 0x3B, file_no, comm, offset, (struct span){data, len});
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
    return query(d, 0xBB, (struct span){h, 7}, rx_of(q->comm), out, q->count * q->record_size);
}

leal_err desfire_commit(struct desfire *d)
{
    return simple_command(d, 0xC7, NULL, 0);
}

leal_err desfire_create_tmac_file(struct desfire *d, const struct desfire_tmac_file *f)
{
    uint8_t h[5], k[17];
    struct desfire_cmd c = {.ins = 0xCE,
                            .hdr = h,
                            .hdr_len = sizeof h,
                            .data = k,
                            .data_len = sizeof k,
                            .tx = TX_FULL,
                            .rx = RX_MAC};
    leal_err err;

    if (!comm_ok(f->comm) || f->key == NULL)
        return LEAL_E_ARG;
    h[0] = f->file_no;
    h[1] = (uint8_t)f->comm;
    store_le16(h + 2, f->access);
    h[4] = 0x02; /* TMKeyOption: AES */
    leal_memcpy(k, f->key, 16);
    k[16] = f->key_version;
    err = command(d, &c);
    leal_wipe(k, sizeof k);
    return err;
}

leal_err desfire_commit_tmac(struct desfire *d, uint32_t *tmc, uint8_t tmv[8])
{
    const uint8_t option = 0x01; /* TMC and TMV in the answer */
    uint8_t a[12];
    leal_err err;

    if (tmc == NULL || tmv == NULL)
        return LEAL_E_ARG;
    *tmc = 0;
    if ((err = query(d, 0xC7, (struct span){&option, 1}, RX_MAC, a, sizeof a)) != LEAL_OK)
        return err;
    *tmc = load_le32(a);
    leal_memcpy(tmv, a + 4, 8);
    return LEAL_OK;
}

leal_err desfire_abort(struct desfire *d)
{
    return simple_command(d, 0xA7, NULL, 0);
}
