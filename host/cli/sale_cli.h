/*
 * sale_cli.h - what `leal sale` (cmd_sale.c) and `leal rules simulate`
 * (cmd_simulate.c) share: the program's rules as the engine takes them, and
 * the sale time a person types.
 */
#ifndef LEAL_SALE_CLI_H
#define LEAL_SALE_CLI_H

#include <stdint.h>

#include "firmware/core/rules.h"
#include "host/ledger/ledger.h"

/* The program's current rules and their version (ledger_rules_load: 0 when
 * the program defines none yet, its base rate alone). Prints the error;
 * returns 0 or an exit code. */
int sale_cli_rules(struct ledger *l, int64_t program_id, struct rules_program *p, int64_t *version);
/* The same with the names of its tiers, rules and stamp cards (ledger_rules_get). */
struct ledger_rules;
int sale_cli_names(struct ledger *l, int64_t program_id, struct ledger_rules *out);
/* A proposed rule set from FILE (firmware/core/RULES.md section 7, as the
 * ledger stores each version; its own rate): 0 or an exit code (printed). */
int sale_cli_rules_file(const char *path, struct rules_program *p, int64_t *version);

/* "2026-12-01T16:00:00Z" (UTC) or "@1796140800" to unix seconds; LEAL_E_DATE. */
leal_err sale_cli_time(const char *s, int64_t *t);

/* The source of a rules line for people: "base", "tier", "welcome", "rule". */
const char *sale_cli_source(uint8_t source);

#endif
