/* fuzz_qr_token.c - leal's QR tokens (cardlayout/qr/qr_token.h) and Base45 on
 * any bytes, read as a code's text and as token bytes: never a crash, never a
 * read outside the input, a verdict only on LEAL_OK, a token that verifies
 * parses to the same fields, a spending code is taken once, a static code
 * never spends, and Base45 canonical (a text that decodes encodes
 * back to itself). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlayout/qr/base45.h"
#include "cardlayout/qr/qr_token.h"
#include "keys/hosted/provider_openssl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RFC 8032 7.1 TEST 1 public key as `qr` key version 1 (the golden code's). */
static const struct qr_key key = {1,
                                  {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
                                   0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
                                   0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a}};

static void check_base45(const uint8_t *data, size_t size)
{
    static uint8_t bytes[4096];
    static char text[6200];
    size_t n, tn;
    if (size > 6000)
        return;
    if (base45_decode((const char *)data, size, bytes, sizeof bytes, &n) != LEAL_OK)
        return;
    if (base45_encode(bytes, n, text, sizeof text, &tn) != LEAL_OK || tn != size ||
        memcmp(text, data, size) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The golden codes' day and time step; a replay memory of two phones. */
    static struct qr_seen slots[2];
    struct qr_replay replay = {slots, 2};
    struct qr_expect e = {7, 1780000000u, &key, 1, NULL, NULL, &replay, NULL};
    struct qr_token t, parsed;
    char *text;
    if (size > 1024)
        return 0;
    memset(slots, 0, sizeof slots);
    check_base45(data, size);
    /* a copy of exactly size bytes, so ASan sees any read past the text */
    text = malloc(size ? size : 1);
    if (text == NULL)
        return 0;
    memcpy(text, data, size);
    memset(&t, 0x5A, sizeof t);
    if (qr_verify_text(crypto_openssl(), text, size, &e, &t) == LEAL_OK) {
        uint8_t tok[QR_TOKEN_MAX];
        size_t len;
        if (qr_text_decode(text, size, tok, sizeof tok, &len) != LEAL_OK ||
            qr_token_parse(tok, len, &parsed) != LEAL_OK || memcmp(&parsed, &t, sizeof t) != 0)
            abort();
        /* taken once: recorded, the same code is a replay */
        if (t.kind == QR_KIND_SPEND && qr_replay_record(&replay, &t, e.now) == LEAL_OK &&
            qr_verify_text(crypto_openssl(), text, size, &e, &parsed) != LEAL_E_QR_REPLAYED)
            abort();
        if (t.kind == QR_KIND_STATIC && qr_spend_allowed(&t, 1, 0) != LEAL_E_QR_STATIC_SPEND)
            abort();
    } else if (((const uint8_t *)&t)[0] != 0x5A) {
        abort(); /* a refusal handed out a verdict */
    }
    free(text);
    memset(&t, 0x5A, sizeof t);
    if (qr_verify_bytes(crypto_openssl(), data, size, &e, &t) != LEAL_OK &&
        ((const uint8_t *)&t)[0] != 0x5A)
        abort();
    if (qr_token_parse(data, size, &parsed) == LEAL_OK && parsed.kind != QR_KIND_STATIC &&
        parsed.kind != QR_KIND_SPEND)
        abort();
    return 0;
}
