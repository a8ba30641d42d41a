/* desfire_tear_test.c - tearing the virtual DESFire at every point of backup,
 * value and record write sequences: before each command reaches the card,
 * after each command ran but before its answer, and at every step inside
 * CommitTransaction. Whatever the point, the card (re-read after a round trip
 * through its card file, as after a power cycle) holds exactly the last
 * committed state: the one before the sequence, or the one its commit made. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tests/lib/simcard.h"
#include "tests/lib/testutil.h"

/* App 000001 with free files: backup 1 (8 bytes), value 2 (0..1000, 100),
 * linear 3 (4-byte records, 3), cyclic 4 (4-byte records, 3, one record in). */
static const char *const setup[] = {
    "ca 010000 0f 81",
    "5a 010000",
    "cb 01 00 eeee 080000",
    "cc 02 00 eeee 00000000 e8030000 64000000 01",
    "c1 03 00 eeee 040000 030000",
    "c0 04 00 eeee 040000 030000",
    "3d 01 000000 080000 0102030405060708",
    "3b 04 000000 040000 c0c0c0c0",
    "c7",
    NULL,
};

struct scenario {
    const char *name;
    const char *const *frames; /* ends with CommitTransaction, then one more command */
    int files;                 /* files the commit writes */
    const char *after;         /* state after the commit (before: "before") */
};

static const char *const backup_frames[] = {"3d 01 000000 040000 aabbccdd",
                                            "3d 01 040000 040000 eeff0011", "c7", "6c 02", NULL};
static const char *const value_frames[] = {"0c 02 0a000000", "dc 02 03000000", "c7", "6c 02", NULL};
static const char *const record_frames[] = {"3b 03 000000 020000 5152",
                                            "3b 03 020000 020000 5354",
                                            "3b 04 000000 040000 c1c1c1c1",
                                            "c7",
                                            "6c 02",
                                            NULL};
static const char *const all_frames[] = {"3d 01 000000 020000 9999",
                                         "dc 02 01000000",
                                         "3b 03 000000 020000 7777",
                                         "eb 04",
                                         "c7",
                                         "6c 02",
                                         NULL};

/* The state a reader sees: backup file, value, linear records, cyclic records. */
#define BEFORE "00 0102030405060708|00 64000000|be|00 c0c0c0c0"

static const struct scenario scenarios[] = {
    {"backup", backup_frames, 1, "00 aabbccddeeff0011|00 64000000|be|00 c0c0c0c0"},
    {"value", value_frames, 1, "00 0102030405060708|00 6b000000|be|00 c0c0c0c0"},
    {"records", record_frames, 2,
     "00 0102030405060708|00 64000000|00 51525354|00 c0c0c0c0 c1c1c1c1"},
    {"all", all_frames, 4, "00 9999030405060708|00 63000000|00 77770000|be"},
};

static void state_of(struct simcard *s, char *out, size_t cap)
{
    static const char *const reads[] = {"bd 01 000000 000000", "6c 02", "bb 03 000000 000000",
                                        "bb 04 000000 000000"};
    out[0] = '\0';
    simcard_expect(s, "5a 010000", "00");
    for (int i = 0; i < 4; i++) {
        const char *h = simcard_hex(s, reads[i]);
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? "|" : "", h);
    }
}

static void normalise(const char *in, char *out, size_t cap)
{
    /* The expectations are written with spaces; simcard_hex has none. */
    size_t n = 0;
    for (; *in && n + 1 < cap; in++)
        if (*in != ' ')
            out[n++] = *in;
    out[n] = '\0';
}

static void run(const struct scenario *sc, const struct cardsim_tear *tear, const char *want)
{
    struct simcard s;
    struct cardsim *reloaded = NULL;
    char *text = NULL, got[512], norm[512];
    uint8_t c[128], r[128];
    size_t rl;

    simcard_new(&s, "desfire-ev1");
    for (int i = 0; setup[i]; i++)
        simcard_expect(&s, setup[i], i == 8 ? "00" : "00");
    cardsim_set_tear(s.card, tear);
    for (int i = 0; sc->frames[i]; i++) {
        long n = hex_decode(sc->frames[i], c, sizeof c);
        leal_err err = cardsim_transceive(s.card, c, (size_t)n, r, sizeof r, &rl);
        if (err == LEAL_E_CARD_REMOVED)
            break;
        assert_int_equal(err, LEAL_OK);
    }
    assert_true(cardsim_torn(s.card));
    /* Power cycle through the card file: what the EEPROM keeps. */
    assert_int_equal(cardsim_to_string(s.card, &text), LEAL_OK);
    assert_int_equal(cardsim_from_string(text, strlen(text), &reloaded), LEAL_OK);
    free(text);
    cardsim_free(s.card);
    s.card = reloaded;
    assert_int_equal(cardsim_activate(s.card, &s.id), LEAL_OK);
    state_of(&s, got, sizeof got);
    normalise(want, norm, sizeof norm);
    if (strcmp(got, norm) != 0)
        fail_msg("%s, tear point %d at exchange %u step %u:\n got  %s\n want %s", sc->name,
                 (int)tear->point, tear->after, tear->commit_step, got, norm);
    simcard_free(&s);
}

static void test_tearing_every_point_leaves_last_committed_state(void **state)
{
    int runs = 0;
    (void)state;
    for (size_t k = 0; k < sizeof scenarios / sizeof scenarios[0]; k++) {
        const struct scenario *sc = &scenarios[k];
        int n = 0, commit = -1;
        while (sc->frames[n]) {
            if (strcmp(sc->frames[n], "c7") == 0)
                commit = n + 1; /* exchanges count from 1 */
            n++;
        }
        for (unsigned at = 1; at <= (unsigned)n; at++) {
            struct cardsim_tear t;
            memset(&t, 0, sizeof t);
            t.after = at;
            t.point = CARDSIM_TEAR_BEFORE_COMMAND;
            run(sc, &t, (int)at > commit ? sc->after : BEFORE);
            t.point = CARDSIM_TEAR_BEFORE_ANSWER;
            run(sc, &t, (int)at >= commit ? sc->after : BEFORE);
            t.point = CARDSIM_TEAR_INSIDE_COMMIT;
            for (unsigned step = 0; step <= (unsigned)sc->files + 1; step++) {
                t.commit_step = step;
                /* Step 0: the commit record is not written: nothing happened. */
                run(sc, &t,
                    ((int)at == commit && step > 0) || (int)at > commit ? sc->after : BEFORE);
                runs++;
            }
            runs += 2;
        }
    }
    assert_true(runs > 60);
}

static void test_torn_card_answers_nothing_until_activated(void **state)
{
    struct simcard s;
    struct cardsim_tear t = {.point = CARDSIM_TEAR_BEFORE_ANSWER, .after = 2};
    uint8_t r[64];
    size_t rl = 7;
    (void)state;
    simcard_new(&s, "desfire-ev1");
    cardsim_set_tear(s.card, &t);
    simcard_expect(&s, "6e", "00 001300");
    assert_int_equal(cardsim_transceive(s.card, (const uint8_t *)"\x6e", 1, r, sizeof r, &rl),
                     LEAL_E_CARD_REMOVED);
    assert_int_equal(rl, 0);
    assert_true(cardsim_torn(s.card));
    assert_int_equal(cardsim_transceive(s.card, (const uint8_t *)"\x6e", 1, r, sizeof r, &rl),
                     LEAL_E_NO_CARD);
    assert_int_equal(cardsim_activate(s.card, &s.id), LEAL_OK);
    simcard_expect(&s, "6e", "00 001300"); /* the tear fired once */
    simcard_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tearing_every_point_leaves_last_committed_state),
        cmocka_unit_test(test_torn_card_answers_nothing_until_activated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
