/* fuzz_classic_record.c - MIFARE Classic sealed records from a card: the identity span,
 * one state slot and the two-slot selection, under a fixed seal key. The input is cut
 * into the spans (short inputs are zero-padded: a card's blocks always have 16 bytes).
 * Nothing forged by the fuzzer may open (that would need the key). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cardlayout/records/classic_record.h"
#include "keys/hosted/provider_openssl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                    17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
    static const uint8_t uid[4] = {0x04, 0xA2, 0x19, 0x5C};
    static const uint8_t pub[32] = {0};
    uint8_t id_span[CLASSIC_RECORD_IDENTITY_SPAN] = {0}, s0[CLASSIC_RECORD_STATE_SPAN] = {0},
            s1[CLASSIC_RECORD_STATE_SPAN] = {0}, pt[64];
    const struct crypto_provider *cp = crypto_openssl();
    struct classic_record_purse policy = {size > 0 && (data[0] & 1), 100000};
    struct identity id;
    struct classic_record_state st;
    unsigned cur;
    size_t n;

    n = size < sizeof id_span ? size : sizeof id_span;
    memcpy(id_span, data, n);
    if (classic_record_identity_open(&(struct classic_record_key){cp, key}, id_span, uid,
                                     sizeof uid, pub, &id) == LEAL_OK)
        __builtin_trap();
    memcpy(s0, data, size < sizeof s0 ? size : sizeof s0);
    if (size > sizeof s0)
        memcpy(s1, data + sizeof s0, size - sizeof s0 < sizeof s1 ? size - sizeof s0 : sizeof s1);
    if (classic_record_state_select(&(struct classic_record_key){cp, key}, 7,
                                    (const uint8_t *const[]){s0, s1}, &policy, &st,
                                    &cur) == LEAL_OK)
        __builtin_trap();
    /* The generic opener on any span length the input gives, any plaintext length. */
    if (size >= 2) {
        size_t ptl = data[1] % sizeof pt;
        if (classic_record_open(&(struct classic_record_key){cp, key},
                                &(struct classic_record_place){7, 4, 0, data[0]}, data, size, pt,
                                ptl) == LEAL_OK)
            __builtin_trap();
    }
    return 0;
}
