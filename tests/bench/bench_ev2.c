/*
 * bench_ev2.c - issue 19's round trips per transaction on DESFire EV1 against
 * EV2 and EV3 under EV2 secure messaging, side by side: the terminal core
 * (firmware/core/terminal.h, portable provider) taps a fixed-UID virtual
 * card of each type made the desk's way (tests/lib/till.h: a purse of 50.00
 * and a bono of 5 sessions) with the same sequence of transactions, and
 * prints the core's count of exchanges (every 0xAF frame counted) and
 * whether the tap ran under EV2 secure messaging (AuthenticateEV2First) or
 * AA. The goals are the issue's: earn <= 6 and pay + earn <= 7 on EV2/EV3.
 * The "EV1 named" column is the EV1 again with a package whose floor names
 * it as an EV1 (no EV2 flag), tapped once before the rows (the terminal
 * then keeps its UID and sends AuthenticateAES first). The EV2 and EV3
 * columns are cards with the Transaction MAC file under a floor that says
 * so (EV2 and TMAC flags): their earn reads and debits no counter (its TMC
 * stands for it, TERMINAL.md "Round trips"); "EV3 no file" is an EV3
 * without it, as before. Reports only; bytes on air and tap time are
 * bench_terminal's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/lib/desk_fixture.h"
#include "tests/lib/till.h"

#define CARDS 6
#define ROWS 10

static const char *const types[CARDS] = {"desfire-ev1", "desfire-ev1", "desfire-ev2",
                                         "desfire-ev3", "desfire-ev3", "desfire-ev3"};
enum { PLAIN, NAMED_EV1, TMAC_FILE, TMAC_FILE_V2 };
static const int modes[CARDS] = {PLAIN, NAMED_EV1, TMAC_FILE, TMAC_FILE, TMAC_FILE_V2, PLAIN};

struct row {
    const char *name;
    uint8_t op;
    int64_t amount, pay;
    uint32_t item;
    unsigned goal; /* EV2/EV3; 0: none */
};

static const struct row rows[ROWS] = {
    {"earn", TERMINAL_EARN, 2350, 0, 0, 6},
    {"pay", TERMINAL_PAY, 0, 300, 0, 0},
    {"pay+earn", TERMINAL_PAY_EARN, 300, 300, 0, 7},
    {"void of pay+earn", TERMINAL_VOID, 0, 0, 0, 0},
    {"redeem", TERMINAL_REDEEM, 0, 0, 5, 0},
    {"stamp", TERMINAL_STAMP, 0, 0, 0, 0},
    {"bono", TERMINAL_BONO, 0, 0, 21, 0},
    {"balance", TERMINAL_BALANCE, 0, 0, 0, 0},
    {"earn (to void)", TERMINAL_EARN, 1000, 0, 0, 0},
    {"void of an earn", TERMINAL_VOID, 0, 0, 0, 0},
};

/* One card of type through every row: round trips into rt, the session
 * kind into ev2 (0 where the tap was not done). */
static void taps_on(struct fixture *f, const char *type, int mode, unsigned rt[ROWS],
                    bool ev2[ROWS], unsigned *first)
{
    struct till t;
    bool named = mode == NAMED_EV1;
    struct package_floor fl = {TILL_CARD_ID, PACKAGE_FLOOR_DESFIRE, 0, 0, 0, {0}};
    if (mode == TMAC_FILE || mode == TMAC_FILE_V2) {
        fl.flags = PACKAGE_FLOOR_EV2 | PACKAGE_FLOOR_TMAC;
        if (mode == TMAC_FILE)
            till_make_desfire_tmac(f, type, 5000, 5, false);
        else
            till_make_desfire_tmac_v2(f, type, 5000, 5, false);
    } else {
        till_make_desfire_type(f, type, 5000, 5, false);
    }
    till_open(&t, f, 3,
              mode != PLAIN ? &(struct till_package){.floors = &fl, .floor_count = 1} : NULL);
    if (named) { /* the first tap at this terminal: 71 still goes first */
        struct terminal_request q = till_request(TERMINAL_BALANCE, 0, 0, 0);
        struct terminal_result r;
        till_present(&t);
        memset(&r, 0, sizeof r);
        *first = till_tap(&t, &q, &r) == LEAL_OK && r.outcome == TERMINAL_DONE ? r.round_trips : 0;
    }
    for (unsigned i = 0; i < ROWS; i++) {
        struct terminal_request q =
            till_request(rows[i].op, rows[i].amount, rows[i].pay, rows[i].item);
        struct terminal_result r;
        till_present(&t);
        memset(&r, 0, sizeof r);
        bool done = till_tap(&t, &q, &r) == LEAL_OK && r.outcome == TERMINAL_DONE;
        rt[i] = done ? r.round_trips : 0;
        ev2[i] = done && r.ev2;
    }
    till_close(&t);
}

int main(void)
{
    void *state = NULL;
    unsigned rt[CARDS][ROWS];
    bool ev2[CARDS][ROWS];
    if (desk_fixture_setup(&state) != 0) {
        fprintf(stderr, "bench_ev2: the fixture could not be set up\n");
        return 1;
    }
    unsigned first = 0;
    for (unsigned c = 0; c < CARDS; c++)
        taps_on(state, types[c], modes[c], rt[c], ev2[c], &first);
    printf("round trips per transaction, DESFire EV1 (AA) against EV2 and EV3 (EV2 secure\n"
           "messaging), the same taps in the same order on each card:\n");
    printf("%-17s %8s %9s %8s %8s %10s %11s %6s %5s\n", "operation", "EV1", "EV1 named", "EV2",
           "EV3", "EV3 layout2", "EV3 no file", "goal", "met");
    for (unsigned i = 0; i < ROWS; i++) {
        char cell[CARDS][16], goal[16] = "", met[8] = "";
        for (unsigned c = 0; c < CARDS; c++) {
            if (rt[c][i] == 0)
                snprintf(cell[c], sizeof cell[c], "not done");
            else
                snprintf(cell[c], sizeof cell[c], "%u %s", rt[c][i], ev2[c][i] ? "EV2" : "AA");
        }
        if (rows[i].goal) {
            snprintf(goal, sizeof goal, "<= %u", rows[i].goal);
            snprintf(met, sizeof met, "%s",
                     rt[2][i] != 0 && rt[2][i] <= rows[i].goal && rt[3][i] != 0 &&
                             rt[3][i] <= rows[i].goal
                         ? "yes"
                         : "NO");
        }
        printf("%-17s %8s %9s %8s %8s %10s %11s %6s %5s\n", rows[i].name, cell[0], cell[1], cell[2],
               cell[3], cell[4], cell[5], goal, met);
    }
    printf("RT: the terminal core's count of exchanges with the card (every 0xAF frame counted);\n"
           "  EV2/AA: the session the tap ran under. An EV1 answers AuthenticateEV2First (sent\n"
           "  first: the card's kind is not known before the read) with ILLEGAL_COMMAND, one\n"
           "  exchange more before its AA, unless the package's floor names it as an EV1 (EV1\n"
           "  named: AA first, by its UID once a tap at this terminal proved it; that first\n"
           "  tap, a balance, took %u). EV2 secure messaging itself costs no exchange: its\n"
           "  MACt and IVs ride in the same frames. EV2, EV3: issued now, layout 3 (the purse\n"
           "  mirror in the state, cardlayout/LAYOUT.md 2.10) with the Transaction MAC file,\n"
           "  their floor saying so: an earn, a pay and a pay + earn read and debit no counter\n"
           "  (the TMC stands for it) and a pay reads the mirror instead of GetValue purse\n"
           "  (issue 19's earn <= 6 and pay + earn <= 7 met); a void, redeem, stamp or bono\n"
           "  reads the counter. EV3 layout2: one issued before layout 3, given the file by\n"
           "  the desk's upgrade: only its earn drops the counter.\n",
           first);
    desk_fixture_teardown(&state);
    return 0;
}
