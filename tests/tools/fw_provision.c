/*
 * fw_provision - the provisioning lines of the Cortex-M3 terminal
 * (firmware/port/cortex-m/till.c) for an integration test: the sealed
 * terminal bundle opened with its passphrase (LEAL_BUNDLE_PASSPHRASE) and
 * written as the plaintext codec (keys/bundle.h) in hex, and a seed for the
 * board's random generator from getrandom.
 *
 *   fw_provision BUNDLE.ltb > lines      (SEED <64 hex>, then BUNDLE <hex>)
 *
 * The output carries the terminal's keys in the clear, on purpose: it goes
 * into the emulated board's UART over a pipe, as a provisioning jig would
 * load a real reader. A test tool, never installed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "host/keys/keyfile.h"
#include "keys/base/ct.h"
#include "keys/bundle.h"

static void put_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

int main(int argc, char **argv)
{
    static struct bundle b;
    static uint8_t enc[BUNDLE_MAX_ENCODED];
    uint8_t seed[32];
    const char *pass = getenv("LEAL_BUNDLE_PASSPHRASE");
    size_t len = 0;
    leal_err err;
    if (argc != 2 || pass == NULL) {
        fprintf(stderr, "usage: LEAL_BUNDLE_PASSPHRASE=... fw_provision BUNDLE.ltb\n");
        return 2;
    }
    if ((err = keyfile_load_bundle(argv[1], pass, strlen(pass), &b)) != LEAL_OK ||
        (err = bundle_encode(&b, enc, sizeof enc, &len)) != LEAL_OK) {
        fprintf(stderr, "fw_provision: %s: %s\n", argv[1], leal_strerror(err));
        bundle_clear(&b);
        return 1;
    }
    bundle_clear(&b);
    if (getrandom(seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
        fprintf(stderr, "fw_provision: getrandom failed\n");
        return 1;
    }
    printf("SEED ");
    put_hex(seed, sizeof seed);
    printf("\nBUNDLE ");
    put_hex(enc, len);
    printf("\n");
    leal_wipe(enc, sizeof enc);
    leal_wipe(seed, sizeof seed);
    return fflush(stdout) == 0 ? 0 : 1;
}
