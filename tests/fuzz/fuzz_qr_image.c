/* fuzz_qr_image.c - a picture of a QR code read (host/qr/qr_image.h
 * qr_image_decode_bytes: PNG through libpng, JPEG through libjpeg, then
 * libzbar) from any bytes: never a crash, never a read outside the input or
 * a leak, a text only on LEAL_OK and then NUL-terminated within the buffer,
 * and that text handed to the token decoder as a terminal would. At most a
 * megapixel, so that a made-up header's size costs a run no long scan. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cardlayout/qr/qr_token.h"
#include "host/qr/qr_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[QR_TEXT_MAX + 1];
    uint8_t tok[QR_TOKEN_MAX], *copy;
    size_t len = 0, tok_len = 0;
    leal_err err;
    if (size > 256 * 1024)
        return 0;
    /* a copy of exactly size bytes, so ASan sees any read past the picture */
    copy = malloc(size ? size : 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    memset(text, 0x55, sizeof text);
    err = qr_image_decode_bytes(copy, size, 1ul << 20, text, sizeof text, &len);
    free(copy);
    if (err != LEAL_OK)
        return 0;
    if (len >= sizeof text || text[len] != '\0')
        abort();
    if (qr_text_decode(text, len, tok, sizeof tok, &tok_len) == LEAL_OK && tok_len > QR_TOKEN_MAX)
        abort();
    return 0;
}
