/* fuzz_originality_sig.c - a card's Read_Sig answer and UID through the
 * originality check: the first 57 bytes a public key (most are not points on
 * secp224r1), then 7 of UID and 56 of signature; it must answer, never crash,
 * and accept nothing for a key that is not a point. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "host/issuance/originality.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t buf[ORIGINALITY_PUB_LEN + ORIGINALITY_UID_LEN + ORIGINALITY_SIG_LEN] = {0};
    leal_err err;
    memcpy(buf, data, size < sizeof buf ? size : sizeof buf);
    err = originality_verify_with(buf, buf + ORIGINALITY_PUB_LEN,
                                  buf + ORIGINALITY_PUB_LEN + ORIGINALITY_UID_LEN);
    if (err != LEAL_OK && err != LEAL_E_CARD_NOT_GENUINE && err != LEAL_E_FORMAT &&
        err != LEAL_E_CRYPTO)
        __builtin_trap();
    if (buf[0] != 0x04 && err == LEAL_OK)
        __builtin_trap();
    return 0;
}
