/* originality.c - NXP originality signatures of DESFire EV2/EV3 (see originality.h). */
#include "originality.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/params.h>

/*
 * NXP's public keys for the originality signature of MIFARE DESFire EV2, EV2 XL
 * and EV3 (uncompressed points on secp224r1). NXP gives them to its customers;
 * the values below are the ones published in the Proxmark3 client
 * (RfidResearchGroup/proxmark3, client/src/cmdhfmfdes.c, table
 * nxp_desfire_public_keys, and client/src/originality.c,
 * manufacturer_public_keys: "DESFire EV2", "NTAG424DNA, DESFire EV2" (AN12196),
 * "DESFire EV2 XL", "DESFire EV3"), where they verify real cards' signatures.
 * The signature scheme (secp224r1, ECDSA without hashing over the UID, r || s
 * of 28 bytes each) is NXP's AN12343 (MIFARE DESFire Light features and
 * hints), whose worked example is a unit-test vector (tests/vectors).
 */
static const char *const nxp_keys[] = {
    /* DESFire EV2 */
    "04B304DC4C615F5326FE9383DDEC9AA892DF3A57FA7FFB3276192BC0EAA252ED45A865E3B093A3D0DCE5BE29E92F13"
    "92CE7DE321E3E5C52B3A",
    /* NTAG 424 DNA, DESFire EV2 (AN12196) */
    "048A9B380AF2EE1B98DC417FECC263F8449C7625CECE82D9B916C992DA209D68422B81EC20B65A66B5102A61596AF3"
    "379200599316A00A1410",
    /* DESFire EV2 XL */
    "04CD5D45E50B1502F0BA4656FF37669597E7E183251150F9574CC8DA56BF01C7ABE019E29FEA48F9CE22C3EA4029A7"
    "65E1BC95A89543BAD1BC",
    /* DESFire EV3 */
    "041DB46C145D0A36539C6544BD6D9B0AA62FF91EC48CBC6ABAE36E0089A46F0D08C8A715EA40A63313B92E90DDC173"
    "0230E0458A33276FB743",
};

static EVP_PKEY *public_key(const uint8_t pub[ORIGINALITY_PUB_LEN])
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *key = NULL;
    char group[] = "secp224r1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)(uintptr_t)pub,
                                ORIGINALITY_PUB_LEN),
        OSSL_PARAM_END,
    };
    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        key = NULL;
    EVP_PKEY_CTX_free(ctx);
    return key;
}

leal_err originality_verify_with(const uint8_t pub[ORIGINALITY_PUB_LEN],
                                 const uint8_t uid[ORIGINALITY_UID_LEN],
                                 const uint8_t sig[ORIGINALITY_SIG_LEN])
{
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    unsigned char *der = NULL;
    int der_len, ok;
    leal_err err = LEAL_E_CRYPTO;

    if (pub[0] != 0x04 || (key = public_key(pub)) == NULL) {
        ERR_clear_error();
        return LEAL_E_FORMAT;
    }
    /* r || s as the DER the EVP interface takes. */
    if ((es = ECDSA_SIG_new()) == NULL ||
        (r = BN_bin2bn(sig, ORIGINALITY_SIG_LEN / 2, NULL)) == NULL ||
        (s = BN_bin2bn(sig + ORIGINALITY_SIG_LEN / 2, ORIGINALITY_SIG_LEN / 2, NULL)) == NULL ||
        ECDSA_SIG_set0(es, r, s) != 1)
        goto out;
    r = s = NULL; /* owned by es */
    if ((der_len = i2d_ECDSA_SIG(es, &der)) <= 0)
        goto out;
    /* No digest set: the UID is the message itself ("ECDSA with NONE hashing"). */
    if ((ctx = EVP_PKEY_CTX_new(key, NULL)) == NULL || EVP_PKEY_verify_init(ctx) <= 0)
        goto out;
    ok = EVP_PKEY_verify(ctx, der, (size_t)der_len, uid, ORIGINALITY_UID_LEN);
    /* 0: no match; below 0: not a valid signature at all (r or s out of range). */
    err = ok == 1 ? LEAL_OK : LEAL_E_CARD_NOT_GENUINE;
out:
    ERR_clear_error();
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    OPENSSL_free(der);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
    return err;
}

/* Exactly 57 bytes of hex, 04 first (OpenSSL's hex decoder, no separators). */
static leal_err parse_key(const char *hex, uint8_t pub[ORIGINALITY_PUB_LEN])
{
    size_t n = 0;
    if (strlen(hex) != 2 * ORIGINALITY_PUB_LEN ||
        OPENSSL_hexstr2buf_ex(pub, ORIGINALITY_PUB_LEN, &n, hex, '\0') != 1 ||
        n != ORIGINALITY_PUB_LEN) {
        ERR_clear_error();
        return LEAL_E_ORIGINALITY_TEST_KEY;
    }
    return pub[0] == 0x04 ? LEAL_OK : LEAL_E_ORIGINALITY_TEST_KEY;
}

leal_err originality_verify(const uint8_t uid[ORIGINALITY_UID_LEN],
                            const uint8_t sig[ORIGINALITY_SIG_LEN])
{
    uint8_t pub[ORIGINALITY_PUB_LEN];
    const char *test_key = getenv("LEAL_ORIGINALITY_TEST_KEY");
    leal_err err;

    if (test_key != NULL) {
        if ((err = parse_key(test_key, pub)) != LEAL_OK)
            return err;
        err = originality_verify_with(pub, uid, sig);
        return err == LEAL_E_FORMAT ? LEAL_E_ORIGINALITY_TEST_KEY : err;
    }
    for (size_t i = 0; i < sizeof nxp_keys / sizeof nxp_keys[0]; i++) {
        if (parse_key(nxp_keys[i], pub) != LEAL_OK)
            return LEAL_E_INTERNAL;
        if ((err = originality_verify_with(pub, uid, sig)) != LEAL_E_CARD_NOT_GENUINE)
            return err;
    }
    return LEAL_E_CARD_NOT_GENUINE;
}
