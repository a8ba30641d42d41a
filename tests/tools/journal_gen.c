/*
 * journal_gen - terminal journal exports for the integration tests, made by
 * the real journal code (tests/lib/journal_gen.h) under the terminal's
 * journal key, derived from the keystore's current journal master as a
 * bundle would carry it (passphrase in LEAL_PASSPHRASE).
 *
 *   journal_gen --keystore KS --program P --terminal T [--time UNIX] [--units N]
 *               [--state FILE] < SCRIPT
 *
 * --state keeps the terminal's storage between runs: read (if it exists)
 * before the script, written after it, so that an ack made by the host in
 * between is applied to the very journal that exported.
 *
 * SCRIPT, one command a line ('#' comments):
 *   card ID desfire|classic POINTS PURSE_CENTS   the card as first read
 *   earn ID AMOUNT POINTS | pay ID CENTS | payearn ID CENTS AMOUNT POINTS
 *   redeem ID REWARD POINTS | stamp ID CARD QTY | bono ID KIND | void ID | balance ID
 *   fill ID CARD                                  a stamp that completes the card (reward)
 *   refuse ID REASON OP | doubt ID AMOUNT POINTS (an earn in doubt) | settle ID done|notdone
 *   repeat N earn ID AMOUNT POINTS                the same earn N times
 *   export FILE | ack FILE | tear | wipe
 * Prints nothing; exits 1 with a line on stderr naming the failing line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/file.h"
#include "keys/derive.h"
#include "keys/keyset.h"
#include "keys/hosted/provider_openssl.h"
#include "tests/lib/journal_gen.h"

static int load_key(const char *ks_path, uint32_t program, uint32_t terminal, uint8_t key[16],
                    uint8_t *version)
{
    struct keyset *ks;
    const struct key_version *kv;
    int err = jgen_keystore(ks_path, program, &ks, &kv);
    if (err != LEAL_OK)
        return err;
    *version = kv->version;
    err = (int)derive_journal_key(crypto_openssl(), kv->key, ks->issuer_id, program, terminal, key);
    jgen_keystore_free(ks);
    return err;
}

/* The storage of an earlier run, and the journal opened on it. */
static int state_load(struct jgen *g, const char *file)
{
    uint8_t *p;
    size_t len;
    int err = (int)file_read(file, (size_t)g->units * JGEN_UNIT, &p, &len);
    if (err == LEAL_E_NOT_FOUND)
        return LEAL_OK;
    if (err != LEAL_OK)
        return err;
    if (len == (size_t)g->units * JGEN_UNIT) {
        memcpy(g->mem, p, len);
        err = jgen_reopen(g);
    } else {
        err = LEAL_E_ARG;
    }
    free(p);
    return err;
}

static int write_export(struct jgen *g, const char *file)
{
    uint8_t *p;
    size_t len;
    int err = jgen_export(g, &p, &len);
    if (err != LEAL_OK)
        return err;
    err = (int)file_write_atomic(file, p, len, 0600);
    free(p);
    return err;
}

static int apply_ack(struct jgen *g, const char *file)
{
    uint8_t *p;
    size_t len;
    int err = (int)file_read(file, 4096, &p, &len);
    if (err != LEAL_OK)
        return err;
    err = jgen_ack(g, p, len);
    free(p);
    return err;
}

static int op_line(struct jgen *g, const char *cmd, const unsigned long long *v, int n)
{
    struct jgen_op op;
    memset(&op, 0, sizeof op);
    op.card_id = v[0];
    if (strcmp(cmd, "earn") == 0 && n == 3) {
        op.op = JOURNAL_OP_EARN;
        op.amount = (uint32_t)v[1];
        op.points = (int64_t)v[2];
    } else if (strcmp(cmd, "doubt") == 0 && n == 3) {
        op.op = JOURNAL_OP_EARN;
        op.amount = (uint32_t)v[1];
        op.points = (int64_t)v[2];
        op.doubt = true;
    } else if (strcmp(cmd, "pay") == 0 && n == 2) {
        op.op = JOURNAL_OP_PAY;
        op.purse = (uint32_t)v[1];
    } else if (strcmp(cmd, "payearn") == 0 && n == 4) {
        op.op = JOURNAL_OP_PAY_EARN;
        op.purse = (uint32_t)v[1];
        op.amount = (uint32_t)v[2];
        op.points = (int64_t)v[3];
    } else if (strcmp(cmd, "redeem") == 0 && n == 3) {
        op.op = JOURNAL_OP_REDEEM;
        op.item = (uint32_t)v[1];
        op.points = -(int64_t)v[2];
    } else if (strcmp(cmd, "stamp") == 0 && n == 3) {
        op.op = JOURNAL_OP_STAMP;
        op.item = (uint32_t)v[1];
        op.quantity = (int16_t)v[2];
    } else if (strcmp(cmd, "fill") == 0 && n == 2) {
        op.op = JOURNAL_OP_STAMP;
        op.item = (uint32_t)v[1];
        op.quantity = 1;
        op.completes = true;
    } else if (strcmp(cmd, "bono") == 0 && n == 2) {
        op.op = JOURNAL_OP_BONO;
        op.item = (uint32_t)v[1];
        op.quantity = 1;
    } else if (strcmp(cmd, "void") == 0 && n == 1) {
        op.op = JOURNAL_OP_VOID;
    } else if (strcmp(cmd, "balance") == 0 && n == 1) {
        op.op = JOURNAL_OP_BALANCE;
    } else if (strcmp(cmd, "refuse") == 0 && n == 3) {
        op.op = JOURNAL_OP_REFUSAL;
        op.reason = (uint16_t)v[1];
        op.item = (uint32_t)v[2];
    } else {
        return LEAL_E_USAGE;
    }
    return jgen_do(g, &op);
}

static int line(struct jgen *g, char *s)
{
    char cmd[16], a[4096], b[16];
    unsigned long long v[5];
    int n;
    if (s[0] == '#' || s[0] == '\n' || s[0] == '\0')
        return LEAL_OK;
    if (sscanf(s, "%15s", cmd) != 1)
        return LEAL_OK;
    if (strcmp(cmd, "export") == 0 && sscanf(s, "%*s %4095s", a) == 1)
        return write_export(g, a);
    if (strcmp(cmd, "ack") == 0 && sscanf(s, "%*s %4095s", a) == 1)
        return apply_ack(g, a);
    if (strcmp(cmd, "tear") == 0)
        return jgen_tear(g) == LEAL_OK && g->rep.status == JOURNAL_TORN ? LEAL_OK : LEAL_E_STATE;
    if (strcmp(cmd, "wipe") == 0)
        return jgen_wipe(g);
    if (strcmp(cmd, "card") == 0 &&
        sscanf(s, "%*s %llu %15s %llu %llu", &v[0], b, &v[1], &v[2]) == 4)
        return jgen_card(g, v[0],
                         strcmp(b, "classic") == 0 ? JOURNAL_CARD_CLASSIC : JOURNAL_CARD_DESFIRE,
                         (int64_t)v[1], (int64_t)v[2]);
    if (strcmp(cmd, "settle") == 0 && sscanf(s, "%*s %llu %15s", &v[0], b) == 2)
        return jgen_settle(g, v[0], strcmp(b, "done") == 0);
    if (strcmp(cmd, "repeat") == 0 &&
        sscanf(s, "%*s %llu earn %llu %llu %llu", &v[4], &v[0], &v[1], &v[2]) == 4) {
        for (unsigned long long i = 0; i < v[4]; i++) {
            int err = op_line(g, "earn", v, 3);
            if (err != LEAL_OK)
                return err;
        }
        return LEAL_OK;
    }
    n = sscanf(s, "%*s %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3]);
    return n >= 1 ? op_line(g, cmd, v, n) : LEAL_E_USAGE;
}

int main(int argc, char **argv)
{
    const char *ks = NULL, *state = NULL;
    unsigned long program = 0, terminal = 0, units = 64;
    unsigned long long now = 1796290000; /* 2026-12-03 09:26:40 UTC */
    uint8_t key[16], version = 0;
    char buf[8192];
    struct jgen g;
    int err, lineno = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--keystore") == 0)
            ks = argv[i + 1];
        else if (strcmp(argv[i], "--program") == 0)
            program = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--terminal") == 0)
            terminal = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--time") == 0)
            now = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--units") == 0)
            units = strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--state") == 0)
            state = argv[i + 1];
    }
    if (ks == NULL || program == 0 || terminal == 0) {
        fprintf(stderr, "usage: journal_gen --keystore KS --program P --terminal T < SCRIPT\n");
        return 2;
    }
    if ((err = load_key(ks, (uint32_t)program, (uint32_t)terminal, key, &version)) != LEAL_OK) {
        fprintf(stderr, "journal_gen: keystore %s: %s\n", ks, leal_strerror((leal_err)err));
        return 1;
    }
    if ((err = jgen_open(&g, key, version, (uint32_t)program, (uint32_t)terminal, (uint32_t)units,
                         now)) != LEAL_OK) {
        fprintf(stderr, "journal_gen: open: %s\n", leal_strerror((leal_err)err));
        return 1;
    }
    if (state && (err = state_load(&g, state)) != LEAL_OK) {
        fprintf(stderr, "journal_gen: state %s: %s\n", state, leal_strerror((leal_err)err));
        jgen_close(&g);
        return 1;
    }
    while (fgets(buf, sizeof buf, stdin)) {
        lineno++;
        if ((err = line(&g, buf)) != LEAL_OK) {
            fprintf(stderr, "journal_gen: line %d: %s", lineno, buf);
            fprintf(stderr, "journal_gen: %s\n", leal_strerror((leal_err)err));
            jgen_close(&g);
            return 1;
        }
    }
    err = state ? (int)file_write_atomic(state, g.mem, (size_t)g.units * JGEN_UNIT, 0600) : 0;
    jgen_close(&g);
    return err != LEAL_OK;
}
