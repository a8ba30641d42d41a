/* portable_vectors_test.c - the portable provider (keys/portable/) against
 * published vectors: FIPS 197, SP 800-38A, RFC 4493, FIPS 180-4, RFC 8032;
 * and the Ed25519 edge cases it must answer as OpenSSL does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys/crypto.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/portable/provider_portable.h"
#include "keys/portable/sha256.h"
#include "keys/portable/sha512.h"
#include "tests/lib/testutil.h"

static void test_aes128_ecb_fips197(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("fips197_aes128.txt", &v);
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        uint8_t k[16], p[16], c[16], out[16];
        vectors_hex(&v[i], "K", k, 16);
        vectors_hex(&v[i], "P", p, 16);
        vectors_hex(&v[i], "C", c, 16);
        assert_int_equal(crypto_portable_aes128_ecb_encrypt(k, p, out), LEAL_OK);
        assert_memory_equal(out, c, 16);
        assert_int_equal(crypto_portable_aes128_ecb_decrypt(k, c, out), LEAL_OK);
        assert_memory_equal(out, p, 16);
        memcpy(out, p, 16); /* in place */
        assert_int_equal(crypto_portable_aes128_ecb_encrypt(k, out, out), LEAL_OK);
        assert_memory_equal(out, c, 16);
        assert_int_equal(crypto_portable_aes128_ecb_decrypt(k, out, out), LEAL_OK);
        assert_memory_equal(out, p, 16);
    }
    free(v);
}

/* SP 800-38A F.2.1 and F.2.2, in one call and split into calls that carry the IV. */
static void test_aes128_cbc_sp800_38a_chains_iv(void **state)
{
    (void)state;
    struct vector_record *v;
    uint8_t k[16], iv0[16], iv[16], p[64], c[64], out[64];
    vectors_load("sp800_38a_aes128_cbc.txt", &v);
    vectors_hex(&v[0], "K", k, 16);
    vectors_hex(&v[0], "IV", iv0, 16);
    assert_int_equal(vectors_hex(&v[0], "P", p, 64), 64);
    assert_int_equal(vectors_hex(&v[0], "C", c, 64), 64);
    memcpy(iv, iv0, 16);
    assert_int_equal(crypto_portable_aes128_cbc_encrypt(k, iv, p, out, 64), LEAL_OK);
    assert_memory_equal(out, c, 64);
    assert_memory_equal(iv, c + 48, 16);
    memcpy(iv, iv0, 16);
    assert_int_equal(crypto_portable_aes128_cbc_encrypt(k, iv, p, out, 16), LEAL_OK);
    assert_int_equal(crypto_portable_aes128_cbc_encrypt(k, iv, p + 16, out + 16, 48), LEAL_OK);
    assert_memory_equal(out, c, 64);
    assert_memory_equal(iv, c + 48, 16);
    memcpy(iv, iv0, 16);
    assert_int_equal(crypto_portable_aes128_cbc_decrypt(k, iv, c, out, 64), LEAL_OK);
    assert_memory_equal(out, p, 64);
    assert_memory_equal(iv, c + 48, 16);
    memcpy(iv, iv0, 16);
    memcpy(out, c, 64);
    assert_int_equal(crypto_portable_aes128_cbc_decrypt(k, iv, out, out, 32),
                     LEAL_OK); /* in place */
    assert_int_equal(crypto_portable_aes128_cbc_decrypt(k, iv, out + 32, out + 32, 32), LEAL_OK);
    assert_memory_equal(out, p, 64);
    assert_memory_equal(iv, c + 48, 16);
    /* Not a whole number of blocks: refused, nothing written, IV kept. */
    memcpy(iv, iv0, 16);
    memset(out, 0xa5, 64);
    assert_int_equal(crypto_portable_aes128_cbc_encrypt(k, iv, p, out, 15), LEAL_E_ARG);
    assert_int_equal(crypto_portable_aes128_cbc_decrypt(k, iv, c, out, 33), LEAL_E_ARG);
    assert_memory_equal(iv, iv0, 16);
    for (int i = 0; i < 64; i++)
        assert_int_equal(out[i], 0xa5);
    /* Nothing to do: the IV stays. */
    assert_int_equal(crypto_portable_aes128_cbc_encrypt(k, iv, p, out, 0), LEAL_OK);
    assert_int_equal(crypto_portable_aes128_cbc_decrypt(k, iv, c, out, 0), LEAL_OK);
    assert_memory_equal(iv, iv0, 16);
    free(v);
}

/* RFC 4493 section 4: all four examples (0, 16, 40 and 64 bytes). */
static void test_cmac_rfc4493(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("rfc4493_cmac.txt", &v);
    assert_int_equal(n, 4);
    for (int i = 0; i < n; i++) {
        uint8_t k[16], m[64], t[16], out[16];
        vectors_hex(&v[i], "K", k, 16);
        size_t mlen = vectors_hex(&v[i], "M", m, sizeof m);
        vectors_hex(&v[i], "T", t, 16);
        assert_int_equal(crypto_portable_aes128_cmac(k, mlen ? m : NULL, mlen, out), LEAL_OK);
        assert_memory_equal(out, t, 16);
    }
    free(v);
}

/* Digest of M repeated REPEAT times, fed in uneven pieces to cross block edges. */
static void sha_file(const char *file, size_t dlen)
{
    struct vector_record *v;
    int n = vectors_load(file, &v);
    for (int i = 0; i < n; i++) {
        uint8_t m[256], d[64], out[64];
        size_t ml = vectors_hex(&v[i], "M", m, sizeof m);
        long repeat = strtol(vectors_str(&v[i], "REPEAT"), NULL, 10);
        struct portable_sha256 c256;
        struct portable_sha512 c512;
        assert_int_equal(vectors_hex(&v[i], "D", d, sizeof d), dlen);
        portable_sha256_init(&c256);
        portable_sha512_init(&c512);
        for (long r = 0; r < repeat; r++) {
            size_t cut = (size_t)r % (ml + 1);
            portable_sha256_update(&c256, m, cut);
            portable_sha256_update(&c256, m + cut, ml - cut);
            portable_sha512_update(&c512, m, cut);
            portable_sha512_update(&c512, m + cut, ml - cut);
        }
        if (dlen == 32) {
            portable_sha256_final(&c256, out);
            assert_memory_equal(out, d, 32);
            if (repeat == 1) {
                assert_int_equal(crypto_portable_sha256(ml ? m : NULL, ml, out), LEAL_OK);
                assert_memory_equal(out, d, 32);
            }
        } else {
            portable_sha512_final(&c512, out);
            assert_memory_equal(out, d, 64);
            if (repeat == 1) {
                portable_sha512(ml ? m : NULL, ml, out);
                assert_memory_equal(out, d, 64);
            }
        }
    }
    free(v);
}

static void test_sha256_fips180(void **state)
{
    (void)state;
    struct vector_record *v;
    int n = vectors_load("nist_sha256.txt", &v);
    for (int i = 0; i < n; i++) {
        uint8_t m[128], d[32], out[32];
        size_t ml = vectors_hex(&v[i], "M", m, sizeof m);
        vectors_hex(&v[i], "D", d, 32);
        assert_int_equal(crypto_portable_sha256(ml ? m : NULL, ml, out), LEAL_OK);
        assert_memory_equal(out, d, 32);
    }
    free(v);
    sha_file("fips180_sha256_more.txt", 32);
}

static void test_sha512_fips180(void **state)
{
    (void)state;
    sha_file("fips180_sha512.txt", 64);
}

/* Every message length across the padding edges (55/56, 111/112 bytes) in
 * one call and byte by byte agree. */
static void test_sha_pieces_agree_at_padding_edges(void **state)
{
    (void)state;
    uint8_t m[300], one[64], bytewise[64];
    for (size_t i = 0; i < sizeof m; i++)
        m[i] = (uint8_t)(i * 7 + 1);
    for (size_t len = 0; len <= sizeof m; len++) {
        struct portable_sha256 c256;
        struct portable_sha512 c512;
        portable_sha256_init(&c256);
        portable_sha512_init(&c512);
        for (size_t i = 0; i < len; i++) {
            portable_sha256_update(&c256, m + i, 1);
            portable_sha512_update(&c512, m + i, 1);
        }
        portable_sha256_final(&c256, bytewise);
        assert_int_equal(crypto_portable_sha256(m, len, one), LEAL_OK);
        assert_memory_equal(one, bytewise, 32);
        portable_sha512_final(&c512, bytewise);
        portable_sha512(m, len, one);
        assert_memory_equal(one, bytewise, 64);
    }
}

static int random_calls;

static leal_err counting_random(uint8_t *out, size_t n)
{
    random_calls++;
    memset(out, 0x5a, n);
    return LEAL_OK;
}

static const struct crypto_provider portable = CRYPTO_PORTABLE_PROVIDER(counting_random);

/* The table is complete, const, and its random is the port's function. */
static void test_provider_table(void **state)
{
    (void)state;
    uint8_t out[8] = {0};
    assert_int_equal(crypto_provider_check(&portable), LEAL_OK);
    assert_string_equal(portable.name, "portable");
    assert_ptr_equal(portable.ed25519_verify, crypto_portable_ed25519_verify);
    assert_int_equal(portable.random(out, sizeof out), LEAL_OK);
    assert_int_equal(random_calls, 1);
    assert_int_equal(out[0], 0x5a);
    assert_int_equal(out[7], 0x5a);
}

/* RFC 8032 7.1 TEST 1, 2, 3 and 1024 (1023 bytes); one flipped bit of the
 * signature, the message or the key is refused. */
static void ed25519_file(const char *file)
{
    struct vector_record *v;
    int n = vectors_load(file, &v);
    for (int i = 0; i < n; i++) {
        uint8_t pk[32], sig[64], m[1100];
        size_t ml = vectors_hex(&v[i], "MESSAGE", m, sizeof m);
        vectors_hex(&v[i], "PUBLIC", pk, 32);
        vectors_hex(&v[i], "SIGNATURE", sig, 64);
        assert_int_equal(portable.ed25519_verify(pk, ml ? m : NULL, ml, sig), LEAL_OK);
        sig[(i * 13) % 64] ^= 0x10;
        assert_int_equal(portable.ed25519_verify(pk, m, ml, sig), LEAL_E_SIGNATURE);
        sig[(i * 13) % 64] ^= 0x10;
        pk[i % 32] ^= 0x01;
        assert_int_equal(portable.ed25519_verify(pk, m, ml, sig), LEAL_E_SIGNATURE);
        pk[i % 32] ^= 0x01;
        if (ml > 0) {
            m[ml - 1] ^= 0x80;
            assert_int_equal(portable.ed25519_verify(pk, m, ml, sig), LEAL_E_SIGNATURE);
        }
    }
    free(v);
}

static void test_ed25519_rfc8032(void **state)
{
    (void)state;
    ed25519_file("rfc8032_ed25519.txt");
    ed25519_file("rfc8032_ed25519_1024.txt");
}

/* Every edge case: OpenSSL answers EXPECT, and so does the portable provider. */
static void test_ed25519_edge_cases_as_openssl(void **state)
{
    (void)state;
    const struct crypto_provider *ossl = crypto_openssl();
    struct vector_record *v;
    int n = vectors_load("leal_ed25519_edge.txt", &v);
    assert_true(n >= 15);
    for (int i = 0; i < n; i++) {
        uint8_t pk[32], sig[64], m[64];
        size_t ml = vectors_hex(&v[i], "MESSAGE", m, sizeof m);
        leal_err want = strcmp(vectors_str(&v[i], "EXPECT"), "1") == 0 ? LEAL_OK : LEAL_E_SIGNATURE;
        vectors_hex(&v[i], "PUBLIC", pk, 32);
        vectors_hex(&v[i], "SIGNATURE", sig, 64);
        if (ossl->ed25519_verify(pk, m, ml, sig) != want)
            fail_msg("OpenSSL does not answer %d: %s", want, vectors_str(&v[i], "CASE"));
        if (portable.ed25519_verify(pk, m, ml, sig) != want)
            fail_msg("portable does not answer %d: %s", want, vectors_str(&v[i], "CASE"));
    }
    free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aes128_ecb_fips197),
        cmocka_unit_test(test_aes128_cbc_sp800_38a_chains_iv),
        cmocka_unit_test(test_cmac_rfc4493),
        cmocka_unit_test(test_sha256_fips180),
        cmocka_unit_test(test_sha512_fips180),
        cmocka_unit_test(test_sha_pieces_agree_at_padding_edges),
        cmocka_unit_test(test_provider_table),
        cmocka_unit_test(test_ed25519_rfc8032),
        cmocka_unit_test(test_ed25519_edge_cases_as_openssl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
