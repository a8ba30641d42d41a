/*
 * ledger_cli.h - what the ledger commands (program, store, terminal,
 * customer, account, ledger, backup) share: a small "--name value" option
 * parser, opening the database (--db, default $XDG_DATA_HOME/leal/ledger.db),
 * one-line errors that carry the ledger's detail, and number/date/amount
 * parsing. Every argument is checked before the database is opened, so bad
 * input writes nothing (not even a new file).
 */
#ifndef LEAL_LEDGER_CLI_H
#define LEAL_LEDGER_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "host/ledger/ledger.h"

struct lcli_opt {
    const char *name; /* without "--" */
    bool is_flag;     /* takes no value */
    const char *val;  /* set by lcli_parse; flags get "1" */
};

#define LCLI_MAX_POS 4

/* Parses argv[1..] into opts and positional arguments into pos: *npos is
 * the room in pos on entry and their count on return ("--db" and "--json"
 * are always accepted and read by the caller through opts if listed).
 * Returns 0, or an exit code after printing a usage error. */
int lcli_parse(int argc, char **argv, struct lcli_opt *opts, size_t nopts, const char **pos,
               size_t *npos);
const char *lcli_get(const struct lcli_opt *opts, size_t nopts, const char *name);

/* Opens the existing ledger at path (NULL: the default). A missing file is
 * refused (exit 2, "create one with 'leal ledger init'"): a mistyped --db
 * never makes an empty ledger. Returns 0 or an exit code after printing the
 * error. */
int lcli_open(const char *path, struct ledger **l);
/* lcli_open, and the file it is (--db or the default) into out, for
 * commands that also open it their own way (reports, privacy). */
int lcli_open_path(const char *path, struct ledger **l, char *out, size_t cap);
/* lcli_open that creates the ledger (and the default's folder) if missing:
 * `leal ledger init` and `leal program create` only. */
int lcli_create(const char *path, struct ledger **l);
/* "leal: WHAT: DETAIL: sentence" with the ledger's detail if any. */
int lcli_fail(const struct ledger *l, leal_err err, const char *what);

/* A change to one card that the audit log records (`leal card pin`,
 * `leal card holder`). lcli_card_apply runs, in one ledger transaction,
 * change(l, card, a, ctx) and adds the audit line a = {actor: op, action,
 * object "card CARD"}, which change may fill (before, after) or drop
 * (a->action = NULL: nothing changed, no line); it commits, or rolls all
 * back. Returns 0, or the exit code after printing "leal: WHAT: ..."
 * (lcli_fail). */
struct ledger_audit_line;
struct lcli_card_change {
    int64_t card;
    const char *op;     /* --operator's value; NULL: "desk" */
    const char *action; /* the audit line's: "card.holder" */
    const char *what;   /* the error's WHAT: "the card's holder" */
    leal_err (*change)(struct ledger *l, int64_t card, struct ledger_audit_line *a, void *ctx);
    void *ctx;
};
int lcli_card_apply(struct ledger *l, const struct lcli_card_change *c);

/* A positive decimal id; LEAL_E_NUMBER otherwise. */
leal_err lcli_id(const char *s, int64_t *v);
/* YYYY-MM-DD (a real date) to unix seconds at 00:00 UTC; LEAL_E_DATE. */
leal_err lcli_date(const char *s, int64_t *t);
/* An amount of asset: euros ("12,50") for EUR, whole units otherwise. */
leal_err lcli_amount(const char *asset, const char *s, int64_t *v);
/* Formats an amount of asset for people into out. */
void lcli_amount_str(const char *asset, int64_t v, char *out, size_t cap);
/* "2026-11-23 10:05" UTC. */
void lcli_time_str(int64_t t, char *out, size_t cap);
/* "2026-11-23 11:05 CET": in time zone tz (a store's; checked against the tz
 * database), or as lcli_time_str if tz is empty or unknown. */
void lcli_time_str_tz(int64_t t, const char *tz, char *out, size_t cap);

/* Host changes waiting for a card (host/ledger/ledger_host_change.h) and
 * why, as `leal reconcile`, `leal card read` and `leal account show` print
 * them: after sep (JSON: "," between objects; text: the line's label) one
 * object {"card_id","points","entries","upto_entry","taps","sent_taps"
 * (null: never carried),"seen_taps","state","error","why"}, or one line
 * "card N: +P points (E entries, to entry U), STATE: why". */
struct ledger_host_change;
void lcli_host_change_print(const struct ledger_host_change *c, bool json, const char *sep);

#endif
