/*
 * cmd_card.c - `leal card SUBCOMMAND`: what is on the card in the reader.
 * A small dispatcher; issuance adds its subcommands to card_commands[].
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "host/desk/card_info.h"
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
static const char *const desk_commands[] = {"issue",   "read",  "top-up",  "replace",
                                            "erase",   "block", "unblock", "history",
                                            "hotlist", "sync",  "upgrade"};

void cmd_card_summary(char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "cards at the desk:");
    for (size_t i = 0; n < cap && i < sizeof card_commands / sizeof card_commands[0]; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s %s", i ? "," : "", card_commands[i].name);
    for (size_t i = 0; n < cap && i < sizeof desk_commands / sizeof desk_commands[0]; i++)
        n += (size_t)snprintf(out + n, cap - n, ", %s", desk_commands[i]);
    if (n < cap)
        snprintf(out + n, cap - n, ", pin, holder");
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
          "  upgrade    give a DESFire EV2/EV3 issued before the Transaction MAC file that\n"
          "             file, so its taps are journaled with the card's own MAC\n"
          "  erase      back to the factory state (the card must hold no money)\n"
          "  block      block a card by id (--reason); unblock lifts it\n"
          "  history    every status a card took, with why and who (CARD-ID)\n"
          "  hotlist    the cards terminals refuse: blocked, lost, replaced (--program ID)\n"
          "  pin        set or clear the PIN the customer signs in to the portal with\n"
          "             ('leal card pin --help')\n"
          "  holder     name who carries a card of a family account (CARD-ID NAME)\n",
          f);
}

static void hex(FILE *f, const uint8_t *p, size_t n, const char *sep)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%s%02x", i && sep ? sep : "", p[i]);
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

static void json_desfire(const struct desk_card_info *ci)
{
    const struct desfire_version *v = &ci->version;
    printf(",\"desfire\":{\"hardware\":\"");
    hex(stdout, v->hw, 7, NULL);
    printf("\",\"software\":\"");
    hex(stdout, v->sw, 7, NULL);
    printf("\",\"batch\":\"");
    hex(stdout, v->batch, 5, NULL);
    printf("\",\"week\":\"%02x\",\"year\":\"%02x\",\"storage\":%u", v->week, v->year,
           1u << (v->hw[5] >> 1));
    if (ci->has_free_memory)
        printf(",\"free_memory\":%u", (unsigned)ci->free_memory);
    if (ci->apps_listed) {
        printf(",\"applications\":[");
        for (size_t i = 0; i < ci->naids; i++)
            printf("%s\"%06x\"", i ? "," : "", (unsigned)load_le24(ci->aids[i]));
        printf("]");
    }
    printf("}");
}

static void json_info(const struct desk_card_info *ci)
{
    printf("{\"type\":");
    cli_json_string(stdout, ci->type);
    printf(",\"uid\":\"");
    hex(stdout, ci->card.uid, ci->card.uid_len, NULL);
    printf("\",\"atr\":\"");
    hex(stdout, ci->card.atr, ci->card.atr_len, NULL);
    printf("\"");
    if (ci->classic_sectors) {
        printf(",\"classic\":{\"sectors\":%u,\"factory_key_a\":", ci->classic_sectors);
        json_sectors(ci->factory_key_a, ci->classic_sectors);
        printf(",\"factory_key_b\":");
        json_sectors(ci->factory_key_b, ci->classic_sectors);
        printf("}");
    }
    if (ci->desfire)
        json_desfire(ci);
    printf("}\n");
}

static void print_desfire(const struct desk_card_info *ci)
{
    const struct desfire_version *v = &ci->version;
    printf("version: hardware ");
    hex(stdout, v->hw, 7, " ");
    printf(", software ");
    hex(stdout, v->sw, 7, " ");
    printf("\nproduction: batch ");
    hex(stdout, v->batch, 5, NULL);
    printf(", week %02x, year %02x\nstorage: %u bytes\n", v->week, v->year, 1u << (v->hw[5] >> 1));
    if (ci->has_free_memory)
        printf("free memory: %u bytes\n", (unsigned)ci->free_memory);
    if (ci->apps_listed) {
        printf("applications:");
        for (size_t i = 0; i < ci->naids; i++)
            printf(" %06x", (unsigned)load_le24(ci->aids[i]));
        printf("%s\n", ci->naids ? "" : " none");
    } else {
        printf("applications: not listed (the card wants its PICC master key)\n");
    }
}

static void print_info(const struct desk_card_info *ci)
{
    printf("type: %s\nuid: ", ci->type);
    hex(stdout, ci->card.uid, ci->card.uid_len, NULL);
    printf("\natr: ");
    hex(stdout, ci->card.atr, ci->card.atr_len, " ");
    printf("\n");
    if (ci->classic_sectors) {
        printf("sectors: %u\nfactory key A (FFFFFFFFFFFF): ", ci->classic_sectors);
        print_sectors(ci->factory_key_a, ci->classic_sectors);
        printf("\nfactory key B (FFFFFFFFFFFF): ");
        print_sectors(ci->factory_key_b, ci->classic_sectors);
        printf("\n");
    }
    if (ci->desfire)
        print_desfire(ci);
}

static int card_info(const struct card_opts *o, int argc, char **argv)
{
    struct reader_options ropt = {.allow_virtual = o->allow_virtual != 0};
    struct reader *r = NULL;
    struct desk_card_info ci;
    const char *doing;
    leal_err err;
    int rc;

    if (argc > 1)
        return cli_usage("card info: unexpected argument '%s'", argv[1]);
    if ((err = reader_open(o->reader, &ropt, &r)) != LEAL_OK) {
        if (err == LEAL_E_USAGE)
            return cli_usage("bad --reader '%s': use pcsc:NAME, nfc:CONNSTRING or sim:CARD-FILE",
                             o->reader);
        return cli_fail(err, "opening the reader %s", o->reader ? o->reader : "");
    }
    if ((err = desk_card_info(r, o->timeout_ms, &ci, &doing)) != LEAL_OK) {
        rc = doing ? cli_fail(err, "%s", doing)
                   : cli_fail(err, "reading the card on %s", reader_name(r));
        reader_close(r);
        return rc;
    }
    if (o->json)
        json_info(&ci);
    else
        print_info(&ci);
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
    if (strcmp(sub, "pin") == 0)
        return card_pin(argc - 1, argv + 1);
    if (strcmp(sub, "holder") == 0)
        return card_holder(argc - 1, argv + 1);
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
