/*
 * bench_terminal.c - issue 13's speed of a tap, per transaction and card
 * kind: the terminal core (firmware/core/terminal.h, portable provider) taps
 * a virtual DESFire EV1 and a MIFARE Classic 1K (tests/lib/till.h) through a
 * struct card_reader that records every exchange: round trips (every 0xAF
 * frame counted; Classic: each authentication, block read and block write),
 * the bytes each way, and from them the time on air at 106 kbit/s by the
 * model printed under the table (ISO/IEC 14443 framing and timing, NXP's
 * programming time, the emulated PN532's UART link), against LAYOUT.md's
 * round-trip goals and NXP's "< 100 ms" for a whole transaction. Reports
 * only; the host's own time per tap through pcscd is tests/bench/
 * terminal_pcsc.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cardlayout/card_reader.h"
#include "tests/lib/desk_fixture.h"
#include "tests/lib/till.h"

/* ISO/IEC 14443-2/-3 at 106 kbit/s: fc = 13.56 MHz, one bit is 128/fc. */
#define FC_HZ 13560000.0
#define BIT_US (128.0 * 1e6 / FC_HZ)
/* ISO/IEC 14443-3 6.2.1: the least frame delay time either way, 1172/fc. */
#define FDT_US (1172.0 * 1e6 / FC_HZ)
/* ISO/IEC 14443-4 7.1: an I-block is PCB, INF, CRC_A (no CID, no NAD). */
#define IBLOCK_OVERHEAD 3
/* NXP MIFARE DESFire EV2 short data sheet (MF3DX2): "fast programming
 * cycles (erase/write) 1 ms", taken for each command that programs the
 * EEPROM (EV1 and Classic assumed alike). */
#define PROGRAM_US 1000.0
/* Assumed, no public NXP figure per command: the card's OS and AES for a
 * command that programs nothing. */
#define COMMAND_US 500.0
/* The emulated PN532 on its UART at 115200 baud, 10 bits a byte
 * (REFERENCE.md 4.1): InDataExchange D4 40 01 ... in a frame of 10 bytes
 * more than its data, the 6-byte ACK, the answer D5 41 status ... likewise. */
#define UART_BYTE_US (10.0 * 1e6 / 115200.0)
#define PN532_EXCHANGE_BYTES 26

#define MAX_EXCHANGES 64

enum xkind { X_APDU, X_AUTH, X_READ, X_WRITE };

struct exchange {
    enum xkind kind;
    uint8_t ins; /* X_APDU: the DESFire command (90 INS 00 00 ...) */
    size_t out, in;
};

struct counter {
    const struct card_reader *inner;
    struct card_reader self;
    struct exchange x[MAX_EXCHANGES];
    unsigned n;
};

static void note(struct counter *c, enum xkind k, uint8_t ins, size_t out, size_t in)
{
    if (c->n < MAX_EXCHANGES)
        c->x[c->n] = (struct exchange){k, ins, out, in};
    c->n++;
}

static leal_err count_transceive(void *ctx, const uint8_t *cmd, size_t cmd_len, uint8_t *resp,
                                 size_t resp_cap, size_t *resp_len)
{
    struct counter *c = ctx;
    leal_err err = c->inner->transceive(c->inner->ctx, cmd, cmd_len, resp, resp_cap, resp_len);
    note(c, X_APDU, cmd_len > 1 && cmd[0] == 0x90 ? cmd[1] : 0, cmd_len,
         err == LEAL_OK ? *resp_len : 0);
    return err;
}

static leal_err count_auth(void *ctx, uint8_t block, uint8_t key_type, const uint8_t key[6])
{
    struct counter *c = ctx;
    note(c, X_AUTH, 0, 0, 0);
    return c->inner->classic_auth(c->inner->ctx, block, key_type, key);
}

static leal_err count_read(void *ctx, uint8_t block, uint8_t out[16])
{
    struct counter *c = ctx;
    note(c, X_READ, 0, 0, 0);
    return c->inner->classic_read(c->inner->ctx, block, out);
}

static leal_err count_write(void *ctx, uint8_t block, const uint8_t data[16])
{
    struct counter *c = ctx;
    note(c, X_WRITE, 0, 0, 0);
    return c->inner->classic_write(c->inner->ctx, block, data);
}

/* Wraps the till's reader (again after each till_present). */
static void count_on(struct till *t, struct counter *c)
{
    c->inner = t->port.reader;
    c->self = (struct card_reader){c, count_transceive, count_auth, count_read, count_write};
    c->n = 0;
    t->port.reader = &c->self;
}

static double frame_us(size_t bytes)
{
    /* ISO/IEC 14443-3 6.2.3: start bit, 8 data bits and odd parity a byte, end. */
    return (9.0 * (double)bytes + 2.0) * BIT_US;
}

struct air {
    unsigned frames;        /* frames each way */
    size_t out, in;         /* bytes on air each way, framing included */
    double air_us, card_us; /* on air (with the delays), in the card */
    double uart_us;         /* the PN532's UART link */
};

static bool programs(uint8_t ins)
{
    /* WriteData, WriteRecord, Credit, Debit, LimitedCredit, CommitTransaction */
    return ins == 0x3D || ins == 0x3B || ins == 0x0C || ins == 0xDC || ins == 0x1C || ins == 0xC7;
}

/* One exchange on air: frames out and in, each with its delay. */
static void on_air(struct air *a, size_t out, size_t in, double card_us)
{
    a->frames++;
    a->out += out;
    a->in += in;
    a->air_us += frame_us(out) + FDT_US + frame_us(in) + FDT_US;
    a->card_us += card_us;
}

static struct air air_of(const struct counter *c)
{
    struct air a;
    memset(&a, 0, sizeof a);
    for (unsigned i = 0; i < c->n && i < MAX_EXCHANGES; i++) {
        const struct exchange *x = &c->x[i];
        switch (x->kind) {
        case X_APDU:
            on_air(&a, x->out + IBLOCK_OVERHEAD, x->in + IBLOCK_OVERHEAD,
                   programs(x->ins) ? PROGRAM_US : COMMAND_US);
            a.uart_us += (double)(x->out + x->in + PN532_EXCHANGE_BYTES) * UART_BYTE_US;
            break;
        case X_AUTH:
            /* 60|61 block CRC -> nt (4); {nr ar} (8) -> {at} (4) */
            on_air(&a, 4, 4, 0);
            on_air(&a, 8, 4, 0);
            /* InDataExchange: 60 block key(6) uid(4), answer the status */
            a.uart_us += (12.0 + PN532_EXCHANGE_BYTES) * UART_BYTE_US;
            break;
        case X_READ: /* 30 block CRC -> 16 bytes CRC */
            on_air(&a, 4, 18, 0);
            a.uart_us += (2.0 + 16 + PN532_EXCHANGE_BYTES) * UART_BYTE_US;
            break;
        case X_WRITE: /* A0 block CRC -> ACK (4 bits); 16 bytes CRC -> ACK after the write */
            on_air(&a, 4, 1, 0);
            on_air(&a, 18, 1, PROGRAM_US);
            a.uart_us += (18.0 + PN532_EXCHANGE_BYTES) * UART_BYTE_US;
            break;
        }
    }
    return a;
}

/* The card's activation before the first command: REQA (7 bits) -> ATQA,
 * anticollision and select per cascade level (a 7-byte UID has two), and
 * for ISO 14443-4 RATS -> ATS (06 75 77 81 02 80, CRC). */
static double activation_us(bool desfire)
{
    struct air a;
    memset(&a, 0, sizeof a);
    a.air_us += (7.0 + 2) * BIT_US + FDT_US + frame_us(2) + FDT_US;
    for (int level = 0; level < (desfire ? 2 : 1); level++) {
        on_air(&a, 2, 5, 0);
        on_air(&a, 9, 3, 0);
    }
    if (desfire)
        on_air(&a, 4, 8, 0);
    return a.air_us;
}

struct row {
    const char *name;
    struct terminal_request q;
    unsigned goal; /* 0: none */
};

static void print_head(void)
{
    printf("%-8s %-16s %3s %5s %7s %7s %7s %7s %7s %7s %8s\n", "card", "operation", "RT", "goal",
           "out B", "in B", "air ms", "card ms", "uart ms", "tap ms", "< 100 ms");
}

static void tap_row(struct till *t, struct counter *c, const char *card, const struct row *w)
{
    struct terminal_result r;
    struct air a;
    double act, total;
    char goal[16] = "";
    till_present(t);
    count_on(t, c);
    memset(&r, 0, sizeof r);
    if (till_tap(t, &w->q, &r) != LEAL_OK || r.outcome != TERMINAL_DONE) {
        printf("%-8s %-16s not done: %s\n", card, w->name,
               leal_strerror(r.outcome == TERMINAL_REFUSED ? (leal_err)r.reason : LEAL_E_ARG));
        return;
    }
    a = air_of(c);
    act = activation_us(strcmp(card, "classic") != 0);
    total = act + a.air_us + a.card_us + a.uart_us;
    if (w->goal)
        snprintf(goal, sizeof goal, "<= %u", w->goal);
    printf("%-8s %-16s %3u %5s %7zu %7zu %7.2f %7.2f %7.2f %7.2f %8s\n", card, w->name, c->n, goal,
           a.out, a.in, (act + a.air_us) / 1000, a.card_us / 1000, a.uart_us / 1000, total / 1000,
           total < 100000 ? "yes" : "NO");
    if (c->n != r.round_trips && strcmp(card, "classic") != 0)
        printf("         (the core counted %u round trips)\n", r.round_trips);
}

static struct terminal_request req(uint8_t op, int64_t amount, int64_t pay, uint32_t item)
{
    return till_request(op, amount, pay, item);
}

static void card_rows(struct fixture *f, const char *card)
{
    const bool desfire = strcmp(card, "classic") != 0;
    const bool named = strcmp(card, "ev1-nmd") == 0;
    const struct row rows[] = {
        {"earn", req(TERMINAL_EARN, 2350, 0, 0), desfire ? 7 : 23},
        {"pay", req(TERMINAL_PAY, 0, 300, 0), 0},
        {"pay+earn", req(TERMINAL_PAY_EARN, 300, 300, 0), desfire ? 8 : 0},
        {"redeem", req(TERMINAL_REDEEM, 0, 0, 5), 0},
        {"stamp", req(TERMINAL_STAMP, 0, 0, 0), 0},
        {"bono", req(TERMINAL_BONO, 0, 0, 21), 0},
        {"balance", req(TERMINAL_BALANCE, 0, 0, 0), 0},
        {"earn (to void)", req(TERMINAL_EARN, 1000, 0, 0), 0},
        {"void of an earn", req(TERMINAL_VOID, 0, 0, 0), 0},
        {"pay (to void)", req(TERMINAL_PAY, 0, 200, 0), 0},
        {"void of a pay", req(TERMINAL_VOID, 0, 0, 0), 0},
    };
    struct till t;
    struct counter c;
    if (desfire)
        till_make_desfire(f, 5000, 5);
    else
        till_make_classic(f, 5000);
    /* ev1-nmd: the package's floor names the card as an EV1, and a balance
     * tap before the rows let this terminal keep its UID: AA first. */
    struct package_floor fl = {TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, 0, 0, 0, {0}};
    till_open(&t, f, 3, named ? &(struct till_package){.floors = &fl, .floor_count = 1} : NULL);
    if (named) {
        struct terminal_request q = req(TERMINAL_BALANCE, 0, 0, 0);
        struct terminal_result r;
        till_present(&t);
        if (till_tap(&t, &q, &r) != LEAL_OK || r.outcome != TERMINAL_DONE)
            printf("ev1-nmd  the first balance was not done\n");
    }
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        tap_row(&t, &c, card, &rows[i]);
    till_close(&t);
}

int main(void)
{
    void *state = NULL;
    struct fixture *f;
    if (desk_fixture_setup(&state) != 0) {
        fprintf(stderr, "bench_terminal: the fixture could not be set up\n");
        return 1;
    }
    f = state;
    printf("a tap per transaction and card (a fixed-UID DESFire EV1: desfire, not named by the\n"
           "package, and ev1-nmd, named by its floor as an EV1; a Classic 1K; the till's rules,\n"
           "package and journal of tests/lib/till.h), every exchange recorded:\n");
    print_head();
    card_rows(f, "desfire");
    card_rows(f, "ev1-nmd");
    card_rows(f, "classic");
    printf(
        "RT: round trips at the reader, every 0xAF frame counted (Classic: each authentication,\n"
        "  block read, block write); goals: LAYOUT.md 2.7 (DESFire earn 7, pay + earn 8) and\n"
        "  issue 13 (Classic earn 23). DESFire earn 8 and pay + earn 10 (an EV2/EV3's, and an\n"
        "  EV1's the package names, ev1-nmd: AuthenticateAES first; an EV1 it does not name adds\n"
        "  its ILLEGAL_COMMAND answer to AuthenticateEV2First: 9 and 11) are over LAYOUT.md's\n"
        "  7 and 8 on purpose: firmware/core/TERMINAL.md 'Round trips' (the counter read for\n"
        "  the floor and the journal, the purse read before a payment).\n"
        "out B / in B: bytes on air each way, ISO/IEC 14443-4 I-blocks (PCB + the APDU as sent +\n"
        "  CRC_A; DESFire commands ISO-wrapped, 90 INS 00 00 Lc data 00) and, for Classic, the\n"
        "  MIFARE frames (auth 4+8 out 4+4 in, read 4 out 18 in, write 4+18 out, two 4-bit ACKs).\n"
        "air ms: bits at 106 kbit/s (128/fc = %.2f us, fc 13.56 MHz; 9 bits a byte with parity,\n"
        "  start and end: ISO/IEC 14443-2/-3), the least frame delay time 1172/fc = %.1f us each\n"
        "  way (ISO/IEC 14443-3 6.2.1), and the card's activation (REQA, anticollision and select\n"
        "  per cascade level, RATS for DESFire).\n"
        "card ms: 1 ms for each command that programs the EEPROM (WriteData, WriteRecord, Credit,\n"
        "  Debit, LimitedCredit, Commit; a Classic block write), NXP's DESFire EV2 data sheet's\n"
        "  programming cycle; 0.5 ms for any other DESFire command (assumed: NXP publishes no\n"
        "  per-command figure); a Classic read or authentication answers within the frame delay.\n"
        "uart ms: the reader's own link, the (emulated) PN532 on its UART at 115200 baud: each\n"
        "  InDataExchange frame, its ACK and its answer (10 bits a byte; REFERENCE.md 4.1).\n"
        "tap ms: activation + air + card + uart, against NXP's '< 100 ms' for a transaction.\n",
        BIT_US, FDT_US);
    desk_fixture_teardown(&state);
    return 0;
}
