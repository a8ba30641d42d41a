/* bench_qr.c - QR token verifications per second (cardlayout/qr/qr_token.h:
 * text, Base45, fields, signatures) with the OpenSSL provider beside the
 * Ed25519 verify rate `openssl speed -seconds 1 ed25519` reports in the same
 * run (goal: a static code, one signature, at >= 0.9 of it), and with the
 * portable provider a terminal uses. The spending code carries two
 * signatures (the issuer's certificate and the phone's), so its ratio is
 * printed per signature too, and with the terminal's certificate cache
 * (the issuer's signature verified once per phone). The golden codes of tests/vectors/qr_static.txt
 * and qr_spend.txt. CPU time, as bench_portable. Figures only, never a fail. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cardlayout/qr/qr_token.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/portable/provider_portable.h"

#define MIN_SECONDS 1.0

static const char static_text[] =
    "LQ:W50V50000700000000000.00112000000100Z7A-FAZVI6/DYCEF3R9NNYXH3X82N4FR66MU77E96FU+SEAG1QPM "
    "SW.3GHHKT4NX0X2AUI5NCS.NTOBP8RK.2P0O58O2+CUDM5RSM";
static const char spend_text[] =
    "LQ:X50V50000700000000000.00112000000200Z7AK8A000K:00005L2KX7803EGTHGHTOIRF1TX9:0G%ZJ-T52-5K1J$"
    "GO-%AGJ5O+C733A43GO8HQOP%5:-RA779+2SU8/RS1C503HBAV/"
    "FKS7OFMCDFE5*M0ECPQI:WQ$29.TJ8GR.0B+U5XP3Z8BU5U%M5A+MN2G5K0XLB000100185B6Q-02 "
    "29+7KP21FONPKOV8D*C82RH93J55N+F0/7SHJRQF8*N1NZMT$P%WN1VB5MLX*DTAIM.KI IRW82KE23U+GQOAK";

/* RFC 8032 7.1 TEST 1 public key: the golden codes' `qr` key version 1. */
static const struct qr_key key = {1,
                                  {0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe,
                                   0xd3, 0xc9, 0x64, 0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6,
                                   0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a}};

static leal_err no_random(uint8_t *out, size_t n)
{
    (void)out;
    (void)n;
    return LEAL_E_RANDOM;
}
static const struct crypto_provider portable = CRYPTO_PORTABLE_PROVIDER(no_random);

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int failures;

/* Verifications per second of text with cp; with certs, the terminal's
 * certificate cache (QR.md "Certificate cache"). */
static double rate_cached(const struct crypto_provider *cp, const char *text,
                          struct qr_cert_cache *certs)
{
    struct qr_expect e = {7, 1780000000u, &key, 1, NULL, NULL, NULL, certs};
    struct qr_token t;
    size_t len = strlen(text);
    long calls = 0, batch = 1;
    double start = cpu_now(), elapsed;
    do {
        for (long i = 0; i < batch; i++)
            if (qr_verify_text(cp, text, len, &e, &t) != LEAL_OK)
                failures++;
        calls += batch;
        batch *= 2;
        elapsed = cpu_now() - start;
    } while (elapsed < MIN_SECONDS);
    return (double)calls / elapsed;
}

static double rate(const struct crypto_provider *cp, const char *text)
{
    return rate_cached(cp, text, NULL);
}

/* The verify/s column of `openssl speed -seconds 1 ed25519`; 0 if unreadable. */
static double openssl_speed(void)
{
    FILE *p = popen("openssl speed -seconds 1 ed25519 2>/dev/null", "r");
    char line[512];
    double sign_s, verify_s, v = 0;
    if (p == NULL)
        return 0;
    while (fgets(line, sizeof line, p))
        if (sscanf(line, " 253 bits EdDSA (Ed25519) %*fs %*fs %lf %lf", &sign_s, &verify_s) == 2)
            v = verify_s;
    pclose(p);
    return v;
}

int main(void)
{
    /* The reference before and after leal's static-code run, averaged: the
     * machine is shared, and load moves both alike only when they interleave. */
    double before = openssl_speed();
    double s_ossl = rate(crypto_openssl(), static_text);
    double after = openssl_speed();
    double ref = (before + after) / 2;
    double p_ossl = rate(crypto_openssl(), spend_text);
    double s_port = rate(&portable, static_text);
    double p_port = rate(&portable, spend_text);
    struct qr_cert_seen slots[8];
    struct qr_cert_cache cache = {slots, 8, 0};
    memset(slots, 0, sizeof slots);
    double c_ossl = rate_cached(crypto_openssl(), spend_text, &cache);
    double c_port = rate_cached(&portable, spend_text, &cache);
    if (before <= 0 || after <= 0) {
        fprintf(stderr, "bench_qr: could not read 'openssl speed ed25519'\n");
        return 1;
    }
    printf("openssl speed -seconds 1 ed25519: %.0f and %.0f verify/s, mean %.0f (the "
           "reference)\n",
           before, after, ref);
    printf("static code (1 signature), OpenSSL provider: %.0f/s; ratio to openssl speed %.3f "
           "(goal >= 0.9)\n",
           s_ossl, s_ossl / ref);
    printf("spending code (2 signatures), OpenSSL provider: %.0f/s; ratio %.3f, per signature "
           "%.3f\n",
           p_ossl, p_ossl / ref, 2 * p_ossl / ref);
    printf("static code, portable provider (terminals): %.0f/s; ratio to openssl speed %.3f\n",
           s_port, s_port / ref);
    printf("spending code, portable provider: %.0f/s; ratio %.3f, per signature %.3f\n", p_port,
           p_port / ref, 2 * p_port / ref);
    printf("spending code, the phone's certificate cached at the terminal (1 signature): "
           "OpenSSL %.0f/s, ratio %.3f; portable %.0f/s, ratio %.3f\n",
           c_ossl, c_ossl / ref, c_port, c_port / ref);
    if (failures) {
        fprintf(stderr, "bench_qr: %d verifications failed\n", failures);
        return 1;
    }
    return 0;
}
