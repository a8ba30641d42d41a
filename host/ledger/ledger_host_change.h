/*
 * ledger_host_change.h - host-decided changes of a card's points reaching
 * the card exactly once (issue 14, PACKAGE.md "Pending changes"). What waits
 * for a card is the account's points lines the card does not carry: entries
 * after the card's synced entry that were neither made for a card (request
 * id "card:...") nor taken from a terminal's journal for a card (a QR code's
 * entry, which no card carries, waits like a host post): by hand (leal ledger post, adjust; a bonus
 * with --reference "bonus..."), expiry, a void, an online sale. Euros never wait for a terminal.
 * The package carries them per card at one count of taps (a terminal applies them only to a card
 * that shows exactly those); the desk's `leal card sync` applies the same set. When a terminal's
 * journal says it applied them, the import records it (ledger_host_change_applied): the card's
 * synced entry moves up to the entry they ran to (the journal entry itself, kept by the import,
 * says where and when). The count they are carried at: never carried yet, the newest the host knows
 * (the desk's last read, or an imported journal entry's counter after). Once a package carried them
 * at T (table card_host_change_sent), only at T, or past T along the card's writes the host knows
 * from T on (imported journal entries, each either without them or with the ones it applied; the
 * desk's own writes): so a desk read of the card past T before the journal of the tap that wrote it
 * from T is in leaves them in doubt (a terminal may have applied them): no package carries them and
 * the desk does not sync them until that journal is in. The card's state seq at that count
 * (seq, above) when a proved TMAC entry tells it. Hosted. Errors: LEAL_E_ARG,
 * LEAL_E_UNKNOWN_ID, LEAL_E_DB*, LEAL_E_HOST_CHANGE_DOUBT.
 */
#ifndef LEAL_LEDGER_HOST_CHANGE_H
#define LEAL_LEDGER_HOST_CHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "host/ledger/ledger.h"

/* What waits for one card. */
struct ledger_host_change {
    int64_t card_id;
    int64_t taps;       /* the count to carry them at (above); in doubt: the count in doubt */
    int64_t sent_taps;  /* -1: no package carried them yet; else the count they were */
    int64_t seen_taps;  /* the desk's last read (card.last_counter) */
    bool doubt;         /* the desk saw the card past taps, whose write the host does not know */
    int64_t points;     /* net */
    int64_t entries;    /* how many ledger entries */
    int64_t upto_entry; /* the newest of them */
    uint8_t kinds;      /* PACKAGE_CHANGE_* bits (firmware/core/package.h) */
    /* The card's state seq at taps (not in doubt), -1 when the host cannot
     * tell it: from a TMAC entry of the card its check proved (verdict ok or
     * altered: the card's own MAC over the state it read and wrote, at the
     * counter it read), so a package marks the record at seq
     * (PACKAGE_CHANGE_AT_SEQ) for a card with the Transaction MAC file. */
    int64_t seq;
};

/* The changes waiting for card_id (*waiting false: none). */
LEAL_MUST_CHECK leal_err ledger_host_change_get(struct ledger *l, int64_t card_id,
                                                struct ledger_host_change *out, bool *waiting);

/* The highest count of taps (as a floor counts them: a Classic seq less its
 * first) a terminal read on card_id in an imported journal entry: each
 * entry's counter before, read from the card itself (0: none). An entry's
 * counter after is not taken: its commit may have had no answer; the card's
 * next read confirms it. A package's floor (package_build) is the higher of
 * this and the desk's last read. */
LEAL_MUST_CHECK leal_err ledger_card_read_taps(struct ledger *l, int64_t card_id, int64_t *taps);

typedef int (*ledger_host_change_cb)(void *ctx, const struct ledger_host_change *c);
/* Every active card of the program (0: of every program) with changes
 * waiting, ascending by card id; a non-zero return from cb stops with
 * LEAL_E_INTERRUPTED. */
LEAL_MUST_CHECK leal_err ledger_host_change_each(struct ledger *l, int64_t program_id,
                                                 ledger_host_change_cb cb, void *ctx);

/* The cards r.lo < card_id <= r.hi with changes waiting, each as
 * ledger_host_change_get gives it, ascending by card id: of program_id (0:
 * any), active ones only when active. A few statements for the range
 * (reconciliation and the lists read card by card through ranges, not a
 * card at a time); a non-zero return from cb stops with LEAL_E_INTERRUPTED. */
struct ledger_card_range {
    int64_t lo, hi;
};
LEAL_MUST_CHECK leal_err ledger_host_change_range(struct ledger *l, int64_t program_id, bool active,
                                                  struct ledger_card_range r,
                                                  ledger_host_change_cb cb, void *ctx);

/* The end of the range of the next n card ids after lo (the card table's):
 * *hi the n-th, or INT64_MAX when none is after lo (the range then takes the
 * rest: card ids that terminal entries name without a card row too). */
LEAL_MUST_CHECK leal_err ledger_card_range_end(struct ledger *l, int64_t lo, int64_t n,
                                               int64_t *hi);

/* Why c still waits, for `leal reconcile`, `leal card read` and `leal
 * account show`: its state, "unsent" (no package carried them yet), "sent"
 * (a package carried them at c->taps: the card's next tap there applies
 * them) or "doubt" (LEAL_E_HOST_CHANGE_DOUBT: the desk saw the card past the
 * count a package carried them at; a terminal's journal is not in), and in
 * why a line saying what happens next (cut at cap). */
const char *ledger_host_change_why(const struct ledger_host_change *c, char *why, size_t cap);

/* A package carries c (not in doubt): recorded, so that packages carry the
 * card's changes at that count only until the card is known past it. */
LEAL_MUST_CHECK leal_err ledger_host_change_sent(struct ledger *l,
                                                 const struct ledger_host_change *c);

/* The desk wrote the card (a top-up, a sync, a bono) from taps_after - 1,
 * the count it read it at just before, without the card's changes (a sync
 * carries them all, and then none wait): packages carrying them at taps_after
 * - 1 carry them at taps_after from now on. */
LEAL_MUST_CHECK leal_err ledger_host_change_desk_wrote(struct ledger *l, int64_t card_id,
                                                       int64_t taps_after);

/* LEAL_E_HOST_CHANGE_DOUBT (with the ledger's message naming the taps) when
 * the card's waiting changes are in doubt: the desk must not add them. */
LEAL_MUST_CHECK leal_err ledger_host_change_desk_ok(struct ledger *l, int64_t card_id);

/* A terminal applied a card's changes up to upto_entry (its journal entry
 * said so): they no longer wait. *before (may be NULL): the card's synced
 * entry before, for ledger_host_change_undone. Inside the caller's
 * transaction when there is one; idempotent. */
LEAL_MUST_CHECK leal_err ledger_host_change_applied(struct ledger *l, int64_t card_id,
                                                    int64_t upto_entry, int64_t *before);

/* The write that applied them up to upto_entry never reached the card (a
 * later settle said so): they wait again from before, unless the card's
 * synced entry moved past upto_entry since (a later write at the desk or at
 * a terminal, built on the host's belief that they were on the card: they
 * cannot wait again without sending those later ones twice; *restored false,
 * and the desk's drift shows the difference). Idempotent. */
LEAL_MUST_CHECK leal_err ledger_host_change_undone(struct ledger *l, int64_t card_id,
                                                   int64_t upto_entry, int64_t before,
                                                   bool *restored);

#endif
