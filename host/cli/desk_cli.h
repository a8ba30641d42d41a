/*
 * desk_cli.h - what every desk command (`leal card issue|read|...`, `leal bono
 * sell|use`, `leal desk`) opens the same way: the keys (the agent's, or the
 * keystore unlocked), the ledger and the issuance context over them; the
 * reader with a card in it; a bono kind of the program's current rule set by
 * name or id; today at the desk. Each prints its one-line error (cli.h) and
 * returns the exit code, 0 when done; what it opened is the caller's to
 * close (reader_close, ledger_close, desk_keys_release) either way.
 */
#ifndef LEAL_DESK_CLI_H
#define LEAL_DESK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "firmware/core/rules.h"
#include "firmware/core/rules_codec.h"
#include "host/desk/desk_keys.h"
#include "host/issuance/issuance.h"

/* The options naming them (NULL: not given). */
struct desk_cli_books {
    const char *keystore, *passphrase_file, *program, *db, *operator_name;
    const char *store; /* --store ID: the shop the desk stands in */
};

/* Keys, ledger and program: everything but the card, into *dk, *ledger and
 * is (operator: --operator, else $USER; store: --store, else the program's
 * only store, else none: ledger_desk_store). */
int desk_cli_open_books(const struct desk_cli_books *o, struct desk_keys *dk,
                        struct ledger **ledger, struct issuance *is);
/* The reader (SPEC NULL: the first), and a card in it within --timeout
 * seconds (NULL: 10; 1..3600). */
int desk_cli_open_card(const char *spec, bool allow_virtual, const char *timeout,
                       struct reader **reader);
/* The bono kind WANT (a name, or an id) of the program's current rule set;
 * name: its name (WANT when it has none). desk_bono_kind_find says nothing:
 * LEAL_E_UNKNOWN_ID when the program has no such kind, or the ledger's. */
int desk_cli_bono_kind(struct ledger *ledger, uint32_t program_id, const char *want,
                       struct rules_bono_kind *kind, char *name, size_t name_len);
LEAL_MUST_CHECK leal_err desk_bono_kind_find(struct ledger *ledger, uint32_t program_id,
                                             const char *want, struct rules_bono_kind *kind,
                                             char *name, size_t name_len);
/* What a sale of the kind at the desk is by default: its sessions and price,
 * lasting its valid days from today (day: days since 1970-01-01; none when
 * it has none); LEAL_E_RANGE past 2149-06-06. */
LEAL_MUST_CHECK leal_err desk_bono_default_sale(const struct rules_bono_kind *kind, uint32_t day,
                                                struct issuance_bono_sale *sale);
/* Today at the desk (its local time) as the rules engine reads dates, and
 * as days since 1970-01-01. desk_today says nothing (LEAL_E_DATE). */
int desk_cli_today(struct rules_civil *today, uint32_t *day);
LEAL_MUST_CHECK leal_err desk_today(struct rules_civil *today, uint32_t *day);
/* Why issuance_add_tmac (`leal card upgrade`, `leal desk --stdio`'s upgrade)
 * refused the card v, in one sentence into out: true for the refusals it
 * names (an EV1 or a Classic, a card not in the ledger, one not active, a
 * file other than the ledger records); false for any other error, left to
 * the caller's words for a card that failed. */
bool desk_cli_upgrade_refused(leal_err err, const struct issuance_card *v, char *out, size_t cap);

#endif
