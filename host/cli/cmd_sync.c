/* cmd_sync.c - `leal sync import FILE...` and `leal sync ack` (host/sync/sync.h). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/file.h"
#include "host/ledger/ledger_reconcile.h"
#include "host/keys/keyfile.h"
#include "host/keys/passphrase.h"
#include "host/sync/sync.h"
#include "keys/base/ct.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/hosted/secmem.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SYNC_MAX_FILES 256
#define SYNC_MAX_EXPORT (64u << 20)

static const char sync_help[] =
    "usage: leal sync import FILE... [--no-reconcile] [--json] [--db PATH] [--keystore PATH]\n"
    "                        [--passphrase-file F]\n"
    "       leal sync ack --terminal ID -o FILE [--json] [--db PATH] [--keystore PATH]\n"
    "                     [--passphrase-file F]\n"
    "import takes terminal journal exports (leal-terminal journal export) into the ledger:\n"
    "each entry's MAC and the chain are verified with the terminal's journal key (derived\n"
    "from the keystore's journal master), and each operation is posted exactly once by\n"
    "(terminal, epoch, sequence): importing a file again, or an overlapping one, posts\n"
    "nothing twice. A broken MAC or chain takes nothing from that entry on, names it and\n"
    "flags the terminal (exit 1). ack writes the acknowledgment the terminal loads to drop\n"
    "what the host took (leal-terminal journal ack FILE). After the files, import\n"
    "reconciles (leal reconcile) and says so when it found something new;\n"
    "--no-reconcile leaves that to a later leal reconcile.\n";

/* The keystore's journal masters and tmac masters (the TMVs of EV2/EV3
 * cards, host/sync/sync_tmac.h) only: every other role is wiped at once. */
int sync_cli_journal_keys(const struct lcli_opt *o, size_t n, struct keyset **ks)
{
    const char *file = lcli_get(o, n, "passphrase-file"), *given = lcli_get(o, n, "keystore");
    char path[4096];
    struct passphrase pass;
    leal_err err;
    if (given)
        snprintf(path, sizeof path, "%s", given);
    else if ((err = file_default_path("keystore", path, sizeof path)) != LEAL_OK)
        return cli_fail(err, "keystore: no default path; give --keystore PATH");
    if ((*ks = secmem_alloc(sizeof **ks)) == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "keystore");
    if ((err = passphrase_get(file, "LEAL_PASSPHRASE", "keystore", false, &pass)) != LEAL_OK)
        return cli_passphrase_fail(err, file, "--passphrase-file", "LEAL_PASSPHRASE", "keystore");
    err = keyfile_load(path, KEYSTORE_KIND_KEYSTORE, pass.text, pass.len, *ks);
    passphrase_clear(&pass);
    if (err != LEAL_OK)
        return cli_fail(err, "keystore %s", path);
    for (int p = 0; p < (*ks)->nprograms; p++)
        for (int r = KEY_ROLE_FIRST; r <= KEY_ROLE_LAST; r++)
            if (r != KEY_ROLE_JOURNAL_MAC && r != KEY_ROLE_TMAC)
                leal_wipe(&(*ks)->programs[p].roles[r - KEY_ROLE_FIRST],
                          sizeof(*ks)->programs[p].roles[0]);
    return 0;
}

void sync_cli_free_keys(struct keyset *ks)
{
    if (ks == NULL)
        return;
    keyset_clear(ks);
    secmem_free(ks);
}

static void print_result(const char *file, const struct sync_result *r, bool json)
{
    const struct journal_export_info *h = &r->info;
    if (json) {
        printf("{\"file\":");
        cli_json_string(stdout, file);
        printf(",\"program\":%u,\"terminal\":%u,\"epoch\":%u,\"first_seq\":%u,\"last_seq\":%u,"
               "\"taken\":%u,\"posted\":%u,\"recorded\":%u,\"held\":%u,\"undone\":%u,"
               "\"already_there\":%u,\"held_posted\":%u,\"cards_flagged\":%u,"
               "\"terminal_flagged\":%s}\n",
               h->program_id, h->terminal_id, h->epoch, h->first_seq, h->last_seq, r->taken,
               r->posted, r->recorded, r->held, r->undone, r->duplicates, r->held_posted,
               r->cards_flagged, r->terminal_flagged ? "true" : "false");
        return;
    }
    printf("%s: terminal %u, epoch %u, sequences %u to %u: %u taken (%u posted, %u recorded "
           "without movement, %u held, %u undone by a settle), %u already there",
           file, h->terminal_id, h->epoch, h->first_seq, h->last_seq, r->taken, r->posted,
           r->recorded, r->held, r->undone, r->duplicates);
    if (r->held_posted)
        printf("; %u entr%s held before now posted", r->held_posted,
               r->held_posted == 1 ? "y" : "ies");
    if (r->cards_flagged)
        printf("; %u card(s) flagged for reconciliation", r->cards_flagged);
    if (r->terminal_flagged)
        printf("; terminal %u flagged", h->terminal_id);
    if (r->tmac_checked)
        printf("; %u TMV%s checked with the cards' tmac keys, %u not the card's word "
               "(leal reconcile)",
               r->tmac_checked, r->tmac_checked == 1 ? "" : "s", r->tmac_bad);
    printf("\n");
}

/* One file: taken, or the one-line error saying where it stopped. */
static int import_one(struct ledger *l, const struct sync_keys *k, const char *file, bool json,
                      int64_t *taken)
{
    struct sync_result r;
    uint8_t *data = NULL;
    size_t len = 0;
    leal_err err = file_read(file, SYNC_MAX_EXPORT, &data, &len);
    if (err != LEAL_OK)
        return cli_fail(err, "%s", file);
    err = sync_import(l, k, data, len, &r);
    free(data);
    *taken += r.taken + r.held_posted;
    if (err == LEAL_OK) {
        print_result(file, &r, json);
        return CLI_EXIT_OK;
    }
    if (r.fault == err)
        return cli_error(err, CLI_EXIT_FAIL,
                         "%s: terminal %u, epoch %u, sequence %u: %s; %u new entries taken before "
                         "it; terminal %u flagged",
                         file, r.info.terminal_id, r.fault_epoch, r.fault_seq, r.why, r.taken,
                         r.info.terminal_id);
    if (r.why[0])
        return cli_error(err, cli_exit_code(err), "%s: %s", file, r.why);
    return cli_fail(err, "%s", file);
}

/* Reconciliation after the imports (ledger_reconcile.h): a line only when
 * it found something new. */
static int reconcile_after(struct ledger *l, bool json)
{
    struct ledger_reconcile_counts k;
    leal_err err = ledger_reconcile(l, 0, 0, &k);
    if (err != LEAL_OK)
        return lcli_fail(l, err, "reconcile after the import");
    if (k.found == 0)
        return CLI_EXIT_OK;
    if (json)
        printf("{\"reconcile\":{\"cards\":%u,\"new\":%u,\"fraud\":%u,\"blocked\":%u,"
               "\"open\":%u}}\n",
               k.cards, k.found, k.fraud, k.blocked, k.open);
    else
        printf("reconcile: %u new finding(s) (%u fraud, %u card(s) blocked), %u open: leal "
               "reconcile lists them\n",
               k.found, k.fraud, k.blocked, k.open);
    return CLI_EXIT_OK;
}

int sync_cli_import(int argc, char **argv, const struct keyset *given)
{
    struct lcli_opt o[] = {{"db", 0, 0},   {"keystore", 0, 0},     {"passphrase-file", 0, 0},
                           {"json", 1, 0}, {"no-reconcile", 1, 0}, {"help", 1, 0}};
    const char *pos[SYNC_MAX_FILES + 1];
    size_t npos = N(pos);
    struct keyset *ks = NULL;
    struct ledger *l = NULL;
    int rc, worst = CLI_EXIT_OK;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(sync_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos < 1)
        return cli_usage("leal sync import needs at least one FILE");
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    if ((rc = given ? 0 : sync_cli_journal_keys(o, N(o), &ks)) == 0) {
        const struct sync_keys k = {crypto_openssl(), given ? given : ks};
        int64_t taken = 0;
        leal_err err;
        for (size_t i = 0; i < npos; i++) {
            rc = import_one(l, &k, pos[i], lcli_get(o, N(o), "json") != NULL, &taken);
            if (rc > worst)
                worst = rc;
        }
        /* The planner's counts after a large import, before reconciliation
         * and the reports read what it brought. */
        if ((err = ledger_stats_refresh(l, taken)) != LEAL_OK && worst == CLI_EXIT_OK)
            worst = lcli_fail(l, err, "statistics after the import");
        rc = lcli_get(o, N(o), "no-reconcile")
                 ? worst
                 : reconcile_after(l, lcli_get(o, N(o), "json") != NULL);
        rc = rc > worst ? rc : worst;
    }
    sync_cli_free_keys(ks);
    ledger_close(l);
    return rc;
}

static int ack_write(struct ledger *l, const struct sync_keys *k, int64_t terminal,
                     const char *file, bool json)
{
    struct journal_ack a;
    uint8_t out[JOURNAL_ACK_LEN];
    leal_err err = sync_ack(l, k, terminal, &a, out);
    if (err == LEAL_E_SYNC_NOTHING || err == LEAL_E_UNKNOWN_ID)
        return cli_error(err, CLI_EXIT_USAGE, "terminal %lld: %s", (long long)terminal,
                         err == LEAL_E_UNKNOWN_ID ? "not registered in the ledger"
                                                  : leal_strerror(err));
    if (err != LEAL_OK)
        return lcli_fail(l, err, "sync ack");
    if ((err = file_write_atomic(file, out, sizeof out, 0600)) != LEAL_OK)
        return cli_fail(err, "writing %s", file);
    if (json) {
        printf("{\"file\":");
        cli_json_string(stdout, file);
        printf(",\"program\":%u,\"terminal\":%u,\"epoch\":%u,\"seq\":%u,\"key_version\":%u,"
               "\"bytes\":%d}\n",
               a.program_id, a.terminal_id, a.epoch, a.seq, a.key_version, JOURNAL_ACK_LEN);
    } else {
        printf("wrote ack %s: terminal %u took every entry up to epoch %u sequence %u (%d bytes)\n",
               file, a.terminal_id, a.epoch, a.seq, JOURNAL_ACK_LEN);
    }
    return CLI_EXIT_OK;
}

static int ack(int argc, char **argv)
{
    struct lcli_opt o[] = {{"terminal", 0, 0}, {"output", 0, 0},          {"db", 0, 0},
                           {"keystore", 0, 0}, {"passphrase-file", 0, 0}, {"json", 1, 0},
                           {"help", 1, 0}};
    const char *pos[LCLI_MAX_POS], *t, *file;
    char *args[32];
    size_t npos = LCLI_MAX_POS;
    struct keyset *ks = NULL;
    struct ledger *l = NULL;
    int64_t terminal;
    int rc;
    if (argc > (int)N(args))
        return cli_usage("leal sync ack --terminal ID -o FILE");
    for (int i = 0; i < argc; i++)
        args[i] = strcmp(argv[i], "-o") == 0 ? (char *)"--output" : argv[i];
    if ((rc = lcli_parse(argc, args, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(sync_help, stdout);
        return CLI_EXIT_OK;
    }
    t = lcli_get(o, N(o), "terminal");
    file = lcli_get(o, N(o), "output");
    if (npos != 0 || t == NULL || file == NULL || !file[0])
        return cli_usage("leal sync ack needs --terminal ID -o FILE");
    if (lcli_id(t, &terminal) != LEAL_OK || terminal > UINT32_MAX)
        return cli_usage("--terminal '%s': a terminal id from 1 to 4294967295", t);
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    if ((rc = sync_cli_journal_keys(o, N(o), &ks)) == 0) {
        const struct sync_keys k = {crypto_openssl(), ks};
        rc = ack_write(l, &k, terminal, file, lcli_get(o, N(o), "json") != NULL);
    }
    sync_cli_free_keys(ks);
    ledger_close(l);
    return rc;
}

int cmd_sync(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        fputs(sync_help, stdout);
        return CLI_EXIT_OK;
    }
    if (argc >= 2 && strcmp(argv[1], "import") == 0)
        return sync_cli_import(argc - 1, argv + 1, NULL);
    if (argc >= 2 && strcmp(argv[1], "ack") == 0)
        return ack(argc - 1, argv + 1);
    return cli_usage("leal sync: expected import or ack");
}
