/* cmd_keys.c - `leal keys ...`: the issuer keystore (keys/KEYS.md). */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/evp.h>

#include "cli.h"
#include "host/keys/passphrase.h"
#include "host/books/parse.h"
#include "host/desk/terminal_bundle.h"
#include "host/file.h"
#include "host/keys/keyfile.h"
#include "keys/base/hex.h"
#include "keys/base/limits.h"
#include "keys/derive.h"
#include "keys/hosted/provider_openssl.h"
#include "keys/hosted/secmem.h"
#include "ledger_cli.h"

struct keys_opts {
    char keystore[4096];
    const char *pass_file;
    const char *backup_pass_file;
    const char *bundle_pass_file;
    const char *issuer;
    const char *program;
    const char *terminal;
    const char *expires;
    const char *output;
    const char *issuer_id;
    const char *at;
    const char *db;
    const char *server_pin[BUNDLE_MAX_SERVER_PINS];
    int server_pins; /* --server-pin given, counted past the maximum */
    int json;
    int force;
    int replace_other_issuer;
    struct keystore_kdf kdf; /* what every file written is sealed with */
};

static const char keys_usage[] =
    "usage: leal keys SUBCOMMAND [OPTIONS]\n"
    "\n"
    "The issuer keystore: master keys per program and role, encrypted under a passphrase\n"
    "(scrypt, AES-256-GCM). Key bytes are never shown; fingerprints identify them.\n"
    "\n"
    "  init --issuer NAME --program ID      create a keystore with a first program\n"
    "  add-program ID                       add a program (fresh masters for every role)\n"
    "  list [--json]                        issuer, programs, roles, versions, fingerprints\n"
    "  rotate ROLE [--program ID]           add a new version of a role; old ones stay readable\n"
    "  backup -o FILE                       write a backup under a passphrase of its own\n"
    "  restore FILE [--force [--replace-other-issuer]]\n"
    "                                       verify a backup whole, then write the keystore\n"
    "  export-terminal --terminal ID --program ID --expires YYYY-MM-DD -o FILE [--db PATH]\n"
    "                  [--server-pin sha256//BASE64 [--server-pin ...]]\n"
    "                                       write a terminal key bundle (terminal roles only)\n"
    "                                       for a terminal of that program in the ledger, with\n"
    "                                       the sync server's key pinned (at most two: the\n"
    "                                       current key and the next, for a rollover)\n"
    "  verify-bundle FILE [--issuer-id HEX] [--program ID] [--at YYYY-MM-DD] [--json]\n"
    "                                       check a bundle as a terminal will\n"
    "\n"
    "Options:\n"
    "  --keystore PATH                 default $XDG_DATA_HOME/leal/keystore\n"
    "  --passphrase-file FILE          keystore passphrase (else LEAL_PASSPHRASE, else prompt)\n"
    "  --backup-passphrase-file FILE   backup passphrase (else LEAL_BACKUP_PASSPHRASE)\n"
    "  --bundle-passphrase-file FILE   bundle passphrase (else LEAL_BUNDLE_PASSPHRASE)\n"
    "  --force                         restore over an existing keystore (kept beside it as\n"
    "                                  KEYSTORE.replaced-YYYYmmddHHMMSS), overwrite -o FILE\n"
    "  --replace-other-issuer          with restore --force: the keystore being replaced is\n"
    "                                  another issuer's, or does not open with the passphrase\n"
    "  --server-pin sha256//BASE64     a 'terminal pin' line of leal serve (export-terminal)\n"
    "  --db PATH                       ledger (export-terminal), default\n"
    "                                  $XDG_DATA_HOME/leal/ledger.db\n"
    "\n"
    "Passphrase files: the first line is the passphrase (a NUL byte in it is refused, later\n"
    "lines are ignored); a pipe works too. Scripts should use them: LEAL_*PASSPHRASE variables\n"
    "are read and removed from the environment at start, but other processes may have seen\n"
    "them. -o FILE is written only into a folder that exists.\n"
    "\n"
    "Environment: LEAL_SCRYPT_LOG2N=N (10 to 17) seals what keys writes with scrypt\n"
    "N = 2^N instead of 2^17, for tests and demos only: each step down halves the work of\n"
    "guessing a stolen file's passphrase.\n"
    "\n"
    "Roles: picc-master app-master purse-credit terminal package qr journal classic-a\n"
    "       classic-b classic-seal mad-b tmac\n";

static int parse_u32(const char *s, int base, uint32_t *out)
{
    char *end;
    unsigned long v;
    if (s == NULL || *s == '\0' || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    v = strtoul(s, &end, base);
    if (errno != 0 || *end != '\0' || v == 0 || v > UINT32_MAX)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static void format_time(uint64_t t, char *out, size_t cap, const char *fmt)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, fmt, &tm);
}

static int fail_file(leal_err err, const char *what, const char *path)
{
    switch (err) {
    case LEAL_E_NOT_FOUND:
        if (strcmp(what, "keystore") == 0)
            fprintf(stderr,
                    "leal: keystore %s does not exist; create it with 'leal keys init' or "
                    "name it with --keystore\n",
                    path);
        else
            fprintf(stderr, "leal: %s %s does not exist\n", what, path);
        return CLI_EXIT_FAIL;
    case LEAL_E_FORMAT:
        fprintf(stderr, "leal: %s is not a leal %s file\n", path, what);
        return CLI_EXIT_FAIL;
    case LEAL_E_KEYSTORE_CORRUPT:
        /* The generic message sends the reader to restore the keystore,
         * which is right only for the keystore itself. */
        if (strcmp(what, "backup") == 0) {
            fprintf(stderr, "leal: backup %s is damaged; use another copy of the backup\n", path);
            return CLI_EXIT_FAIL;
        }
        if (strcmp(what, "bundle") == 0) {
            fprintf(stderr,
                    "leal: bundle %s is damaged; export it again with 'leal keys "
                    "export-terminal'\n",
                    path);
            return CLI_EXIT_FAIL;
        }
        return cli_fail(err, "%s %s", what, path);
    default:
        return cli_fail(err, "%s %s", what, path);
    }
}

static const char *pass_option(const char *what)
{
    if (strcmp(what, "backup") == 0)
        return "--backup-passphrase-file";
    if (strcmp(what, "bundle") == 0)
        return "--bundle-passphrase-file";
    return "--passphrase-file";
}

static int get_pass(const char *file, const char *env, const char *what, bool confirm,
                    struct passphrase *p)
{
    leal_err err = passphrase_get(file, env, what, confirm, p);
    if (err == LEAL_OK)
        return CLI_EXIT_OK;
    return cli_passphrase_fail(err, file, pass_option(what), env, what);
}

/* The folder of an output file must already exist: a backup aimed at a disk
 * that is not mounted must fail, not land on the local disk. */
static int check_out_dir(const char *what, const char *path)
{
    char dir[4096];
    struct stat st;
    if (file_parent(path, dir, sizeof dir) != LEAL_OK)
        return cli_usage("%s path %s is too long", what, path);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr,
                "leal: folder %s does not exist (is the disk mounted?); the %s was not written\n",
                dir, what);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* A write failed: a folder that vanished meanwhile is named as such. */
static int fail_write(leal_err err, const char *what, const char *path)
{
    if (err == LEAL_E_NOT_FOUND)
        return check_out_dir(what, path) != CLI_EXIT_OK ? CLI_EXIT_USAGE
                                                        : cli_fail(err, "%s %s", what, path);
    if (err == LEAL_E_EXISTS) {
        fprintf(stderr, "leal: %s already exists; nothing was written\n", path);
        return CLI_EXIT_USAGE;
    }
    return cli_fail(err, "%s %s", what, path);
}

static struct keyset *keyset_new(void)
{
    return secmem_alloc(sizeof(struct keyset)); /* zeroed, out of core dumps */
}

static leal_err os_random(uint8_t *out, size_t n)
{
    return crypto_openssl()->random(out, n);
}

/* Asks for the passphrase of the existing keystore named by the options. */
static int ask_keystore_pass(const struct keys_opts *o, struct passphrase *pass)
{
    struct stat st;
    memset(pass, 0, sizeof *pass);
    if (stat(o->keystore, &st) != 0)
        return fail_file(LEAL_E_NOT_FOUND, "keystore", o->keystore);
    return get_pass(o->pass_file, "LEAL_PASSPHRASE", "keystore", false, pass);
}

/* Decrypts the keystore named by the options into secret memory. */
static int decrypt(const struct keys_opts *o, const struct passphrase *pass, struct keyset **out)
{
    struct keyset *ks;
    leal_err err;
    *out = NULL;
    if ((ks = keyset_new()) == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "keystore");
    err = keyfile_load(o->keystore, KEYSTORE_KIND_KEYSTORE, pass->text, pass->len, ks);
    if (err != LEAL_OK) {
        secmem_free(ks);
        return fail_file(err, "keystore", o->keystore);
    }
    *out = ks;
    return CLI_EXIT_OK;
}

/* Asks for the passphrase and decrypts. */
static int load(const struct keys_opts *o, struct keyset **out, struct passphrase *pass)
{
    int rc;
    *out = NULL;
    if ((rc = ask_keystore_pass(o, pass)) != 0)
        return rc;
    return decrypt(o, pass, out);
}

static void release(struct keyset *ks)
{
    if (ks) {
        keyset_clear(ks);
        secmem_free(ks);
    }
}

static int save(const struct keys_opts *o, const struct keyset *ks, const struct passphrase *pass)
{
    const struct keyfile_seal seal = {KEYSTORE_KIND_KEYSTORE, pass->text, pass->len, o->kdf};
    leal_err err = keyfile_store(o->keystore, &seal, ks, false);
    return err == LEAL_OK ? CLI_EXIT_OK : fail_file(err, "keystore", o->keystore);
}

static int program_arg(const char *s, uint32_t *id)
{
    if (parse_u32(s, 10, id) != 0) {
        fprintf(stderr, "leal: program id '%s' must be a whole number from 1 to 4294967295\n",
                s ? s : "");
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int keys_init(const struct keys_opts *o)
{
    struct keyset *ks = NULL;
    struct passphrase pass;
    uint32_t program;
    struct stat st;
    leal_err err;
    int rc;
    size_t name_len = o->issuer ? strlen(o->issuer) : 0;

    if (o->issuer == NULL || o->program == NULL)
        return cli_usage("keys init needs --issuer NAME and --program ID");
    if (name_len == 0 || name_len > LEAL_MAX_ISSUER_NAME) {
        fprintf(stderr, "leal: issuer name must have 1 to %d bytes\n", LEAL_MAX_ISSUER_NAME);
        return CLI_EXIT_USAGE;
    }
    for (size_t i = 0; i < name_len; i++)
        if ((unsigned char)o->issuer[i] < 0x20 || o->issuer[i] == 0x7f) {
            fprintf(stderr, "leal: issuer name must not contain control characters\n");
            return CLI_EXIT_USAGE;
        }
    if ((rc = program_arg(o->program, &program)) != 0)
        return rc;
    if (stat(o->keystore, &st) == 0) {
        fprintf(stderr,
                "leal: keystore %s already exists; refusing to overwrite it (to replace it, use "
                "'leal keys restore --force')\n",
                o->keystore);
        return CLI_EXIT_USAGE;
    }
    if ((rc = get_pass(o->pass_file, "LEAL_PASSPHRASE", "keystore", true, &pass)) != 0)
        return rc;
    if ((ks = keyset_new()) == NULL) {
        rc = cli_fail(LEAL_E_NO_MEMORY, "keystore");
        goto out;
    }
    memcpy(ks->issuer_name, o->issuer, name_len);
    ks->created = (uint64_t)time(NULL);
    do {
        if ((err = os_random((uint8_t *)&ks->issuer_id, sizeof ks->issuer_id)) != LEAL_OK) {
            rc = cli_fail(err, "keystore");
            goto out;
        }
    } while (ks->issuer_id == 0);
    if ((err = keyset_add_program(ks, program, ks->created, os_random)) != LEAL_OK) {
        rc = cli_fail(err, "keystore");
        goto out;
    }
    /* The keystore's own folder ($XDG_DATA_HOME/leal) is made if missing. */
    if ((err = file_mkdir_parents(o->keystore)) == LEAL_OK)
        err = keyfile_store(
            o->keystore,
            &(struct keyfile_seal){KEYSTORE_KIND_KEYSTORE, pass.text, pass.len, o->kdf}, ks, true);
    if (err != LEAL_OK) {
        rc = fail_file(err, "keystore", o->keystore);
        goto out;
    }
    printf("created keystore %s\n", o->keystore);
    printf("issuer %s (issuer id %08x), program %u: %d roles at version 1\n", ks->issuer_name,
           ks->issuer_id, program, KEY_ROLE_COUNT);
    printf("back it up now: leal keys backup -o FILE (a lost keystore makes every card "
           "unusable)\n");
    rc = CLI_EXIT_OK;
out:
    release(ks);
    passphrase_clear(&pass);
    return rc;
}

static int keys_add_program(const struct keys_opts *o, const char *arg)
{
    struct keyset *ks = NULL;
    struct passphrase pass;
    uint32_t program;
    leal_err err;
    int rc;
    if ((rc = program_arg(arg, &program)) != 0)
        return rc;
    if ((rc = load(o, &ks, &pass)) != 0)
        goto out;
    if ((err = keyset_add_program(ks, program, (uint64_t)time(NULL), os_random)) != LEAL_OK) {
        rc = cli_fail(err, "program %u", program);
        goto out;
    }
    if ((rc = save(o, ks, &pass)) == 0)
        printf("added program %u: %d roles at version 1\n", program, KEY_ROLE_COUNT);
out:
    release(ks);
    passphrase_clear(&pass);
    return rc;
}

static int keys_list(const struct keys_opts *o)
{
    struct keyset *ks = NULL;
    struct passphrase pass;
    char when[32], fp[17];
    int rc;
    if ((rc = load(o, &ks, &pass)) != 0)
        goto out;
    format_time(ks->created, when, sizeof when, "%Y-%m-%dT%H:%M:%SZ");
    if (o->json) {
        printf("{\"issuer\":");
        cli_json_string(stdout, ks->issuer_name);
        printf(",\"issuer_id\":\"%08x\",\"created\":\"%s\",\"programs\":[", ks->issuer_id, when);
    } else {
        printf("issuer     %s\nissuer id  %08x\ncreated    %s\n", ks->issuer_name, ks->issuer_id,
               when);
    }
    for (int p = 0; p < ks->nprograms; p++) {
        const struct key_program *prog = &ks->programs[p];
        if (o->json)
            printf("%s{\"id\":%u,\"roles\":[", p ? "," : "", prog->id);
        else
            printf("\nprogram %u\n  %-13s %-7s %-12s %-16s %s\n", prog->id, "ROLE", "VERSION",
                   "CREATED", "FINGERPRINT", "HELD BY");
        for (int r = 0; r < KEY_ROLE_COUNT; r++) {
            const struct key_role_info *info = keyset_role_info((enum key_role)(r + 1));
            const struct key_slot *s = &prog->roles[r];
            if (o->json) {
                printf("%s{\"role\":\"%s\",\"held_by\":\"%s\",\"versions\":[", r ? "," : "",
                       info->name, info->in_bundle ? "host,terminal" : "host");
            }
            for (int v = 0; v < s->nversions; v++) {
                leal_err err = keyfile_fingerprint(info->role, &s->v[v], fp);
                if (err != LEAL_OK) {
                    rc = cli_fail(err, "fingerprint");
                    goto out;
                }
                format_time(s->v[v].created, when, sizeof when, "%Y-%m-%d");
                if (o->json)
                    printf("%s{\"version\":%u,\"created\":\"%s\",\"fingerprint\":\"%s\","
                           "\"current\":%s}",
                           v ? "," : "", s->v[v].version, when, fp,
                           v == s->nversions - 1 ? "true" : "false");
                else
                    printf("  %-13s %-7u %-12s %-16s %s%s\n", v ? "" : info->name, s->v[v].version,
                           when, fp, info->in_bundle ? "host, terminals" : "host only",
                           v == s->nversions - 1 && s->nversions > 1 ? " (current)" : "");
            }
            if (o->json)
                printf("]}");
        }
        if (o->json)
            printf("]}");
    }
    if (o->json)
        printf("]}\n");
    rc = CLI_EXIT_OK;
out:
    release(ks);
    passphrase_clear(&pass);
    return rc;
}

/* The program named by --program, or the only one. */
static int pick_program(const struct keys_opts *o, const struct keyset *ks, uint32_t *id)
{
    const struct key_program *p;
    int rc;
    if (o->program == NULL) {
        if (ks->nprograms != 1)
            return cli_usage("the keystore has %d programs; name one with --program",
                             ks->nprograms);
        *id = ks->programs[0].id;
        return CLI_EXIT_OK;
    }
    if ((rc = program_arg(o->program, id)) != 0)
        return rc;
    if (keyset_program(ks, *id, &p) != LEAL_OK)
        return cli_fail(LEAL_E_UNKNOWN_PROGRAM, "program %u", *id);
    return CLI_EXIT_OK;
}

static int keys_rotate(const struct keys_opts *o, const char *role_name)
{
    const struct key_role_info *info = keyset_role_by_name(role_name);
    struct keyset *ks = NULL;
    struct passphrase pass;
    const struct key_version *v;
    uint32_t program;
    uint8_t version;
    char fp[17];
    leal_err err;
    int rc;
    if (info == NULL) {
        fprintf(stderr,
                "leal: unknown key role '%s'; roles: picc-master app-master purse-credit "
                "terminal package qr journal classic-a classic-b classic-seal mad-b tmac\n",
                role_name);
        return CLI_EXIT_USAGE;
    }
    if ((rc = load(o, &ks, &pass)) != 0)
        goto out;
    if ((rc = pick_program(o, ks, &program)) != 0)
        goto out;
    err = keyset_rotate(ks, program, info->role, (uint64_t)time(NULL), os_random, &version);
    if (err == LEAL_E_TOO_LARGE) {
        fprintf(stderr, "leal: %s already has %d versions, the most a keystore keeps\n", info->name,
                LEAL_MAX_KEY_VERSIONS);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (err != LEAL_OK || (err = keyset_current(ks, program, info->role, &v)) != LEAL_OK ||
        (err = keyfile_fingerprint(info->role, v, fp)) != LEAL_OK) {
        rc = cli_fail(err, "rotate %s", info->name);
        goto out;
    }
    if ((rc = save(o, ks, &pass)) != 0)
        goto out;
    printf("program %u: %s is now at version %u (fingerprint %s); older versions stay readable "
           "until every card is updated\n",
           program, info->name, version, fp);
    if (info->in_bundle)
        printf("export new terminal bundles so terminals get version %u\n", version);
out:
    release(ks);
    passphrase_clear(&pass);
    return rc;
}

static int refuse_existing(const char *path, int force)
{
    struct stat st;
    if (!force && stat(path, &st) == 0) {
        fprintf(stderr, "leal: %s already exists; use --force to overwrite it\n", path);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

static int keys_backup(const struct keys_opts *o)
{
    struct keyset *ks = NULL;
    struct passphrase pass, bpass;
    leal_err err;
    int rc;
    memset(&bpass, 0, sizeof bpass);
    memset(&pass, 0, sizeof pass);
    if (o->output == NULL)
        return cli_usage("keys backup needs -o FILE");
    if ((rc = refuse_existing(o->output, o->force)) != 0 ||
        (rc = check_out_dir("backup", o->output)) != 0)
        return rc;
    /* Both passphrases before anything is decrypted: the keys are in
     * memory only while they are being written. */
    if ((rc = ask_keystore_pass(o, &pass)) != 0)
        goto out;
    if ((rc = get_pass(o->backup_pass_file, "LEAL_BACKUP_PASSPHRASE", "backup", true, &bpass)) != 0)
        goto out;
    if ((rc = decrypt(o, &pass, &ks)) != 0)
        goto out;
    err = keyfile_store(o->output,
                        &(struct keyfile_seal){KEYSTORE_KIND_BACKUP, bpass.text, bpass.len, o->kdf},
                        ks, !o->force);
    if (err != LEAL_OK) {
        rc = fail_write(err, "backup", o->output);
        goto out;
    }
    printf("wrote backup %s (issuer %s, programs: %d); keep it and its passphrase away from "
           "this machine\n",
           o->output, ks->issuer_name, ks->nprograms);
out:
    release(ks);
    passphrase_clear(&pass);
    passphrase_clear(&bpass);
    return rc;
}

/* Keeps the keystore about to be replaced beside it, as
 * KEYSTORE.replaced-YYYYmmddHHMMSS (UTC), mode 0600, never over another file. */
static int keep_replaced(const struct keys_opts *o, char *kept, size_t cap)
{
    char when[32];
    uint8_t *data = NULL;
    size_t len = 0;
    leal_err err;
    format_time((uint64_t)time(NULL), when, sizeof when, "%Y%m%d%H%M%S");
    if (snprintf(kept, cap, "%s.replaced-%s", o->keystore, when) >= (int)cap)
        return cli_fail(LEAL_E_TOO_LARGE, "keystore path %s", o->keystore);
    if ((err = file_read(o->keystore, LEAL_MAX_KEYSTORE_FILE, &data, &len)) != LEAL_OK)
        return fail_file(err, "keystore", o->keystore);
    err = file_write_new(kept, data, len, 0600);
    free(data); /* ciphertext */
    if (err != LEAL_OK)
        return fail_write(err, "copy of the replaced keystore", kept);
    return CLI_EXIT_OK;
}

/* restore --force over an existing keystore: one that opens with the new
 * keystore passphrase and holds the backup's issuer is simply replaced;
 * another issuer's, or one leal cannot open, needs --replace-other-issuer.
 * Either way the old file is kept beside the new one. */
static int replace_existing(const struct keys_opts *o, const struct keyset *backup,
                            const struct passphrase *pass)
{
    struct keyset *old = keyset_new();
    char kept[4200];
    leal_err err;
    int rc;
    if (old == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "keystore");
    err = keyfile_load(o->keystore, KEYSTORE_KIND_KEYSTORE, pass->text, pass->len, old);
    if ((err != LEAL_OK || old->issuer_id != backup->issuer_id) && !o->replace_other_issuer) {
        if (err == LEAL_OK)
            fprintf(stderr,
                    "leal: keystore %s belongs to issuer %08x (%s), the backup to issuer %08x "
                    "(%s); to replace it anyway add --replace-other-issuer (the old file is kept "
                    "beside it)\n",
                    o->keystore, old->issuer_id, old->issuer_name, backup->issuer_id,
                    backup->issuer_name);
        else
            fprintf(stderr,
                    "leal: keystore %s does not open with the keystore passphrase given (%s), so "
                    "leal cannot tell whose it is; to replace it anyway add "
                    "--replace-other-issuer (the old file is kept beside it)\n",
                    o->keystore, leal_strerror(err));
        release(old);
        return CLI_EXIT_USAGE;
    }
    release(old);
    if ((rc = keep_replaced(o, kept, sizeof kept)) == CLI_EXIT_OK)
        printf("kept the replaced keystore as %s\n", kept);
    return rc;
}

static int keys_restore(const struct keys_opts *o, const char *file)
{
    struct keyset *ks = NULL;
    struct passphrase pass, bpass;
    struct stat st;
    leal_err err;
    int rc;
    memset(&pass, 0, sizeof pass);
    memset(&bpass, 0, sizeof bpass);
    if (o->replace_other_issuer && !o->force)
        return cli_usage("keys restore: --replace-other-issuer goes with --force");
    if ((rc = refuse_existing(o->keystore, o->force)) != 0)
        return rc;
    if ((ks = keyset_new()) == NULL)
        return cli_fail(LEAL_E_NO_MEMORY, "restore");
    if ((rc = get_pass(o->backup_pass_file, "LEAL_BACKUP_PASSPHRASE", "backup", false, &bpass)) !=
        0)
        goto out;
    if ((rc = get_pass(o->pass_file, "LEAL_PASSPHRASE", "keystore", true, &pass)) != 0)
        goto out;
    /* The whole backup is decrypted and decoded before the keystore is touched. */
    if ((err = keyfile_load(file, KEYSTORE_KIND_BACKUP, bpass.text, bpass.len, ks)) != LEAL_OK) {
        rc = fail_file(err, "backup", file);
        goto out;
    }
    if (lstat(o->keystore, &st) == 0 && (rc = replace_existing(o, ks, &pass)) != 0)
        goto out;
    if ((err = file_mkdir_parents(o->keystore)) != LEAL_OK) {
        rc = fail_write(err, "keystore", o->keystore);
        goto out;
    }
    if ((rc = save(o, ks, &pass)) != 0)
        goto out;
    printf("restored keystore %s from %s (issuer %s, issuer id %08x, programs: %d)\n", o->keystore,
           file, ks->issuer_name, ks->issuer_id, ks->nprograms);
out:
    release(ks);
    passphrase_clear(&pass);
    passphrase_clear(&bpass);
    return rc;
}

/* A bundle is made only for a terminal the ledger knows, in the program the
 * bundle is for: a mistyped id would otherwise make a bundle whose journals
 * no ledger imports. The ledger must exist (it is not created here). */
static int terminal_in_ledger(const struct keys_opts *o, uint32_t terminal, uint32_t program)
{
    char def[4096];
    const char *path = o->db ? o->db : getenv("LEAL_DB");
    struct ledger *l = NULL;
    struct stat sb;
    int64_t owner = 0;
    leal_err err;
    int rc;
    bool uri;
    if (path == NULL || path[0] == '\0') {
        if (file_default_path("ledger.db", def, sizeof def) != LEAL_OK)
            return cli_usage("no --db given and neither XDG_DATA_HOME nor HOME is set");
        path = def;
    }
    /* A chain's ledger on PostgreSQL: a URI, which may hold a password, so
     * the messages below name "the ledger" instead of it. */
    uri = strncmp(path, "postgresql://", 13) == 0 || strncmp(path, "postgres://", 11) == 0;
    if (!uri && stat(path, &sb) != 0) {
        fprintf(stderr,
                "leal: ledger %s does not exist; export-terminal checks the terminal id "
                "against the ledger: name it with --db\n",
                path);
        return CLI_EXIT_USAGE;
    }
    if ((rc = lcli_open(path, &l)) != 0)
        return rc;
    err = ledger_terminal_program(l, terminal, &owner);
    ledger_close(l);
    if (err == LEAL_E_UNKNOWN_ID) {
        fprintf(stderr,
                "leal: terminal %u is not in the ledger%s%s; add it with 'leal terminal add' "
                "and use the id it prints\n",
                terminal, uri ? "" : " ", uri ? "" : path);
        return CLI_EXIT_USAGE;
    }
    if (err != LEAL_OK)
        return cli_fail(err, "ledger%s%s", uri ? "" : " ", uri ? "" : path);
    if (owner != (int64_t)program) {
        fprintf(stderr, "leal: terminal %u belongs to program %lld, not to program %u\n", terminal,
                (long long)owner, program);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* A pin as leal serve prints it and libcurl takes it: "sha256//" and the
 * base64 of 32 bytes, in its one canonical spelling. */
static bool pin_parse(const char *text, uint8_t pin[BUNDLE_PIN_LEN])
{
    unsigned char raw[36], again[48];
    if (strncmp(text, "sha256//", 8) != 0 || strlen(text) != 8 + 44)
        return false;
    if (EVP_DecodeBlock(raw, (const unsigned char *)text + 8, 44) != 33)
        return false;
    /* Decoding ignores what the padding hides; encoding back shows it. */
    if (EVP_EncodeBlock(again, raw, BUNDLE_PIN_LEN) != 44 || memcmp(again, text + 8, 44) != 0)
        return false;
    memcpy(pin, raw, BUNDLE_PIN_LEN);
    return true;
}

/* --server-pin values into pins (count in *n), each checked. */
static int server_pins(const struct keys_opts *o, uint8_t pins[][BUNDLE_PIN_LEN], uint8_t *n)
{
    *n = 0;
    if (o->server_pins > BUNDLE_MAX_SERVER_PINS)
        return cli_usage("keys export-terminal takes at most %d --server-pin (the server's key "
                         "and the next one)",
                         BUNDLE_MAX_SERVER_PINS);
    for (int i = 0; i < o->server_pins; i++) {
        if (!pin_parse(o->server_pin[i], pins[i]))
            return cli_usage("--server-pin '%s' is not sha256// and the base64 of 32 bytes (the "
                             "'terminal pin' line of leal serve)",
                             o->server_pin[i]);
        for (int j = 0; j < i; j++)
            if (memcmp(pins[i], pins[j], BUNDLE_PIN_LEN) == 0)
                return cli_usage("--server-pin %s is given twice", o->server_pin[i]);
        *n = (uint8_t)(i + 1);
    }
    return 0;
}

/* export-terminal's arguments, checked before any passphrase is asked. */
static int export_args(const struct keys_opts *o, uint32_t *terminal, int64_t *expires,
                       uint8_t pins[][BUNDLE_PIN_LEN], uint8_t *npins)
{
    leal_err err;
    int rc;
    if (o->terminal == NULL || o->program == NULL || o->expires == NULL || o->output == NULL)
        return cli_usage("keys export-terminal needs --terminal ID --program ID --expires "
                         "YYYY-MM-DD -o FILE");
    if ((rc = server_pins(o, pins, npins)) != 0)
        return rc;
    if (parse_u32(o->terminal, 10, terminal) != 0) {
        fprintf(stderr, "leal: terminal id '%s' must be a whole number from 1 to 4294967295\n",
                o->terminal);
        return CLI_EXIT_USAGE;
    }
    err = desk_bundle_expiry(o->expires, (int64_t)time(NULL), expires);
    if (err == LEAL_E_DATE)
        fprintf(stderr, "leal: expiry date '%s' is not a date; write it as YYYY-MM-DD\n",
                o->expires);
    else if (err == LEAL_E_BUNDLE_EXPIRED)
        fprintf(stderr, "leal: expiry date %s is in the past\n", o->expires);
    else if (err != LEAL_OK)
        fprintf(stderr,
                "leal: expiry date %s is more than %d days away; a terminal bundle must be "
                "renewed at least yearly\n",
                o->expires, LEAL_MAX_BUNDLE_DAYS);
    if (err != LEAL_OK)
        return CLI_EXIT_USAGE;
    rc = refuse_existing(o->output, o->force);
    return rc ? rc : check_out_dir("bundle", o->output);
}

static int keys_export_terminal(const struct keys_opts *o)
{
    struct keyset *ks = NULL;
    struct passphrase pass, bpass;
    struct bundle *b = NULL;
    struct desk_bundle_for f = {.now = (int64_t)time(NULL)};
    leal_err err;
    int rc;
    char when[32];
    uint8_t pins[BUNDLE_MAX_SERVER_PINS][BUNDLE_PIN_LEN], npins = 0;

    memset(&pass, 0, sizeof pass);
    memset(&bpass, 0, sizeof bpass);
    if ((rc = export_args(o, &f.terminal_id, &f.expires, pins, &npins)) != 0)
        return rc;
    /* Every passphrase before the keystore is decrypted; the keystore is
     * released as soon as the bundle's keys are copied out of it. */
    if ((rc = ask_keystore_pass(o, &pass)) != 0 ||
        (rc = get_pass(o->bundle_pass_file, "LEAL_BUNDLE_PASSPHRASE", "bundle", true, &bpass)) != 0)
        goto out;
    if ((b = secmem_alloc(sizeof *b)) == NULL) {
        rc = cli_fail(LEAL_E_NO_MEMORY, "terminal bundle");
        goto out;
    }
    if ((rc = decrypt(o, &pass, &ks)) != 0 || (rc = pick_program(o, ks, &f.program_id)) != 0)
        goto out;
    if ((err = keyset_keep_program(ks, f.program_id)) != LEAL_OK) {
        rc = cli_fail(err, "program %u", f.program_id);
        goto out;
    }
    if ((rc = terminal_in_ledger(o, f.terminal_id, f.program_id)) != 0)
        goto out;
    if ((err = desk_bundle_fill(ks, &f, b)) != LEAL_OK) {
        rc = err == LEAL_E_UNKNOWN_PROGRAM || err == LEAL_E_KEY_VERSION
                 ? cli_fail(err, "program %u", f.program_id)
                 : cli_fail(err, "terminal bundle");
        goto out;
    }
    release(ks);
    ks = NULL;
    b->server_pin_count = npins;
    memcpy(b->server_pin, pins, (size_t)npins * BUNDLE_PIN_LEN);
    if ((err = keyfile_store_bundle(o->output, bpass.text, bpass.len, o->kdf, b)) != LEAL_OK) {
        rc = fail_write(err, "bundle", o->output);
        goto out;
    }
    format_time(b->expires - 1, when, sizeof when, "%Y-%m-%d");
    printf("wrote terminal bundle %s: terminal %u, program %u, valid through %s (UTC)\n", o->output,
           f.terminal_id, f.program_id, when);
    rc = CLI_EXIT_OK;
out:
    if (b) {
        bundle_clear(b);
        secmem_free(b);
    }
    release(ks);
    passphrase_clear(&pass);
    passphrase_clear(&bpass);
    return rc;
}

static void print_slot(const struct keys_opts *o, const char *name, enum key_role role,
                       const struct key_slot *s, bool public_keys, int *first)
{
    for (int v = 0; v < s->nversions; v++) {
        char fp[17];
        if (public_keys) {
            /* Fingerprints of signing roles are over the public key already. */
            uint8_t msg[48], d[32];
            memcpy(msg, "leal-fingerprint", 16);
            memcpy(msg + 16, s->v[v].key, 32);
            if (crypto_openssl()->sha256(msg, sizeof msg, d) != LEAL_OK ||
                leal_hex_encode(d, 8, false, fp, sizeof fp) != LEAL_OK)
                continue;
        } else if (keyfile_fingerprint(role, &s->v[v], fp) != LEAL_OK) {
            continue;
        }
        if (o->json)
            printf("%s{\"role\":\"%s\",\"version\":%u,\"fingerprint\":\"%s\"}", *first ? "" : ",",
                   name, s->v[v].version, fp);
        else
            printf("  %-13s %-7u %s\n", v ? "" : name, s->v[v].version, fp);
        *first = 0;
    }
}

/* The sync server's pins, as leal serve prints them; closes the JSON. */
static void print_pins(const struct keys_opts *o, const struct bundle *b)
{
    if (o->json)
        printf("],\"server_pins\":[");
    for (unsigned i = 0; i < b->server_pin_count; i++) {
        unsigned char b64[48];
        EVP_EncodeBlock(b64, b->server_pin[i], BUNDLE_PIN_LEN);
        if (o->json)
            printf("%s\"sha256//%s\"", i ? "," : "", (const char *)b64);
        else
            printf("%s sha256//%s\n", i ? "              " : "server pin    ", (const char *)b64);
    }
    if (o->json)
        printf("]}\n");
}

static int keys_verify_bundle(const struct keys_opts *o, const char *file)
{
    struct passphrase bpass;
    struct bundle *b;
    uint32_t issuer = 0, program = 0;
    int64_t at = (int64_t)time(NULL);
    char when[32];
    leal_err err;
    int rc, first = 1;

    if (o->issuer_id && parse_u32(o->issuer_id, 16, &issuer) != 0) {
        fprintf(stderr, "leal: issuer id '%s' must be 8 hex digits (see 'leal keys list')\n",
                o->issuer_id);
        return CLI_EXIT_USAGE;
    }
    if (o->program && (rc = program_arg(o->program, &program)) != 0)
        return rc;
    if (o->at && books_parse_date(o->at, &at) != LEAL_OK) {
        fprintf(stderr, "leal: date '%s' is not a date; write it as YYYY-MM-DD\n", o->at);
        return CLI_EXIT_USAGE;
    }
    if ((rc = get_pass(o->bundle_pass_file, "LEAL_BUNDLE_PASSPHRASE", "bundle", false, &bpass)) !=
        0)
        return rc;
    if ((b = secmem_alloc(sizeof *b)) == NULL) {
        passphrase_clear(&bpass);
        return cli_fail(LEAL_E_NO_MEMORY, "bundle");
    }
    err = keyfile_load_bundle(file, bpass.text, bpass.len, b);
    passphrase_clear(&bpass);
    if (err != LEAL_OK) {
        secmem_free(b);
        return fail_file(err, "bundle", file);
    }
    err = bundle_check(b, o->issuer_id ? issuer : b->issuer_id,
                       o->program ? program : b->program_id, (uint64_t)at);
    format_time(b->expires - 1, when, sizeof when, "%Y-%m-%d");
    if (err == LEAL_E_BUNDLE_WRONG_ISSUER)
        fprintf(stderr, "leal: bundle %s belongs to issuer %08x (%s), not %08x\n", file,
                b->issuer_id, b->issuer_name, issuer);
    else if (err == LEAL_E_BUNDLE_WRONG_PROGRAM)
        fprintf(stderr, "leal: bundle %s belongs to program %u, not %u\n", file, b->program_id,
                program);
    else if (err == LEAL_E_BUNDLE_EXPIRED)
        fprintf(stderr, "leal: bundle %s expired after %s; export a new one for terminal %u\n",
                file, when, b->terminal_id);
    if (err != LEAL_OK) {
        bundle_clear(b);
        secmem_free(b);
        return CLI_EXIT_FAIL;
    }
    if (o->json) {
        printf("{\"issuer\":");
        cli_json_string(stdout, b->issuer_name);
        printf(",\"issuer_id\":\"%08x\",\"program\":%u,\"terminal\":%u,\"valid_through\":\"%s\","
               "\"journal_version\":%u,\"keys\":[",
               b->issuer_id, b->program_id, b->terminal_id, when, b->journal_version);
    } else {
        printf("bundle         %s\nissuer         %s (%08x)\nprogram        %u\nterminal       "
               "%u\nvalid through  %s (UTC)\njournal key    from version %u\n",
               file, b->issuer_name, b->issuer_id, b->program_id, b->terminal_id, when,
               b->journal_version);
        printf("  %-13s %-7s %s\n", "ROLE", "VERSION", "FINGERPRINT");
    }
    print_slot(o, "terminal", KEY_ROLE_TERMINAL, &b->terminal, false, &first);
    print_slot(o, "classic-a", KEY_ROLE_CLASSIC_A, &b->classic_a, false, &first);
    print_slot(o, "classic-seal", KEY_ROLE_CLASSIC_SEAL, &b->classic_seal, false, &first);
    print_slot(o, "package", KEY_ROLE_PACKAGE_SIGNING, &b->package_public, true, &first);
    print_slot(o, "qr", KEY_ROLE_QR, &b->qr_public, true, &first);
    print_pins(o, b);
    bundle_clear(b);
    secmem_free(b);
    return CLI_EXIT_OK;
}

enum {
    OPT_KEYSTORE = 256,
    OPT_PASS,
    OPT_BPASS,
    OPT_TPASS,
    OPT_ISSUER,
    OPT_PROGRAM,
    OPT_TERMINAL,
    OPT_EXPIRES,
    OPT_ISSUER_ID,
    OPT_AT,
    OPT_DB,
    OPT_SERVER_PIN,
    OPT_JSON,
    OPT_FORCE,
    OPT_REPLACE_OTHER,
};
static const struct option options[] = {
    {"keystore", required_argument, NULL, OPT_KEYSTORE},
    {"passphrase-file", required_argument, NULL, OPT_PASS},
    {"backup-passphrase-file", required_argument, NULL, OPT_BPASS},
    {"bundle-passphrase-file", required_argument, NULL, OPT_TPASS},
    {"issuer", required_argument, NULL, OPT_ISSUER},
    {"program", required_argument, NULL, OPT_PROGRAM},
    {"terminal", required_argument, NULL, OPT_TERMINAL},
    {"expires", required_argument, NULL, OPT_EXPIRES},
    {"issuer-id", required_argument, NULL, OPT_ISSUER_ID},
    {"at", required_argument, NULL, OPT_AT},
    {"db", required_argument, NULL, OPT_DB},
    {"server-pin", required_argument, NULL, OPT_SERVER_PIN},
    {"output", required_argument, NULL, 'o'},
    {"json", no_argument, NULL, OPT_JSON},
    {"force", no_argument, NULL, OPT_FORCE},
    {"replace-other-issuer", no_argument, NULL, OPT_REPLACE_OTHER},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* One option getopt_long found; false if it is not one of keys'. */
static bool keys_set(struct keys_opts *o, int c, char *arg)
{
    switch (c) {
    case OPT_KEYSTORE:
        snprintf(o->keystore, sizeof o->keystore, "%s", arg);
        break;
    case OPT_PASS:
        o->pass_file = arg;
        break;
    case OPT_BPASS:
        o->backup_pass_file = arg;
        break;
    case OPT_TPASS:
        o->bundle_pass_file = arg;
        break;
    case OPT_ISSUER:
        o->issuer = arg;
        break;
    case OPT_PROGRAM:
        o->program = arg;
        break;
    case OPT_TERMINAL:
        o->terminal = arg;
        break;
    case OPT_EXPIRES:
        o->expires = arg;
        break;
    case OPT_ISSUER_ID:
        o->issuer_id = arg;
        break;
    case OPT_AT:
        o->at = arg;
        break;
    case OPT_DB:
        o->db = arg;
        break;
    case OPT_SERVER_PIN:
        if (o->server_pins < BUNDLE_MAX_SERVER_PINS)
            o->server_pin[o->server_pins] = arg;
        o->server_pins++;
        break;
    case 'o':
        o->output = arg;
        break;
    case OPT_JSON:
        o->json = 1;
        break;
    case OPT_FORCE:
        o->force = 1;
        break;
    case OPT_REPLACE_OTHER:
        o->replace_other_issuer = 1;
        break;
    default:
        return false;
    }
    return true;
}

static int keys_dispatch(const struct keys_opts *o, const char *sub, const char *arg)
{
    if (strcmp(sub, "init") == 0 && !arg)
        return keys_init(o);
    if (strcmp(sub, "add-program") == 0 && arg)
        return keys_add_program(o, arg);
    if (strcmp(sub, "list") == 0 && !arg)
        return keys_list(o);
    if (strcmp(sub, "rotate") == 0 && arg)
        return keys_rotate(o, arg);
    if (strcmp(sub, "backup") == 0 && !arg)
        return keys_backup(o);
    if (strcmp(sub, "restore") == 0 && arg)
        return keys_restore(o, arg);
    if (strcmp(sub, "export-terminal") == 0 && !arg)
        return keys_export_terminal(o);
    if (strcmp(sub, "verify-bundle") == 0 && arg)
        return keys_verify_bundle(o, arg);
    return cli_usage("keys: unknown subcommand or missing argument: '%s'", sub);
}

/* The scrypt cost of the files keys writes: the default, or N = 2^LEAL_SCRYPT_LOG2N
 * (README "Keys"): tests and demos open their keystores and bundles hundreds of times. */
static int seal_cost(struct keystore_kdf *kdf)
{
    const char *v = getenv("LEAL_SCRYPT_LOG2N");
    char *end;
    long n;
    *kdf = KEYSTORE_KDF_DEFAULT;
    if (v == NULL || v[0] == '\0')
        return 0;
    errno = 0;
    n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || end == v || n < 0 || n > 64 ||
        keystore_kdf_for((unsigned)n, kdf) != LEAL_OK)
        return -1;
    return 0;
}

int cmd_keys(int argc, char **argv)
{
    struct keys_opts o;
    const char *sub, *arg = NULL;
    int c;

    memset(&o, 0, sizeof o);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(keys_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    sub = argv[1];
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc - 1, argv + 1, "o:h", options, NULL)) != -1) {
        if (c == 'h') {
            fputs(keys_usage, stdout);
            return CLI_EXIT_OK;
        }
        if (!keys_set(&o, c, optarg))
            return cli_usage("keys %s: unknown or incomplete option '%s'", sub,
                             argv[optind] ? argv[optind] : "");
    }
    if (optind < argc - 1)
        arg = argv[1 + optind];
    if (optind + 1 < argc - 1)
        return cli_usage("keys %s: unexpected argument '%s'", sub, argv[optind + 2]);
    if (o.keystore[0] == '\0' && file_default_path("keystore", o.keystore, sizeof o.keystore))
        return cli_usage("no --keystore given and neither XDG_DATA_HOME nor HOME is set");
    if (seal_cost(&o.kdf) != 0)
        return cli_usage("LEAL_SCRYPT_LOG2N=%s is not a whole number from %d to %d; unset it for "
                         "the default cost",
                         getenv("LEAL_SCRYPT_LOG2N"), KEYSTORE_LOG2N_MIN,
                         KEYSTORE_KDF_DEFAULT.log2_n);
    return keys_dispatch(&o, sub, arg);
}
