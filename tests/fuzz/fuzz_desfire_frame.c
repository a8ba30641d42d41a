/* fuzz_desfire_frame.c - the DESFire driver against a card whose answers are the fuzz
 * input: each answer is one length byte and that many bytes. Commands run outside and
 * inside a session; under the session no Debit, Commit or GetValue may succeed (the
 * fuzzer cannot produce the CMAC or the enciphered CRC: libfreefare #90). Then the
 * same under EV2 secure messaging (ev2_part): no authentication, Debit, Commit,
 * GetValue, MACed read or GetCardUID succeeds without MACt or the key's proof. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cardlayout/desfire/desfire.h"
#include "keys/hosted/provider_openssl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct feed {
    const uint8_t *p;
    size_t n, off;
};

static leal_err feed_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                size_t cap, size_t *resp_len)
{
    struct feed *f = ctx;
    size_t n;
    (void)cmd, (void)cmd_len;
    *resp_len = 0;
    if (f->off >= f->n)
        return LEAL_E_CARD_REMOVED;
    n = f->p[f->off++];
    if (n > f->n - f->off)
        n = f->n - f->off;
    if (n > cap)
        return LEAL_E_NO_SPACE;
    memcpy(resp, f->p + f->off, n);
    f->off += n;
    *resp_len = n;
    return LEAL_OK;
}

static leal_err no_auth(void *c, uint8_t b, uint8_t t, const uint8_t k[6])
{
    (void)c, (void)b, (void)t, (void)k;
    return LEAL_E_UNSUPPORTED;
}
static leal_err no_read(void *c, uint8_t b, uint8_t o[16])
{
    (void)c, (void)b, (void)o;
    return LEAL_E_UNSUPPORTED;
}
static leal_err no_write(void *c, uint8_t b, const uint8_t d[16])
{
    (void)c, (void)b, (void)d;
    return LEAL_E_UNSUPPORTED;
}

/* The EV2 session's half: authentication with the fuzz input's answers, then
 * commands under a session with fixed keys (counter near its end last). */
static unsigned ev2_part(struct desfire *d)
{
    static const uint8_t key[16] = {0},
                         enc[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
                         mac[16] = {16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1},
                         ti[4] = {0xDE, 0xAD, 0xBE, 0xEF};
    uint8_t buf[200], uid[7];
    int32_t v;
    unsigned ok = 0;
    if (desfire_authenticate_ev2_first(d, 0, key) == LEAL_OK) /* RndA is random */
        __builtin_trap();
    desfire_resume_ev2_session(d, 0, enc, mac, ti, 7);
    if (desfire_authenticate_ev2_nonfirst(d, 1, key) == LEAL_OK)
        __builtin_trap();
    desfire_resume_ev2_session(d, 0, enc, mac, ti, 7);
    if (desfire_debit(d, 3, DESFIRE_COMM_FULL, 1) == LEAL_OK)
        __builtin_trap();
    desfire_resume_ev2_session(d, 0, enc, mac, ti, 8);
    if (desfire_get_value(d, 3, DESFIRE_COMM_FULL, &v) == LEAL_OK)
        __builtin_trap();
    desfire_resume_ev2_session(d, 0, enc, mac, ti, 9);
    if (desfire_commit(d) == LEAL_OK)
        __builtin_trap();
    desfire_resume_ev2_session(d, 0, enc, mac, ti, 10);
    if (desfire_read_data(d, 2, DESFIRE_COMM_MACED, 0, 32, buf) == LEAL_OK)
        __builtin_trap();
    desfire_resume_ev2_session(d, 0, enc, mac, ti, 11);
    if (desfire_get_card_uid(d, uid) == LEAL_OK)
        __builtin_trap();
    desfire_resume_ev2_session(d, 0, enc, mac, ti, 0xFFFE);
    ok += desfire_read_data(d, 4, DESFIRE_COMM_PLAIN, 0, 100, buf) == LEAL_OK;
    ok += desfire_read_records(d, &(struct desfire_records){5, DESFIRE_COMM_FULL, 0, 2, 16}, buf) ==
          LEAL_OK;
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[16] = {0},
                         session[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    static const uint8_t aid[3] = {0x4C, 0x45, 0x41};
    struct feed f = {data, size, 0};
    struct card_reader rd = {&f, feed_transceive, no_auth, no_read, no_write};
    struct desfire d;
    struct desfire_version ver;
    uint8_t buf[200], uid[7], zero[16] = {0}, kv;
    int32_t v;
    unsigned ok = 0;

    desfire_init(&d, &rd, crypto_openssl());
    ok += desfire_select_application(&d, aid) == LEAL_OK;
    ok += desfire_get_version(&d, &ver) == LEAL_OK;
    ok += desfire_read_data(&d, 1, DESFIRE_COMM_PLAIN, 0, 100, buf) == LEAL_OK;
    ok += desfire_authenticate_aes(&d, 2, key) == LEAL_OK; /* cannot succeed: RndA is random */
    desfire_resume_session(&d, 2, session, zero);
    if (desfire_debit(&d, 3, DESFIRE_COMM_FULL, 1) == LEAL_OK)
        __builtin_trap();
    desfire_resume_session(&d, 2, session, zero);
    if (desfire_get_value(&d, 3, DESFIRE_COMM_FULL, &v) == LEAL_OK)
        __builtin_trap();
    desfire_resume_session(&d, 2, session, zero);
    if (desfire_commit(&d) == LEAL_OK)
        __builtin_trap();
    desfire_resume_session(&d, 2, session, zero);
    if (desfire_read_data(&d, 2, DESFIRE_COMM_MACED, 0, 32, buf) == LEAL_OK)
        __builtin_trap();
    desfire_resume_session(&d, 2, session, zero);
    if (desfire_get_card_uid(&d, uid) == LEAL_OK)
        __builtin_trap();
    desfire_resume_session(&d, 2, session, zero);
    ok += desfire_get_key_version(&d, 0, &kv) == LEAL_OK;
    ok += desfire_read_records(&d, &(struct desfire_records){5, DESFIRE_COMM_FULL, 0, 2, 16},
                               buf) == LEAL_OK;
    ok += ev2_part(&d);
    desfire_clear(&d);
    return ok > 100; /* always 0; keeps the results used */
}
