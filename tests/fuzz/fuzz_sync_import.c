/* fuzz_sync_import.c - `leal sync import` (host/sync/sync.h) on any bytes,
 * into one real ledger per process (a temporary file, removed at exit) that
 * knows program 7, terminal 1 and cards 1001 and 1002. The keystore holds a
 * fixed journal master, so seeds made from real journals under it
 * (tests/fuzz/corpus/fuzz_sync_import: an export of every operation, one
 * with a settle) carry valid MACs for mutations to break: the entries
 * before a broken one are taken, the rest not. Whatever the bytes: no
 * sanitizer finding; an input that is refused names a fault or gives a
 * parse error; what the import reports adds up (taken = posted + recorded
 * + held); and every 64 inputs the ledger still verifies. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/ledger/ledger.h"
#include "host/sync/sync.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/sync_ledger.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PROGRAM 7

static struct ledger *ledger;
static struct keyset keys;
static char dir[] = "/tmp/leal-fuzz-sync-XXXXXX";
static unsigned runs;

static void cleanup(void)
{
    char path[64];
    ledger_close(ledger);
    ledger = NULL;
    for (int i = 0; i < 3; i++) {
        static const char *const tail[] = {"ledger.db", "ledger.db-wal", "ledger.db-shm"};
        snprintf(path, sizeof path, "%s/%s", dir, tail[i]);
        unlink(path);
    }
    rmdir(dir);
}

static void must(leal_err err)
{
    if (err != LEAL_OK)
        abort();
}

static void setup(void)
{
    char path[64];
    if (mkdtemp(dir) == NULL)
        abort();
    atexit(cleanup);
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    must(sync_ledger_make(
        path, &(struct sync_ledger_spec){"f", LEDGER_PROGRAM_SINGLE, 1, 2, 1001, 0, 0}, &ledger));
    /* The fixed journal master, version 1, issuer 1. */
    keys.issuer_id = 1;
    keys.nprograms = 1;
    keys.programs[0].id = PROGRAM;
    keys.programs[0].roles[KEY_ROLE_JOURNAL_MAC - KEY_ROLE_FIRST].nversions = 1;
    keys.programs[0].roles[KEY_ROLE_JOURNAL_MAC - KEY_ROLE_FIRST].v[0].version = 1;
    for (int i = 0; i < 16; i++)
        keys.programs[0].roles[KEY_ROLE_JOURNAL_MAC - KEY_ROLE_FIRST].v[0].key[i] =
            (uint8_t)(0x40 + i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct sync_keys k = {crypto_openssl(), &keys};
    struct sync_result r;
    leal_err err;
    if (ledger == NULL)
        setup();
    err = sync_import(ledger, &k, data, size, &r);
    if (r.taken != r.posted + r.recorded + r.held)
        abort();
    if (err != LEAL_OK && r.fault != LEAL_OK && r.fault != err)
        abort();
    if (err == LEAL_OK && r.taken + r.duplicates != r.info.count)
        abort();
    if (++runs % 64 == 0 && ledger_verify(ledger, NULL) != LEAL_OK)
        abort();
    return 0;
}
