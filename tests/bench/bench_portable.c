/* bench_portable.c - the portable crypto provider (keys/portable/) beside the
 * OpenSSL provider in the same run: AES-128 blocks/s (one ECB call, key
 * schedule included, as the provider contract has it), AES-CMAC of a 32-byte
 * message/s, SHA-256 and SHA-512 MB/s (64 KiB messages), Ed25519
 * verifications/s (RFC 8032 TEST 2). Each line prints both rates and
 * portable / OpenSSL as a ratio. Figures only, never a fail. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "keys/crypto.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/portable/provider_portable.h"
#include "keys/portable/sha512.h"

#define MIN_SECONDS 0.3

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t big[65536];
static int failures;

/* RFC 8032 7.1 TEST 2: public key, message 0x72, signature. */
static const uint8_t test2_public[32] = {
    0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a, 0xa7, 0x4d, 0x1b, 0x7e, 0xbc,
    0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4, 0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c};
static const uint8_t test2_message[1] = {0x72};
static const uint8_t test2_signature[64] = {
    0x92, 0xa0, 0x09, 0xa9, 0xf0, 0xd4, 0xca, 0xb8, 0x72, 0x0e, 0x82, 0x0b, 0x5f, 0x64, 0x25, 0x40,
    0xa2, 0xb2, 0x7b, 0x54, 0x16, 0x50, 0x3f, 0x8f, 0xb3, 0x76, 0x22, 0x23, 0xeb, 0xdb, 0x69, 0xda,
    0x08, 0x5a, 0xc1, 0xe4, 0x3e, 0x15, 0x99, 0x6e, 0x45, 0x8f, 0x36, 0x13, 0xd0, 0xf1, 0x1d, 0x8c,
    0x38, 0x7b, 0x2e, 0xae, 0xb4, 0x30, 0x2a, 0xee, 0xb0, 0x0d, 0x29, 0x16, 0x12, 0xbb, 0x0c, 0x00};

/* What one measured call does: kind picks the operation, portable the side. */
static void op(int kind, int portable)
{
    static const uint8_t key[16] = {0x2b, 0x7e, 0x15, 0x16};
    static uint8_t block[16], mac[16], digest[64];
    const struct crypto_provider *ossl = crypto_openssl();
    unsigned int n = 0;
    leal_err err = LEAL_OK;
    switch (kind) {
    case 0:
        err = portable ? crypto_portable_aes128_ecb_encrypt(key, block, block)
                       : ossl->aes128_ecb_encrypt(key, block, block);
        break;
    case 1:
        err = portable ? crypto_portable_aes128_cmac(key, big, 32, mac)
                       : ossl->aes128_cmac(key, big, 32, mac);
        break;
    case 2:
        err = portable ? crypto_portable_sha256(big, sizeof big, digest)
                       : ossl->sha256(big, sizeof big, digest);
        break;
    case 4:
        err = (portable ? crypto_portable_ed25519_verify : ossl->ed25519_verify)(
            test2_public, test2_message, sizeof test2_message, test2_signature);
        break;
    default:
        if (portable)
            portable_sha512(big, sizeof big, digest);
        else if (EVP_Digest(big, sizeof big, digest, &n, EVP_sha512(), NULL) != 1)
            err = LEAL_E_CRYPTO;
        break;
    }
    if (err != LEAL_OK)
        failures++;
}

/* Calls per second of op(kind, portable), timed over at least MIN_SECONDS. */
static double rate(int kind, int portable)
{
    long calls = 0, batch = 1;
    double start = now(), elapsed;
    do {
        for (long i = 0; i < batch; i++)
            op(kind, portable);
        calls += batch;
        batch *= 2;
        elapsed = now() - start;
    } while (elapsed < MIN_SECONDS);
    return (double)calls / elapsed;
}

int main(void)
{
    static const char *const names[] = {"AES-128 block (ECB call)", "AES-CMAC of 32 bytes",
                                        "SHA-256 (64 KiB)", "SHA-512 (64 KiB)",
                                        "Ed25519 verification"};
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)i;
    for (int kind = 0; kind < 5; kind++) {
        double p = rate(kind, 1), o = rate(kind, 0);
        if (kind < 2 || kind == 4)
            printf("%s: portable %.0f/s, openssl %.0f/s; ratio portable/openssl %.3f\n",
                   names[kind], p, o, p / o);
        else
            printf("%s: portable %.1f MB/s, openssl %.1f MB/s; ratio portable/openssl %.3f\n",
                   names[kind], p * sizeof big / 1e6, o * sizeof big / 1e6, p / o);
    }
    if (failures) {
        fprintf(stderr, "bench_portable: %d calls failed\n", failures);
        return 1;
    }
    return 0;
}
