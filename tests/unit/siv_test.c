/* siv_test.c - AES-SIV against RFC 5297 Appendix A and against OpenSSL's own AES-128-SIV. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "keys/hosted/provider_openssl.h"
#include "keys/siv.h"
#include "tests/lib/testutil.h"

static int has_field(const struct vector_record *r, const char *name)
{
    for (int i = 0; i < r->nfields; i++)
        if (strcmp(r->names[i], name) == 0)
            return 1;
    return 0;
}

static void test_siv_rfc5297_appendix_a(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("rfc5297_siv.txt", &v);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        static uint8_t adbuf[3][64];
        uint8_t key[32], pt[64], out[96], tag[16], ct[64], back[64];
        struct siv_ad ad[3];
        size_t n_ad = 0;
        const char *names[3] = {"AD1", "AD2", "AD3"};
        assert_int_equal(vectors_hex(&v[i], "KEY", key, 32), 32);
        for (int a = 0; a < 3; a++) {
            if (!has_field(&v[i], names[a]))
                break;
            ad[n_ad].len = vectors_hex(&v[i], names[a], adbuf[a], sizeof adbuf[a]);
            ad[n_ad].p = adbuf[a];
            n_ad++;
        }
        size_t pl = vectors_hex(&v[i], "PT", pt, sizeof pt);
        size_t ol = vectors_hex(&v[i], "OUT", out, sizeof out);
        assert_int_equal(ol, pl + 16);
        assert_int_equal(siv_encrypt(crypto_openssl(), key, (struct siv_ad_list){ad, n_ad},
                                     (struct siv_io){pt, ct, pl}, tag),
                         LEAL_OK);
        assert_memory_equal(tag, out, 16);
        assert_memory_equal(ct, out + 16, pl);
        assert_int_equal(siv_decrypt(crypto_openssl(), key, (struct siv_ad_list){ad, n_ad}, tag,
                                     (struct siv_io){ct, back, pl}),
                         LEAL_OK);
        assert_memory_equal(back, pt, pl);
        /* One flipped bit anywhere: refused, and the output wiped. */
        ct[pl - 1] ^= 0x01;
        assert_int_equal(siv_decrypt(crypto_openssl(), key, (struct siv_ad_list){ad, n_ad}, tag,
                                     (struct siv_io){ct, back, pl}),
                         LEAL_E_MAC);
        for (size_t j = 0; j < pl; j++)
            assert_int_equal(back[j], 0);
        ct[pl - 1] ^= 0x01;
        adbuf[0][0] ^= 0x80;
        assert_int_equal(siv_decrypt(crypto_openssl(), key, (struct siv_ad_list){ad, n_ad}, tag,
                                     (struct siv_io){ct, back, pl}),
                         LEAL_E_MAC);
        adbuf[0][0] ^= 0x80;
        tag[15] ^= 0x01;
        assert_int_equal(siv_decrypt(crypto_openssl(), key, (struct siv_ad_list){ad, n_ad}, tag,
                                     (struct siv_io){ct, back, pl}),
                         LEAL_E_MAC);
    }
    free(v);
}

/* OpenSSL 3's AES-128-SIV (default provider): tag then ciphertext. */
static void openssl_siv(const uint8_t key[32], const struct siv_ad *ad, size_t n_ad,
                        const uint8_t *pt, size_t len, uint8_t tag[16], uint8_t *ct)
{
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-128-SIV", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0;
    assert_non_null(c);
    assert_non_null(ctx);
    assert_int_equal(EVP_EncryptInit_ex(ctx, c, NULL, key, NULL), 1);
    for (size_t i = 0; i < n_ad; i++)
        assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &outl, ad[i].p, (int)ad[i].len), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, ct, &outl, pt, (int)len), 1);
    assert_int_equal((size_t)outl, len);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, ct + len, &outl), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag), 1);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(c);
}

static void test_siv_matches_openssl_on_seeded_random_inputs(void **state)
{
    (void)state;
    unsigned seed = 20261123;
    uint32_t x = seed;
#define NEXT() (x = x * 1103515245u + 12345u, (uint8_t)(x >> 16))
    for (int round = 0; round < 400; round++) {
        uint8_t key[32], ad0[40], ad1[40], pt[200], ct[216], tag[16], ref_ct[216], ref_tag[16];
        uint8_t back[200];
        struct siv_ad ad[2] = {{ad0, 0}, {ad1, 0}};
        size_t n_ad = (size_t)(NEXT() % 3);
        size_t len = 1 + (size_t)(NEXT() % 200); /* 1..200: short, one block, many blocks */
        for (int i = 0; i < 32; i++)
            key[i] = NEXT();
        ad[0].len = NEXT() % 41;
        ad[1].len = NEXT() % 41;
        for (size_t i = 0; i < 40; i++) {
            ad0[i] = NEXT();
            ad1[i] = NEXT();
        }
        for (size_t i = 0; i < len; i++)
            pt[i] = NEXT();
        openssl_siv(key, ad, n_ad, pt, len, ref_tag, ref_ct);
        assert_int_equal(siv_encrypt(crypto_openssl(), key, (struct siv_ad_list){ad, n_ad},
                                     (struct siv_io){pt, ct, len}, tag),
                         LEAL_OK);
        if (memcmp(tag, ref_tag, 16) != 0 || memcmp(ct, ref_ct, len) != 0) {
            print_error("seed %u round %d len %zu n_ad %zu differs from OpenSSL\n", seed, round,
                        len, n_ad);
            fail();
        }
        assert_int_equal(siv_decrypt(crypto_openssl(), key, (struct siv_ad_list){ad, n_ad}, tag,
                                     (struct siv_io){ct, back, len}),
                         LEAL_OK);
        assert_memory_equal(back, pt, len);
    }
#undef NEXT
}

static void test_siv_empty_plaintext_and_in_place(void **state)
{
    (void)state;
    uint8_t key[32], tag[16], buf[33], pt[33];
    struct siv_ad ad = {(const uint8_t *)"leal", 4};
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)i;
    assert_int_equal(siv_encrypt(crypto_openssl(), key, (struct siv_ad_list){&ad, 1},
                                 (struct siv_io){NULL, NULL, 0}, tag),
                     LEAL_OK);
    assert_int_equal(siv_decrypt(crypto_openssl(), key, (struct siv_ad_list){&ad, 1}, tag,
                                 (struct siv_io){NULL, NULL, 0}),
                     LEAL_OK);
    tag[0] ^= 1;
    assert_int_equal(siv_decrypt(crypto_openssl(), key, (struct siv_ad_list){&ad, 1}, tag,
                                 (struct siv_io){NULL, NULL, 0}),
                     LEAL_E_MAC);
    for (int i = 0; i < 33; i++)
        buf[i] = pt[i] = (uint8_t)(3 * i);
    assert_int_equal(siv_encrypt(crypto_openssl(), key, (struct siv_ad_list){&ad, 1},
                                 (struct siv_io){buf, buf, 33}, tag),
                     LEAL_OK);
    assert_memory_not_equal(buf, pt, 33);
    assert_int_equal(siv_decrypt(crypto_openssl(), key, (struct siv_ad_list){&ad, 1}, tag,
                                 (struct siv_io){buf, buf, 33}),
                     LEAL_OK);
    assert_memory_equal(buf, pt, 33);
}

static void test_siv_refuses_oversize_and_bad_args(void **state)
{
    (void)state;
    static uint8_t big[300];
    uint8_t key[32] = {0}, tag[16];
    struct siv_ad ad[9];
    for (int i = 0; i < 9; i++)
        ad[i] = (struct siv_ad){big, 1};
    assert_int_equal(siv_encrypt(crypto_openssl(), key, (struct siv_ad_list){NULL, 0},
                                 (struct siv_io){big, big, 257}, tag),
                     LEAL_E_TOO_LARGE);
    assert_int_equal(siv_encrypt(crypto_openssl(), key, (struct siv_ad_list){ad, 9},
                                 (struct siv_io){big, big, 1}, tag),
                     LEAL_E_ARG);
    assert_int_equal(siv_encrypt(crypto_openssl(), key, (struct siv_ad_list){NULL, 1},
                                 (struct siv_io){big, big, 1}, tag),
                     LEAL_E_ARG);
    assert_int_equal(
        siv_encrypt(NULL, key, (struct siv_ad_list){NULL, 0}, (struct siv_io){big, big, 1}, tag),
        LEAL_E_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siv_rfc5297_appendix_a),
        cmocka_unit_test(test_siv_matches_openssl_on_seeded_random_inputs),
        cmocka_unit_test(test_siv_empty_plaintext_and_in_place),
        cmocka_unit_test(test_siv_refuses_oversize_and_bad_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
