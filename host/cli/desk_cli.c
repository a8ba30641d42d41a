/* desk_cli.c - what the desk commands open the same way (desk_cli.h). */
#include "desk_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "host/ledger/ledger_rules.h"
#include "ledger_cli.h"

int desk_cli_open_books(const struct desk_cli_books *o, struct desk_keys *dk,
                        struct ledger **ledger, struct issuance *is)
{
    struct desk_key_request req = {.keystore_path = o->keystore,
                                   .passphrase_file = o->passphrase_file,
                                   .roles = DESK_ROLES_CARD};
    int64_t program = 0, store = 0;
    leal_err err;
    int rc;
    if (o->program && lcli_id(o->program, &program) != LEAL_OK)
        return cli_usage("bad --program '%s'", o->program);
    if (o->store && lcli_id(o->store, &store) != LEAL_OK)
        return cli_usage("bad --store '%s' (the id leal store add printed)", o->store);
    if (program > UINT32_MAX)
        return cli_fail(LEAL_E_UNKNOWN_PROGRAM, "program %lld", (long long)program);
    req.program_id = (uint32_t)program;
    if ((err = desk_keys_acquire(&req, dk)) != LEAL_OK)
        return cli_desk_keys_fail(dk, err, o->passphrase_file, program);
    if ((rc = lcli_open(o->db, ledger)) != 0)
        return rc;
    is->ledger = *ledger;
    is->keys = dk->keys;
    is->cp = dk->cp;
    is->program_id = dk->program_id;
    is->operator_name = o->operator_name ? o->operator_name : getenv("USER");
    if ((err = ledger_desk_store(*ledger, dk->program_id, store, &is->store_id)) != LEAL_OK)
        return lcli_fail(*ledger, err, "--store: the desk's store must be one of its program's");
    return 0;
}

int desk_cli_open_card(const char *spec, bool allow_virtual, const char *timeout,
                       struct reader **reader)
{
    struct reader_options ro = {.allow_virtual = allow_virtual};
    unsigned limit = 10;
    leal_err err;
    if (timeout) {
        int64_t t;
        if (lcli_id(timeout, &t) != LEAL_OK || t > 3600)
            return cli_usage("bad --timeout '%s' (seconds, 1..3600)", timeout);
        limit = (unsigned)t;
    }
    if ((err = reader_open(spec, &ro, reader)) != LEAL_OK) {
        if (err == LEAL_E_VIRTUAL_READER)
            return cli_fail(err,
                            "reader %s is vsmartcard's test reader (it listens on the "
                            "network)",
                            spec ? spec : "");
        return cli_fail(err, "opening the reader %s", spec ? spec : "");
    }
    if ((err = reader_wait_card(*reader, limit * 1000u)) != LEAL_OK)
        return cli_fail(err, "waiting for a card on %s", reader_name(*reader));
    return 0;
}

leal_err desk_bono_kind_find(struct ledger *ledger, uint32_t program_id, const char *want,
                             struct rules_bono_kind *kind, char *name, size_t name_len)
{
    struct ledger_rules *r = calloc(1, sizeof *r);
    int64_t id = 0;
    leal_err err = r ? ledger_rules_get(ledger, program_id, 0, r) : LEAL_E_NO_MEMORY;
    if (lcli_id(want, &id) != LEAL_OK)
        id = 0;
    for (unsigned i = 0; err == LEAL_OK && i < r->set.n_bonos; i++)
        if (strcmp(r->bono_name[i], want) == 0 || (id != 0 && r->set.bonos[i].id == id)) {
            *kind = r->set.bonos[i];
            snprintf(name, name_len, "%s", r->bono_name[i][0] ? r->bono_name[i] : want);
            free(r);
            return LEAL_OK;
        }
    free(r);
    return err == LEAL_OK ? LEAL_E_UNKNOWN_ID : err; /* no rule set: UNKNOWN_ID too */
}

int desk_cli_bono_kind(struct ledger *ledger, uint32_t program_id, const char *want,
                       struct rules_bono_kind *kind, char *name, size_t name_len)
{
    leal_err err = desk_bono_kind_find(ledger, program_id, want, kind, name, name_len);
    if (err == LEAL_E_UNKNOWN_ID)
        return cli_error(err, CLI_EXIT_USAGE,
                         "--kind '%s': program %u has no such bono kind; 'leal bono list "
                         "--program %u' shows them, 'leal bono add' defines one; nothing was "
                         "written",
                         want, program_id, program_id);
    if (err != LEAL_OK)
        return lcli_fail(ledger, err, "the program's bono kinds");
    return 0;
}

leal_err desk_bono_default_sale(const struct rules_bono_kind *kind, uint32_t day,
                                struct issuance_bono_sale *sale)
{
    uint32_t last = kind->valid_days ? day + kind->valid_days : 0;
    memset(sale, 0, sizeof *sale);
    if (last > 65535)
        return LEAL_E_RANGE;
    *sale = (struct issuance_bono_sale){kind->id, kind->sessions, kind->price_cents, (uint16_t)last,
                                        0,        (uint16_t)day};
    return LEAL_OK;
}

leal_err desk_today(struct rules_civil *today, uint32_t *day)
{
    time_t now = time(NULL);
    struct tm tm;
    if (localtime_r(&now, &tm) == NULL)
        return LEAL_E_DATE;
    *today = (struct rules_civil){
        (uint16_t)(tm.tm_year + 1900), (uint8_t)(tm.tm_mon + 1), (uint8_t)tm.tm_mday,
        (uint8_t)tm.tm_hour,           (uint8_t)tm.tm_min,       (uint8_t)tm.tm_sec};
    return rules_civil_days(today, day) == LEAL_OK ? LEAL_OK : LEAL_E_DATE;
}

int desk_cli_today(struct rules_civil *today, uint32_t *day)
{
    return desk_today(today, day) == LEAL_OK ? 0 : cli_fail(LEAL_E_DATE, "today's date");
}

bool desk_cli_upgrade_refused(leal_err err, const struct issuance_card *v, char *out, size_t cap)
{
    char who[48] = "this card";
    if (v->card_id != 0)
        snprintf(who, sizeof who, "card %lld", (long long)v->card_id);
    if (err == LEAL_E_CARD_NO_TMAC)
        snprintf(out, cap,
                 "%s is a %s: it has no Transaction MAC, so it cannot be upgraded (only DESFire "
                 "EV2 and EV3 cards can); nothing was added",
                 who, ledger_card_tech_name(v->ledger.card_id ? v->ledger.tech : v->tech));
    else if (err == LEAL_E_CARD_NOT_LEAL && v->card_id != 0)
        snprintf(out, cap,
                 "%s is not in this ledger: nothing to record its Transaction MAC in; nothing "
                 "was added",
                 who);
    else if (err == LEAL_E_CARD_BLOCKED)
        snprintf(out, cap, "%s is %s in the ledger: it is not upgraded; nothing was added", who,
                 ledger_card_status_name(v->ledger.status));
    else if (err == LEAL_E_CARD_TMAC_MISMATCH)
        snprintf(out, cap,
                 "%s does not carry the Transaction MAC file the ledger records for it "
                 "(missing, of another key version, or not as leal makes it); nothing was added; "
                 "keep the card and replace it",
                 who);
    else
        return false;
    return true;
}
