/*
 * desfire_sim.c - the virtual MIFARE DESFire EV1 (and EV2/EV3 personalities
 * with the EV1-compatible command set): framing (native and ISO 7816-4 wrapped,
 * 0xAF chaining both ways, 59 data bytes per frame), authentication (legacy
 * 0x0A, ISO 0x1A, AES 0xAA; EV2/EV3 also 0x71/0x77), secure messaging (D40:
 * MAC4/CRC16; EV1: CMAC/CRC32 with a running IV; EV2: MACt, TI and CmdCtr,
 * NXP AN12343/AN12196, REFERENCE.md 2.5), applications, keys, files, values,
 * records and transactions; EV2/EV3 also the Transaction MAC (the public
 * DESFire Light data sheet MF2DL(H)x0 10.3; cardlayout/LAYOUT.md 2.8).
 * Facts: ARCHITECTURE.md's Sources (libfreefare, the MF3ICDx21_41_81 short
 * data sheet, the published EV1 traces).
 */
#include <stdlib.h>
#include <string.h>

#include "cardsim_engine.h"
#include "desfire_sim.h"
#include "keys/base/buf.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"

#define FRAME LEAL_MAX_DESFIRE_FRAME
#define MSG_MAX LEAL_MAX_DESFIRE_MESSAGE
#define DESFIRE_TMAC_ANSWER 12 /* TMC (LE32) || TMV: the file and the commit's answer */

/* ISO DF name of the PICC level (libfreefare master selects it). */
static const uint8_t picc_df_name[7] = {0xD2, 0x76, 0x00, 0x00, 0x85, 0x01, 0x00};

enum comm_mode {
    COMM_PLAIN = 0,
    COMM_MAC = 1,
    COMM_ENC = 3,
};

/* One command being executed. */
struct cmd {
    struct cardsim *card;
    struct df_state *st;
    const uint8_t *msg; /* INS and data: the whole (reassembled) message */
    size_t len;
    uint8_t *out; /* response body (after secure messaging) */
    size_t out_len, out_cap;
    bool responded; /* tx() ran */
    bool torn;      /* tear inside the commit */
    bool no_mac;    /* answer with the status alone (authentication dropped) */
    bool ev2_mac;   /* EV2: the command carried MACt (checked), so its answer does */
};

/* ---------------------------------------------------------------- state */

static bool authenticated(const struct df_state *st)
{
    return st->auth_key >= 0;
}

static bool ev1_session(const struct df_state *st)
{
    return st->auth_mode == DF_AUTH_ISO || st->auth_mode == DF_AUTH_AES;
}

static bool ev2_session(const struct df_state *st)
{
    return st->auth_key >= 0 && st->auth_mode == DF_AUTH_EV2;
}

static void drop_auth(struct df_state *st)
{
    st->auth_key = -1;
    st->auth_mode = DF_AUTH_NONE;
    st->auth_step = 0;
    st->cmd_ctr = 0;
    leal_wipe(st->ti, sizeof st->ti);
    leal_wipe(&st->sess_mac, sizeof st->sess_mac);
    leal_wipe(&st->sess, sizeof st->sess);
    leal_wipe(st->iv, sizeof st->iv);
    leal_wipe(st->rndb, sizeof st->rndb);
    leal_wipe(&st->auth_cipher, sizeof st->auth_cipher);
}

static void reset_chain(struct df_state *st)
{
    free(st->in);
    free(st->out);
    st->in = st->out = NULL;
    st->in_len = st->in_expected = st->out_len = st->out_off = 0;
    st->out_nchunks = st->out_chunk_i = 0;
    st->auth_step = 0;
}

static void file_discard(struct df_file *f)
{
    if (!f->dirty)
        return;
    if (f->type == DF_FILE_BACKUP)
        memcpy(f->work, f->data, f->size);
    f->work_value = f->value;
    f->work_debits = 0;
    f->work_lc_done = false;
    f->work_clear = f->work_new = false;
    f->dirty = false;
}

/* Applies a dirty file's working copy (one step of a commit). */
static void file_apply(struct df_file *f)
{
    if (!f->dirty)
        return;
    switch (f->type) {
    case DF_FILE_BACKUP:
        memcpy(f->data, f->work, f->size);
        break;
    case DF_FILE_VALUE:
        f->value = f->work_value;
        if (f->work_debits > 0) {
            /* LimitedCredit may give back this transaction's debits, once. */
            f->lc_value = f->work_debits > INT32_MAX ? INT32_MAX : (int32_t)f->work_debits;
            f->lc_available = true;
        } else if (f->work_lc_done) {
            f->lc_value = 0;
            f->lc_available = false;
        }
        break;
    case DF_FILE_LINEAR:
    case DF_FILE_CYCLIC:
        if (f->work_clear)
            f->count = 0;
        if (f->work_new) {
            uint32_t keep = f->type == DF_FILE_CYCLIC ? f->max_recs - 1 : f->max_recs;
            if (f->count >= keep) {
                /* Cyclic: the oldest record gives way. */
                memmove(f->recs, f->recs + f->rec_size, (size_t)(f->count - 1) * f->rec_size);
                f->count--;
            }
            memcpy(f->recs + (size_t)f->count * f->rec_size, f->work_rec, f->rec_size);
            f->count++;
        }
        break;
    default:
        break;
    }
    f->dirty = true; /* so that file_discard resets the working fields */
    file_discard(f);
}

static bool any_dirty(const struct df_state *st)
{
    for (int a = -1; a < DF_MAX_APPS; a++) {
        const struct df_app *app = a < 0 ? &st->picc : &st->apps[a];
        for (int i = 0; app->exists && i < DF_MAX_FILES; i++)
            if (app->files[i].exists && app->files[i].dirty)
                return true;
    }
    return false;
}

/* Forgets the Transaction MAC input (the transaction ended either way). */
static void tmi_reset(struct df_state *st)
{
    st->tmi_len = 0;
    leal_wipe(&st->tm_mac, sizeof st->tm_mac);
    leal_wipe(st->tmi_chain, sizeof st->tmi_chain);
    leal_wipe(st->tmi_last, sizeof st->tmi_last);
}

static void abort_tx(struct df_state *st)
{
    tmi_reset(st);
    if (st->commit_pending)
        return; /* a commit record is written: it completes at power-up */
    for (int a = 0; a < DF_MAX_APPS; a++)
        for (int i = 0; st->apps[a].exists && i < DF_MAX_FILES; i++)
            if (st->apps[a].files[i].exists)
                file_discard(&st->apps[a].files[i]);
}

/* Completes a commit; with limit >= 0 stops after that many files (a tear). */
static void apply_commit(struct df_state *st, long limit)
{
    long done = 0;
    for (int a = 0; a < DF_MAX_APPS; a++)
        for (int i = 0; st->apps[a].exists && i < DF_MAX_FILES; i++) {
            struct df_file *f = &st->apps[a].files[i];
            if (!f->exists || !f->dirty)
                continue;
            if (limit >= 0 && done >= limit)
                return;
            file_apply(f);
            done++;
        }
    st->commit_pending = false;
}

static void power_off(struct df_state *st)
{
    abort_tx(st);
    drop_auth(st);
    reset_chain(st);
    st->sel = &st->picc;
    st->ef = -1;
}

static struct df_app *find_app(struct df_state *st, uint32_t aid)
{
    if (aid == 0)
        return &st->picc;
    for (int i = 0; i < DF_MAX_APPS; i++)
        if (st->apps[i].exists && st->apps[i].aid == aid)
            return &st->apps[i];
    return NULL;
}

/* 64-bit: a record file's 24-bit size times 24-bit count must not wrap (it
 * once wrapped to 0 and the card tried to allocate 400 GB). */
static uint64_t blocks(uint64_t bytes)
{
    return (bytes + DF_BLOCK - 1) / DF_BLOCK * DF_BLOCK;
}

/* Memory model: 32-byte blocks; an application takes one block plus one per
 * two keys; a file its data (twice for backup files), a value file one block. */
static uint8_t mem_alloc(struct df_state *st, uint64_t bytes)
{
    uint64_t b = blocks(bytes);
    if (st->used + b > st->capacity)
        return DF_OUT_OF_EEPROM;
    st->used += (uint32_t)b;
    return DF_OK;
}

/* EV1 does not give memory back before FormatPICC; EV2 and later do. */
static void mem_release(struct df_state *st, uint64_t bytes)
{
    uint64_t b = blocks(bytes);
    if (st->personality == DF_EV1)
        return;
    st->used = st->used > b ? (uint32_t)(st->used - b) : 0;
}

static uint64_t app_cost(uint8_t nkeys)
{
    return DF_BLOCK + (uint64_t)DF_BLOCK * ((nkeys + 1u) / 2u);
}

static uint64_t file_cost(const struct df_file *f)
{
    switch (f->type) {
    case DF_FILE_STD:
        return blocks(f->size);
    case DF_FILE_BACKUP:
        return 2ull * blocks(f->size);
    case DF_FILE_VALUE:
    case DF_FILE_TMAC:
        return DF_BLOCK;
    default:
        return blocks((uint64_t)f->rec_size * f->max_recs);
    }
}

/* ------------------------------------------------------ secure messaging */

static uint8_t rx_plain(struct cmd *x)
{
    uint8_t mac[16];
    if (authenticated(x->st) && ev1_session(x->st) &&
        df_cmac(&x->st->sess, x->st->iv, x->msg, x->len, mac) != LEAL_OK)
        return DF_INTEGRITY_ERROR;
    return DF_OK;
}

static size_t pad_to(size_t n, size_t bs)
{
    return (n == 0 || n % bs) ? (n / bs + 1) * bs : n;
}

/* Bytes on the wire for n data bytes in mode (commands and answers alike). */
static size_t wire_len(const struct df_state *st, int mode, size_t n)
{
    if (!authenticated(st) || mode == COMM_PLAIN)
        return n;
    if (st->auth_mode == DF_AUTH_EV2) /* MACt apart (ev2_unwrap, tx); M2 padding */
        return mode == COMM_ENC ? (n / 16 + 1) * 16 : n;
    if (mode == COMM_MAC)
        return n + (ev1_session(st) ? 8 : 4);
    if (ev1_session(st))
        return pad_to(n + 4, st->sess.bs);
    return pad_to(n + 2, 8);
}

/* D40 MAC: first 4 bytes of the last block of a CBC encryption (IV zero) of
 * the data padded with zeros. */
static leal_err legacy_mac(const struct df_cipher *c, const uint8_t *p, size_t n, uint8_t mac[4])
{
    uint8_t iv[8] = {0}, buf[MSG_MAX + 8];
    size_t pl = pad_to(n, 8);
    leal_err err;
    memset(buf, 0, pl);
    if (n)
        memcpy(buf, p, n);
    err = df_cbc_encrypt(c, iv, buf, buf, pl);
    memcpy(mac, iv, 4);
    return err;
}

/* EV2 MACt: bytes 1, 3, .., 15 of CMAC(SesAuthMACKey, code || ctr (LE16) ||
 * TI || data) (NXP AN12343 p.54, AN12196; REFERENCE.md 2.5). */
static leal_err ev2_mact(const struct df_state *st, uint8_t code, uint16_t ctr, const uint8_t *data,
                         size_t n, uint8_t mact[8])
{
    uint8_t in[7 + MSG_MAX + 64], iv[16] = {0}, full[16];
    leal_err err;
    if (n > MSG_MAX + 64)
        return LEAL_E_ARG;
    in[0] = code;
    store_le16(in + 1, ctr);
    memcpy(in + 3, st->ti, 4);
    if (n)
        memcpy(in + 7, data, n);
    err = df_cmac(&st->sess_mac, iv, in, 7 + n, full);
    for (int i = 0; i < 8; i++)
        mact[i] = full[2 * i + 1];
    leal_wipe(full, sizeof full);
    return err;
}

/* EV2 IV: E(SesAuthENCKey, A5 5A || TI || ctr || 00*8) for a command, 5A A5
 * for an answer. */
static leal_err ev2_iv(const struct df_state *st, bool answer, uint16_t ctr, uint8_t iv[16])
{
    uint8_t in[16] = {0};
    in[0] = answer ? 0x5A : 0xA5;
    in[1] = answer ? 0xA5 : 0x5A;
    memcpy(in + 2, st->ti, 4);
    store_le16(in + 6, ctr);
    return df_ecb(&st->sess, true, in, iv);
}

/* Where a command's data goes, and how much of it there is. */
struct ev2_data {
    uint8_t *p;
    size_t len;
};

/* EV2 data of a command: MACt was checked and cut off before the command
 * ran (ev2_unwrap); enciphered data is E(IVc, data || 80 00..). */
static uint8_t ev2_rx(struct cmd *x, int mode, const uint8_t *body, size_t blen,
                      struct ev2_data out)
{
    const struct df_state *st = x->st;
    uint8_t iv[16], zero = 0, status = DF_OK, plain[MSG_MAX + 16];
    if (mode == COMM_MAC) {
        memcpy(out.p, body, out.len);
        return DF_OK;
    }
    if (blen > sizeof plain || ev2_iv(st, false, st->cmd_ctr, iv) != LEAL_OK ||
        df_cbc_decrypt(&st->sess, iv, body, plain, blen) != LEAL_OK)
        return DF_INTEGRITY_ERROR;
    if (plain[out.len] != 0x80)
        status = DF_INTEGRITY_ERROR;
    for (size_t i = out.len + 1; i < blen; i++)
        zero |= plain[i];
    if (zero)
        status = DF_INTEGRITY_ERROR;
    if (status == DF_OK)
        memcpy(out.p, plain, out.len);
    leal_wipe(plain, blen);
    return status;
}

/* Data of a command sent in mode; hdr bytes after INS are plain. For COMM_ENC
 * the plaintext is checked against its CRC (data_len bytes of data). */
static uint8_t rx_data(struct cmd *x, int mode, size_t hdr, size_t data_len, uint8_t *data)
{
    struct df_state *st = x->st;
    const uint8_t *body = x->msg + 1 + hdr;
    size_t blen = x->len - 1 - hdr;
    uint8_t mac[16], plain[MSG_MAX] = {0}; /* gcc -O2 cannot see blen >= data_len + 4 */
    uint8_t status = DF_OK;

    if (x->len < 1 + hdr || blen != wire_len(st, mode, data_len))
        return DF_LENGTH_ERROR;
    if (!authenticated(st))
        mode = COMM_PLAIN;
    if (mode == COMM_PLAIN) {
        if ((status = rx_plain(x)) == DF_OK)
            memcpy(data, body, data_len);
        return status;
    }
    if (st->auth_mode == DF_AUTH_EV2)
        return ev2_rx(x, mode, body, blen, (struct ev2_data){data, data_len});
    if (mode == COMM_MAC) {
        if (ev1_session(st)) {
            if (df_cmac(&st->sess, st->iv, x->msg, x->len - 8, mac) != LEAL_OK ||
                !leal_ct_equal(mac, x->msg + x->len - 8, 8))
                return DF_INTEGRITY_ERROR;
        } else if (legacy_mac(&st->sess, body, data_len, mac) != LEAL_OK ||
                   !leal_ct_equal(mac, body + data_len, 4)) {
            return DF_INTEGRITY_ERROR;
        }
        memcpy(data, body, data_len);
        return DF_OK;
    }
    /* Enciphered. */
    if (ev1_session(st)) {
        uint32_t crc;
        uint8_t zero = 0;
        if (df_cbc_decrypt(&st->sess, st->iv, body, plain, blen) != LEAL_OK)
            return DF_INTEGRITY_ERROR;
        /* CRC32 over the command header and the data (libfreefare crc32_append). */
        crc = df_crc32(x->msg, 1 + hdr, 0xFFFFFFFFu);
        crc = df_crc32(plain, data_len, crc);
        if (load_le32(plain + data_len) != crc)
            status = DF_INTEGRITY_ERROR;
        for (size_t i = data_len + 4; i < blen; i++)
            zero |= plain[i];
        if (zero)
            status = DF_INTEGRITY_ERROR;
    } else {
        /* D40: the reader "deciphers" to send, so the card enciphers to read:
         * p_i = E(c_i) xor c_(i-1), IV zero. */
        uint8_t prev[8] = {0}, zero = 0;
        for (size_t off = 0; off < blen; off += 8) {
            if (df_ecb(&st->sess, true, body + off, plain + off) != LEAL_OK)
                return DF_INTEGRITY_ERROR;
            for (int i = 0; i < 8; i++)
                plain[off + (size_t)i] ^= prev[i];
            memcpy(prev, body + off, 8);
        }
        if (load_le16(plain + data_len) != df_crc16(plain, data_len))
            status = DF_INTEGRITY_ERROR;
        for (size_t i = data_len + 2; i < blen; i++)
            zero |= plain[i];
        if (zero)
            status = DF_INTEGRITY_ERROR;
    }
    if (status == DF_OK)
        memcpy(data, plain, data_len);
    leal_wipe(plain, blen);
    return status;
}

/* EV2 answer (status 00): bare for a plain-mode file (the command had no
 * MACt), else data or E(IVr, data || 80 00..) followed by MACt over 00 ||
 * CmdCtr + 1 || TI || what precedes it. */
static uint8_t ev2_tx(struct cmd *x, const uint8_t *data, size_t n, int mode)
{
    struct df_state *st = x->st;
    uint16_t next = (uint16_t)(st->cmd_ctr + 1u);
    size_t wl = mode == COMM_ENC ? (n / 16 + 1) * 16 : n;
    uint8_t iv[16];

    if (wl + 8 > x->out_cap)
        return DF_BOUNDARY_ERROR;
    if (n)
        memcpy(x->out, data, n);
    x->out_len = n;
    if (!x->ev2_mac)
        return DF_OK;
    if (mode == COMM_ENC) {
        x->out[n] = 0x80;
        memset(x->out + n + 1, 0, wl - n - 1);
        if (ev2_iv(st, true, next, iv) != LEAL_OK ||
            df_cbc_encrypt(&st->sess, iv, x->out, x->out, wl) != LEAL_OK)
            return DF_INTEGRITY_ERROR;
    }
    if (ev2_mact(st, DF_OK, next, x->out, wl, x->out + wl) != LEAL_OK)
        return DF_INTEGRITY_ERROR;
    x->out_len = wl + 8;
    return DF_OK;
}

/* Answer data in mode (status 00). */
static uint8_t tx(struct cmd *x, const uint8_t *data, size_t n, int mode)
{
    struct df_state *st = x->st;
    size_t wl = wire_len(st, mode, n);
    uint8_t mac[16];

    x->responded = true;
    if (ev2_session(st))
        return ev2_tx(x, data, n, mode);
    if (!authenticated(st))
        wl = n;
    else if (ev1_session(st) && mode == COMM_PLAIN)
        wl = n + 8; /* EV1 MACs every answer of a session */
    if (wl > x->out_cap)
        return DF_BOUNDARY_ERROR;
    if (n)
        memcpy(x->out, data, n);
    x->out_len = wl;
    if (!authenticated(st))
        return DF_OK;
    if (ev1_session(st)) {
        if (mode != COMM_ENC) {
            /* CMAC over data || status 00 with the running IV (REFERENCE §2.4). */
            uint8_t *tmp = malloc(n + 1);
            leal_err err;
            if (tmp == NULL)
                return DF_INTEGRITY_ERROR;
            if (n)
                memcpy(tmp, data, n);
            tmp[n] = 0x00;
            err = df_cmac(&st->sess, st->iv, tmp, n + 1, mac);
            free(tmp);
            if (err != LEAL_OK)
                return DF_INTEGRITY_ERROR;
            memcpy(x->out + n, mac, 8);
            return DF_OK;
        }
        {
            uint8_t zero = 0;
            uint32_t crc = df_crc32(data, n, 0xFFFFFFFFu);
            crc = df_crc32(&zero, 1, crc);
            memset(x->out + n, 0, wl - n);
            store_le32(x->out + n, crc);
            if (df_cbc_encrypt(&st->sess, st->iv, x->out, x->out, wl) != LEAL_OK)
                return DF_INTEGRITY_ERROR;
        }
        return DF_OK;
    }
    if (mode == COMM_MAC) {
        if (legacy_mac(&st->sess, data, n, mac) != LEAL_OK)
            return DF_INTEGRITY_ERROR;
        memcpy(x->out + n, mac, 4);
    } else if (mode == COMM_ENC) {
        uint8_t iv[8] = {0};
        memset(x->out + n, 0, wl - n);
        store_le16(x->out + n, df_crc16(data, n));
        if (df_cbc_encrypt(&st->sess, iv, x->out, x->out, wl) != LEAL_OK)
            return DF_INTEGRITY_ERROR;
    }
    return DF_OK;
}

/* ----------------------------------------------------- transaction MAC */

/* The Transaction MAC of EV2/EV3 as the public DESFire Light data sheet
 * (NXP MF2DL(H)x0 10.3) describes it; cardlayout/LAYOUT.md 2.8. */

/* The application's TransactionMAC file (at most one), or NULL. */
static struct df_file *tmac_file(struct df_app *app)
{
    for (int i = 0; i < DF_MAX_FILES; i++)
        if (app->files[i].exists && app->files[i].type == DF_FILE_TMAC)
            return &app->files[i];
    return NULL;
}

/* SesTMMACKey = CMAC(AppTransactionMACKey, 5A 00 01 00 80 || TMC + 1 (LE32)
 * || UID), with the counter the commit will reach. */
static leal_err tm_session(struct df_state *st, const struct df_file *tf)
{
    uint8_t sv[16] = {0x5A, 0x00, 0x01, 0x00, 0x80}, iv[16] = {0}, key[16];
    struct df_cipher k;
    leal_err err;
    store_le32(sv + 5, load_le32(tf->data) + 1u);
    memcpy(sv + 9, st->uid, 7);
    if ((err = df_cipher_set(&k, DF_KEY_AES, tf->tm_key, 16)) == LEAL_OK &&
        (err = df_cmac(&k, iv, sv, sizeof sv, key)) == LEAL_OK)
        err = df_cipher_set(&st->tm_mac, DF_KEY_AES, key, 16);
    leal_wipe(&k, sizeof k);
    leal_wipe(key, sizeof key);
    return err;
}

/* Feeds whole blocks to the running CMAC: the block kept back so far is
 * chained, the newest is kept back (the commit MACs it as the last). */
static leal_err tmi_blocks(struct df_state *st, const uint8_t *p, size_t n)
{
    uint8_t c[16];
    leal_err err = LEAL_OK;
    for (size_t off = 0; off < n && err == LEAL_OK; off += 16) {
        if (st->tmi_len > 0)
            err = df_cbc_encrypt(&st->tm_mac, st->tmi_chain, st->tmi_last, c, 16);
        memcpy(st->tmi_last, p + off, 16);
        st->tmi_len += 16;
    }
    leal_wipe(c, sizeof c);
    return err;
}

/* One command's TMI update (10.3.4): INS || FileNo || params zero-padded to
 * 16 bytes, then its plain data zero-padded to 16. None without a
 * TransactionMAC file or for the file itself. */
static uint8_t tmi_update(struct cmd *x, const uint8_t *params, size_t plen, const uint8_t *data,
                          size_t dlen)
{
    struct df_state *st = x->st;
    struct df_file *tf = tmac_file(st->sel);
    uint8_t head[16] = {0}, *buf;
    size_t padded = (dlen + 15) / 16 * 16;
    leal_err err;
    if (tf == NULL || tf == &st->sel->files[x->msg[1]])
        return DF_OK;
    /* TMCLimit, never set by leal, is the counter's maximum. */
    if (load_le32(tf->data) == UINT32_MAX)
        return DF_PERMISSION_DENIED;
    if (st->tmi_len == 0 && tm_session(st, tf) != LEAL_OK)
        return DF_INTEGRITY_ERROR;
    head[0] = x->msg[0];
    head[1] = x->msg[1];
    if (plen > 0)
        memcpy(head + 2, params, plen);
    err = tmi_blocks(st, head, sizeof head);
    if (err == LEAL_OK && dlen > 0) {
        if ((buf = calloc(1, padded)) == NULL)
            return DF_OUT_OF_EEPROM;
        memcpy(buf, data, dlen);
        err = tmi_blocks(st, buf, padded);
        free(buf);
    }
    return err == LEAL_OK ? DF_OK : DF_INTEGRITY_ERROR;
}

/* Offset and length (LE24 each) as a TMI update carries them. */
static void tmi_range(uint8_t p[6], uint32_t a, uint32_t b)
{
    store_le24(p, a);
    store_le24(p + 3, b);
}

/* At the commit, before the commit record: TMC + 1 and TMV = MACt(SesTMMACKey,
 * TMI) into the file, one atomic step with the files (a tear before the
 * record leaves both as they were). */
static uint8_t tmac_commit(struct df_state *st)
{
    struct df_file *tf = tmac_file(st->sel);
    uint8_t full[16];
    if (tf == NULL || st->tmi_len == 0)
        return DF_OK;
    if (df_cmac(&st->tm_mac, st->tmi_chain, st->tmi_last, 16, full) != LEAL_OK)
        return DF_INTEGRITY_ERROR;
    store_le32(tf->data, load_le32(tf->data) + 1u);
    for (int i = 0; i < 8; i++)
        tf->data[4 + i] = full[2 * i + 1];
    leal_wipe(full, sizeof full);
    tmi_reset(st);
    return DF_OK;
}

/* ------------------------------------------------------- access rights */

#define AR_R(ar) (((ar) >> 12) & 0xF)
#define AR_W(ar) (((ar) >> 8) & 0xF)
#define AR_RW(ar) (((ar) >> 4) & 0xF)
#define AR_CAR(ar) ((ar)&0xF)
#define KEY_FREE 0xE
#define KEY_NEVER 0xF

/* Comm mode for an operation allowed to the keys in rights (n of them):
 * the file's mode when the authenticated key is one of them, plain when one
 * is free. Never: PERMISSION_DENIED; needs another key: AUTHENTICATION_ERROR
 * when nobody is authenticated, PERMISSION_DENIED otherwise. */
static uint8_t access_mode(const struct df_state *st, const struct df_file *f, const int *rights,
                           int n, bool free_ok, int *mode)
{
    bool all_never = true, any_free = free_ok;
    for (int i = 0; i < n; i++) {
        if (authenticated(st) && rights[i] == st->auth_key) {
            *mode = f->comm == 2 ? COMM_PLAIN : f->comm;
            return DF_OK;
        }
        if (rights[i] != KEY_NEVER)
            all_never = false;
        if (rights[i] == KEY_FREE)
            any_free = true;
    }
    if (any_free) {
        *mode = COMM_PLAIN;
        return DF_OK;
    }
    if (all_never)
        return DF_PERMISSION_DENIED;
    return authenticated(st) ? DF_PERMISSION_DENIED : DF_AUTHENTICATION_ERROR;
}

/* Master key of the selected level, or the listed key-settings bit free. */
static uint8_t need_master(const struct df_state *st, uint8_t free_bit)
{
    if (free_bit && (st->sel->ks1 & free_bit))
        return DF_OK;
    if (authenticated(st) && st->auth_key == 0)
        return DF_OK;
    return authenticated(st) ? DF_PERMISSION_DENIED : DF_AUTHENTICATION_ERROR;
}

#define KS_AMK_CHANGEABLE 0x01
#define KS_FREE_LISTING 0x02
#define KS_FREE_CREATE 0x04
#define KS_CONFIG_CHANGEABLE 0x08

static uint8_t keytype_bits(int kt)
{
    return kt == DF_KEY_AES ? 0x80 : kt == DF_KEY_3K3DES ? 0x40 : 0x00;
}

/* ------------------------------------------------------ authentication */

static void rotl(const uint8_t *in, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        out[i] = in[(i + 1) % n];
}

static leal_err key_cipher(struct df_cipher *c, int keytype, const struct df_key *k)
{
    return df_cipher_set(c, keytype, k->k, df_key_len(keytype));
}

/* AuthenticateEV2First (71 KeyNo LenCap PCDcap2[LenCap]) or NonFirst (77
 * KeyNo, inside an EV2 session): E(K, RndB) with IV zero, as NXP AN12196 6.6
 * shows it. An EV1 does not know either command. */
static uint8_t ev2_authenticate(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_app *app = st->sel;
    bool first = x->msg[0] == 0x71;
    bool in_ev2 = ev2_session(st);
    uint8_t ti[4], iv[16] = {0};
    uint16_t ctr = st->cmd_ctr;

    if (st->personality == DF_EV1)
        return DF_ILLEGAL_COMMAND;
    memcpy(ti, st->ti, 4);
    drop_auth(st);
    abort_tx(st);
    if (first ? (x->len < 3 || x->len != 3u + x->msg[2]) : x->len != 2)
        return DF_LENGTH_ERROR;
    if (!first && !in_ev2)
        return DF_PERMISSION_DENIED; /* NonFirst continues an EV2 session */
    if (x->msg[1] >= app->nkeys)
        return DF_NO_SUCH_KEY;
    if (app->keytype != DF_KEY_AES)
        return DF_AUTHENTICATION_ERROR;
    st->rnd_len = 16;
    if (key_cipher(&st->auth_cipher, DF_KEY_AES, &app->keys[x->msg[1]]) != LEAL_OK ||
        cardsim_random(x->card, st->rndb, 16) != LEAL_OK ||
        df_cbc_encrypt(&st->auth_cipher, iv, st->rndb, x->out, 16) != LEAL_OK)
        return DF_AUTHENTICATION_ERROR;
    memset(st->auth_iv, 0, sizeof st->auth_iv); /* EV2: the token's IV is zero too */
    memcpy(st->auth_ti, ti, 4);
    st->auth_ctr = ctr;
    st->auth_ins = x->msg[0];
    st->auth_keyno = x->msg[1];
    x->out_len = 16;
    x->responded = true;
    return DF_ADDITIONAL_FRAME;
}

static uint8_t cmd_authenticate(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_app *app = st->sel;
    uint8_t ek[16];
    uint8_t keyno, iv[16] = {0};
    int kt = app->keytype;

    if (x->msg[0] == 0x71 || x->msg[0] == 0x77)
        return ev2_authenticate(x);
    drop_auth(st);
    abort_tx(st);
    if (x->len != 2)
        return DF_LENGTH_ERROR;
    keyno = x->msg[1];
    if (keyno >= app->nkeys)
        return DF_NO_SUCH_KEY;
    if ((x->msg[0] == 0xAA) != (kt == DF_KEY_AES) || (x->msg[0] == 0x0A && kt != DF_KEY_DES))
        return DF_AUTHENTICATION_ERROR;
    st->rnd_len = kt == DF_KEY_DES ? 8 : 16;
    if (key_cipher(&st->auth_cipher, kt, &app->keys[keyno]) != LEAL_OK ||
        cardsim_random(x->card, st->rndb, st->rnd_len) != LEAL_OK ||
        df_cbc_encrypt(&st->auth_cipher, iv, st->rndb, ek, st->rnd_len) != LEAL_OK)
        return DF_AUTHENTICATION_ERROR;
    /* ISO and AES continue the CBC chain from ek(RndB); D40 restarts at zero. */
    memcpy(st->auth_iv, ek + st->rnd_len - st->auth_cipher.bs, st->auth_cipher.bs);
    st->auth_ins = x->msg[0];
    st->auth_keyno = keyno;
    memcpy(x->out, ek, st->rnd_len);
    x->out_len = st->rnd_len;
    x->responded = true;
    return DF_ADDITIONAL_FRAME;
}

static void session_key(int kt, const uint8_t *a, const uint8_t *b, const struct df_key *k,
                        uint8_t *s, size_t *len)
{
    /* libfreefare mifare_desfire_session_key_new; a DES key (both halves equal)
     * gives a single-DES session key (REFERENCE §2.3). */
    memcpy(s, a, 4);
    memcpy(s + 4, b, 4);
    if (kt == DF_KEY_DES && memcmp(k->k, k->k + 8, 8) == 0) {
        *len = 8;
    } else if (kt == DF_KEY_DES) {
        memcpy(s + 8, a + 4, 4);
        memcpy(s + 12, b + 4, 4);
        *len = 16;
    } else if (kt == DF_KEY_3K3DES) {
        memcpy(s + 8, a + 6, 4);
        memcpy(s + 12, b + 6, 4);
        memcpy(s + 16, a + 12, 4);
        memcpy(s + 20, b + 12, 4);
        *len = 24;
    } else {
        memcpy(s + 8, a + 12, 4);
        memcpy(s + 12, b + 12, 4);
        *len = 16;
    }
}

/* SV1 (A5 5A) or SV2 (5A A5) of EV2: 00 01 00 80 || RndA[0..1] || RndA[2..7]
 * ^ RndB[0..5] || RndB[6..15] || RndA[8..15] (REFERENCE.md 2.5). */
static void ev2_sv(uint8_t l0, uint8_t l1, const uint8_t *a, const uint8_t *b, uint8_t sv[32])
{
    static const uint8_t head[4] = {0x00, 0x01, 0x00, 0x80};
    sv[0] = l0;
    sv[1] = l1;
    memcpy(sv + 2, head, 4);
    memcpy(sv + 6, a, 2);
    for (int i = 0; i < 6; i++)
        sv[8 + i] = a[2 + i] ^ b[i];
    memcpy(sv + 14, b + 6, 10);
    memcpy(sv + 24, a + 8, 8);
}

/* The EV2 token E(K, RndA || rot(RndB)), IV zero: answers E(K, TI ||
 * rot(RndA) || PDcap2 || PCDcap2) (First, new TI, counter 0) or E(K,
 * rot(RndA)) (NonFirst, TI and counter kept); the session keys are
 * CMAC(K, SV1) and CMAC(K, SV2). */
static uint8_t ev2_auth_second(struct cmd *x, const uint8_t *token, size_t len)
{
    struct df_state *st = x->st;
    bool first = st->auth_ins == 0x71;
    uint8_t plain[32], rotb[16], ans[32] = {0}, sv[32], enc[16], mac[16], iv[16] = {0};
    uint8_t status = DF_AUTHENTICATION_ERROR;

    if (len != 32) {
        status = DF_LENGTH_ERROR;
        goto out;
    }
    if (df_cbc_decrypt(&st->auth_cipher, iv, token, plain, 32) != LEAL_OK)
        goto out;
    rotl(st->rndb, rotb, 16);
    if (!leal_ct_equal(plain + 16, rotb, 16))
        goto out;
    if (first) {
        if (cardsim_random(x->card, st->ti, 4) != LEAL_OK)
            goto out;
        st->cmd_ctr = 0;
    } else {
        memcpy(st->ti, st->auth_ti, 4);
        st->cmd_ctr = st->auth_ctr;
    }
    memcpy(ans, st->ti, 4);
    rotl(plain, first ? ans + 4 : ans, 16);
    memset(iv, 0, sizeof iv);
    if (df_cbc_encrypt(&st->auth_cipher, iv, first ? ans : ans, x->out, first ? 32 : 16) != LEAL_OK)
        goto out;
    ev2_sv(0xA5, 0x5A, plain, st->rndb, sv);
    memset(iv, 0, sizeof iv);
    if (df_cmac(&st->auth_cipher, iv, sv, 32, enc) != LEAL_OK)
        goto out;
    ev2_sv(0x5A, 0xA5, plain, st->rndb, sv);
    memset(iv, 0, sizeof iv);
    if (df_cmac(&st->auth_cipher, iv, sv, 32, mac) != LEAL_OK ||
        df_cipher_set(&st->sess, DF_KEY_AES, enc, 16) != LEAL_OK ||
        df_cipher_set(&st->sess_mac, DF_KEY_AES, mac, 16) != LEAL_OK)
        goto out;
    x->out_len = first ? 32 : 16;
    x->responded = true;
    st->auth_key = st->auth_keyno;
    st->auth_mode = DF_AUTH_EV2;
    status = DF_OK;
out:
    leal_wipe(plain, sizeof plain);
    leal_wipe(ans, sizeof ans);
    leal_wipe(sv, sizeof sv);
    leal_wipe(enc, sizeof enc);
    leal_wipe(mac, sizeof mac);
    leal_wipe(&st->auth_cipher, sizeof st->auth_cipher);
    if (status != DF_OK) {
        x->out_len = 0;
        x->responded = false;
        leal_wipe(st->ti, sizeof st->ti);
    }
    return status;
}

static uint8_t auth_second(struct cmd *x, const uint8_t *token, size_t len)
{
    struct df_state *st = x->st;
    struct df_app *app = st->sel;
    size_t n = st->rnd_len;
    uint8_t plain[32], rotb[16], rota[16], skey[24];
    size_t sklen;
    uint8_t status = DF_AUTHENTICATION_ERROR;
    int kt = app->keytype;

    st->auth_step = 0;
    if (st->auth_ins == 0x71 || st->auth_ins == 0x77)
        return ev2_auth_second(x, token, len);
    if (len != 2 * n) {
        status = DF_LENGTH_ERROR;
        goto out;
    }
    if (st->auth_ins == 0x0A) {
        uint8_t prev[8] = {0};
        for (size_t off = 0; off < len; off += 8) {
            if (df_ecb(&st->auth_cipher, true, token + off, plain + off) != LEAL_OK)
                goto out;
            for (int i = 0; i < 8; i++)
                plain[off + (size_t)i] ^= prev[i];
            memcpy(prev, token + off, 8);
        }
    } else if (df_cbc_decrypt(&st->auth_cipher, st->auth_iv, token, plain, len) != LEAL_OK) {
        goto out;
    }
    rotl(st->rndb, rotb, n);
    if (!leal_ct_equal(plain + n, rotb, n))
        goto out;
    rotl(plain, rota, n);
    if (st->auth_ins == 0x0A)
        memset(st->auth_iv, 0, sizeof st->auth_iv);
    if (df_cbc_encrypt(&st->auth_cipher, st->auth_iv, rota, x->out, n) != LEAL_OK)
        goto out;
    x->out_len = n;
    x->responded = true;
    session_key(kt, plain, st->rndb, &app->keys[st->auth_keyno], skey, &sklen);
    if (df_cipher_set(&st->sess, kt, skey, sklen) != LEAL_OK)
        goto out;
    st->auth_key = st->auth_keyno;
    st->auth_mode = st->auth_ins == 0x0A   ? DF_AUTH_LEGACY
                    : st->auth_ins == 0x1A ? DF_AUTH_ISO
                                           : DF_AUTH_AES;
    memset(st->iv, 0, sizeof st->iv);
    status = DF_OK;
out:
    leal_wipe(plain, sizeof plain);
    leal_wipe(rota, sizeof rota);
    leal_wipe(rotb, sizeof rotb);
    leal_wipe(skey, sizeof skey);
    leal_wipe(&st->auth_cipher, sizeof st->auth_cipher);
    if (status != DF_OK) {
        x->out_len = 0;
        x->responded = false;
    }
    return status;
}

/* --------------------------------------------------------- PICC level */

static uint8_t cmd_get_version(struct cmd *x)
{
    struct df_state *st = x->st;
    uint8_t v[28];
    /* Hardware major 01 EV1, 12 EV2, 33 EV3 (proxmark3's protocols.h); software
     * 1.4 (EV1), 2.1 (EV2), 3.0 (EV3). */
    uint8_t major = st->personality == DF_EV3 ? 0x33 : st->personality == DF_EV2 ? 0x12 : 0x01;
    uint8_t sw_major = st->personality == DF_EV3 ? 0x03 : st->personality == DF_EV2 ? 0x02 : 0x01;
    uint8_t sw_minor = st->personality == DF_EV3 ? 0x00 : st->personality == DF_EV2 ? 0x01 : 0x04;
    uint8_t status;

    if (x->len != 1)
        return DF_LENGTH_ERROR;
    /* Vendor NXP, type DESFire, subtype 1, version, storage size, ISO 14443-2/-3. */
    const uint8_t hw[7] = {0x04, 0x01, 0x01, major, 0x00, st->storage, 0x05};
    const uint8_t sw[7] = {0x04, 0x01, 0x01, sw_major, sw_minor, st->storage, 0x05};
    memcpy(v, hw, 7);
    memcpy(v + 7, sw, 7);
    /* A random-UID card shows its UID only through authenticated GetCardUID. */
    if (st->random_uid)
        memset(v + 14, 0, 7);
    else
        memcpy(v + 14, st->uid, 7);
    memcpy(v + 21, st->batch, 5);
    v[26] = st->week;
    v[27] = st->year;
    status = tx(x, v, sizeof v, COMM_PLAIN);
    st->out_chunks[0] = 7;
    st->out_chunks[1] = 7;
    st->out_chunks[2] = x->out_len - 14;
    st->out_nchunks = 3;
    return status;
}

static uint8_t cmd_get_card_uid(struct cmd *x)
{
    if (x->len != 1)
        return DF_LENGTH_ERROR;
    if (!authenticated(x->st))
        return DF_AUTHENTICATION_ERROR;
    return tx(x, x->st->uid, 7, COMM_ENC);
}

static uint8_t cmd_get_free_memory(struct cmd *x)
{
    uint8_t v[3];
    if (x->len != 1)
        return DF_LENGTH_ERROR;
    store_le24(v, x->st->capacity - x->st->used);
    return tx(x, v, 3, COMM_PLAIN);
}

static uint8_t cmd_format_picc(struct cmd *x)
{
    struct df_state *st = x->st;
    uint8_t status;
    if (x->len != 1)
        return DF_LENGTH_ERROR;
    if (st->sel != &st->picc)
        return DF_PERMISSION_DENIED;
    if ((status = need_master(st, 0)) != DF_OK)
        return status;
    if (st->format_disabled)
        return DF_PERMISSION_DENIED;
    for (int i = 0; i < DF_MAX_APPS; i++)
        df_app_clear(&st->apps[i]);
    st->used = 0;
    return DF_OK;
}

static uint8_t cmd_set_configuration(struct cmd *x)
{
    struct df_state *st = x->st;
    uint8_t data[32], status;
    size_t n;

    if (st->sel != &st->picc)
        return DF_PERMISSION_DENIED;
    if (x->len < 2)
        return DF_LENGTH_ERROR;
    if (!authenticated(st) || st->auth_key != 0)
        return authenticated(st) ? DF_PERMISSION_DENIED : DF_AUTHENTICATION_ERROR;
    switch (x->msg[1]) {
    case 0x00:
        n = 1;
        break;
    case 0x01:
        n = 25;
        break;
    default:
        return DF_PARAMETER_ERROR;
    }
    if ((status = rx_data(x, COMM_ENC, 1, n, data)) != DF_OK)
        return status;
    if (x->msg[1] == 0x00) {
        if (data[0] & ~0x03)
            return DF_PARAMETER_ERROR;
        st->format_disabled = (data[0] & 0x01) != 0;
        /* Irreversible, as on the real card. */
        st->random_uid = st->random_uid || (data[0] & 0x02);
    } else {
        memcpy(st->default_key.k, data, 24);
        st->default_key_version = data[24];
    }
    leal_wipe(data, sizeof data);
    return tx(x, NULL, 0, COMM_PLAIN);
}

static uint8_t cmd_get_key_settings(struct cmd *x)
{
    struct df_state *st = x->st;
    uint8_t v[2], status;
    if (x->len != 1)
        return DF_LENGTH_ERROR;
    if ((status = need_master(st, KS_FREE_LISTING)) != DF_OK)
        return status;
    v[0] = st->sel->ks1;
    v[1] = (uint8_t)(st->sel->nkeys | keytype_bits(st->sel->keytype));
    return tx(x, v, 2, COMM_PLAIN);
}

static uint8_t cmd_change_key_settings(struct cmd *x)
{
    struct df_state *st = x->st;
    uint8_t ks, status;
    if (!authenticated(st))
        return DF_AUTHENTICATION_ERROR;
    if (st->auth_key != 0 || !(st->sel->ks1 & KS_CONFIG_CHANGEABLE))
        return DF_PERMISSION_DENIED;
    if ((status = rx_data(x, COMM_ENC, 0, 1, &ks)) != DF_OK)
        return status;
    st->sel->ks1 = ks;
    return tx(x, NULL, 0, COMM_PLAIN);
}

static uint8_t cmd_get_key_version(struct cmd *x)
{
    struct df_state *st = x->st;
    uint8_t v;
    if (x->len != 2)
        return DF_LENGTH_ERROR;
    if (x->msg[1] >= st->sel->nkeys)
        return DF_NO_SUCH_KEY;
    v = df_key_version(st->sel->keytype, &st->sel->keys[x->msg[1]]);
    return tx(x, &v, 1, COMM_PLAIN);
}

/* What a ChangeKey asks: which key, its type and length, and whether it is
 * the session's own key. */
struct key_change {
    int kt;
    uint8_t target;
    size_t nl;
    bool aes_ver; /* an AES key carries its version byte */
    bool same;
};

/* The key number byte: which key of which type, and whether this session
 * may change it. */
static uint8_t change_key_target(const struct df_state *st, uint8_t raw, struct key_change *kc)
{
    const struct df_app *app = st->sel;
    kc->kt = app->keytype;
    if (app == &st->picc) {
        /* The PICC master key may change type: bits 7-6 of the key number. */
        if ((raw & 0x3F) != 0 || (raw & 0xC0) == 0xC0)
            return DF_NO_SUCH_KEY;
        kc->kt = (raw & 0x80) ? DF_KEY_AES : (raw & 0x40) ? DF_KEY_3K3DES : DF_KEY_DES;
        kc->target = 0;
    } else {
        kc->target = raw;
        if (kc->target >= app->nkeys)
            return DF_NO_SUCH_KEY;
    }
    if (kc->target == 0) {
        if (st->auth_key != 0 || !(app->ks1 & KS_AMK_CHANGEABLE))
            return DF_PERMISSION_DENIED;
    } else {
        uint8_t ck = app->ks1 >> 4;
        if (ck == KEY_NEVER || (ck == KEY_FREE ? st->auth_key != kc->target : st->auth_key != ck))
            return DF_PERMISSION_DENIED;
    }
    kc->nl = df_key_len(kc->kt);
    kc->aes_ver = kc->kt == DF_KEY_AES;
    kc->same = st->auth_key == kc->target;
    return DF_OK;
}

/* The cryptogram deciphered: CBC under an EV1 session; in legacy sessions
 * the card deciphers each block and chains by hand ("send mode"). */
static bool change_key_decipher(struct df_state *st, const uint8_t *in, size_t body, uint8_t *plain)
{
    uint8_t prev[8] = {0};
    if (ev1_session(st))
        return df_cbc_decrypt(&st->sess, st->iv, in, plain, body) == LEAL_OK;
    for (size_t off = 0; off < body; off += 8) {
        if (df_ecb(&st->sess, true, in + off, plain + off) != LEAL_OK)
            return false;
        for (int i = 0; i < 8; i++)
            plain[off + (size_t)i] ^= prev[i];
        memcpy(prev, in + off, 8);
    }
    return true;
}

/* plain: key (xor old key when changing another key) [version] CRC
 * [CRC(new key)]. True if the CRCs hold; plain then starts with the new key. */
static bool change_key_unwrap(const struct cmd *x, const struct key_change *kc, uint8_t *plain)
{
    const uint8_t *old = x->st->sel->keys[kc->target].k;
    size_t nl = kc->nl;
    if (ev1_session(x->st)) {
        size_t kv = nl + (kc->aes_ver ? 1 : 0);
        uint32_t crc = df_crc32(x->msg, 2, 0xFFFFFFFFu);
        crc = df_crc32(plain, kv, crc);
        if (load_le32(plain + kv) != crc)
            return false;
        if (!kc->same) {
            for (size_t i = 0; i < nl; i++)
                plain[i] ^= old[i];
            if (load_le32(plain + kv + 4) != df_crc32(plain, nl, 0xFFFFFFFFu))
                return false;
        }
        return true;
    }
    if (load_le16(plain + nl) != df_crc16(plain, nl))
        return false;
    if (!kc->same) {
        for (size_t i = 0; i < nl; i++)
            plain[i] ^= old[i];
        if (load_le16(plain + nl + 2) != df_crc16(plain, nl))
            return false;
    }
    return true;
}

/* The new key (plain[0..nl), then its version) into the selected
 * application; the answer. */
static uint8_t change_key_store(struct cmd *x, const struct key_change *kc, const uint8_t *plain)
{
    struct df_state *st = x->st;
    struct df_app *app = st->sel;
    memset(&app->keys[kc->target], 0, sizeof app->keys[kc->target]);
    memcpy(app->keys[kc->target].k, plain, kc->nl);
    app->keys[kc->target].version = kc->aes_ver ? plain[kc->nl] : 0;
    app->keytype = (uint8_t)kc->kt;
    if (kc->same) {
        /* The session key came from the key just replaced: no MAC (EV1) or
         * MACt (EV2, AN12196 Table 27) on the answer. */
        drop_auth(st);
        x->no_mac = true;
        return DF_OK;
    }
    return tx(x, NULL, 0, COMM_PLAIN);
}

/* EV2 (AN12196 5.16): MACt was checked (ev2_unwrap); the key data is
 * E(IVc, key [xor old key] || version [|| CRC32(new key)] || 80 00..). */
static uint8_t ev2_change_key(struct cmd *x, const struct key_change *kc)
{
    const uint8_t *old = x->st->sel->keys[kc->target].k;
    size_t need = kc->nl + 1 + (kc->same ? 0 : 4);
    uint8_t plain[48], status;
    if (x->len - 2 != (need / 16 + 1) * 16)
        return DF_LENGTH_ERROR;
    if ((status = rx_data(x, COMM_ENC, 1, need, plain)) != DF_OK)
        goto out;
    if (!kc->same) {
        for (size_t i = 0; i < kc->nl; i++)
            plain[i] ^= old[i];
        if (load_le32(plain + kc->nl + 1) != df_crc32(plain, kc->nl, 0xFFFFFFFFu)) {
            status = DF_INTEGRITY_ERROR;
            goto out;
        }
    }
    status = change_key_store(x, kc, plain);
out:
    leal_wipe(plain, sizeof plain);
    return status;
}

static uint8_t cmd_change_key(struct cmd *x)
{
    struct df_state *st = x->st;
    struct key_change kc;
    uint8_t plain[64];
    size_t body, need;
    uint8_t status;

    if (x->len < 2)
        return DF_LENGTH_ERROR;
    if (!authenticated(st))
        return DF_AUTHENTICATION_ERROR;
    if ((status = change_key_target(st, x->msg[1], &kc)) != DF_OK)
        return status;
    if (ev2_session(st))
        return ev2_change_key(x, &kc);
    if (ev1_session(st))
        need = kc.nl + (kc.aes_ver ? 1 : 0) + 4 + (kc.same ? 0 : 4);
    else
        need = kc.nl + 2 + (kc.same ? 0 : 2);
    body = x->len - 2;
    if (body != pad_to(need, st->sess.bs))
        return DF_LENGTH_ERROR;
    status = DF_INTEGRITY_ERROR;
    if (!change_key_decipher(st, x->msg + 2, body, plain) || !change_key_unwrap(x, &kc, plain))
        goto out;
    status = change_key_store(x, &kc, plain);
out:
    leal_wipe(plain, sizeof plain);
    return status;
}

static uint8_t cmd_create_application(struct cmd *x)
{
    struct df_state *st = x->st;
    struct buf_reader r;
    uint32_t aid;
    uint8_t ks1, ks2, status;
    uint16_t fid = 0;
    struct df_app *app = NULL;
    int kt;

    if (st->sel != &st->picc)
        return DF_PERMISSION_DENIED;
    if ((status = need_master(st, KS_FREE_CREATE)) != DF_OK)
        return status;
    buf_reader_init(&r, x->msg + 1, x->len - 1);
    if (buf_get_le24(&r, &aid) != LEAL_OK || buf_get_u8(&r, &ks1) != LEAL_OK ||
        buf_get_u8(&r, &ks2) != LEAL_OK)
        return DF_LENGTH_ERROR;
    if (ks2 & 0x20) {
        /* ISO FIDs travel little-endian (libfreefare sends E110 as 10 E1). */
        if (buf_get_le16(&r, &fid) != LEAL_OK || buf_remaining(&r) > 16)
            return DF_LENGTH_ERROR;
    } else if (buf_remaining(&r) != 0) {
        return DF_LENGTH_ERROR;
    }
    if ((status = rx_plain(x)) != DF_OK)
        return status;
    if (aid == 0 || (ks2 & 0x0F) == 0 || (ks2 & 0x0F) > DF_MAX_KEYS || (ks2 & 0xC0) == 0xC0 ||
        (ks2 & 0x10))
        return DF_PARAMETER_ERROR;
    kt = (ks2 & 0x80) ? DF_KEY_AES : (ks2 & 0x40) ? DF_KEY_3K3DES : DF_KEY_DES;
    if (find_app(st, aid))
        return DF_DUPLICATE_ERROR;
    for (int i = 0; i < DF_MAX_APPS; i++) {
        const struct df_app *o = &st->apps[i];
        if (!o->exists) {
            if (app == NULL)
                app = &st->apps[i];
            continue;
        }
        if ((ks2 & 0x20) && o->has_fid &&
            (o->fid == fid || (o->df_name_len == buf_remaining(&r) && buf_remaining(&r) &&
                               memcmp(o->df_name, r.p + r.off, buf_remaining(&r)) == 0)))
            return DF_DUPLICATE_ERROR;
    }
    if (app == NULL)
        return DF_COUNT_ERROR;
    if ((status = mem_alloc(st, app_cost(ks2 & 0x0F))) != DF_OK)
        return status;
    memset(app, 0, sizeof *app);
    app->exists = true;
    app->aid = aid;
    app->ks1 = ks1;
    app->nkeys = ks2 & 0x0F;
    app->keytype = (uint8_t)kt;
    if (ks2 & 0x20) {
        app->has_fid = true;
        app->fid = fid;
        app->df_name_len = buf_remaining(&r);
        if (buf_get_bytes(&r, app->df_name, app->df_name_len) != LEAL_OK)
            return DF_LENGTH_ERROR;
    }
    /* New keys take the default key set with SetConfiguration (zero ex works). */
    for (int i = 0; i < app->nkeys; i++) {
        memcpy(app->keys[i].k, st->default_key.k, df_key_len(kt));
        app->keys[i].version = kt == DF_KEY_AES ? st->default_key_version : 0;
    }
    return tx(x, NULL, 0, COMM_PLAIN);
}

static uint8_t cmd_delete_application(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_app *app;
    uint8_t status;
    uint32_t aid;
    bool selected;

    if (x->len != 4)
        return DF_LENGTH_ERROR;
    aid = load_le24(x->msg + 1);
    if ((status = rx_plain(x)) != DF_OK)
        return status;
    if (aid == 0)
        return DF_PARAMETER_ERROR;
    if ((app = find_app(st, aid)) == NULL)
        return DF_APPLICATION_NOT_FOUND;
    selected = st->sel == app;
    /* PICC master key at PICC level, or the application's own master key. */
    if (!authenticated(st) || st->auth_key != 0 || (st->sel != &st->picc && !selected))
        return authenticated(st) ? DF_PERMISSION_DENIED : DF_AUTHENTICATION_ERROR;
    for (int i = 0; i < DF_MAX_FILES; i++)
        if (app->files[i].exists)
            mem_release(st, file_cost(&app->files[i]));
    mem_release(st, app_cost(app->nkeys));
    df_app_clear(app);
    if (selected) {
        st->sel = &st->picc;
        st->ef = -1;
        drop_auth(st);
        x->no_mac = true;
        return DF_OK;
    }
    return tx(x, NULL, 0, COMM_PLAIN);
}

static uint8_t cmd_get_application_ids(struct cmd *x)
{
    struct df_state *st = x->st;
    uint8_t v[3 * DF_MAX_APPS], status;
    size_t n = 0;
    if (x->len != 1)
        return DF_LENGTH_ERROR;
    if (st->sel != &st->picc)
        return DF_PERMISSION_DENIED;
    if ((status = need_master(st, KS_FREE_LISTING)) != DF_OK)
        return status;
    for (int i = 0; i < DF_MAX_APPS; i++)
        if (st->apps[i].exists) {
            store_le24(v + n, st->apps[i].aid);
            n += 3;
        }
    return tx(x, v, n, COMM_PLAIN);
}

static uint8_t cmd_get_df_names(struct cmd *x)
{
    struct df_state *st = x->st;
    uint8_t v[DF_MAX_APPS * 21], status;
    size_t n = 0;
    int k = 0;
    if (x->len != 1)
        return DF_LENGTH_ERROR;
    if (st->sel != &st->picc)
        return DF_PERMISSION_DENIED;
    if ((status = need_master(st, KS_FREE_LISTING)) != DF_OK)
        return status;
    /* One application per frame: AID, ISO FID, DF name. */
    for (int i = 0; i < DF_MAX_APPS; i++) {
        const struct df_app *a = &st->apps[i];
        if (!a->exists || !a->has_fid)
            continue;
        store_le24(v + n, a->aid);
        store_le16(v + n + 3, a->fid);
        memcpy(v + n + 5, a->df_name, a->df_name_len);
        st->out_chunks[k++] = 5 + a->df_name_len;
        n += 5 + a->df_name_len;
    }
    status = tx(x, v, n, COMM_PLAIN);
    if (k > 0) {
        st->out_chunks[k - 1] += x->out_len - n; /* the MAC rides in the last frame */
        st->out_nchunks = k;
    }
    return status;
}

static uint8_t cmd_select_application(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_app *app;
    if (x->len != 4)
        return DF_LENGTH_ERROR;
    /* Selecting aborts the transaction and ends the authentication. */
    abort_tx(st);
    drop_auth(st);
    if ((app = find_app(st, load_le24(x->msg + 1))) == NULL)
        return DF_APPLICATION_NOT_FOUND;
    st->sel = app;
    st->ef = -1;
    return DF_OK;
}

/* --------------------------------------------------------------- files */

static struct df_file *get_file(struct df_state *st, uint8_t no, uint8_t *status)
{
    if (st->sel == &st->picc) {
        *status = DF_PERMISSION_DENIED;
        return NULL;
    }
    if (no >= DF_MAX_FILES) {
        *status = DF_PARAMETER_ERROR;
        return NULL;
    }
    if (!st->sel->files[no].exists) {
        *status = DF_FILE_NOT_FOUND;
        return NULL;
    }
    return &st->sel->files[no];
}

static uint8_t cmd_get_file_ids(struct cmd *x)
{
    struct df_state *st = x->st;
    uint8_t v[DF_MAX_FILES], status;
    size_t n = 0;
    if (x->len != 1)
        return DF_LENGTH_ERROR;
    if (st->sel == &st->picc)
        return DF_PERMISSION_DENIED;
    if ((status = need_master(st, KS_FREE_LISTING)) != DF_OK)
        return status;
    for (int i = 0; i < DF_MAX_FILES; i++)
        if (st->sel->files[i].exists)
            v[n++] = (uint8_t)i;
    return tx(x, v, n, COMM_PLAIN);
}

/* GetISOFileIDs (0x61): the 2-byte ISO FIDs (LE, as created) of the files
 * that have one, in file-number order; governed like GetFileIDs. */
static uint8_t cmd_get_iso_file_ids(struct cmd *x)
{
    struct df_state *st = x->st;
    uint8_t v[2 * DF_MAX_FILES], status;
    size_t n = 0;
    if (x->len != 1)
        return DF_LENGTH_ERROR;
    if (st->sel == &st->picc)
        return DF_PERMISSION_DENIED;
    if ((status = need_master(st, KS_FREE_LISTING)) != DF_OK)
        return status;
    for (int i = 0; i < DF_MAX_FILES; i++)
        if (st->sel->files[i].exists && st->sel->files[i].has_fid) {
            store_le16(v + n, st->sel->files[i].fid);
            n += 2;
        }
    return tx(x, v, n, COMM_PLAIN);
}

/* Limited-credit value GetFileSettings reports. EV1 reports the amount
 * LimitedCredit could give back whether LimitedCredit is enabled or not
 * (libfreefare's EV1 test asserts 97 on a file created with it off); EV2 and
 * EV3 report 0 for a file with LimitedCredit off (libfreefare issue #120: an
 * EV2 answers 0 where the test expects 97). */
static int32_t reported_lc(const struct df_state *st, const struct df_file *f)
{
    if (!f->lc_available)
        return 0;
    if (st->personality != DF_EV1 && !(f->lc_options & 0x01))
        return 0;
    return f->lc_value;
}

static uint8_t cmd_get_file_settings(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_file *f;
    uint8_t v[17], status;
    size_t n;
    if (x->len != 2)
        return DF_LENGTH_ERROR;
    if ((f = get_file(st, x->msg[1], &status)) == NULL)
        return status;
    if ((status = need_master(st, KS_FREE_LISTING)) != DF_OK)
        return status;
    v[0] = f->type;
    v[1] = f->comm;
    store_le16(v + 2, f->ar);
    switch (f->type) {
    case DF_FILE_STD:
    case DF_FILE_BACKUP:
        store_le24(v + 4, f->size);
        n = 7;
        break;
    case DF_FILE_VALUE:
        store_le32(v + 4, (uint32_t)f->lower);
        store_le32(v + 8, (uint32_t)f->upper);
        store_le32(v + 12, (uint32_t)reported_lc(st, f));
        v[16] = f->lc_options;
        n = 17;
        break;
    case DF_FILE_TMAC:
        v[4] = 0x02; /* TMKeyOption: AES */
        v[5] = f->tm_key_version;
        n = 6;
        break;
    default:
        store_le24(v + 4, f->rec_size);
        store_le24(v + 7, f->max_recs);
        store_le24(v + 10, f->count);
        n = 13;
        break;
    }
    return tx(x, v, n, COMM_PLAIN);
}

static uint8_t cmd_change_file_settings(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_file *f;
    uint8_t d[3], status;
    int car, mode;
    if (x->len < 2)
        return DF_LENGTH_ERROR;
    if ((f = get_file(st, x->msg[1], &status)) == NULL)
        return status;
    car = AR_CAR(f->ar);
    if ((status = access_mode(st, f, &car, 1, false, &mode)) != DF_OK)
        return status;
    /* Free change right: plain; otherwise always enciphered. */
    mode = (authenticated(st) && st->auth_key == car) ? COMM_ENC : COMM_PLAIN;
    if ((status = rx_data(x, mode, 1, 3, d)) != DF_OK)
        return status;
    if (d[0] != 0 && d[0] != 1 && d[0] != 3)
        return DF_PARAMETER_ERROR;
    f->comm = d[0];
    f->ar = load_le16(d + 1);
    return tx(x, NULL, 0, COMM_PLAIN);
}

/* The parameters of a Create*File command as sent. */
struct file_spec {
    uint8_t no, comm, lc;
    uint16_t ar, fid;
    uint32_t a, b; /* data: size; records: record size, record count */
    uint32_t lower, upper, value;
    bool has_fid;
};

/* The size, limits or records a new file gets from its command. */
static uint8_t file_shape(struct df_file *f, const struct file_spec *sp)
{
    if (f->type == DF_FILE_STD || f->type == DF_FILE_BACKUP) {
        if (sp->a == 0)
            return DF_PARAMETER_ERROR;
        f->size = sp->a;
    } else if (f->type == DF_FILE_VALUE) {
        if (sp->lc & ~0x03)
            return DF_PARAMETER_ERROR;
        if ((int32_t)sp->lower > (int32_t)sp->upper || (int32_t)sp->value < (int32_t)sp->lower ||
            (int32_t)sp->value > (int32_t)sp->upper)
            return DF_BOUNDARY_ERROR;
        f->lower = (int32_t)sp->lower;
        f->upper = (int32_t)sp->upper;
        f->value = f->work_value = (int32_t)sp->value;
        f->lc_options = sp->lc;
    } else {
        if (sp->a == 0 || sp->b == 0 || (f->type == DF_FILE_CYCLIC && sp->b < 2))
            return DF_PARAMETER_ERROR;
        f->rec_size = sp->a;
        f->max_recs = sp->b;
    }
    return DF_OK;
}

/* The new file's EEPROM: refused when the card's free memory is short. */
static uint8_t file_storage(struct df_state *st, struct df_file *f)
{
    uint8_t status;
    if (file_cost(f) > st->capacity - st->used)
        return DF_OUT_OF_EEPROM;
    if (f->type == DF_FILE_STD || f->type == DF_FILE_BACKUP) {
        if ((f->data = calloc(1, f->size)) == NULL ||
            (f->type == DF_FILE_BACKUP && (f->work = calloc(1, f->size)) == NULL)) {
            df_file_clear(f);
            return DF_OUT_OF_EEPROM;
        }
    } else if (f->type != DF_FILE_VALUE) {
        if ((f->recs = calloc(f->max_recs, f->rec_size)) == NULL ||
            (f->work_rec = calloc(1, f->rec_size)) == NULL) {
            df_file_clear(f);
            return DF_OUT_OF_EEPROM;
        }
    }
    if ((status = mem_alloc(st, file_cost(f))) != DF_OK)
        df_file_clear(f);
    return status;
}

/* Reads a Create*File command's parameters (its length already checked). */
static uint8_t file_spec_read(const struct cmd *x, bool data_file, bool value_file,
                              struct file_spec *sp)
{
    struct buf_reader r;
    buf_reader_init(&r, x->msg + 1, x->len - 1);
    if (buf_get_u8(&r, &sp->no) != LEAL_OK ||
        (sp->has_fid && buf_get_le16(&r, &sp->fid) != LEAL_OK) ||
        buf_get_u8(&r, &sp->comm) != LEAL_OK || buf_get_le16(&r, &sp->ar) != LEAL_OK)
        return DF_LENGTH_ERROR;
    if (value_file) {
        if (buf_get_le32(&r, &sp->lower) != LEAL_OK || buf_get_le32(&r, &sp->upper) != LEAL_OK ||
            buf_get_le32(&r, &sp->value) != LEAL_OK || buf_get_u8(&r, &sp->lc) != LEAL_OK)
            return DF_LENGTH_ERROR;
    } else if (buf_get_le24(&r, &sp->a) != LEAL_OK ||
               (!data_file && buf_get_le24(&r, &sp->b) != LEAL_OK)) {
        return DF_LENGTH_ERROR;
    }
    return DF_OK;
}

static uint8_t create_file(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_app *app = st->sel;
    struct file_spec sp = {0};
    uint8_t ins = x->msg[0], status;
    bool data_file = ins == 0xCD || ins == 0xCB, value_file = ins == 0xCC;
    size_t base = data_file ? 7 : value_file ? 17 : 10;
    struct df_file *f;

    if (app == &st->picc)
        return DF_PERMISSION_DENIED;
    if ((status = need_master(st, KS_FREE_CREATE)) != DF_OK)
        return status;
    if (x->len - 1 == base + 2 && !value_file)
        sp.has_fid = true;
    else if (x->len - 1 != base)
        return DF_LENGTH_ERROR;
    if ((status = file_spec_read(x, data_file, value_file, &sp)) != DF_OK ||
        (status = rx_plain(x)) != DF_OK)
        return status;
    if (sp.no >= DF_MAX_FILES || (sp.comm != 0 && sp.comm != 1 && sp.comm != 3) ||
        (sp.has_fid && !app->has_fid))
        return DF_PARAMETER_ERROR;
    if (app->files[sp.no].exists)
        return DF_DUPLICATE_ERROR;
    for (int i = 0; sp.has_fid && i < DF_MAX_FILES; i++)
        if (app->files[i].exists && app->files[i].has_fid && app->files[i].fid == sp.fid)
            return DF_DUPLICATE_ERROR;
    f = &app->files[sp.no];
    memset(f, 0, sizeof *f);
    f->type = ins == 0xCD   ? DF_FILE_STD
              : ins == 0xCB ? DF_FILE_BACKUP
              : ins == 0xCC ? DF_FILE_VALUE
              : ins == 0xC1 ? DF_FILE_LINEAR
                            : DF_FILE_CYCLIC;
    f->comm = sp.comm;
    f->ar = sp.ar;
    f->has_fid = sp.has_fid;
    f->fid = sp.fid;
    if ((status = file_shape(f, &sp)) != DF_OK || (status = file_storage(st, f)) != DF_OK)
        return status;
    f->exists = true;
    return tx(x, NULL, 0, COMM_PLAIN);
}

/* CreateTransactionMACFile (CE, EV2/EV3; MF2DL(H)x0 11.7.6): FileNo ||
 * FileOption (comm) || AccessRights || TMKeyOption (02: AES) in plain, then
 * TMKey || TMKeyVer enciphered, so only under the application master key's
 * session. At most one per application; RW must be F (nobody writes the
 * file). TMC starts at 0, TMV at zero bytes. */
static uint8_t cmd_create_tmac_file(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_app *app = st->sel;
    struct df_file *f;
    uint8_t k[17], status, no, comm;
    uint16_t ar;
    if (st->personality == DF_EV1)
        return DF_ILLEGAL_COMMAND;
    if (app == &st->picc)
        return DF_PERMISSION_DENIED;
    if (!authenticated(st))
        return DF_AUTHENTICATION_ERROR;
    if (st->auth_key != 0)
        return DF_PERMISSION_DENIED;
    if (x->len < 6)
        return DF_LENGTH_ERROR;
    no = x->msg[1];
    comm = x->msg[2];
    ar = load_le16(x->msg + 3);
    if (no >= DF_MAX_FILES || (comm != 0 && comm != 1 && comm != 3) || x->msg[5] != 0x02 ||
        app->keytype != DF_KEY_AES || AR_RW(ar) != KEY_NEVER)
        return DF_PARAMETER_ERROR;
    if (app->files[no].exists || tmac_file(app) != NULL)
        return DF_DUPLICATE_ERROR;
    if ((status = rx_data(x, COMM_ENC, 5, sizeof k, k)) != DF_OK)
        return status;
    f = &app->files[no];
    memset(f, 0, sizeof *f);
    f->type = DF_FILE_TMAC;
    f->comm = comm;
    f->ar = ar;
    f->size = DESFIRE_TMAC_ANSWER;
    if ((f->data = calloc(1, f->size)) == NULL) {
        status = DF_OUT_OF_EEPROM;
    } else if ((status = mem_alloc(st, file_cost(f))) == DF_OK) {
        memcpy(f->tm_key, k, 16);
        f->tm_key_version = k[16];
        f->exists = true;
    }
    leal_wipe(k, sizeof k);
    if (status != DF_OK) {
        df_file_clear(f);
        return status;
    }
    return tx(x, NULL, 0, COMM_PLAIN);
}

static uint8_t cmd_delete_file(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_file *f;
    uint8_t status;
    if (x->len != 2)
        return DF_LENGTH_ERROR;
    if ((f = get_file(st, x->msg[1], &status)) == NULL)
        return status;
    if ((status = need_master(st, KS_FREE_CREATE)) != DF_OK || (status = rx_plain(x)) != DF_OK)
        return status;
    mem_release(st, file_cost(f));
    df_file_clear(f);
    if (st->ef == x->msg[1])
        st->ef = -1;
    return tx(x, NULL, 0, COMM_PLAIN);
}

/* Mode of a data operation on file f (fills rights for the op). */
static uint8_t op_mode(const struct df_state *st, const struct df_file *f, uint8_t ins, int *mode)
{
    int rights[3];
    int n = 0;
    bool free_ok = false;
    uint16_t ar = f->ar;
    switch (ins) {
    case 0xBD: /* ReadData */
    case 0xBB: /* ReadRecords */
        rights[n++] = AR_R(ar);
        rights[n++] = AR_RW(ar);
        break;
    case 0x3D: /* WriteData */
    case 0x3B: /* WriteRecord */
    case 0x1C: /* LimitedCredit: W or RW (REFERENCE §3.3) */
        rights[n++] = AR_W(ar);
        rights[n++] = AR_RW(ar);
        break;
    case 0x6C: /* GetValue */
        free_ok = (f->lc_options & 0x02) != 0;
        /* fall through */
    case 0xDC: /* Debit: R, W or RW */
        rights[n++] = AR_R(ar);
        rights[n++] = AR_W(ar);
        rights[n++] = AR_RW(ar);
        break;
    case 0x0C: /* Credit: RW only */
    case 0xEB: /* ClearRecordFile */
        rights[n++] = AR_RW(ar);
        break;
    default:
        return DF_ILLEGAL_COMMAND;
    }
    return access_mode(st, f, rights, n, free_ok, mode);
}

/* Total length of a chained write command, known from its first frame. */
static size_t expected_len(struct df_state *st, const uint8_t *msg, size_t len)
{
    struct df_file *f;
    uint8_t status;
    int mode;
    if ((msg[0] != 0x3D && msg[0] != 0x3B) || len < 8)
        return len;
    if ((f = get_file(st, msg[1], &status)) == NULL || op_mode(st, f, msg[0], &mode) != DF_OK)
        return len;
    return 8 + wire_len(st, mode, load_le24(msg + 5)) +
           (ev2_session(st) && mode != COMM_PLAIN ? 8 : 0);
}

static uint8_t cmd_read_data(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_file *f;
    uint32_t off, n;
    uint8_t status;
    int mode;
    if (x->len != 8)
        return DF_LENGTH_ERROR;
    if ((f = get_file(st, x->msg[1], &status)) == NULL)
        return status;
    if (f->type != DF_FILE_STD && f->type != DF_FILE_BACKUP && f->type != DF_FILE_TMAC)
        return DF_PARAMETER_ERROR;
    if ((status = op_mode(st, f, 0xBD, &mode)) != DF_OK || (status = rx_plain(x)) != DF_OK)
        return status;
    off = load_le24(x->msg + 2);
    n = load_le24(x->msg + 5);
    if (off >= f->size || (n == 0 ? 0 : (uint64_t)off + n > f->size))
        return DF_BOUNDARY_ERROR;
    if (n == 0)
        n = f->size - off;
    {
        uint8_t p[6];
        tmi_range(p, off, n); /* Length 0 goes in as the bytes read */
        if ((status = tmi_update(x, p, 6, f->data + off, n)) != DF_OK)
            return status;
    }
    /* Inside a transaction the committed contents are read (REFERENCE §3.4). */
    return tx(x, f->data + off, n, mode);
}

static uint8_t cmd_write_data(struct cmd *x)
{
    struct df_state *st = x->st;
    struct df_file *f;
    uint32_t off, n;
    uint8_t status;
    int mode;
    if (x->len < 8)
        return DF_LENGTH_ERROR;
    if ((f = get_file(st, x->msg[1], &status)) == NULL)
        return status;
    if (f->type != DF_FILE_STD && f->type != DF_FILE_BACKUP)
        return DF_PARAMETER_ERROR;
    if ((status = op_mode(st, f, 0x3D, &mode)) != DF_OK)
        return status;
    off = load_le24(x->msg + 2);
    n = load_le24(x->msg + 5);
    if (n == 0 || (uint64_t)off + n > f->size)
        return DF_BOUNDARY_ERROR;
    {
        uint8_t *buf = malloc(n);
        if (buf == NULL)
            return DF_OUT_OF_EEPROM;
        if ((status = rx_data(x, mode, 7, n, buf)) == DF_OK &&
            (status = tmi_update(x, x->msg + 2, 6, buf, n)) == DF_OK) {
            if (f->type == DF_FILE_STD) {
                memcpy(f->data + off, buf, n);
            } else {
                memcpy(f->work + off, buf, n);
                f->dirty = true;
            }
        }
        free(buf);
    }
    if (status != DF_OK)
        return status;
    return tx(x, NULL, 0, COMM_PLAIN);
}

static uint8_t value_file(struct cmd *x, struct df_file **f, int *mode, size_t want_len)
{
    uint8_t status;
    if (x->len < 2)
        return DF_LENGTH_ERROR;
    if ((*f = get_file(x->st, x->msg[1], &status)) == NULL)
        return status;
    if ((*f)->type != DF_FILE_VALUE)
        return DF_PARAMETER_ERROR;
    if ((status = op_mode(x->st, *f, x->msg[0], mode)) != DF_OK)
        return status;
    (void)want_len;
    return DF_OK;
}

static uint8_t cmd_get_value(struct cmd *x)
{
    struct df_file *f;
    uint8_t v[4], status;
    int mode;
    if (x->len != 2)
        return DF_LENGTH_ERROR;
    if ((status = value_file(x, &f, &mode, 0)) != DF_OK || (status = rx_plain(x)) != DF_OK)
        return status;
    store_le32(v, (uint32_t)f->value);
    if ((status = tmi_update(x, v, 4, NULL, 0)) != DF_OK)
        return status;
    return tx(x, v, 4, mode);
}

static uint8_t cmd_value_op(struct cmd *x)
{
    struct df_file *f;
    uint8_t d[4], status, ins = x->msg[0];
    int32_t amount;
    int64_t nv;
    int mode;

    if ((status = value_file(x, &f, &mode, 4)) != DF_OK)
        return status;
    if (ins == 0x1C && !(f->lc_options & 0x01))
        return DF_PERMISSION_DENIED;
    if ((status = rx_data(x, mode, 1, 4, d)) != DF_OK)
        return status;
    amount = (int32_t)load_le32(d);
    if (amount < 0)
        return DF_PARAMETER_ERROR;
    nv = ins == 0xDC ? (int64_t)f->work_value - amount : (int64_t)f->work_value + amount;
    if (ins == 0x1C && (!f->lc_available || f->work_lc_done || amount > f->lc_value))
        return DF_BOUNDARY_ERROR;
    if (nv < f->lower || nv > f->upper)
        return DF_BOUNDARY_ERROR;
    if ((status = tmi_update(x, d, 4, NULL, 0)) != DF_OK)
        return status;
    f->work_value = (int32_t)nv;
    if (ins == 0xDC)
        f->work_debits += amount;
    if (ins == 0x1C)
        f->work_lc_done = true;
    f->dirty = true;
    return tx(x, NULL, 0, COMM_PLAIN);
}

static uint8_t record_file(struct cmd *x, struct df_file **f, int *mode)
{
    uint8_t status;
    if (x->len < 2)
        return DF_LENGTH_ERROR;
    if ((*f = get_file(x->st, x->msg[1], &status)) == NULL)
        return status;
    if ((*f)->type != DF_FILE_LINEAR && (*f)->type != DF_FILE_CYCLIC)
        return DF_PARAMETER_ERROR;
    return op_mode(x->st, *f, x->msg[0], mode);
}

static uint8_t cmd_write_record(struct cmd *x)
{
    struct df_file *f;
    uint32_t off, n;
    uint8_t status;
    int mode;
    if (x->len < 8)
        return DF_LENGTH_ERROR;
    if ((status = record_file(x, &f, &mode)) != DF_OK)
        return status;
    off = load_le24(x->msg + 2);
    n = load_le24(x->msg + 5);
    if (n == 0 || (uint64_t)off + n > f->rec_size)
        return DF_BOUNDARY_ERROR;
    /* A record file cleared in this transaction takes no record before the
     * commit: PERMISSION_DENIED, and the error aborts the transaction as any
     * error does (libfreefare's EV1 tests expect exactly that). */
    if (f->work_clear)
        return DF_PERMISSION_DENIED;
    /* A full linear file takes no more records (a cyclic one recycles). */
    if (f->type == DF_FILE_LINEAR && !f->work_new && !f->work_clear && f->count >= f->max_recs)
        return DF_BOUNDARY_ERROR;
    {
        uint8_t *buf = malloc(n);
        if (buf == NULL)
            return DF_OUT_OF_EEPROM;
        if ((status = rx_data(x, mode, 7, n, buf)) == DF_OK &&
            (status = tmi_update(x, x->msg + 2, 6, buf, n)) == DF_OK) {
            /* All writes of one transaction go to the same new record. */
            if (!f->work_new)
                memset(f->work_rec, 0, f->rec_size);
            f->work_new = true;
            memcpy(f->work_rec + off, buf, n);
            f->dirty = true;
        }
        free(buf);
    }
    if (status != DF_OK)
        return status;
    return tx(x, NULL, 0, COMM_PLAIN);
}

static uint8_t cmd_read_records(struct cmd *x)
{
    struct df_file *f;
    uint32_t off, num;
    uint8_t status;
    int mode;
    if (x->len != 8)
        return DF_LENGTH_ERROR;
    if ((status = record_file(x, &f, &mode)) != DF_OK || (status = rx_plain(x)) != DF_OK)
        return status;
    off = load_le24(x->msg + 2); /* 0 = newest */
    num = load_le24(x->msg + 5); /* 0 = all from off to the oldest */
    if (off >= f->count)
        return DF_BOUNDARY_ERROR;
    if (num == 0)
        num = f->count - off;
    if ((uint64_t)off + num > f->count)
        return DF_BOUNDARY_ERROR;
    {
        uint8_t p[6];
        tmi_range(p, off, num); /* RecCount 0 goes in as the records read */
        if ((status = tmi_update(x, p, 6, f->recs + (size_t)(f->count - off - num) * f->rec_size,
                                 (size_t)num * f->rec_size)) != DF_OK)
            return status;
    }
    /* Oldest first among those asked for. */
    return tx(x, f->recs + (size_t)(f->count - off - num) * f->rec_size, (size_t)num * f->rec_size,
              mode);
}

static uint8_t cmd_clear_record_file(struct cmd *x)
{
    struct df_file *f;
    uint8_t status;
    int mode;
    if (x->len != 2)
        return DF_LENGTH_ERROR;
    if ((status = record_file(x, &f, &mode)) != DF_OK || (status = rx_plain(x)) != DF_OK ||
        (status = tmi_update(x, NULL, 0, NULL, 0)) != DF_OK)
        return status;
    f->work_clear = true;
    f->work_new = false;
    f->dirty = true;
    return tx(x, NULL, 0, COMM_PLAIN);
}

/* CommitTransaction [Option]: EV2/EV3 take an option byte when the
 * application has a TransactionMAC file (bit 0: answer TMC || TMV, MACed);
 * the TMI, even of reads alone, is committed with the files. */
static uint8_t cmd_commit(struct cmd *x)
{
    struct df_state *st = x->st;
    const struct cardsim_tear *tear = cardsim_tear_now(x->card);
    struct df_file *tf = st->sel == &st->picc ? NULL : tmac_file(st->sel);
    bool want_tm = false;
    uint8_t status;
    if (x->len == 2 && st->personality != DF_EV1) {
        if (tf == NULL || (x->msg[1] & ~0x01) != 0)
            return DF_PARAMETER_ERROR;
        want_tm = (x->msg[1] & 0x01) != 0;
    } else if (x->len != 1) {
        return DF_LENGTH_ERROR;
    }
    if ((status = rx_plain(x)) != DF_OK)
        return status;
    if (!any_dirty(st) && st->tmi_len == 0)
        return DF_NO_CHANGES;
    if (tear) {
        /* Power lost inside the commit: step 0 before the commit record,
         * then the record (with the TransactionMAC file), then one step
         * per file. */
        x->torn = true;
        if (tear->commit_step == 0)
            return DF_OK;
        if ((status = tmac_commit(st)) != DF_OK)
            return status;
        st->commit_pending = true;
        apply_commit(st, (long)tear->commit_step - 1);
        return DF_OK;
    }
    if ((status = tmac_commit(st)) != DF_OK)
        return status;
    st->commit_pending = true;
    apply_commit(st, -1);
    if (want_tm)
        return tx(x, tf->data, DESFIRE_TMAC_ANSWER, COMM_MAC);
    return tx(x, NULL, 0, COMM_PLAIN);
}

static uint8_t cmd_abort(struct cmd *x)
{
    uint8_t status;
    if (x->len != 1)
        return DF_LENGTH_ERROR;
    if ((status = rx_plain(x)) != DF_OK)
        return status;
    if (!any_dirty(x->st))
        return DF_NO_CHANGES;
    abort_tx(x->st);
    return tx(x, NULL, 0, COMM_PLAIN);
}

/* Read_Sig (0x3C, EV2 and later): the originality signature NXP writes at
 * production, ECDSA on secp224r1 over the 7-byte UID, 56 bytes r || s, status
 * 90. Address 00 only. Asked outside a session (as leal's issuance does);
 * inside one an EV2 enciphers the answer with EV2 secure messaging, which this
 * card does not build for Read_Sig: it refuses instead. EV1 has no such command. */
static uint8_t cmd_read_sig(struct cmd *x)
{
    struct df_state *st = x->st;
    static const uint8_t none[DF_SIG_LEN];
    if (st->personality == DF_EV1)
        return DF_ILLEGAL_COMMAND;
    if (x->len != 2)
        return DF_LENGTH_ERROR;
    if (x->msg[1] != 0x00)
        return DF_PARAMETER_ERROR;
    if (authenticated(st))
        return DF_PERMISSION_DENIED;
    (void)tx(x, st->has_sig ? st->sig : none, DF_SIG_LEN, COMM_PLAIN);
    return DF_OK_EV2;
}

/* ------------------------------------------------------------ dispatch */

struct handler {
    uint8_t ins;
    uint8_t (*run)(struct cmd *x);
    bool rx_self; /* runs its own secure messaging; others are plain commands */
};

static const struct handler handlers[] = {
    {0x0A, cmd_authenticate, true},
    {0x1A, cmd_authenticate, true},
    {0xAA, cmd_authenticate, true},
    {0x71, cmd_authenticate, true},
    {0x77, cmd_authenticate, true},
    {0x60, cmd_get_version, false},
    {0x51, cmd_get_card_uid, false},
    {0x6E, cmd_get_free_memory, false},
    {0xFC, cmd_format_picc, false},
    {0x5C, cmd_set_configuration, true},
    {0x45, cmd_get_key_settings, false},
    {0x54, cmd_change_key_settings, true},
    {0x64, cmd_get_key_version, false},
    {0xC4, cmd_change_key, true},
    {0xCA, cmd_create_application, true},
    {0xDA, cmd_delete_application, true},
    {0x6A, cmd_get_application_ids, false},
    {0x6D, cmd_get_df_names, false},
    {0x5A, cmd_select_application, true},
    {0x6F, cmd_get_file_ids, false},
    {0x61, cmd_get_iso_file_ids, false},
    {0x3C, cmd_read_sig, false},
    {0xF5, cmd_get_file_settings, false},
    {0x5F, cmd_change_file_settings, true},
    {0xCD, create_file, true},
    {0xCB, create_file, true},
    {0xCC, create_file, true},
    {0xC1, create_file, true},
    {0xC0, create_file, true},
    {0xCE, cmd_create_tmac_file, true},
    {0xDF, cmd_delete_file, true},
    {0xBD, cmd_read_data, true},
    {0x3D, cmd_write_data, true},
    {0x6C, cmd_get_value, true},
    {0x0C, cmd_value_op, true},
    {0xDC, cmd_value_op, true},
    {0x1C, cmd_value_op, true},
    {0x3B, cmd_write_record, true},
    {0xBB, cmd_read_records, true},
    {0xEB, cmd_clear_record_file, true},
    {0xC7, cmd_commit, true},
    {0xA7, cmd_abort, true},
};

static bool is_error(uint8_t status)
{
    return status != DF_OK && status != DF_ADDITIONAL_FRAME && status != DF_NO_CHANGES &&
           status != DF_OK_EV2;
}

static bool is_auth(uint8_t ins)
{
    return ins == 0x0A || ins == 0x1A || ins == 0xAA || ins == 0x71 || ins == 0x77;
}

/* Whether a command of an EV2 session carries MACt: all do but
 * SelectApplication (it ends the session), Read_Sig (refused inside one) and
 * a file operation in plain mode. */
static uint8_t ev2_needs_mac(struct cmd *x, bool *mac)
{
    static const uint8_t file_ops[] = {0xBD, 0x3D, 0x6C, 0x0C, 0xDC, 0x1C, 0x3B, 0xBB, 0xEB};
    uint8_t ins = x->msg[0], status;
    struct df_file *f;
    int mode;
    *mac = ins != 0x5A && ins != 0x3C;
    if (memchr(file_ops, ins, sizeof file_ops) == NULL)
        return DF_OK;
    if (x->len < 2)
        return DF_LENGTH_ERROR;
    if ((f = get_file(x->st, x->msg[1], &status)) == NULL)
        return status;
    if ((status = op_mode(x->st, f, ins, &mode)) != DF_OK)
        return status;
    *mac = mode != COMM_PLAIN;
    return DF_OK;
}

/* EV2: checks a command's MACt (over INS || CmdCtr || TI || the rest) and
 * cuts it off, so the handler sees the command as EV1 framing would give it. */
static uint8_t ev2_unwrap(struct cmd *x)
{
    uint8_t mact[8], status;
    bool mac;
    if ((status = ev2_needs_mac(x, &mac)) != DF_OK || !mac)
        return status;
    if (x->len < 9 ||
        ev2_mact(x->st, x->msg[0], x->st->cmd_ctr, x->msg + 1, x->len - 9, mact) != LEAL_OK ||
        !leal_ct_equal(mact, x->msg + x->len - 8, 8))
        return DF_INTEGRITY_ERROR;
    x->len -= 8;
    x->ev2_mac = true;
    return DF_OK;
}

/* Runs a whole message; leaves the answer body in st->out (chunked by the caller). */
static uint8_t execute(struct cardsim *card, struct df_state *st, const uint8_t *msg, size_t len,
                       bool *torn)
{
    struct cmd x;
    uint8_t status = DF_ILLEGAL_COMMAND;
    const struct handler *h = NULL;

    memset(&x, 0, sizeof x);
    x.card = card;
    x.st = st;
    x.msg = msg;
    x.len = len;
    x.out_cap = MSG_MAX + 64;
    if ((x.out = malloc(x.out_cap)) == NULL)
        return DF_COMMAND_ABORTED;
    st->out_nchunks = 0;
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++)
        if (handlers[i].ins == msg[0])
            h = &handlers[i];
    bool ev2 = h != NULL && ev2_session(st) && !is_auth(msg[0]);
    if (h) {
        status = ev2 ? ev2_unwrap(&x) : DF_OK;
        if (status == DF_OK && !h->rx_self)
            status = rx_plain(&x);
        if (status == DF_OK)
            status = h->run(&x);
    }
    if (status == DF_OK && !x.responded && !x.no_mac && !x.torn)
        status = tx(&x, NULL, 0, COMM_PLAIN);
    if (ev2 && status == DF_OK && ev2_session(st))
        st->cmd_ctr++; /* after the answer's MACt, which covers CmdCtr + 1 */
    *torn = x.torn;
    if (is_error(status)) {
        /* Any error ends the authentication and the transaction (REFERENCE §3.4). */
        abort_tx(st);
        drop_auth(st);
        x.out_len = 0;
        st->out_nchunks = 0;
    }
    if (status != DF_OK && status != DF_ADDITIONAL_FRAME && status != DF_OK_EV2)
        x.out_len = 0;
    st->out = x.out;
    st->out_len = x.out_len;
    st->out_off = 0;
    st->out_chunk_i = 0;
    return status;
}

/* Next frame of the pending answer. */
static uint8_t next_chunk(struct df_state *st, uint8_t final_status, uint8_t *body,
                          size_t *body_len)
{
    size_t left = st->out_len - st->out_off, n;
    bool last;
    if (st->out_nchunks > 0) {
        n = st->out_chunks[st->out_chunk_i++];
        if (n > left)
            n = left;
        last = st->out_chunk_i >= st->out_nchunks;
        if (last)
            n = left;
    } else {
        n = left > FRAME ? FRAME : left;
        last = n == left;
    }
    memcpy(body, st->out + st->out_off, n);
    st->out_off += n;
    *body_len = n;
    if (last) {
        free(st->out);
        st->out = NULL;
        st->out_len = st->out_off = 0;
        st->out_nchunks = 0;
        return final_status;
    }
    return DF_ADDITIONAL_FRAME;
}

/* One native frame in (INS and data) and its answer out (body at most 59 +
 * room, and whether the card tore itself). */
struct frame_io {
    uint8_t ins;
    const uint8_t *data;
    size_t dlen;
    uint8_t *body;
    size_t body_len;
    bool torn;
};

static uint8_t frame_error(struct df_state *st, uint8_t status)
{
    abort_tx(st);
    drop_auth(st);
    return status;
}

/* The answer to a command that ran: authentication's first answer, or the
 * first chunk of its answer. */
static uint8_t frame_answer(struct df_state *st, uint8_t status, struct frame_io *io)
{
    if (io->torn)
        return status;
    if (status == DF_ADDITIONAL_FRAME) {
        /* Authentication's first answer. */
        st->auth_step = 1;
        memcpy(io->body, st->out, st->out_len);
        io->body_len = st->out_len;
        free(st->out);
        st->out = NULL;
        st->out_len = 0;
        return status;
    }
    st->out_status = status;
    return next_chunk(st, status, io->body, &io->body_len);
}

/* AF with more of a command's data; the command runs once it is whole. */
static uint8_t frame_more_data(struct cardsim *card, struct df_state *st, struct frame_io *io)
{
    uint8_t *msg, status;
    size_t len;
    if (st->in_len + io->dlen > st->in_expected) {
        /* More data than the command announced. */
        reset_chain(st);
        return frame_error(st, DF_LENGTH_ERROR);
    }
    memcpy(st->in + st->in_len, io->data, io->dlen);
    st->in_len += io->dlen;
    if (st->in_len < st->in_expected)
        return DF_ADDITIONAL_FRAME;
    msg = st->in;
    len = st->in_len;
    st->in = NULL;
    st->in_len = st->in_expected = 0;
    status = execute(card, st, msg, len, &io->torn);
    free(msg);
    return frame_answer(st, status, io);
}

/* AF answering authentication's challenge. */
static uint8_t frame_auth_second(struct cardsim *card, struct df_state *st, struct frame_io *io)
{
    struct cmd x;
    uint8_t status;
    memset(&x, 0, sizeof x);
    x.card = card;
    x.st = st;
    x.out = io->body;
    x.out_cap = FRAME;
    status = auth_second(&x, io->data, io->dlen);
    io->body_len = x.out_len;
    return is_error(status) ? frame_error(st, status) : status;
}

/* A new command (ending whatever exchange was pending): it runs, or its
 * first frame waits for the rest. */
static uint8_t frame_command(struct cardsim *card, struct df_state *st, struct frame_io *io)
{
    uint8_t msg[1 + FRAME];
    size_t exp;
    reset_chain(st);
    msg[0] = io->ins;
    if (io->dlen)
        memcpy(msg + 1, io->data, io->dlen);
    exp = expected_len(st, msg, 1 + io->dlen);
    if (exp > 1 + io->dlen) {
        if (exp > MSG_MAX + 16 || (st->in = malloc(exp)) == NULL)
            return frame_error(st, DF_LENGTH_ERROR);
        memcpy(st->in, msg, 1 + io->dlen);
        st->in_len = 1 + io->dlen;
        st->in_expected = exp;
        return DF_ADDITIONAL_FRAME;
    }
    return frame_answer(st, execute(card, st, msg, 1 + io->dlen, &io->torn), io);
}

static uint8_t frame(struct cardsim *card, struct df_state *st, struct frame_io *io)
{
    io->body_len = 0;
    io->torn = false;
    if (io->ins == 0xAF && st->out) {
        if (io->dlen != 0) {
            reset_chain(st);
            return frame_error(st, DF_LENGTH_ERROR);
        }
        return next_chunk(st, st->out_status, io->body, &io->body_len);
    }
    if (io->dlen > FRAME) {
        reset_chain(st);
        return frame_error(st, DF_LENGTH_ERROR);
    }
    if (io->ins == 0xAF && st->in)
        return frame_more_data(card, st, io);
    if (io->ins == 0xAF && st->auth_step == 1)
        return frame_auth_second(card, st, io);
    if (io->ins == 0xAF) {
        reset_chain(st);
        return frame_error(st, DF_ILLEGAL_COMMAND);
    }
    return frame_command(card, st, io);
}

/* ------------------------------------------------------ ISO 7816-4 */

/*
 * ISO/IEC 7816-4 commands (CLA 00) on the card's ISO view: the PICC level is
 * the MF (FID 3F00, DF name D2760000850100), an application created with ISO
 * FIDs is a DF (its FID and DF name), and its files created with an ISO FID
 * are EFs. Plain transfer only: a file whose access needs a key answers 6982
 * unless the session's key has the right and the file is plain.
 *   SELECT FILE   00 A4 P1 P2 Lc data [Le]: P1 00 = MF, DF or EF by FID (MF,
 *                 then the DFs, then the EFs of the current DF), 02 = EF of
 *                 the current DF by FID, 04 = DF by name; P2 00 or 0C, no
 *                 data in the answer. Selecting a DF is SelectApplication
 *                 (transaction aborted, authentication ended, no current EF).
 *   READ BINARY   00 B0 P1 P2 Le: P1 bit 8 set = short EF identifier in bits
 *                 5..1 (the DESFire file number, which becomes the current
 *                 EF) and offset P2; otherwise offset P1P2 in the current EF.
 *                 Le 00 = to the end of the file (at most 256 bytes).
 *   UPDATE BINARY 00 D6 P1 P2 Lc data: addressed as READ BINARY; a backup
 *                 file's write takes effect at CommitTransaction, as WriteData.
 *   READ RECORD   00 B2 P1 P2 Le: record P1 (1 = newest), P2 = SFI << 3 (0 =
 *                 current EF) | 4 (record P1) or 5 (records P1 to the oldest).
 * Status words (ISO/IEC 7816-4): 9000; 6282 fewer bytes than Le before the
 * end; 6700 wrong length; 6981 command incompatible with the file structure;
 * 6982 security status not satisfied; 6986 no current EF; 6A82 file not
 * found; 6A83 record not found; 6A86 wrong P1-P2; 6B00 offset outside the EF;
 * 6D00 other INS. Reads see committed contents (MF3ICDx21_41_81 short data sheet
 * section 8.4; libfreefare's EV1 transaction tests).
 */
#define SW(a, b) ((uint16_t)((a) << 8 | (b)))
#define SW_OK SW(0x90, 0x00)
#define SW_EOF SW(0x62, 0x82)
#define SW_LENGTH SW(0x67, 0x00)
#define SW_STRUCTURE SW(0x69, 0x81)
#define SW_SECURITY SW(0x69, 0x82)
#define SW_NO_EF SW(0x69, 0x86)
#define SW_NOT_FOUND SW(0x6A, 0x82)
#define SW_NO_RECORD SW(0x6A, 0x83)
#define SW_P1P2 SW(0x6A, 0x86)
#define SW_OFFSET SW(0x6B, 0x00)
#define SW_INS SW(0x6D, 0x00)

#define ISO_MF_FID 0x3F00

/* The ISO command's parts: Lc data and Le (case 1..4, short APDUs). */
struct iso_apdu {
    uint8_t ins, p1, p2;
    const uint8_t *data;
    size_t lc;
    bool has_le;
    size_t le; /* 1..256 */
};

static bool iso_parse(const uint8_t *cmd, size_t len, struct iso_apdu *a)
{
    memset(a, 0, sizeof *a);
    if (len < 4)
        return false;
    a->ins = cmd[1];
    a->p1 = cmd[2];
    a->p2 = cmd[3];
    if (len == 4)
        return true;
    if (len == 5) {
        a->has_le = true;
        a->le = cmd[4] ? cmd[4] : 256;
        return true;
    }
    if (cmd[4] == 0 || len < 5u + cmd[4] || len > 6u + cmd[4])
        return false;
    a->lc = cmd[4];
    a->data = cmd + 5;
    if (len == 6u + cmd[4]) {
        a->has_le = true;
        a->le = cmd[len - 1] ? cmd[len - 1] : 256;
    }
    return true;
}

static void select_df(struct df_state *st, struct df_app *app)
{
    abort_tx(st);
    drop_auth(st);
    reset_chain(st);
    st->sel = app;
    st->ef = -1;
}

static int ef_by_fid(const struct df_app *app, uint16_t fid)
{
    for (int i = 0; i < DF_MAX_FILES; i++)
        if (app->files[i].exists && app->files[i].has_fid && app->files[i].fid == fid)
            return i;
    return -1;
}

static uint16_t iso_select(struct df_state *st, const struct iso_apdu *a)
{
    uint16_t fid;
    int ef;
    if ((a->p1 != 0x00 && a->p1 != 0x02 && a->p1 != 0x04) || (a->p2 & ~0x0C) != 0)
        return SW_P1P2;
    if (a->lc == 0)
        return SW_LENGTH;
    if (a->p1 == 0x04) {
        if (a->lc == sizeof picc_df_name && memcmp(a->data, picc_df_name, a->lc) == 0) {
            select_df(st, &st->picc);
            return SW_OK;
        }
        for (int i = 0; i < DF_MAX_APPS; i++) {
            struct df_app *app = &st->apps[i];
            if (app->exists && app->df_name_len == a->lc &&
                memcmp(app->df_name, a->data, a->lc) == 0) {
                select_df(st, app);
                return SW_OK;
            }
        }
        return SW_NOT_FOUND;
    }
    if (a->lc != 2)
        return SW_LENGTH;
    fid = load_be16(a->data); /* ISO order; DESFire's own commands carry it LE */
    if (a->p1 == 0x00) {
        if (fid == ISO_MF_FID) {
            select_df(st, &st->picc);
            return SW_OK;
        }
        for (int i = 0; i < DF_MAX_APPS; i++)
            if (st->apps[i].exists && st->apps[i].has_fid && st->apps[i].fid == fid) {
                select_df(st, &st->apps[i]);
                return SW_OK;
            }
    }
    if ((ef = ef_by_fid(st->sel, fid)) < 0)
        return SW_NOT_FOUND;
    st->ef = ef;
    return SW_OK;
}

/* The EF a READ/UPDATE BINARY addresses, and its offset. */
static uint16_t iso_binary_target(struct df_state *st, const struct iso_apdu *a, struct df_file **f,
                                  uint32_t *off)
{
    int no;
    if (a->p1 & 0x80) {
        if (a->p1 & 0x60)
            return SW_P1P2;
        no = a->p1 & 0x1F;
        if (st->sel == &st->picc || !st->sel->files[no].exists || !st->sel->files[no].has_fid)
            return SW_NOT_FOUND;
        *off = a->p2;
    } else {
        if (st->ef < 0)
            return SW_NO_EF;
        no = st->ef;
        *off = (uint32_t)a->p1 << 8 | a->p2;
    }
    *f = &st->sel->files[no];
    if ((*f)->type != DF_FILE_STD && (*f)->type != DF_FILE_BACKUP)
        return SW_STRUCTURE;
    st->ef = no; /* a file named by its short identifier becomes the current EF */
    return SW_OK;
}

/* Access for a plain ISO transfer of operation ins (native code) on f. */
static uint16_t iso_access(const struct df_state *st, const struct df_file *f, uint8_t ins)
{
    int mode;
    if (op_mode(st, f, ins, &mode) != DF_OK || mode != COMM_PLAIN)
        return SW_SECURITY;
    return SW_OK;
}

static uint16_t iso_read_binary(struct df_state *st, const struct iso_apdu *a, uint8_t *resp,
                                size_t cap, size_t *n)
{
    struct df_file *f = NULL;
    uint32_t off = 0;
    size_t want;
    uint16_t sw;
    if (!a->has_le || a->lc != 0)
        return SW_LENGTH;
    if ((sw = iso_binary_target(st, a, &f, &off)) != SW_OK ||
        (sw = iso_access(st, f, 0xBD)) != SW_OK)
        return sw;
    if (off >= f->size)
        return SW_OFFSET;
    want = a->le;
    sw = SW_OK;
    if (want > f->size - off) {
        want = f->size - off;
        /* Le 00 asks for the rest of the file: no warning for a shorter rest. */
        if (a->le != 256)
            sw = SW_EOF;
    }
    if (want + 2 > cap)
        return SW_LENGTH;
    memcpy(resp, f->data + off, want);
    *n = want;
    return sw;
}

static uint16_t iso_update_binary(struct df_state *st, const struct iso_apdu *a)
{
    struct df_file *f = NULL;
    uint32_t off = 0;
    uint16_t sw;
    if (a->lc == 0 || a->has_le)
        return SW_LENGTH;
    if ((sw = iso_binary_target(st, a, &f, &off)) != SW_OK ||
        (sw = iso_access(st, f, 0x3D)) != SW_OK)
        return sw;
    if ((uint64_t)off + a->lc > f->size)
        return SW_OFFSET;
    if (f->type == DF_FILE_STD) {
        memcpy(f->data + off, a->data, a->lc);
    } else {
        memcpy(f->work + off, a->data, a->lc);
        f->dirty = true;
    }
    return SW_OK;
}

static uint16_t iso_read_record(struct df_state *st, const struct iso_apdu *a, uint8_t *resp,
                                size_t cap, size_t *n)
{
    struct df_file *f;
    uint8_t sfi = a->p2 >> 3, how = a->p2 & 0x07;
    uint32_t first, num;
    size_t total;
    uint16_t sw;
    int no;
    if (!a->has_le || a->lc != 0)
        return SW_LENGTH;
    if ((how != 0x04 && how != 0x05) || a->p1 == 0 || sfi == 0x1F)
        return SW_P1P2;
    if (sfi != 0) {
        if (st->sel == &st->picc || !st->sel->files[sfi].exists || !st->sel->files[sfi].has_fid)
            return SW_NOT_FOUND;
        no = sfi;
    } else if ((no = st->ef) < 0) {
        return SW_NO_EF;
    }
    f = &st->sel->files[no];
    if (f->type != DF_FILE_LINEAR && f->type != DF_FILE_CYCLIC)
        return SW_STRUCTURE;
    st->ef = no;
    if ((sw = iso_access(st, f, 0xBB)) != SW_OK)
        return sw;
    if (a->p1 > f->count)
        return SW_NO_RECORD;
    first = (uint32_t)a->p1 - 1; /* 0 = newest */
    num = how == 0x04 ? 1 : f->count - first;
    total = (size_t)num * f->rec_size;
    sw = SW_OK;
    if (a->le != 256 && a->le < total) {
        /* Le shorter than the record(s): the first Le bytes, as ISO allows. */
        total = a->le;
    } else if (a->le != 256 && a->le > total) {
        sw = SW_EOF;
    }
    if (total + 2 > cap)
        return SW_LENGTH;
    /* Records in the order of their numbers: newest first. */
    for (size_t k = 0, got = 0; got < total; k++) {
        const uint8_t *rec = f->recs + (size_t)(f->count - 1 - first - k) * f->rec_size;
        size_t take = total - got < f->rec_size ? total - got : f->rec_size;
        memcpy(resp + got, rec, take);
        got += take;
    }
    *n = total;
    return sw;
}

static void iso_command(struct df_state *st, const uint8_t *cmd, size_t len, uint8_t *resp,
                        size_t cap, size_t *resp_len)
{
    struct iso_apdu a;
    size_t n = 0;
    uint16_t sw;
    if (!iso_parse(cmd, len, &a)) {
        sw = SW_LENGTH;
    } else {
        switch (a.ins) {
        case 0xA4:
            sw = iso_select(st, &a);
            break;
        case 0xB0:
            sw = iso_read_binary(st, &a, resp, cap, &n);
            break;
        case 0xD6:
            sw = iso_update_binary(st, &a);
            break;
        case 0xB2:
            sw = iso_read_record(st, &a, resp, cap, &n);
            break;
        default:
            sw = SW_INS;
            break;
        }
    }
    if (sw != SW_OK && sw != SW_EOF)
        n = 0;
    store_be16(resp + n, sw);
    *resp_len = n + 2;
}

static leal_err df_transceive(struct cardsim *card, const uint8_t *cmd, size_t len, uint8_t *resp,
                              size_t cap, size_t *resp_len)
{
    struct df_state *st = cardsim_engine_state(card);
    uint8_t body[FRAME + 32], status, sw[2] = {0x67, 0x00};
    struct frame_io io = {.body = body};

    *resp_len = 0;
    if (cap < FRAME + 3)
        return LEAL_E_NO_SPACE;
    if (len >= 1 && cmd[0] == 0x00) {
        iso_command(st, cmd, len, resp, cap, resp_len);
        return LEAL_OK;
    }
    if (len >= 1 && cmd[0] == 0x90) {
        /* Wrapped: 90 INS 00 00 [Lc data] [Le]. */
        size_t dl = 0;
        if (len < 4) {
            memcpy(resp, sw, 2);
            *resp_len = 2;
            return LEAL_OK;
        }
        if (cmd[2] != 0 || cmd[3] != 0) {
            resp[0] = 0x6A;
            resp[1] = 0x86;
            *resp_len = 2;
            return LEAL_OK;
        }
        if (len > 5) {
            dl = cmd[4];
            if (len != 5 + dl && len != 6 + dl) {
                memcpy(resp, sw, 2);
                *resp_len = 2;
                return LEAL_OK;
            }
        }
        io.ins = cmd[1];
        io.data = cmd + 5;
        io.dlen = dl;
        status = frame(card, st, &io);
        if (io.torn)
            return LEAL_E_CARD_REMOVED;
        memcpy(resp, body, io.body_len);
        resp[io.body_len] = 0x91;
        resp[io.body_len + 1] = status;
        *resp_len = io.body_len + 2;
        return LEAL_OK;
    }
    if (len == 0) {
        resp[0] = DF_LENGTH_ERROR;
        *resp_len = 1;
        return LEAL_OK;
    }
    io.ins = cmd[0];
    io.data = cmd + 1;
    io.dlen = len - 1;
    status = frame(card, st, &io);
    if (io.torn)
        return LEAL_E_CARD_REMOVED;
    resp[0] = status;
    memcpy(resp + 1, body, io.body_len);
    *resp_len = io.body_len + 1;
    return LEAL_OK;
}

/* ------------------------------------------------------------- engine */

static const char *const df_types[] = {
    "desfire-ev1", "desfire-ev1-2k", "desfire-ev1-4k", "desfire-ev1-8k",
    "desfire-ev2", "desfire-ev2-2k", "desfire-ev2-4k", "desfire-ev2-8k",
    "desfire-ev3", "desfire-ev3-2k", "desfire-ev3-4k", "desfire-ev3-8k",
    NULL,
};

/* Personality and size from the type name; 4K when no size is given. Free
 * memory of a blank card as EV1 cards report it (2336, 4864, 7936 bytes):
 * libfreefare's NDEF formatter creates a 4096-byte file on a "4K" card and a
 * 7680-byte one on an "8K". */
static void type_params(struct df_state *st, const char *type)
{
    st->personality = strncmp(type, "desfire-ev3", 11) == 0   ? DF_EV3
                      : strncmp(type, "desfire-ev2", 11) == 0 ? DF_EV2
                                                              : DF_EV1;
    if (strstr(type, "-2k")) {
        st->storage = 0x16;
        st->capacity = 2336;
    } else if (strstr(type, "-8k")) {
        st->storage = 0x1A;
        st->capacity = 7936;
    } else {
        st->storage = 0x18;
        st->capacity = 4864;
    }
}

static void init_ram(struct df_state *st)
{
    st->sel = &st->picc;
    st->ef = -1;
    st->auth_key = -1;
    st->auth_mode = DF_AUTH_NONE;
}

static void df_free(void *state)
{
    struct df_state *st = state;
    if (st == NULL)
        return;
    reset_chain(st);
    df_app_clear(&st->picc);
    /* Deleted and formatted applications were cleared then; the wipe of the
     * whole state below covers every key. */
    for (int i = 0; i < DF_MAX_APPS; i++)
        if (st->apps[i].exists)
            df_app_clear(&st->apps[i]);
    leal_wipe(st, sizeof *st);
    free(st);
}

static leal_err df_create(struct cardsim *card, const char *type, const uint8_t *uid,
                          size_t uid_len, bool random_uid, void **state)
{
    struct df_state *st = calloc(1, sizeof *st);
    leal_err err;
    if (st == NULL)
        return LEAL_E_NO_MEMORY;
    type_params(st, type);
    if (uid) {
        if (uid_len != 7) {
            err = LEAL_E_ARG;
            goto fail;
        }
        memcpy(st->uid, uid, 7);
    } else {
        if ((err = cardsim_random(card, st->uid + 1, 6)) != LEAL_OK)
            goto fail;
        st->uid[0] = 0x04; /* NXP */
    }
    {
        /* A fixed production batch, so that a card's GetVersion depends on its UID only. */
        static const uint8_t batch[5] = {0xBA, 0x44, 0x9F, 0x50, 0x10};
        memcpy(st->batch, batch, 5);
    }
    st->week = 0x01;
    st->year = 0x26;
    st->random_uid = random_uid;
    st->picc.exists = true;
    st->picc.ks1 = DF_FACTORY_PICC_KS1;
    st->picc.nkeys = 1;
    st->picc.keytype = DF_KEY_DES;
    init_ram(st);
    *state = st;
    return LEAL_OK;
fail:
    df_free(st);
    return err;
}

static leal_err df_from_json(struct cardsim *card, const char *type, json_t *root, void **state)
{
    struct df_state *st = calloc(1, sizeof *st);
    uint32_t cap;
    leal_err err;
    (void)card;
    if (st == NULL)
        return LEAL_E_NO_MEMORY;
    type_params(st, type);
    cap = st->capacity;
    if ((err = df_state_from_json(st, root)) != LEAL_OK) {
        df_free(st);
        return err;
    }
    if (st->capacity != cap) {
        df_free(st);
        return LEAL_E_FORMAT;
    }
    init_ram(st);
    *state = st;
    return LEAL_OK;
}

static leal_err df_activate(struct cardsim *card, void *state, struct cardsim_ident *id)
{
    struct df_state *st = state;
    leal_err err;
    /* Power-up: finish an interrupted commit, forget RAM. */
    if (st->commit_pending)
        apply_commit(st, -1);
    power_off(st);
    if (st->random_uid) {
        /* 4-byte random ID starting 08 at anticollision (REFERENCE §6), drawn
         * at power-up: a reselection in the same field shows the same one. */
        if (cardsim_powered_up(card) || st->rid[0] != 0x08) {
            st->rid[0] = 0x08;
            if ((err = cardsim_random(card, st->rid + 1, 3)) != LEAL_OK)
                return err;
        }
        memcpy(id->uid, st->rid, 4);
        id->uid_len = 4;
        id->atqa[0] = 0x04;
    } else {
        memcpy(id->uid, st->uid, 7);
        id->uid_len = 7;
        id->atqa[0] = 0x44;
    }
    id->atqa[1] = 0x03;
    id->sak = 0x20;
    /* ATS of DESFire EV1/EV3: TL 06, T0 75, TA 77, TB 81, TC 02, historical 80. */
    {
        static const uint8_t ats[] = {0x06, 0x75, 0x77, 0x81, 0x02, 0x80};
        memcpy(id->ats, ats, sizeof ats);
        id->ats_len = sizeof ats;
    }
    return LEAL_OK;
}

static void df_deactivate(void *state)
{
    power_off(state);
}

static leal_err df_to_json_state(const void *state, json_t *root)
{
    /* Saving is what survives power loss: finish a commit in progress on a copy
     * would need deep copies; instead the pending commit is applied first,
     * which is what the card does at its next power-up anyway. */
    struct df_state *st = (struct df_state *)(uintptr_t)state;
    if (st->commit_pending)
        apply_commit(st, -1);
    return df_to_json(state, root);
}

const struct cardsim_engine cardsim_desfire_engine = {
    .kind = CARDSIM_DESFIRE,
    .types = df_types,
    .create = df_create,
    .from_json = df_from_json,
    .to_json = df_to_json_state,
    .activate = df_activate,
    .deactivate = df_deactivate,
    .transceive = df_transceive,
    .free = df_free,
};
