/*
 * cmd_card.c - `leal card SUBCOMMAND`: what is on the card in the reader.
 * A small dispatcher; issuance adds its subcommands to card_commands[].
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/reader/reader.h"
#include "keys/base/bytes.h"

/* Options every card subcommand shares. */
struct card_opts {
    const char *reader;
    int allow_virtual;
    unsigned timeout_ms;
    int json;
};

static int card_info(const struct card_opts *o, int argc, char **argv);

static const struct {
    const char *name;
    const char *summary;
    int (*run)(const struct card_opts *o, int argc, char **argv);
} card_commands[] = {
    {"info",
     "card type, UID, DESFire version, free memory, applications; for MIFARE Classic the "
     "sectors that open with the factory keys",
     card_info},
};

/* The issuance desk's subcommands (cmd_card_desk.c), which take their own options. */
static const char *const desk_commands[] = {"issue", "read",    "top-up",  "replace", "erase",
                                            "block", "unblock", "history", "hotlist", "sync"};

void cmd_card_summary(char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "cards at the desk:");
    for (size_t i = 0; n < cap && i < sizeof card_commands / sizeof card_commands[0]; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s %s", i ? "," : "", card_commands[i].name);
    for (size_t i = 0; n < cap && i < sizeof desk_commands / sizeof desk_commands[0]; i++)
        n += (size_t)snprintf(out + n, cap - n, ", %s", desk_commands[i]);
}

static void card_usage(FILE *f)
{
    fputs("usage: leal card SUBCOMMAND [--reader SPEC] [--allow-virtual] [--timeout SECONDS]\n"
          "                 [--json]\n\nSubcommands:\n",
          f);
    for (size_t i = 0; i < sizeof card_commands / sizeof card_commands[0]; i++)
        fprintf(f, "  %-10s %s\n", card_commands[i].name, card_commands[i].summary);
    fputs("\nOptions:\n"
          "  --reader SPEC     pcsc:NAME, nfc:CONNSTRING (libnfc) or sim:CARD-FILE (see\n"
          "                    'leal readers'); default: the\n"
          "                    first reader\n"
          "  --allow-virtual   accept vsmartcard's \"Virtual PCD\" test readers\n"
          "  --timeout SECONDS how long to wait for a card (default 10)\n"
          "  --json            machine-readable output\n"
          "\nThe issuance desk (see 'leal card issue --help'):\n"
          "  issue      personalise a blank card for a customer (--customer ID)\n"
          "  read       the verified view: balances, counters, and whether the ledger agrees\n"
          "  top-up     credit the purse (AMOUNT in euros), recorded in the ledger exactly once\n"
          "  replace    a new card takes over a lost one's balances (--old CARD-ID); the old\n"
          "             card presented first is emptied in the same operation\n"
          "  sync       bring the card to the ledger: the points changes it lacks, as a delta\n"
          "  erase      back to the factory state (the card must hold no money)\n"
          "  block      block a card by id (--reason); unblock lifts it\n"
          "  history    every status a card took, with why and who (CARD-ID)\n"
          "  hotlist    the cards terminals refuse: blocked, lost, replaced (--program ID)\n",
          f);
}

static void hex(FILE *f, const uint8_t *p, size_t n, const char *sep)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%02x", i && sep ? sep : "", p[i]);
}

/* A wrapped DESFire command with its 91AF continuations; returns the final
 * SW2 (0x00 success) or -1 after printing the error. */
static int desfire(struct reader *r, uint8_t ins, uint8_t *out, size_t cap, size_t *len,
                   leal_err *err)
{
    uint8_t apdu[5] = {0x90, ins, 0x00, 0x00, 0x00}, resp[LEAL_MAX_RAPDU];
    size_t rl;
    *len = 0;
    for (;;) {
        if ((*err = reader_transceive(r, apdu, sizeof apdu, resp, sizeof resp, &rl)) != LEAL_OK)
            return -1;
        if (rl < 2 || resp[rl - 2] != 0x91 || *len + rl - 2 > cap) {
            *err = LEAL_E_PROTOCOL;
            return -1;
        }
        memcpy(out + *len, resp, rl - 2);
        *len += rl - 2;
        if (resp[rl - 1] != 0xAF)
            return resp[rl - 1];
        apdu[1] = 0xAF;
    }
}

static const char *desfire_name(uint8_t major)
{
    switch (major) {
    case 0x00:
        return "MIFARE DESFire (MF3ICD40)";
    case 0x01:
        return "MIFARE DESFire EV1";
    case 0x12:
        return "MIFARE DESFire EV2";
    case 0x22:
        return "MIFARE DESFire EV2 XL";
    case 0x33:
        return "MIFARE DESFire EV3";
    case 0x30:
        return "MIFARE DESFire Light";
    default:
        return "MIFARE DESFire (unknown version)";
    }
}

/* PC/SC part 3 storage-card ATR: 3B 8F 80 01 80 4F 0C A0 00 00 03 06 SS NN NN. */
static const char *storage_name(const struct reader_card *c)
{
    static const uint8_t rid[] = {0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06};
    const uint8_t *h = c->atr + 4;
    if (c->atr_len < 4 + 11 || memcmp(h, rid, sizeof rid) != 0)
        return NULL;
    if (h[9] == 0x00 && h[10] == 0x01)
        return "MIFARE Classic 1K";
    if (h[9] == 0x00 && h[10] == 0x02)
        return "MIFARE Classic 4K";
    if (h[9] == 0x00 && h[10] == 0x03)
        return "MIFARE Ultralight";
    return "storage card (unknown)";
}

/* Sectors of a MIFARE Classic 1K (16) or 4K (40) whose key A / key B is still
 * the factory key FFFFFFFFFFFF: an authentication per sector and key. */
static leal_err classic_factory_keys(struct reader *r, unsigned nsect, uint64_t *mask_a,
                                     uint64_t *mask_b)
{
    static const uint8_t factory[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    const struct card_reader *cr = reader_card_reader(r);
    *mask_a = *mask_b = 0;
    for (unsigned s = 0; s < nsect; s++) {
        uint8_t block = (uint8_t)(s < 32 ? s * 4 : 128 + (s - 32) * 16);
        for (int k = 0; k < 2; k++) {
            leal_err err =
                cr->classic_auth(cr->ctx, block, k ? CLASSIC_KEY_B : CLASSIC_KEY_A, factory);
            if (err == LEAL_OK)
                *(k ? mask_b : mask_a) |= (uint64_t)1 << s;
            else if (err != LEAL_E_CARD_AUTHENTICATION)
                return err;
        }
    }
    return LEAL_OK;
}

/* "0-15", "1 3-5", "none". */
static void print_sectors(uint64_t mask, unsigned n)
{
    bool any = false;
    for (unsigned s = 0; s < n; s++) {
        unsigned e = s;
        if (!(mask >> s & 1))
            continue;
        while (e + 1 < n && (mask >> (e + 1) & 1))
            e++;
        printf(any ? " " : "");
        if (e > s)
            printf("%u-%u", s, e);
        else
            printf("%u", s);
        any = true;
        s = e;
    }
    if (!any)
        printf("none");
}

static void json_sectors(uint64_t mask, unsigned n)
{
    bool any = false;
    printf("[");
    for (unsigned s = 0; s < n; s++)
        if (mask >> s & 1) {
            printf("%s%u", any ? "," : "", s);
            any = true;
        }
    printf("]");
}

static int card_info(const struct card_opts *o, int argc, char **argv)
{
    struct reader_options ropt = {.allow_virtual = o->allow_virtual != 0};
    struct reader *r = NULL;
    struct reader_card c;
    uint8_t ver[64], mem[8], aids[3 * 32];
    size_t vl = 0, ml = 0, al = 0;
    int sw_ver, sw_mem = -1, sw_apps = -1, rc;
    const char *type = NULL;
    unsigned classic_sectors = 0;
    uint64_t factory_a = 0, factory_b = 0;
    leal_err err;

    if (argc > 1)
        return cli_usage("card info: unexpected argument '%s'", argv[1]);
    if ((err = reader_open(o->reader, &ropt, &r)) != LEAL_OK) {
        if (err == LEAL_E_USAGE)
            return cli_usage("bad --reader '%s': use pcsc:NAME, nfc:CONNSTRING or sim:CARD-FILE",
                             o->reader);
        return cli_fail(err, "opening the reader %s", o->reader ? o->reader : "");
    }
    if ((err = reader_wait_card(r, o->timeout_ms)) != LEAL_OK ||
        (err = reader_card_info(r, &c)) != LEAL_OK) {
        rc = cli_fail(err, "reading the card on %s", reader_name(r));
        reader_close(r);
        return rc;
    }
    sw_ver = desfire(r, 0x60, ver, sizeof ver, &vl, &err);
    if (sw_ver < 0 && err != LEAL_OK && err != LEAL_E_PROTOCOL) {
        rc = cli_fail(err, "asking the card its version");
        reader_close(r);
        return rc;
    }
    if (sw_ver == 0x00 && vl == 28 && ver[0] == 0x04 && ver[1] == 0x01) {
        type = desfire_name(ver[3]);
        sw_mem = desfire(r, 0x6E, mem, sizeof mem, &ml, &err);
        if (sw_mem >= 0)
            sw_apps = desfire(r, 0x6A, aids, sizeof aids, &al, &err);
        if (err != LEAL_OK) {
            rc = cli_fail(err, "reading the card");
            reader_close(r);
            return rc;
        }
    } else {
        type = storage_name(&c);
        if (type == NULL)
            type = "unknown ISO 14443-4 card";
        else if (strncmp(type, "MIFARE Classic", 14) == 0)
            classic_sectors = strcmp(type, "MIFARE Classic 4K") == 0 ? 40 : 16;
    }
    if (classic_sectors &&
        (err = classic_factory_keys(r, classic_sectors, &factory_a, &factory_b)) != LEAL_OK) {
        rc = cli_fail(err, "trying the factory keys on the card");
        reader_close(r);
        return rc;
    }
    if (o->json) {
        printf("{\"type\":");
        cli_json_string(stdout, type);
        printf(",\"uid\":\"");
        hex(stdout, c.uid, c.uid_len, NULL);
        printf("\",\"atr\":\"");
        hex(stdout, c.atr, c.atr_len, NULL);
        printf("\"");
        if (classic_sectors) {
            printf(",\"classic\":{\"sectors\":%u,\"factory_key_a\":", classic_sectors);
            json_sectors(factory_a, classic_sectors);
            printf(",\"factory_key_b\":");
            json_sectors(factory_b, classic_sectors);
            printf("}");
        }
        if (sw_mem >= 0) {
            printf(",\"desfire\":{\"hardware\":\"");
            hex(stdout, ver, 7, NULL);
            printf("\",\"software\":\"");
            hex(stdout, ver + 7, 7, NULL);
            printf("\",\"batch\":\"");
            hex(stdout, ver + 21, 5, NULL);
            printf("\",\"week\":\"%02x\",\"year\":\"%02x\",\"storage\":%u", ver[26], ver[27],
                   1u << (ver[5] >> 1));
            if (sw_mem == 0x00 && ml == 3)
                printf(",\"free_memory\":%u", (unsigned)load_le24(mem));
            if (sw_apps == 0x00) {
                printf(",\"applications\":[");
                for (size_t i = 0; i + 3 <= al; i += 3)
                    printf("%s\"%06x\"", i ? "," : "", (unsigned)load_le24(aids + i));
                printf("]");
            }
            printf("}");
        }
        printf("}\n");
    } else {
        printf("type: %s\nuid: ", type);
        hex(stdout, c.uid, c.uid_len, NULL);
        printf("\natr: ");
        hex(stdout, c.atr, c.atr_len, " ");
        printf("\n");
        if (classic_sectors) {
            printf("sectors: %u\nfactory key A (FFFFFFFFFFFF): ", classic_sectors);
            print_sectors(factory_a, classic_sectors);
            printf("\nfactory key B (FFFFFFFFFFFF): ");
            print_sectors(factory_b, classic_sectors);
            printf("\n");
        }
        if (sw_mem >= 0) {
            printf("version: hardware ");
            hex(stdout, ver, 7, " ");
            printf(", software ");
            hex(stdout, ver + 7, 7, " ");
            printf("\nproduction: batch ");
            hex(stdout, ver + 21, 5, NULL);
            printf(", week %02x, year %02x\nstorage: %u bytes\n", ver[26], ver[27],
                   1u << (ver[5] >> 1));
            if (sw_mem == 0x00 && ml == 3)
                printf("free memory: %u bytes\n", (unsigned)load_le24(mem));
            if (sw_apps == 0x00) {
                printf("applications:");
                for (size_t i = 0; i + 3 <= al; i += 3)
                    printf(" %06x", (unsigned)load_le24(aids + i));
                printf("%s\n", al ? "" : " none");
            } else {
                printf("applications: not listed (the card wants its PICC master key)\n");
            }
        }
    }
    reader_close(r);
    return CLI_EXIT_OK;
}

int cmd_card(int argc, char **argv)
{
    static const struct option opts[] = {
        {"reader", required_argument, NULL, 'r'},  {"allow-virtual", no_argument, NULL, 'v'},
        {"timeout", required_argument, NULL, 't'}, {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    struct card_opts o = {.timeout_ms = 10000};
    int c;
    const char *sub;

    if (argc < 2) {
        card_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        card_usage(stdout);
        return CLI_EXIT_OK;
    }
    sub = argv[1];
    for (size_t i = 0; i < sizeof desk_commands / sizeof desk_commands[0]; i++)
        if (strcmp(sub, desk_commands[i]) == 0)
            return card_desk(sub, argc - 1, argv + 1);
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o.reader = optarg;
            break;
        case 'v':
            o.allow_virtual = 1;
            break;
        case 't': {
            char *end;
            unsigned long s;
            errno = 0;
            s = strtoul(optarg, &end, 10);
            if (errno || *end || s > 3600)
                return cli_usage("bad --timeout '%s' (seconds, 0..3600)", optarg);
            o.timeout_ms = (unsigned)s * 1000u;
            break;
        }
        case 'j':
            o.json = 1;
            break;
        case 'h':
            card_usage(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_usage("card: unknown option");
        }
    }
    for (size_t i = 0; i < sizeof card_commands / sizeof card_commands[0]; i++)
        if (strcmp(sub, card_commands[i].name) == 0) {
            /* Remaining operands after the options, with the subcommand first. */
            argv[optind - 1] = (char *)sub;
            return card_commands[i].run(&o, argc - optind + 1, argv + optind - 1);
        }
    return cli_usage("card: unknown subcommand '%s'", sub);
}
