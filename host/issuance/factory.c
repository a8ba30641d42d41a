/* factory.c - factory DES PICC key -> diversified AES PICC key (factory.h).
 * Every frame goes through the driver's framing (desfire_send_frame): the
 * public functions run the DES session over a struct desfire of their own
 * that never holds an AES session, and add its round trips to the caller's. */
#include "factory.h"

#include <string.h>

#include "cardlayout/desfire/desfire.h"
#include "keys/base/buf.h"
#include "keys/base/bytes.h"
#include "keys/base/ct.h"
#include "keys/hosted/des.h"

static void rotate_left(const uint8_t in[8], uint8_t out[8])
{
    memmove(out, in + 1, 7);
    out[7] = in[0];
}

/* ISO authentication 1A 00 with the factory DES key; the single-DES session
 * key A0..3 || B0..3 into session (a DES key with equal halves gives one). */
static leal_err factory_auth(struct desfire *d, uint8_t session[8])
{
    static const uint8_t factory_key[8] = {0}, key_no = 0x00;
    uint8_t ek_rndb[8], rndb[8], rnda[8], token[16], iv[8], ans[16], rot[8];
    struct desfire_frame f = {0x1A, &key_no, 1, ek_rndb, sizeof ek_rndb, 0, 0};
    leal_err err;

    /* 1A 00 -> AF ek(RndB), CBC from a zero IV. */
    if ((err = desfire_send_frame(d, &f)) != LEAL_OK)
        goto out;
    if (f.status != 0xAF) {
        err = f.status == 0xAE || f.status == 0x40 ? LEAL_E_CARD_AUTHENTICATION
                                                   : desfire_status_err(f.status);
        goto out;
    }
    if (f.ans_len != 8) {
        err = LEAL_E_PROTOCOL;
        goto out;
    }
    memset(iv, 0, sizeof iv);
    if ((err = des_cbc_decrypt(factory_key, 8, iv, ek_rndb, rndb, 8)) != LEAL_OK ||
        (err = d->cp->random(rnda, 8)) != LEAL_OK)
        goto out;
    /* AF ek(RndA || RndB'), the CBC chain going on from ek(RndB). */
    memcpy(token, rnda, 8);
    rotate_left(rndb, token + 8);
    memcpy(iv, ek_rndb, 8);
    f = (struct desfire_frame){0xAF, token, 16, ans, sizeof ans, 0, 0};
    if ((err = des_cbc_encrypt(factory_key, 8, iv, token, token, 16)) != LEAL_OK ||
        (err = desfire_send_frame(d, &f)) != LEAL_OK)
        goto out;
    if (f.status != 0x00) {
        err = f.status == 0xAE ? LEAL_E_CARD_AUTHENTICATION : desfire_status_err(f.status);
        goto out;
    }
    if (f.ans_len != 8 || (err = des_cbc_decrypt(factory_key, 8, iv, ans, ans, 8)) != LEAL_OK) {
        err = err ? err : LEAL_E_PROTOCOL;
        goto out;
    }
    rotate_left(rnda, rot);
    if (!leal_ct_equal(ans, rot, 8)) {
        err = LEAL_E_CARD_AUTHENTICATION; /* the card does not know the factory key */
        goto out;
    }
    memcpy(session, rnda, 4);
    memcpy(session + 4, rndb, 4);
out:
    leal_wipe(rndb, sizeof rndb);
    leal_wipe(rnda, sizeof rnda);
    leal_wipe(token, sizeof token);
    return err;
}

/* Doubling in GF(2^64) for CMAC subkeys (SP 800-38B, Rb = 0x1B). */
static void dbl64(const uint8_t in[8], uint8_t out[8])
{
    uint8_t carry = (uint8_t)(in[0] >> 7);
    for (int i = 0; i < 7; i++)
        out[i] = (uint8_t)(in[i] << 1 | in[i + 1] >> 7);
    out[7] = (uint8_t)(in[7] << 1);
    if (carry)
        out[7] ^= 0x1B;
}

/* DES-CMAC (SP 800-38B, 64-bit block) of msg whose CBC starts from iv, as
 * EV1 chains its MACs under an ISO session: iv becomes the CMAC. */
static leal_err des_cmac(const uint8_t session[8], uint8_t iv[8], const uint8_t *msg, size_t len)
{
    uint8_t l[8] = {0}, k1[8], k2[8], buf[48];
    size_t n = len == 0 ? 8 : (len + 7) / 8 * 8;
    leal_err err;
    if (n > sizeof buf)
        return LEAL_E_ARG;
    if ((err = des_ecb_encrypt(session, 8, l, l)) != LEAL_OK)
        return err;
    dbl64(l, k1);
    dbl64(k1, k2);
    memset(buf, 0, sizeof buf);
    memcpy(buf, msg, len);
    if (len == 0 || len % 8)
        buf[len] = 0x80;
    for (int i = 0; i < 8; i++)
        buf[n - 8 + (size_t)i] ^= len != 0 && len % 8 == 0 ? k1[i] : k2[i];
    err = des_cbc_encrypt(session, 8, iv, buf, buf, n);
    leal_wipe(l, sizeof l);
    leal_wipe(k1, sizeof k1);
    leal_wipe(k2, sizeof k2);
    return err;
}

/* The answer of a command under the ISO session: status 00 and its CMAC
 * over 00 with the running IV, checked before it is believed. */
static leal_err mac_answer(const uint8_t session[8], uint8_t iv[8], const struct desfire_frame *f)
{
    static const uint8_t ok = 0x00;
    leal_err err;
    if (f->status != 0x00)
        return desfire_status_err(f->status);
    if (f->ans_len != 8)
        return LEAL_E_CARD_RESPONSE_MAC;
    if ((err = des_cmac(session, iv, &ok, 1)) != LEAL_OK)
        return err;
    return leal_ct_equal(iv, f->ans, 8) ? LEAL_OK : LEAL_E_CARD_RESPONSE_MAC;
}

/* A plain command under the ISO session (its CMAC only moves the IV). */
static leal_err plain_command(struct desfire *d, const uint8_t session[8], uint8_t iv[8],
                              const uint8_t *msg, size_t len)
{
    uint8_t ans[16];
    struct desfire_frame f = {msg[0], msg + 1, len - 1, ans, sizeof ans, 0, 0};
    leal_err err;
    if ((err = des_cmac(session, iv, msg, len)) != LEAL_OK ||
        (err = desfire_send_frame(d, &f)) != LEAL_OK)
        return err;
    return mac_answer(session, iv, &f);
}

/* ChangeKeySettings 54: E(settings || CRC32(54 settings) || 0 pad). */
static leal_err key_settings(struct desfire *d, const uint8_t session[8], uint8_t iv[8],
                             uint8_t settings)
{
    uint8_t plain[8] = {0}, msg[8], ans[16];
    struct desfire_frame f = {0x54, msg, 8, ans, sizeof ans, 0, 0};
    leal_err err;
    msg[0] = 0x54;
    msg[1] = settings;
    plain[0] = settings;
    store_le32(plain + 1, desfire_crc32(msg, 2));
    if ((err = des_cbc_encrypt(session, 8, iv, plain, msg, 8)) != LEAL_OK ||
        (err = desfire_send_frame(d, &f)) != LEAL_OK)
        return err;
    return mac_answer(session, iv, &f);
}

/* The answer to a ChangeKey of the session's own key, which ends the
 * session: a bare status 00, no CMAC. */
static leal_err session_ended(const struct desfire_frame *f)
{
    if (f->status != 0x00)
        return desfire_status_err(f->status);
    return f->ans_len == 0 ? LEAL_OK : LEAL_E_PROTOCOL;
}

/* ChangeKey C4 80: E(new key || version || CRC32(C4 80 new key version) || 0
 * pad) with the running IV; it ends the session: a bare 00 is the answer. */
static leal_err picc_key_to_aes(struct desfire *d, const uint8_t session[8], uint8_t iv[8],
                                const uint8_t new_key[16], uint8_t version)
{
    uint8_t plain[24], msg[25], ans[16];
    struct desfire_frame f = {0xC4, msg, sizeof msg, ans, sizeof ans, 0, 0};
    leal_err err;
    memset(plain, 0, sizeof plain);
    memcpy(plain, new_key, 16);
    plain[16] = version;
    msg[0] = 0xC4;
    msg[1] = 0x80;
    memcpy(msg + 2, plain, 17);
    store_le32(plain + 17, desfire_crc32(msg, 19));
    msg[0] = 0x80;
    if ((err = des_cbc_encrypt(session, 8, iv, plain, msg + 1, 24)) == LEAL_OK &&
        (err = desfire_send_frame(d, &f)) == LEAL_OK)
        err = session_ended(&f);
    leal_wipe(plain, sizeof plain);
    leal_wipe(msg, sizeof msg);
    return err;
}

/* The factory session's steps under the ISO session: [DeleteApplication],
 * CreateApplication, ChangeKeySettings, ChangeKey. */
static leal_err setup_steps(struct desfire *d, const uint8_t session[8], uint8_t iv[8],
                            const struct factory_setup *s)
{
    uint8_t del[4] = {0xDA}, create[3 + 5 + 16] = {0xCA};
    size_t n = 4;
    leal_err err;
    memcpy(del + 1, s->app_aid, 3);
    memcpy(create + 1, s->app_aid, 3);
    create[n++] = s->app_settings1;
    create[n++] = s->app_settings2;
    store_le16(create + n, s->app_iso_fid);
    n += 2;
    memcpy(create + n, s->app_df_name, s->app_df_name_len);
    n += s->app_df_name_len;
    if ((!s->delete_app || (err = plain_command(d, session, iv, del, 4)) == LEAL_OK) &&
        (err = plain_command(d, session, iv, create, n)) == LEAL_OK &&
        (err = key_settings(d, session, iv, s->picc_settings)) == LEAL_OK)
        err = picc_key_to_aes(d, session, iv, s->new_key, s->version);
    return err;
}

/* GetCardUID 51 under the ISO session: sent plain, its CMAC is the IV of
 * the answer E(UID || CRC32(UID || 00) || 00 pad), 16 bytes, deciphered and
 * checked. */
static leal_err card_uid_step(struct desfire *d, const uint8_t session[8], uint8_t iv[8],
                              uint8_t uid[7])
{
    static const uint8_t ins = 0x51;
    uint8_t ans[24], plain[16], crc[4];
    struct desfire_frame f = {ins, NULL, 0, ans, sizeof ans, 0, 0};
    leal_err err;

    if ((err = des_cmac(session, iv, &ins, 1)) != LEAL_OK ||
        (err = desfire_send_frame(d, &f)) != LEAL_OK)
        goto out;
    if (f.status != 0x00) {
        err = desfire_status_err(f.status);
        goto out;
    }
    if (f.ans_len != 16 || (err = des_cbc_decrypt(session, 8, iv, ans, plain, 16)) != LEAL_OK) {
        err = err ? err : LEAL_E_PROTOCOL;
        goto out;
    }
    /* The CRC covers UID || status 00: plain[7] is the status' place before the CRC is read. */
    memcpy(crc, plain + 7, 4);
    plain[7] = 0x00;
    if (load_le32(crc) != desfire_crc32(plain, 8) ||
        (plain[11] | plain[12] | plain[13] | plain[14] | plain[15]) != 0) {
        err = LEAL_E_CARD_RESPONSE_MAC;
        goto out;
    }
    memcpy(uid, plain, 7);
out:
    leal_wipe(plain, sizeof plain);
    return err;
}

/* What a public function runs in the factory session. */
enum factory_step { STEP_SETUP, STEP_TO_AES, STEP_CARD_UID };
struct factory_job {
    enum factory_step step;
    const struct factory_setup *setup; /* STEP_SETUP and STEP_TO_AES */
    uint8_t *uid;                      /* STEP_CARD_UID */
};

/* Authenticates with the factory key over a driver of its own on reader,
 * runs the job's step in that session and adds the exchanges to *rt. After
 * authentication the EV1 IV starts at zero. */
static leal_err factory_session(const struct card_reader *reader, const struct crypto_provider *cp,
                                const struct factory_job *job, unsigned *rt)
{
    struct desfire d;
    uint8_t session[8], iv[8] = {0};
    const struct factory_setup *s = job->setup;
    leal_err err;

    desfire_init(&d, reader, cp);
    if ((err = factory_auth(&d, session)) == LEAL_OK) {
        if (job->step == STEP_SETUP)
            err = setup_steps(&d, session, iv, s);
        else if (job->step == STEP_TO_AES)
            err = picc_key_to_aes(&d, session, iv, s->new_key, s->version);
        else
            err = card_uid_step(&d, session, iv, job->uid);
    }
    *rt += d.round_trips;
    desfire_clear(&d);
    leal_wipe(session, sizeof session);
    leal_wipe(iv, sizeof iv);
    return err;
}

leal_err factory_picc_setup(const struct card_reader *reader, const struct crypto_provider *cp,
                            const struct factory_setup *s, unsigned *rt)
{
    const struct factory_job job = {STEP_SETUP, s, NULL};
    if (s->app_df_name_len > 16)
        return LEAL_E_ARG;
    return factory_session(reader, cp, &job, rt);
}

leal_err factory_picc_to_aes(const struct card_reader *reader, const struct crypto_provider *cp,
                             const uint8_t new_key[16], uint8_t version, unsigned *rt)
{
    const struct factory_setup s = {.new_key = new_key, .version = version};
    const struct factory_job job = {STEP_TO_AES, &s, NULL};
    return factory_session(reader, cp, &job, rt);
}

leal_err factory_card_uid(const struct card_reader *reader, const struct crypto_provider *cp,
                          uint8_t uid[7], unsigned *rt)
{
    const struct factory_job job = {STEP_CARD_UID, NULL, uid};
    return factory_session(reader, cp, &job, rt);
}

leal_err factory_picc_to_des(struct desfire *d)
{
    uint8_t plain[32], msg[33], ans[16];
    struct desfire_frame f = {0xC4, msg, sizeof msg, ans, sizeof ans, 0, 0};
    leal_err err;
    if (!d->authenticated || d->key_no != 0)
        return LEAL_E_STATE;
    /* C4 00: a DES key, given as 16 bytes, no version byte; CRC32 over C4 00 || key. */
    memset(plain, 0, sizeof plain);
    msg[0] = 0xC4;
    msg[1] = 0x00;
    memset(msg + 2, 0, 16);
    store_le32(plain + 16, desfire_crc32(msg, 18));
    msg[0] = 0x00;
    if ((err = d->cp->aes128_cbc_encrypt(d->session, d->iv, plain, msg + 1, 32)) != LEAL_OK)
        goto out;
    d->authenticated = false; /* changing the session's own key ends the session */
    if ((err = desfire_send_frame(d, &f)) == LEAL_OK)
        err = session_ended(&f);
out:
    leal_wipe(plain, sizeof plain);
    leal_wipe(d->session, sizeof d->session);
    return err;
}
