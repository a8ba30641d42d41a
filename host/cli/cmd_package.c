/* cmd_package.c - `leal terminal package` (build a terminal's signed package
 * from the ledger) and `leal package show` (firmware/core/PACKAGE.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/desk/desk_keys.h"
#include "firmware/core/package.h"
#include "firmware/core/rules_codec.h"
#include "host/file.h"
#include "host/keys/keyfile.h"
#include "host/ledger/amount.h"
#include "host/package/package_build.h"
#include "keys/base/limits.h"
#include "keys/hosted/provider_openssl.h"
#include "ledger_cli.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char package_help[] =
    "usage: leal package show FILE [--keystore PATH] [--passphrase-file FILE] [--json]\n"
    "A terminal package (built by 'leal terminal package') for a person: program,\n"
    "terminal, version, validity, its rules (rule-set version, base rate, how many\n"
    "rules, tiers, rewards, stamp cards and bonos), how many cards it lists, the\n"
    "offline spend caps, the store, its time zone's rules, the Classic purse cap,\n"
    "how many names it carries and how many cards have host changes waiting,\n"
    "which package key version signed it and whether that signature verifies\n"
    "against the keystore's public key (the keystore's passphrase is asked for as\n"
    "by the other commands). Exit 1 if the package is damaged or its signature does\n"
    "not verify, or its rules section does not decode.\n";

static int parse_eur(const char *opt, const char *v, uint32_t *cents)
{
    int64_t c;
    if (amount_parse(v, strlen(v), &c) != LEAL_OK || c < 0 || c > INT32_MAX)
        return cli_usage("--%s '%s': write euros like 50 or 12,50 (0 to 21474836.47)", opt, v);
    *cents = (uint32_t)c;
    return 0;
}

static const char terminal_package_usage[] =
    "leal terminal package needs --terminal ID -o FILE [--valid-days N] [--day-cap EUR] "
    "[--sync-cap EUR] [--keystore PATH] [--passphrase-file FILE]";

/* package's options, every value checked before the ledger is opened. */
static int package_args(const struct lcli_opt *o, size_t n, struct package_build_opts *bo,
                        const char **file)
{
    const char *v;
    int64_t days;
    char day[24], sync[24];
    int rc;
    *file = lcli_get(o, n, "output");
    v = lcli_get(o, n, "terminal");
    if (v == NULL || *file == NULL || !(*file)[0])
        return cli_usage("%s", terminal_package_usage);
    if (lcli_id(v, &bo->terminal_id) != LEAL_OK || bo->terminal_id > UINT32_MAX)
        return cli_usage("--terminal '%s': a terminal id from 1 to 4294967295", v);
    if ((v = lcli_get(o, n, "valid-days"))) {
        if (lcli_id(v, &days) != LEAL_OK || days > LEAL_MAX_PACKAGE_DAYS)
            return cli_usage("--valid-days '%s': a whole number of days from 1 to %d", v,
                             LEAL_MAX_PACKAGE_DAYS);
        bo->valid_days = (uint32_t)days;
    }
    if ((v = lcli_get(o, n, "day-cap")) && (rc = parse_eur("day-cap", v, &bo->cap_day_cents)))
        return rc;
    if ((v = lcli_get(o, n, "sync-cap")) && (rc = parse_eur("sync-cap", v, &bo->cap_sync_cents)))
        return rc;
    if (bo->cap_day_cents > bo->cap_sync_cents) {
        amount_text(bo->cap_day_cents, day);
        amount_text(bo->cap_sync_cents, sync);
        return cli_usage("--day-cap %s is above --sync-cap %s: a day's offline spending is part "
                         "of what a card may spend between syncs",
                         day, sync);
    }
    return 0;
}

static void print_package(bool json, const char *file, const struct package_info *p, size_t len)
{
    char until[32], day[24], sync[24], classic[24];
    lcli_time_str((int64_t)p->valid_until, until, sizeof until);
    amount_text(p->cap_day_cents, day);
    amount_text(p->cap_sync_cents, sync);
    amount_text(p->site.classic_purse_cap_cents, classic);
    if (json) {
        printf("{\"file\":");
        cli_json_string(stdout, file);
        printf(",\"program\":%u,\"terminal\":%u,\"version\":%u,\"issued_at\":%llu,"
               "\"valid_until_at\":%llu,\"hot_list\":%u,\"floors\":%u,\"pending\":%u,"
               "\"store\":%u,\"classic_purse_cap\":\"%s\",\"key_version\":%u,\"bytes\":%zu}\n",
               p->program_id, p->terminal_id, p->version, (unsigned long long)p->issued,
               (unsigned long long)p->valid_until, p->hot_count, p->floor_count, p->pending_count,
               p->site.store_id, classic, p->key_version, len);
    } else {
        printf("wrote terminal package %s: terminal %u, program %u, store %u, version %u, %u "
               "cards hot-listed, %u floors, %u cards with host changes, caps %s a day and %s "
               "between syncs, Classic purse %s%s, valid until %s UTC, signed with package key "
               "version %u (%zu bytes)\n",
               file, p->terminal_id, p->program_id, p->site.store_id, p->version, p->hot_count,
               p->floor_count, p->pending_count, day, sync,
               p->site.classic_purse_cap_cents ? "cap " : "off",
               p->site.classic_purse_cap_cents ? classic : "", until, p->key_version, len);
    }
}

static int not_held(leal_err err, int64_t terminal, int64_t program)
{
    return cli_error(err, CLI_EXIT_USAGE,
                     "terminal %lld belongs to program %lld, which this keystore does "
                     "not hold; use the keystore of that program",
                     (long long)terminal, (long long)program);
}

/* Only the package-signing key of program (host/desk/desk_keys.h: the desk
 * agent's when it runs, else the keystore's, unlocked with --passphrase-file
 * or LEAL_PASSPHRASE or a prompt). */
static leal_err signing_key(const struct lcli_opt *o, size_t n, int64_t program,
                            struct desk_keys *dk)
{
    const struct desk_key_request req = {.keystore_path = lcli_get(o, n, "keystore"),
                                         .passphrase_file = lcli_get(o, n, "passphrase-file"),
                                         .program_id = (uint32_t)program,
                                         .roles = DESK_ROLE(KEY_ROLE_PACKAGE_SIGNING)};
    return desk_keys_acquire(&req, dk);
}

/* The package key of the terminal's program, asked for only once the
 * terminal is known. */
static int terminal_key(struct ledger *l, const struct package_build_opts *bo,
                        const struct lcli_opt *o, size_t n, struct desk_keys *dk)
{
    int64_t program = 0;
    leal_err err = ledger_terminal_program(l, bo->terminal_id, &program);
    if (err == LEAL_OK && (program <= 0 || program > UINT32_MAX))
        err = LEAL_E_RANGE;
    if (err != LEAL_OK)
        return lcli_fail(l, err, "terminal package");
    if ((err = signing_key(o, n, program, dk)) == LEAL_OK)
        return 0;
    if (dk->failed == DESK_KEYS_PROGRAM)
        return not_held(err, bo->terminal_id, program);
    return cli_desk_keys_fail(dk, err, lcli_get(o, n, "passphrase-file"), program);
}

int terminal_package(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"terminal", 0, 0}, {"output", 0, 0},   {"valid-days", 0, 0},      {"day-cap", 0, 0},
        {"sync-cap", 0, 0}, {"keystore", 0, 0}, {"passphrase-file", 0, 0}, {"db", 0, 0},
        {"json", 1, 0},     {"help", 1, 0}};
    struct package_build_opts bo = {0, 0, 7, 5000, 20000};
    const char *pos[LCLI_MAX_POS], *file = NULL;
    struct ledger *l = NULL;
    struct desk_keys dk = {0};
    struct package_info p;
    uint8_t *data = NULL;
    size_t npos, len = 0;
    leal_err err;
    int rc;

    char *args[64];
    if (argc > (int)N(args))
        return cli_usage("%s", terminal_package_usage);
    /* -o is --output. */
    for (int i = 0; i < argc; i++)
        args[i] = strcmp(argv[i], "-o") == 0 ? (char *)"--output" : argv[i];
    npos = LCLI_MAX_POS;
    if ((rc = lcli_parse(argc, args, o, N(o), pos, &npos)) != 0)
        return rc;
    if (npos != 1)
        return cli_usage("%s", terminal_package_usage);
    if ((rc = package_args(o, N(o), &bo, &file)) != 0)
        return rc;
    if ((rc = lcli_open(lcli_get(o, N(o), "db"), &l)) != 0)
        return rc;
    if ((rc = terminal_key(l, &bo, o, N(o), &dk)) != 0)
        goto out;
    bo.now = (uint64_t)time(NULL);
    err = package_build(l, dk.keys, &bo, &data, &len, &p);
    if (err == LEAL_E_UNKNOWN_PROGRAM || err == LEAL_E_KEY_VERSION) {
        rc = not_held(err, bo.terminal_id, dk.program_id);
        goto out;
    }
    if (err != LEAL_OK) {
        rc = lcli_fail(l, err, "terminal package");
        goto out;
    }
    if ((err = file_write_atomic(file, data, len, 0600)) != LEAL_OK) {
        rc = cli_fail(err, "writing %s", file);
        goto out;
    }
    print_package(lcli_get(o, N(o), "json") != NULL, file, &p, len);
    rc = CLI_EXIT_OK;
out:
    free(data);
    desk_keys_release(&dk);
    ledger_close(l);
    return rc;
}

/* How the signature stands against the keystore. */
static const char *check_signature(const struct keyset *ks, const struct package_info *p,
                                   const struct package_source *src, char *fp, leal_err *why)
{
    const struct key_version *kv;
    struct package_key key;
    struct package_expect e;
    struct package_info q;
    fp[0] = 0;
    if (ks == NULL ||
        keyset_version(ks, p->program_id, KEY_ROLE_PACKAGE_SIGNING, p->key_version, &kv) != LEAL_OK)
        return "unknown-key";
    if (keyfile_fingerprint(KEY_ROLE_PACKAGE_SIGNING, kv, fp) != LEAL_OK ||
        crypto_openssl_ed25519_public(kv->key, key.public_key) != LEAL_OK)
        return "error";
    key.version = p->key_version;
    /* Only the signature: its own program, terminal, a time inside its validity. */
    e = (struct package_expect){p->program_id, p->terminal_id, p->issued, 0, &key, 1};
    *why = package_verify(crypto_openssl(), src, &e, &q);
    return *why == LEAL_OK ? "verified" : "bad";
}

/* The package key of the package's program, to check its signature with;
 * a keystore without that program leaves dk->keys NULL (not checked). */
static int show_key(const struct lcli_opt *o, size_t n, uint32_t program, struct desk_keys *dk)
{
    leal_err err = signing_key(o, n, program, dk);
    if (err == LEAL_OK || dk->failed == DESK_KEYS_PROGRAM)
        return 0;
    return cli_desk_keys_fail(dk, err, lcli_get(o, n, "passphrase-file"), program);
}

/* What show prints about a package. */
struct shown {
    const char *file;
    size_t len;
    struct package_info p;
    uint32_t reasons[4]; /* hot-listed cards by enum package_hot_reason */
    const char *sig;     /* check_signature's word */
    char fp[17];
    leal_err why;       /* why the signature does not verify */
    leal_err rules_err; /* why the rules section does not decode (LEAL_OK: it does) */
    struct rules_set rules;
    uint32_t names_of[6]; /* names by enum package_name_kind */
    char store_name[PACKAGE_NAME_MAX + 1];
    char zone[128]; /* the zone's rules in words */
};

/* Offsets as UTC+hh:mm. */
static void offset_text(int16_t minutes, char *out, size_t cap)
{
    int m = minutes < 0 ? -minutes : minutes;
    snprintf(out, cap, "UTC%c%02d:%02d", minutes < 0 ? '-' : '+', m / 60, m % 60);
}

static void rule_text(const struct package_zone_rule *r, char *out, size_t cap)
{
    long t = r->time_seconds;
    snprintf(out, cap, "M%u.%u.%u/%s%ld:%02ld", r->month, r->week, r->weekday, t < 0 ? "-" : "",
             (t < 0 ? -t : t) / 3600, (t < 0 ? -t : t) / 60 % 60);
}

/* "UTC+01:00, UTC+02:00 from M3.5.0/2:00 to M10.5.0/3:00" (POSIX TZ rule forms). */
static void zone_text(const struct package_zone *z, char *out, size_t cap)
{
    char std[16], dst[16], a[32], b[32];
    offset_text(z->std_minutes, std, sizeof std);
    if (!z->has_dst) {
        snprintf(out, cap, "%s", std);
        return;
    }
    offset_text(z->dst_minutes, dst, sizeof dst);
    rule_text(&z->start, a, sizeof a);
    rule_text(&z->end, b, sizeof b);
    snprintf(out, cap, "%s, %s from %s to %s", std, dst, a, b);
}

/* Counts the names by kind and finds the store's. */
static leal_err read_names(const struct package_source *src, struct shown *v)
{
    struct package_name m;
    uint32_t cursor = 0;
    leal_err err;
    while ((err = package_name_next(&v->p, src, &cursor, &m)) == LEAL_OK) {
        v->names_of[m.kind]++;
        if (m.kind == PACKAGE_NAME_STORE && m.item == v->p.site.store_id)
            memcpy(v->store_name, m.text, (size_t)m.len + 1);
    }
    zone_text(&v->p.site.zone, v->zone, sizeof v->zone);
    return err == LEAL_E_RANGE ? LEAL_OK : err;
}

/* The rules section: rules_codec's encoding (an empty section: none). */
static void read_rules(const uint8_t *data, struct shown *v)
{
    v->rules_err = LEAL_OK;
    if (v->p.rules_len > 0)
        v->rules_err =
            rules_codec_decode(data + v->p.rules_offset, v->p.rules_len, &v->rules, NULL);
}

static const char *plural(unsigned n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

static void print_rules_text(const struct shown *v)
{
    const struct rules_program *r = &v->rules.program;
    char rate[AMOUNT_FORMAT_MAX];
    if (v->p.rules_len == 0) {
        printf("rules          none (0 bytes)\n");
        return;
    }
    if (v->rules_err != LEAL_OK) {
        printf("rules          %u bytes that do not decode: %s\n", v->p.rules_len,
               leal_strerror(v->rules_err));
        return;
    }
    amount_text(r->rate_milli / 10, rate);
    printf("rules          rule set version %u, %s points per euro: %u %s, %u %s, %u %s, %u %s, "
           "%u %s (%u bytes)\n",
           v->rules.version, rate, r->n_rules, plural(r->n_rules, "rule", "rules"), r->n_tiers,
           plural(r->n_tiers, "tier", "tiers"), r->n_rewards,
           plural(r->n_rewards, "reward", "rewards"), r->n_stamps,
           plural(r->n_stamps, "stamp card", "stamp cards"), v->rules.n_bonos,
           plural(v->rules.n_bonos, "bono", "bonos"), v->p.rules_len);
}

static void print_rules_json(const struct shown *v)
{
    const struct rules_program *r = &v->rules.program;
    printf("\"rules_bytes\":%u,\"rules\":", v->p.rules_len);
    if (v->p.rules_len == 0 || v->rules_err != LEAL_OK) {
        printf(v->p.rules_len == 0 ? "null," : "\"damaged\",");
        return;
    }
    printf("{\"version\":%u,\"points_per_euro_milli\":%lld,\"rules\":%u,\"tiers\":%u,"
           "\"rewards\":%u,\"stamp_cards\":%u,\"bonos\":%u},",
           v->rules.version, (long long)r->rate_milli, r->n_rules, r->n_tiers, r->n_rewards,
           r->n_stamps, v->rules.n_bonos);
}

/* The times and caps of a package in words. */
struct shown_words {
    char issued[32], until[32], day[AMOUNT_FORMAT_MAX], sync[AMOUNT_FORMAT_MAX],
        classic[AMOUNT_FORMAT_MAX];
};

static void shown_words(const struct package_info *p, struct shown_words *w)
{
    lcli_time_str((int64_t)p->issued, w->issued, sizeof w->issued);
    lcli_time_str((int64_t)p->valid_until, w->until, sizeof w->until);
    amount_text(p->cap_day_cents, w->day);
    amount_text(p->cap_sync_cents, w->sync);
    amount_text(p->site.classic_purse_cap_cents, w->classic);
}

static void print_shown_json(const struct shown *v)
{
    const struct package_info *p = &v->p;
    struct shown_words w;
    shown_words(p, &w);
    printf("{\"file\":");
    cli_json_string(stdout, v->file);
    printf(",\"format\":%u,\"program\":%u,\"terminal\":%u,\"version\":%u,\"issued\":\"%s\","
           "\"issued_at\":%llu,\"valid_until\":\"%s\",\"valid_until_at\":%llu,\"expired\":%s,",
           p->format_version, p->program_id, p->terminal_id, p->version, w.issued,
           (unsigned long long)p->issued, w.until, (unsigned long long)p->valid_until,
           (uint64_t)time(NULL) >= p->valid_until ? "true" : "false");
    print_rules_json(v);
    printf("\"hot_list\":{\"cards\":%u,\"blocked\":%u,"
           "\"lost\":%u,\"replaced\":%u},\"floors\":%u,\"pending\":%u,\"cap_day\":\"%s\","
           "\"cap_between_syncs\":\"%s\",",
           p->hot_count, v->reasons[1], v->reasons[2], v->reasons[3], p->floor_count,
           p->pending_count, w.day, w.sync);
    printf("\"store\":%u,\"store_name\":", p->site.store_id);
    cli_json_string(stdout, v->store_name);
    printf(",\"zone\":");
    cli_json_string(stdout, v->zone);
    if (p->site.classic_purse_cap_cents == 0)
        printf(",\"classic_purse_cap\":null");
    else
        printf(",\"classic_purse_cap\":\"%s\"", w.classic);
    printf(",\"names\":{\"tiers\":%u,\"stamp_cards\":%u,\"rewards\":%u,\"bonos\":%u,"
           "\"stores\":%u},\"key_version\":%u,\"fingerprint\":\"%s\",\"signature\":\"%s\","
           "\"bytes\":%zu}\n",
           v->names_of[1], v->names_of[2], v->names_of[3], v->names_of[4], v->names_of[5],
           p->key_version, v->fp, v->sig, v->len);
}

static void print_shown_text(const struct shown *v)
{
    const struct package_info *p = &v->p;
    struct shown_words w;
    shown_words(p, &w);
    printf("package        %s\nformat         %u\nprogram        %u\nterminal       %u\n"
           "version        %u\nissued         %s UTC\nvalid until    %s UTC%s\n",
           v->file, p->format_version, p->program_id, p->terminal_id, p->version, w.issued, w.until,
           (uint64_t)time(NULL) >= p->valid_until ? " (expired)" : "");
    print_rules_text(v);
    printf("hot list       %u cards (%u blocked, %u lost, %u replaced)\n"
           "floors         %u cards\npending        %u cards with host changes waiting\n"
           "offline caps   %s EUR a day, %s EUR between syncs per card\n",
           p->hot_count, v->reasons[1], v->reasons[2], v->reasons[3], p->floor_count,
           p->pending_count, w.day, w.sync);
    printf("store          %u%s%s%s\ntime zone      %s\n", p->site.store_id,
           v->store_name[0] ? " (" : "", v->store_name, v->store_name[0] ? ")" : "", v->zone);
    if (p->site.classic_purse_cap_cents == 0)
        printf("classic purse  off: every Classic stored-value card is refused\n");
    else
        printf("classic purse  cap %s EUR\n", w.classic);
    printf("names          %u %s, %u %s, %u %s, %u %s, %u %s\n", v->names_of[1],
           plural(v->names_of[1], "tier", "tiers"), v->names_of[2],
           plural(v->names_of[2], "stamp card", "stamp cards"), v->names_of[3],
           plural(v->names_of[3], "reward", "rewards"), v->names_of[4],
           plural(v->names_of[4], "bono", "bonos"), v->names_of[5],
           plural(v->names_of[5], "store", "stores"));
    printf("signed by      package key version %u%s%s%s\n", p->key_version, v->fp[0] ? " (" : "",
           v->fp, v->fp[0] ? ")" : "");
    if (strcmp(v->sig, "verified") == 0)
        printf("signature      verifies against the keystore's public key\n");
    else if (strcmp(v->sig, "unknown-key") == 0)
        printf("signature      not checked: the keystore has no package key version %u for "
               "program %u\n",
               p->key_version, p->program_id);
    else
        printf("signature      DOES NOT VERIFY: %s\n", leal_strerror(v->why));
}

static int package_show(const char *file, const struct lcli_opt *o, size_t no)
{
    static struct shown v;
    struct desk_keys dk = {0};
    struct package_hot h;
    uint8_t *data = NULL;
    leal_err err;
    int rc;

    memset(&v, 0, sizeof v);
    v.file = file;
    v.why = LEAL_OK;
    if ((err = file_read(file, PACKAGE_MAX_SIZE, &data, &v.len)) != LEAL_OK)
        return cli_fail(err, "package %s", file);
    struct package_source src = {package_memory_read, data, (uint32_t)v.len};
    if ((err = package_parse(&src, &v.p)) != LEAL_OK) {
        rc = cli_fail(err, "package %s", file);
        goto out;
    }
    for (uint32_t i = 0; i < v.p.hot_count; i++) {
        if ((err = package_hot_at(&v.p, &src, i, &h)) != LEAL_OK) {
            rc = cli_fail(err, "package %s", file);
            goto out;
        }
        v.reasons[h.reason]++;
    }
    if ((err = read_names(&src, &v)) != LEAL_OK) {
        rc = cli_fail(err, "package %s", file);
        goto out;
    }
    if ((rc = show_key(o, no, v.p.program_id, &dk)) != 0)
        goto out;
    v.sig = check_signature(dk.keys, &v.p, &src, v.fp, &v.why);
    read_rules(data, &v);
    if (lcli_get(o, no, "json"))
        print_shown_json(&v);
    else
        print_shown_text(&v);
    rc = strcmp(v.sig, "bad") == 0 || strcmp(v.sig, "error") == 0 || v.rules_err != LEAL_OK
             ? CLI_EXIT_FAIL
             : CLI_EXIT_OK;
out:
    free(data);
    desk_keys_release(&dk);
    return rc;
}

int cmd_package(int argc, char **argv)
{
    struct lcli_opt o[] = {
        {"keystore", 0, 0}, {"passphrase-file", 0, 0}, {"json", 1, 0}, {"help", 1, 0}};
    const char *pos[LCLI_MAX_POS];
    size_t npos;
    int rc;
    npos = LCLI_MAX_POS;
    if ((rc = lcli_parse(argc, argv, o, N(o), pos, &npos)) != 0)
        return rc;
    if (lcli_get(o, N(o), "help")) {
        fputs(package_help, stdout);
        return CLI_EXIT_OK;
    }
    if (npos != 2 || strcmp(pos[0], "show") != 0)
        return cli_usage("leal package: expected 'show FILE'");
    return package_show(pos[1], o, N(o));
}
